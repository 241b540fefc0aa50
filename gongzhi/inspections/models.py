"""P2 督考统筹: annual inspection plans, their review, joint visits, 一事一码, the data catalog (一表通) and findings.

The unit a township feels is one *visit*: an on-site item (督查/检查/考核) at one township. A department files its
``InspectionPlan`` for the year; the review engine flags duplicates, splits, over-quota items, trace demands and data
already held; the county office decides each item; approved on-site items are merged into ``JointVisit``s per
township; every approved item carries a code (一事一码) a township can verify before letting anyone in.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import AdminUnit, Department


class Kind(models.TextChoices):
    SUPERVISION = "supervision", _("督查")
    INSPECTION = "inspection", _("检查")
    ASSESSMENT = "assessment", _("考核")


class Mode(models.TextChoices):
    ONSITE = "onsite", _("实地")
    REMOTE = "remote", _("非现场")


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    FILED = "filed", _("已报送")


class ItemStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已批准")
    RETURNED = "returned", _("退回修改")
    REFUSED = "refused", _("不予批准")
    WITHDRAWN = "withdrawn", _("已撤回")


class InspectionSettings(models.Model):
    """Per-county overrides of the review and merge rules (engine defaults follow the policy; a county may be
    stricter). ``rules`` holds only the fields that differ from the engine defaults, so new engine fields get their
    defaults without a migration."""

    county = models.OneToOneField(
        AdminUnit, on_delete=models.CASCADE, related_name="inspection_settings", verbose_name=_("所属县")
    )
    rules = models.JSONField(_("规则"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("督查检查考核规则")
        verbose_name_plural = _("督查检查考核规则")

    def __str__(self) -> str:
        return str(self.county_id)


class InspectionPlan(models.Model):
    """One department's plan for one year; filed once (a second filing of the same year is refused)."""

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="inspection_plans", verbose_name=_("部门")
    )
    county = models.ForeignKey(
        AdminUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("所属县")
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    status = models.CharField(_("状态"), max_length=8, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    filed_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["county_id", "-year", "department_id"]
        verbose_name = _("年度督查检查考核计划")
        verbose_name_plural = _("年度督查检查考核计划")
        constraints = [
            models.UniqueConstraint(fields=["department", "year"], name="inspectionplan_unique_year")
        ]
        indexes = [models.Index(fields=["county", "year"], name="inspectionplan_county_year")]

    def __str__(self) -> str:
        return f"{self.department_id} {self.year}"


class InspectionItem(models.Model):
    plan = models.ForeignKey(
        InspectionPlan, on_delete=models.CASCADE, related_name="items", verbose_name=_("计划")
    )
    seq = models.PositiveIntegerField(_("序号"))
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    comprehensive = models.BooleanField(_("综合性"), default=False)
    topic = models.CharField(_("事项名称"), max_length=200)
    basis = models.CharField(_("依据"), max_length=300, blank=True)
    # all_townships keeps "全县所有乡镇" as one flag instead of a row per township (a county-wide item in a province
    # of 1,500 townships would otherwise be 1,500 rows), and follows townships added later.
    all_townships = models.BooleanField(_("全部乡镇"), default=False)
    targets: models.ManyToManyField[AdminUnit, InspectionTarget] = models.ManyToManyField(
        AdminUnit, through="InspectionTarget", related_name="+", blank=True, verbose_name=_("对象乡镇")
    )
    window_start = models.DateField(_("开始日期"))
    window_end = models.DateField(_("结束日期"))
    mode = models.CharField(_("方式"), max_length=8, choices=Mode.choices, default=Mode.ONSITE)
    township_hours = models.DecimalField(_("预计占用乡镇工时（小时/乡镇）"), max_digits=6, decimal_places=1)
    # [{"name": "安全生产台账", "basis": ""}] — what the item will ask the township to show or hand over.
    materials = models.JSONField(_("索要材料"), default=list, blank=True)
    # [{"label": "常住人口", "ref": null | {"entry": id, "field": key}}] — a ref means the value comes from the data
    # catalog (一表通) and the township is never asked for it.
    data_fields = models.JSONField(_("数据需求"), default=list, blank=True)
    out_of_plan = models.BooleanField(_("计划外（一事一报）"), default=False)
    status = models.CharField(
        _("状态"), max_length=10, choices=ItemStatus.choices, default=ItemStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_note = models.CharField(_("审核意见"), max_length=500, blank=True)
    # 一事一码: issued on approval, never reused; revoking keeps the row so a scanned revoked code says so.
    code = models.CharField(_("事项码"), max_length=20, null=True, blank=True, unique=True)
    code_revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    code_revoked_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["plan_id", "seq"]
        verbose_name = _("督查检查考核事项")
        verbose_name_plural = _("督查检查考核事项")
        constraints = [
            models.UniqueConstraint(fields=["plan", "seq"], name="inspectionitem_unique_seq"),
            models.CheckConstraint(
                condition=Q(window_end__gte=F("window_start")), name="inspectionitem_window"
            ),
            models.CheckConstraint(condition=Q(township_hours__gte=0), name="inspectionitem_hours"),
        ]
        indexes = [models.Index(fields=["status"], name="inspectionitem_status")]

    def __str__(self) -> str:
        return self.topic

    @property
    def onsite(self) -> bool:
        return self.mode == Mode.ONSITE


class InspectionTarget(models.Model):
    item = models.ForeignKey(InspectionItem, on_delete=models.CASCADE, related_name="+", db_index=False)
    township = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "township"], name="inspectiontarget_unique")]

    def __str__(self) -> str:
        return f"{self.item_id}:{self.township_id}"


class ReviewRun(models.Model):
    """One run of the review engine over a county's year; the newest run's flags are the ones in force."""

    county = models.ForeignKey(
        AdminUnit, on_delete=models.CASCADE, related_name="+", verbose_name=_("所属县")
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    created_at = models.DateTimeField(_("审查时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    stats = models.JSONField(_("统计"), default=dict)
    duration_ms = models.PositiveIntegerField(_("用时（毫秒）"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("计划审查")
        verbose_name_plural = _("计划审查")
        indexes = [models.Index(fields=["county", "year", "-id"], name="reviewrun_county_year")]

    def __str__(self) -> str:
        return f"{self.county_id} {self.year} #{self.pk}"


class ReviewFlag(models.Model):
    run = models.ForeignKey(ReviewRun, on_delete=models.CASCADE, related_name="flags", db_index=False)
    item = models.ForeignKey(InspectionItem, on_delete=models.CASCADE, related_name="flags")
    # duplicate, near_duplicate, split, over_quota, comprehensive_quota, trace_demand, data_held
    rule = models.CharField(_("规则"), max_length=24)
    code = models.CharField(_("原因代码"), max_length=40)
    params = models.JSONField(_("参数"), default=dict)
    score = models.FloatField(_("相似度"), null=True, blank=True)
    others = models.JSONField(_("相关事项"), default=list)
    townships = models.JSONField(_("涉及乡镇"), default=list)
    township_count = models.PositiveIntegerField(_("涉及乡镇数"), default=0)

    class Meta:
        ordering = ["run_id", "item_id", "rule"]
        verbose_name = _("审查提示")
        verbose_name_plural = _("审查提示")
        indexes = [models.Index(fields=["run", "rule"], name="reviewflag_run_rule")]

    def __str__(self) -> str:
        return f"{self.rule}:{self.item_id}"


class MergeRun(models.Model):
    """One merge of a county's approved on-site items into joint visits; ``active`` marks the one in force."""

    class Method(models.TextChoices):
        HEURISTIC = "heuristic", _("快速算法")
        EXACT = "exact", _("精确求解（CP-SAT）")

    county = models.ForeignKey(
        AdminUnit, on_delete=models.CASCADE, related_name="+", verbose_name=_("所属县")
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    method = models.CharField(_("方法"), max_length=10, choices=Method.choices, default=Method.HEURISTIC)
    active = models.BooleanField(_("现行"), default=False)
    created_at = models.DateTimeField(_("合并时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    visits_before = models.PositiveIntegerField(_("合并前实地次数"), default=0)
    visits_after = models.PositiveIntegerField(_("合并后实地次数"), default=0)
    hours_before = models.DecimalField(_("合并前乡镇工时"), max_digits=12, decimal_places=1, default=0)
    hours_after = models.DecimalField(_("合并后乡镇工时"), max_digits=12, decimal_places=1, default=0)
    # The exact reference where CP-SAT solved the instance: visits at the optimum and the heuristic's gap.
    exact_visits = models.PositiveIntegerField(_("最优实地次数"), null=True, blank=True)
    gap = models.FloatField(_("与最优差距"), null=True, blank=True)
    stats = models.JSONField(_("统计"), default=dict)
    duration_ms = models.PositiveIntegerField(_("用时（毫秒）"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("联合督查合并")
        verbose_name_plural = _("联合督查合并")
        constraints = [
            models.UniqueConstraint(
                fields=["county", "year"], condition=Q(active=True), name="mergerun_one_active"
            )
        ]

    def __str__(self) -> str:
        return f"{self.county_id} {self.year} #{self.pk}"


class VisitStatus(models.TextChoices):
    PLANNED = "planned", _("已排期")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已取消")


class JointVisit(models.Model):
    """One on-site visit to one township carrying one or more approved items (联合督查 / 多检合一)."""

    run = models.ForeignKey(MergeRun, on_delete=models.CASCADE, related_name="visits", db_index=False)
    township = models.ForeignKey(
        AdminUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("乡镇")
    )
    lead_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("牵头部门")
    )
    window_start = models.DateField(_("可安排起"))
    window_end = models.DateField(_("可安排止"))
    day = models.DateField(_("拟定日期"))
    hours = models.DecimalField(_("预计占用乡镇工时"), max_digits=7, decimal_places=1)
    # [{"code": ..., "params": {...}}] why these items share a visit, or why an item stayed alone.
    reasons = models.JSONField(_("合并说明"), default=list)
    status = models.CharField(
        _("状态"), max_length=10, choices=VisitStatus.choices, default=VisitStatus.PLANNED
    )
    items: models.ManyToManyField[InspectionItem, JointVisitItem] = models.ManyToManyField(
        InspectionItem, through="JointVisitItem", related_name="visits", verbose_name=_("事项")
    )

    class Meta:
        ordering = ["day", "township_id", "id"]
        verbose_name = _("联合实地督查")
        verbose_name_plural = _("联合实地督查")
        indexes = [
            models.Index(fields=["run", "township", "day"], name="jointvisit_run_township_day"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(window_end__gte=F("window_start")), name="jointvisit_window"),
        ]

    def __str__(self) -> str:
        return f"{self.township_id} {self.day}"


class JointVisitItem(models.Model):
    visit = models.ForeignKey(JointVisit, on_delete=models.CASCADE, related_name="+", db_index=False)
    item = models.ForeignKey(InspectionItem, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["visit", "item"], name="jointvisititem_unique")]

    def __str__(self) -> str:
        return f"{self.visit_id}:{self.item_id}"


class FindingStatus(models.TextChoices):
    OPEN = "open", _("整改中")
    CLOSED = "closed", _("已整改")


class Finding(models.Model):
    """A finding of a joint visit, recorded once by the lead department for the item it belongs to; each
    department reads the findings of its own items."""

    visit = models.ForeignKey(JointVisit, on_delete=models.CASCADE, related_name="findings")
    item = models.ForeignKey(InspectionItem, on_delete=models.CASCADE, related_name="findings")
    text = models.TextField(_("发现问题"))
    follow_up = models.TextField(_("整改要求"), blank=True)
    due = models.DateField(_("整改期限"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=8, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["visit_id", "id"]
        verbose_name = _("督查发现")
        verbose_name_plural = _("督查发现")

    def __str__(self) -> str:
        return self.text[:40]


class Period(models.TextChoices):
    ONCE = "once", _("一次性")
    YEAR = "year", _("年")
    QUARTER = "quarter", _("季度")
    MONTH = "month", _("月")


class CatalogEntry(models.Model):
    """A data set of the 一表通 catalog: townships submit it once per period; every department reuses it."""

    county = models.ForeignKey(
        AdminUnit, on_delete=models.CASCADE, related_name="+", verbose_name=_("所属县")
    )
    name = models.CharField(_("数据集名称"), max_length=100)
    description = models.CharField(_("说明"), max_length=300, blank=True)
    period = models.CharField(_("报送周期"), max_length=8, choices=Period.choices, default=Period.YEAR)
    # [{"key": "resident_pop", "label": "常住人口", "unit": "人"}]
    fields = models.JSONField(_("字段"), default=list)
    owner_department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("主管部门"),
    )
    active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["county_id", "name"]
        verbose_name = _("一表通数据集")
        verbose_name_plural = _("一表通数据集")
        constraints = [models.UniqueConstraint(fields=["county", "name"], name="catalogentry_unique_name")]

    def __str__(self) -> str:
        return self.name


class DataSubmission(models.Model):
    entry = models.ForeignKey(
        CatalogEntry, on_delete=models.CASCADE, related_name="submissions", db_index=False
    )
    township = models.ForeignKey(
        AdminUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("乡镇")
    )
    # "2026", "2026Q1", "2026-03" or "once", by the entry's period.
    period = models.CharField(_("期别"), max_length=8)
    values = models.JSONField(_("数据"), default=dict)
    submitted_at = models.DateTimeField(_("报送时间"), auto_now=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["entry_id", "township_id", "-period"]
        verbose_name = _("一表通报送")
        verbose_name_plural = _("一表通报送")
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "township", "period"], name="datasubmission_unique_period"
            )
        ]
        indexes = [models.Index(fields=["township", "entry"], name="datasubmission_township")]

    def __str__(self) -> str:
        return f"{self.entry_id}:{self.township_id}:{self.period}"


class CatalogSubscription(models.Model):
    entry = models.ForeignKey(CatalogEntry, on_delete=models.CASCADE, related_name="subscriptions")
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="+", verbose_name=_("部门")
    )
    created_at = models.DateTimeField(_("订阅时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("一表通订阅")
        verbose_name_plural = _("一表通订阅")
        constraints = [
            models.UniqueConstraint(fields=["entry", "department"], name="catalogsubscription_unique")
        ]

    def __str__(self) -> str:
        return f"{self.entry_id}:{self.department_id}"
