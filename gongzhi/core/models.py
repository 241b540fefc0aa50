"""The administrative tree, the people in it, roles, API tokens and the audit log.

Invariants live here (constraints, ``clean``); every write goes through ``services.py``.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    COUNTY = "county", _("县（区）")
    TOWNSHIP = "township", _("乡镇（街道）")
    VILLAGE = "village", _("村（社区）")


class UnitKind(models.TextChoices):
    PROVINCE = "省", _("省")
    CITY = "市", _("市")
    COUNTY = "县", _("县")
    DISTRICT = "区", _("区")
    XIANG = "乡", _("乡")
    ZHEN = "镇", _("镇")
    JIEDAO = "街道", _("街道")
    CUN = "村", _("村")
    SHEQU = "社区", _("社区")


KINDS_BY_LEVEL: dict[str, tuple[str, ...]] = {
    Level.PROVINCE: ("省",),
    Level.CITY: ("市",),
    Level.COUNTY: ("县", "区", "市"),
    Level.TOWNSHIP: ("乡", "镇", "街道"),
    Level.VILLAGE: ("村", "社区"),
}


class AdminUnit(models.Model):
    """A node of the administrative tree, keyed by its 12-digit statistical division code.

    The code encodes the tree (PP CC DD TTT VVV), so "everything under township T" is a prefix query on ``code``.
    """

    # unique=True also gives PostgreSQL a varchar_pattern_ops index, which serves the ``code LIKE 'prefix%'``
    # subtree queries.
    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices, db_index=True)
    kind = models.CharField(_("类别"), max_length=4, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级"),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        indexes = [
            models.Index(fields=["parent", "code"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        from gongzhi.engines.divisions import prefix

        return prefix(self.code, self.level)


class DepartmentKind(models.TextChoices):
    FUNCTIONAL = "functional", _("县直部门")
    COUNTY_OFFICE = "county_office", _("县委县政府办（减负办）")
    ORGANIZATION = "organization", _("县委组织部")
    DISCIPLINE = "discipline", _("县纪委监委")
    STAFFING = "staffing", _("县委编办")


class Department(models.Model):
    """A county-level department (县直部门), or one of the county party/government organs with a platform role."""

    county = models.ForeignKey(
        AdminUnit, on_delete=models.PROTECT, related_name="departments", verbose_name=_("所属县")
    )
    name = models.CharField(_("名称"), max_length=64)
    short_name = models.CharField(_("简称"), max_length=32, blank=True)
    kind = models.CharField(
        _("类型"), max_length=16, choices=DepartmentKind.choices, default=DepartmentKind.FUNCTIONAL
    )
    active = models.BooleanField(_("有效"), default=True)

    class Meta:
        ordering = ["county_id", "id"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        constraints = [
            models.UniqueConstraint(fields=["county", "name"], name="department_unique_name_in_county")
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A login. Staff sign in with a password; residents with phone + one-time code (no usable password)."""

    display_name = models.CharField(_("姓名"), max_length=64, blank=True)
    phone = models.CharField(_("手机号"), max_length=11, null=True, blank=True, unique=True)
    failed_logins = models.PositiveSmallIntegerField(default=0, editable=False)
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username


class Cadre(models.Model):
    """A staff member (干部). Holds one or more positions; their roles follow from the positions."""

    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="cadre", verbose_name=_("登录账号")
    )
    name = models.CharField(_("姓名"), max_length=64)
    phone = models.CharField(_("手机号"), max_length=11, blank=True)
    active = models.BooleanField(_("在职"), default=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("干部")
        verbose_name_plural = _("干部")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    COUNTY_OFFICE = "county_office", _("县减负办")
    DEPARTMENT_STAFF = "department_staff", _("县直部门")
    TOWNSHIP_LEADER = "township_leader", _("乡镇领导")
    TOWNSHIP_STAFF = "township_staff", _("乡镇干部")
    VILLAGE_COMMITTEE = "village_committee", _("村（社区）两委")
    RESIDENT = "resident", _("居民")
    ORG_REP = "org_rep", _("企业/社会组织代表")
    ORG_DEPARTMENT = "org_department", _("组织部")
    DISCIPLINE = "discipline", _("纪委监委")
    STAFFING_OFFICE = "staffing_office", _("县委编办")
    PLATFORM_ADMIN = "platform_admin", _("平台管理员")


class Position(models.Model):
    """A cadre's post in a unit (township, village, county) or in a department.

    The platform role is derived from where the post is, so nobody types a role twice (一数一源).
    """

    cadre = models.ForeignKey(
        Cadre, on_delete=models.CASCADE, related_name="positions", verbose_name=_("干部")
    )
    unit = models.ForeignKey(
        AdminUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="positions",
        verbose_name=_("单位"),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="positions",
        verbose_name=_("部门"),
    )
    title = models.CharField(_("职务"), max_length=64)
    is_leader = models.BooleanField(_("领导职务"), default=False)
    active = models.BooleanField(_("有效"), default=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("职务")
        verbose_name_plural = _("职务")
        constraints = [
            models.CheckConstraint(
                condition=(Q(unit__isnull=False) & Q(department__isnull=True))
                | (Q(unit__isnull=True) & Q(department__isnull=False)),
                name="position_in_unit_xor_department",
            )
        ]

    def __str__(self) -> str:
        return f"{self.cadre} · {self.title}"


class Resident(models.Model):
    """A person living in a village, verified against the household register import.

    The national ID number is stored only as a keyed hash (``id_hash``), never in clear.
    """

    user = models.OneToOneField(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resident",
        verbose_name=_("登录账号"),
    )
    village = models.ForeignKey(
        AdminUnit, on_delete=models.PROTECT, related_name="residents", verbose_name=_("所在村（社区）")
    )
    name = models.CharField(_("姓名"), max_length=64)
    household_no = models.CharField(_("户号"), max_length=32, blank=True)
    phone = models.CharField(_("手机号"), max_length=11, blank=True)
    id_hash = models.CharField(_("身份证号摘要"), max_length=64, blank=True)
    verified = models.BooleanField(_("已核验"), default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("居民")
        verbose_name_plural = _("居民")
        constraints = [
            models.UniqueConstraint(
                fields=["id_hash"], condition=~Q(id_hash=""), name="resident_unique_id_hash"
            ),
        ]
        # Plain indexes (not db_index=True), so PostgreSQL does not add a second LIKE-pattern copy of each.
        indexes = [
            models.Index(fields=["village", "household_no"]),
            models.Index(fields=["phone"], name="resident_phone"),
            # Lookups by ID digest bind their values as parameters; a generic (prepared) plan cannot use the
            # partial unique index, so a plain one serves them.
            models.Index(fields=["id_hash"], name="resident_id_hash"),
        ]

    def __str__(self) -> str:
        return self.name


class OrgKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业")
    SOCIAL_ORG = "social_org", _("社会组织")


class Organization(models.Model):
    name = models.CharField(_("名称"), max_length=128)
    kind = models.CharField(_("类型"), max_length=12, choices=OrgKind.choices)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    unit = models.ForeignKey(
        AdminUnit, on_delete=models.PROTECT, related_name="organizations", verbose_name=_("所在地")
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("企业/社会组织")
        verbose_name_plural = _("企业/社会组织")

    def __str__(self) -> str:
        return self.name


class Representative(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="representatives", verbose_name=_("组织")
    )
    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="representative", verbose_name=_("登录账号")
    )
    name = models.CharField(_("姓名"), max_length=64)
    phone = models.CharField(_("手机号"), max_length=11, blank=True)

    class Meta:
        verbose_name = _("组织代表")
        verbose_name_plural = _("组织代表")

    def __str__(self) -> str:
        return f"{self.organization} · {self.name}"


class OneTimeCode(models.Model):
    """A login code sent by SMS. Only its hash is kept."""

    phone = models.CharField(max_length=11)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["phone", "created_at"])]

    def __str__(self) -> str:
        return f"{self.phone[:3]}****{self.phone[-4:]} @ {self.created_at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """A per-user API token for systems. Only a SHA-256 of the secret is stored; it is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=64)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class AuditHead(models.Model):
    """Singleton row holding the chain head; locking it serializes appends so ``seq`` has no gaps."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head seq={self.seq}"


class AuditEvent(models.Model):
    """One write, appended in the same transaction as the write itself, chained by SHA-256."""

    seq = models.BigIntegerField(unique=True)
    time = models.DateTimeField(default=timezone.now)
    # PROTECT: the actor is part of the hashed content, so a user who acted can be deactivated, never deleted.
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    digest = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def content(self) -> dict[str, object]:
        """The fields the hash covers."""
        return {
            "time": self.time.isoformat(),
            "actor": self.actor_label,
            "actor_id": self.actor_id,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "digest": self.digest,
        }
