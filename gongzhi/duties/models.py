"""P1 权责对等: township duty lists (履行职责事项清单), the task gate (任务准入), resource grants (费随事转) and
summonses (吹哨报到).

A ``DutyList`` is one published version of one township's list (or of the county template); versions are never edited
after publication, a change (动态调整) publishes a new version and the old one stays readable.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import AdminUnit, Department


class Category(models.TextChoices):
    BASIC = "basic", _("基本履职事项")
    COOPERATIVE = "cooperative", _("配合履职事项")
    RECLAIMED = "reclaimed", _("上级部门收回事项")


class ListStatus(models.TextChoices):
    PUBLISHED = "published", _("现行")
    SUPERSEDED = "superseded", _("已废止")


class DutyList(models.Model):
    """One version of a township's duty list, or of the county template when ``owner`` is the county itself."""

    owner = models.ForeignKey(
        AdminUnit, on_delete=models.PROTECT, related_name="duty_lists", verbose_name=_("所属单位")
    )
    county = models.ForeignKey(
        AdminUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("所属县")
    )
    version = models.PositiveIntegerField(_("版本"))
    status = models.CharField(
        _("状态"), max_length=12, choices=ListStatus.choices, default=ListStatus.PUBLISHED
    )
    effective_from = models.DateField(_("生效日期"))
    effective_to = models.DateField(_("废止日期"), null=True, blank=True)
    source = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("来源版本")
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("发布时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["owner_id", "-version"]
        verbose_name = _("履职事项清单")
        verbose_name_plural = _("履职事项清单")
        constraints = [models.UniqueConstraint(fields=["owner", "version"], name="dutylist_unique_version")]
        indexes = [models.Index(fields=["owner", "status"], name="dutylist_owner_status")]

    def __str__(self) -> str:
        return f"{self.owner.name} v{self.version}"

    @property
    def is_template(self) -> bool:
        return self.owner_id == self.county_id


class DutyItem(models.Model):
    # No index of its own: the unique (duty_list, number) index leads with it. A province import writes 510,000
    # rows, and every index costs.
    duty_list = models.ForeignKey(
        DutyList, on_delete=models.CASCADE, related_name="items", verbose_name=_("清单"), db_index=False
    )
    # Stable identity across versions, so a diff can tell "changed" from "removed + added". A plain index (Meta),
    # not db_index: on PostgreSQL db_index on a CharField adds a second, LIKE-pattern index nobody uses.
    lineage = models.CharField(_("事项标识"), max_length=32)
    position = models.PositiveIntegerField(_("排序"))
    number = models.CharField(_("序号"), max_length=16)
    category = models.CharField(_("类别"), max_length=12, choices=Category.choices)
    name = models.CharField(_("事项名称"), max_length=200)
    content = models.TextField(_("具体内容"), blank=True)
    basis = models.TextField(_("依据"), blank=True)
    lead_department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("牵头部门"),
    )
    assisting: models.ManyToManyField[Department, DutyItemAssist] = models.ManyToManyField(
        Department, through="DutyItemAssist", related_name="+", blank=True, verbose_name=_("配合部门")
    )
    township_part = models.TextField(_("乡镇职责"), blank=True)
    department_part = models.TextField(_("部门职责"), blank=True)
    reclaimed_by = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("承接部门"),
    )
    current_practice = models.TextField(_("工作方式"), blank=True)
    # A basic item that needs a power (执法、审批 …) only this department holds: the 权责不对等 mismatch list.
    power_department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("所需权力所在部门"),
    )

    class Meta:
        ordering = ["duty_list_id", "position"]
        verbose_name = _("履职事项")
        verbose_name_plural = _("履职事项")
        constraints = [
            models.UniqueConstraint(fields=["duty_list", "number"], name="dutyitem_unique_number"),
        ]
        indexes = [models.Index(fields=["lineage"], name="dutyitem_lineage")]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class DutyItemAssist(models.Model):
    item = models.ForeignKey(DutyItem, on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "department"], name="dutyitemassist_unique")]

    def __str__(self) -> str:
        return f"{self.item_id}:{self.department_id}"


class AdjustmentAction(models.TextChoices):
    ADD = "add", _("新增事项")
    CHANGE = "change", _("调整事项")
    REMOVE = "remove", _("删除事项")


class AdjustmentStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未批准")


class DutyAdjustment(models.Model):
    """动态调整: a township or department asks the staffing office to change one item of a township's list."""

    township = models.ForeignKey(
        AdminUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("乡镇")
    )
    base_list = models.ForeignKey(
        DutyList, on_delete=models.PROTECT, related_name="+", verbose_name=_("依据版本")
    )
    action = models.CharField(_("调整类型"), max_length=8, choices=AdjustmentAction.choices)
    item_lineage = models.CharField(_("事项标识"), max_length=32, blank=True)
    item_label = models.CharField(_("事项"), max_length=220, blank=True)
    # The proposed item (category, name, content, basis, departments ...), as plain data until it is approved.
    proposed = models.JSONField(_("调整内容"), default=dict, blank=True)
    reason = models.TextField(_("调整理由"))
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    applicant_department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("申请部门"),
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=AdjustmentStatus.choices, default=AdjustmentStatus.PENDING
    )
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=500, blank=True)
    result_list = models.ForeignKey(
        DutyList, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("新版本")
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("动态调整申请")
        verbose_name_plural = _("动态调整申请")
        indexes = [models.Index(fields=["status", "township"], name="dutyadj_status_township")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.item_label}"


class Outcome(models.TextChoices):
    ADMITTED = "admitted", _("准入")
    ASSISTANCE = "assistance", _("准入（配合）")
    REFUSED = "refused", _("退回")
    HELD = "held", _("待县级准入审核")


class TaskStatus(models.TextChoices):
    ADMITTED = "admitted", _("已准入")
    ASSISTANCE = "assistance", _("已准入（配合）")
    REFUSED = "refused", _("已退回")
    HELD = "held", _("待县级审核")
    APPROVED = "approved", _("县级批准准入")
    DENIED = "denied", _("县级不予准入")
    WITHDRAWN = "withdrawn", _("异议成立，已撤回")


# Statuses in which the township carries the task (its inbox).
IN_INBOX = (TaskStatus.ADMITTED, TaskStatus.ASSISTANCE, TaskStatus.APPROVED)


class Task(models.Model):
    """交办任务: work a department sends to one township. The gate's decision is stored with its explanation."""

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("交办部门")
    )
    township = models.ForeignKey(
        AdminUnit, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("乡镇")
    )
    title = models.CharField(_("任务名称"), max_length=200)
    content = models.TextField(_("任务内容"))
    basis = models.TextField(_("依据"), blank=True)
    deadline = models.DateField(_("完成时限"))
    expected_hours = models.DecimalField(_("预计乡镇工时"), max_digits=8, decimal_places=1)
    resources_offered = models.TextField(_("随附资源"), blank=True)
    cited_item = models.ForeignKey(
        DutyItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("引用事项"),
    )
    duty_list = models.ForeignKey(
        DutyList,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("判定依据清单"),
    )
    outcome = models.CharField(_("准入判定"), max_length=12, choices=Outcome.choices)
    rule = models.CharField(_("判定规则"), max_length=20)
    explanation = models.JSONField(_("判定说明"), default=dict)
    matched_item = models.ForeignKey(
        DutyItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("匹配事项"),
    )
    status = models.CharField(_("状态"), max_length=12, choices=TaskStatus.choices, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("交办时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("县级审核时间"), null=True, blank=True)
    decision_note = models.CharField(_("县级审核意见"), max_length=500, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("交办任务")
        verbose_name_plural = _("交办任务")
        indexes = [
            models.Index(fields=["township", "status"], name="task_township_status"),
            models.Index(fields=["department", "status"], name="task_department_status"),
        ]

    def __str__(self) -> str:
        return self.title


class ResourceGrant(models.Model):
    """费随事转、权随事走: what the county hands over with an off-list task it approves."""

    task = models.OneToOneField(Task, on_delete=models.CASCADE, related_name="grant", verbose_name=_("任务"))
    funds = models.DecimalField(_("经费（万元）"), max_digits=12, decimal_places=2, default=0)
    staff = models.PositiveIntegerField(_("人员编制（人）"), default=0)
    powers = models.TextField(_("下放权限"), blank=True)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("随事资源")
        verbose_name_plural = _("随事资源")
        constraints = [
            models.CheckConstraint(
                condition=Q(funds__gt=0) | Q(staff__gt=0) | ~Q(powers=""), name="grant_not_empty"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_id}: {self.funds} / {self.staff} / {self.powers}"


class ContestStatus(models.TextChoices):
    OPEN = "open", _("待县级处理")
    UPHELD = "upheld", _("异议成立")
    DISMISSED = "dismissed", _("异议不成立")


class TaskContest(models.Model):
    """A township's objection that the gate should have stopped a task."""

    task = models.OneToOneField(
        Task, on_delete=models.CASCADE, related_name="contest", verbose_name=_("任务")
    )
    reason = models.TextField(_("异议理由"))
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=ContestStatus.choices, default=ContestStatus.OPEN
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("处理意见"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("任务异议")
        verbose_name_plural = _("任务异议")

    def __str__(self) -> str:
        return f"{self.task_id}: {self.reason[:20]}"


class Ground(models.TextChoices):
    RESIDENT_DEMAND = "resident_demand", _("群众诉求乡镇难以独立解决")
    JOINT_ENFORCEMENT = "joint_enforcement", _("综合执法")
    EMERGENCY = "emergency", _("应急处置")


DEFAULT_ACK_MINUTES = {Ground.RESIDENT_DEMAND: 30, Ground.JOINT_ENFORCEMENT: 30, Ground.EMERGENCY: 15}


class SummonsRule(models.Model):
    """Per county and ground: how many minutes a department has to acknowledge a summons."""

    county = models.ForeignKey(AdminUnit, on_delete=models.CASCADE, related_name="+")
    ground = models.CharField(_("吹哨事由"), max_length=20, choices=Ground.choices)
    ack_minutes = models.PositiveIntegerField(_("响应时限（分钟）"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["county", "ground"], name="summonsrule_unique")]

    def __str__(self) -> str:
        return f"{self.ground}: {self.ack_minutes}"


class RatingIndicator(models.Model):
    """下评上 indicators and weights, per county (defaults: response speed, cooperation, follow-through)."""

    county = models.ForeignKey(AdminUnit, on_delete=models.CASCADE, related_name="+")
    key = models.SlugField(_("标识"), max_length=32)
    name = models.CharField(_("指标"), max_length=32)
    weight = models.DecimalField(_("权重"), max_digits=5, decimal_places=2)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["county_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["county", "key"], name="ratingindicator_unique")]

    def __str__(self) -> str:
        return self.name


class SummonsStatus(models.TextChoices):
    DRAFT = "draft", _("待乡镇主要领导审批")
    OPEN = "open", _("处置中")
    CLOSED = "closed", _("已办结")


class Summons(models.Model):
    """吹哨: a township calls county departments to act on a matter beyond its own powers."""

    township = models.ForeignKey(
        AdminUnit, on_delete=models.PROTECT, related_name="summonses", verbose_name=_("乡镇")
    )
    ground = models.CharField(_("吹哨事由"), max_length=20, choices=Ground.choices)
    title = models.CharField(_("事项"), max_length=200)
    description = models.TextField(_("情况说明"))
    location = models.CharField(_("地点"), max_length=200, blank=True)
    duty_item = models.ForeignKey(
        DutyItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("对应事项"),
    )
    status = models.CharField(_("状态"), max_length=8, choices=SummonsStatus.choices, db_index=True)
    ack_minutes = models.PositiveIntegerField(_("响应时限（分钟）"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    issued_at = models.DateTimeField(_("吹哨时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closing_note = models.CharField(_("办结说明"), max_length=500, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("吹哨")
        verbose_name_plural = _("吹哨")

    def __str__(self) -> str:
        return self.title


class SummonsTarget(models.Model):
    """One summoned department: its acknowledgement (报到), escalation and the township's rating."""

    summons = models.ForeignKey(Summons, on_delete=models.CASCADE, related_name="targets")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="summonses")
    ack_due = models.DateTimeField(_("响应截止"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("响应时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    escalated_at = models.DateTimeField(_("超时上报时间"), null=True, blank=True)
    scores = models.JSONField(_("评价"), default=dict, blank=True)
    score = models.DecimalField(_("综合评分"), max_digits=5, decimal_places=2, null=True, blank=True)
    rating_comment = models.CharField(_("评价意见"), max_length=500, blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["summons_id", "id"]
        constraints = [models.UniqueConstraint(fields=["summons", "department"], name="summonstarget_unique")]
        indexes = [models.Index(fields=["department", "acknowledged_at"], name="summonstarget_dept_ack")]

    def __str__(self) -> str:
        return f"{self.summons_id}: {self.department_id}"


class ReportKind(models.TextChoices):
    ON_SITE = "on_site", _("到场报到")
    WRITTEN = "written", _("书面报告")


class SummonsReport(models.Model):
    """报到: a department reports in on site or in writing until the summons closes (事不完、人不撤)."""

    target = models.ForeignKey(SummonsTarget, on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField(_("方式"), max_length=8, choices=ReportKind.choices)
    text = models.TextField(_("进展"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.target_id}: {self.get_kind_display()}"
