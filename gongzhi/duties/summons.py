"""吹哨报到: services (every write) and selectors (every read, scoped) for summonses. Home-page sections: duties/home.py.

A township calls county departments to act on a matter beyond its powers, on one of three grounds. Its leader issues
the summons (staff may draft one for the leader); each summoned department acknowledges (报到) within the county's
limit for the ground and reports in until the township closes the matter (事不完、人不撤); the township then rates each
department's response (下评上). Nothing here asks anyone for photos, locations or sign-in traces: times are the
platform's own record of what people did.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.audit import audit_record
from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError
from gongzhi.core.models import AdminUnit, Department, DepartmentKind, Level, Role
from gongzhi.core.roles import grants_for

from . import permissions as perms
from .models import (
    DEFAULT_ACK_MINUTES,
    DutyItem,
    DutyList,
    Ground,
    RatingIndicator,
    ReportKind,
    Summons,
    SummonsReport,
    SummonsRule,
    SummonsStatus,
    SummonsTarget,
)

# 下评上 indicators used while a county has configured none: (key, name, weight).
DEFAULT_INDICATORS: tuple[tuple[str, str, Decimal], ...] = (
    ("response_speed", "响应速度", Decimal("0.40")),
    ("cooperation", "协同配合", Decimal("0.30")),
    ("follow_through", "办理成效", Decimal("0.30")),
)
SCORE_MIN, SCORE_MAX = 1, 5
MAX_ACK_MINUTES = 7 * 24 * 60
# Caps on what users type (the columns' own limits where they have one).
TITLE_MAX = Summons._meta.get_field("title").max_length or 200
LOCATION_MAX = Summons._meta.get_field("location").max_length or 200
DESCRIPTION_MAX = 5000
REPORT_MAX = 5000
CLOSING_NOTE_MAX = Summons._meta.get_field("closing_note").max_length or 500
COMMENT_MAX = SummonsTarget._meta.get_field("rating_comment").max_length or 500
MAX_SUMMONED_DEPARTMENTS = 100
MAX_INDICATORS = 20
_KEY_RE = re.compile(r"^[a-z0-9_-]{1,32}$")
GROUND_LIST = "、".join(str(label) for label in Ground.labels)


@dataclass(frozen=True)
class Indicator:
    key: str
    name: str
    weight: Decimal


# ---------------------------------------------------------------------------------------------------------------
# Small helpers shared by services and selectors
# ---------------------------------------------------------------------------------------------------------------


def county_of(township: AdminUnit) -> AdminUnit:
    county = AdminUnit.objects.filter(code=township.code[:6].ljust(12, "0"), level=Level.COUNTY).first()
    if county is None:
        raise ServiceError("invalid", f"找不到「{township.name}」所属的县")
    return county


def ack_minutes_for(county: AdminUnit, ground: str) -> int:
    rule = (
        SummonsRule.objects.filter(county=county, ground=ground).values_list("ack_minutes", flat=True).first()
    )
    return int(rule) if rule is not None else DEFAULT_ACK_MINUTES[Ground(ground)]


def indicators_for(county: AdminUnit | int) -> list[Indicator]:
    """The county's active 下评上 indicators in order, or the defaults while it has configured none."""
    county_id = county if isinstance(county, int) else county.pk
    rows = RatingIndicator.objects.filter(county_id=county_id, active=True).order_by("position", "id")
    found = [Indicator(r.key, r.name, r.weight) for r in rows]
    return found or [Indicator(k, n, w) for k, n, w in DEFAULT_INDICATORS]


def current_duty_list(township: AdminUnit) -> DutyList | None:
    # The same rule as the task gate: the version in force today, not merely the newest published one.
    from .gate import current_list

    return current_list(township)


def duty_items_for(township: AdminUnit) -> list[DutyItem]:
    dl = current_duty_list(township)
    if dl is None:
        return []
    return list(
        DutyItem.objects.filter(duty_list=dl).order_by("position").only("id", "number", "name", "category")
    )


def summonable_departments(county: AdminUnit | int) -> QuerySet[Department]:
    """Departments a township of ``county`` may summon: its active functional departments."""
    county_id = county if isinstance(county, int) else county.pk
    return Department.objects.filter(
        county_id=county_id, kind=DepartmentKind.FUNCTIONAL, active=True
    ).order_by("id")


def item_department_ids(item: DutyItem) -> list[int]:
    """The departments the duty list shows holding the power for ``item``: lead, assisting, reclaiming and the
    department holding a power the township lacks."""
    ids = [item.lead_department_id, item.reclaimed_by_id, item.power_department_id]
    ids += list(item.assisting.values_list("id", flat=True))
    out: list[int] = []
    for i in ids:
        if i is not None and i not in out:
            out.append(i)
    return out


def township_choices(user: Any) -> list[tuple[int, str]]:
    """(id, name) of the townships this user works in (where they may raise a summons)."""
    seen: dict[int, str] = {}
    for g in grants_for(user):
        if g.role in perms.TOWNSHIP_ROLES and g.unit_id is not None:
            seen[g.unit_id] = g.unit_name
    return sorted(seen.items())


def can_raise_summons(user: Any) -> bool:
    return bool(township_choices(user))


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def _minutes(delta: timedelta) -> float:
    return round(delta.total_seconds() / 60, 1)


def fmt_minutes(m: float | None) -> str:
    """45.0 -> "45", 45.5 -> "45.5"."""
    return "" if m is None else f"{m:g}"


def target_overdue(target: SummonsTarget, summons: Summons, now: datetime) -> bool:
    return (
        summons.status == SummonsStatus.OPEN
        and target.acknowledged_at is None
        and target.ack_due is not None
        and target.ack_due < now
    )


def target_late(target: SummonsTarget) -> bool:
    return (
        target.acknowledged_at is not None
        and target.ack_due is not None
        and target.acknowledged_at > target.ack_due
    )


def target_minutes_taken(target: SummonsTarget, summons: Summons) -> float | None:
    if target.acknowledged_at is None or summons.issued_at is None:
        return None
    return _minutes(target.acknowledged_at - summons.issued_at)


# ---------------------------------------------------------------------------------------------------------------
# Selectors
# ---------------------------------------------------------------------------------------------------------------


def _scope_q(user: Any) -> Q | None:
    """The summonses a user may see (None: the user takes no part in summonses). Mirrors
    ``permissions.can_view_summons``: township staff and the admin see drafts too; others only issued ones."""
    conds: list[Q] = []
    issued = ~Q(status=SummonsStatus.DRAFT)
    dept_ids: set[int] = set()
    for g in grants_for(user):
        if g.role == Role.PLATFORM_ADMIN:
            return Q()
        if g.role in perms.TOWNSHIP_ROLES:
            conds.append(Q(township__code__startswith=g.unit_prefix))
        elif g.role in perms.COUNTY_READERS:
            conds.append(Q(township__code__startswith=g.unit_prefix) & issued)
        elif g.role == Role.DEPARTMENT_STAFF and g.department_id is not None:
            dept_ids.add(g.department_id)
    if dept_ids:
        conds.append(
            Q(id__in=SummonsTarget.objects.filter(department_id__in=dept_ids).values("summons_id")) & issued
        )
    if not conds:
        return None
    q = conds[0]
    for c in conds[1:]:
        q |= c
    return q


def _overdue_exists(now: datetime) -> Exists:
    return Exists(
        SummonsTarget.objects.filter(summons_id=OuterRef("pk"), acknowledged_at__isnull=True, ack_due__lt=now)
    )


def summons_list(
    user: Any, *, status: str | None = None, overdue: bool | None = None, now: datetime | None = None
) -> QuerySet[Summons]:
    """Summonses the user may see, newest first, with township and summoned departments loaded (no N+1)."""
    scope = _scope_q(user)
    if scope is None:
        raise PermissionDeniedError("只有乡镇、县直部门和县级有关单位可以查看吹哨报到")
    now = _now(now)
    qs = Summons.objects.filter(scope)
    if status:
        if status not in SummonsStatus.values:
            raise ServiceError("invalid", f"状态「{status}」无效")
        qs = qs.filter(status=status)
    if overdue is not None:
        cond = Q(status=SummonsStatus.OPEN) & _overdue_exists(now)
        qs = qs.filter(cond) if overdue else qs.exclude(cond)
    return (
        qs.select_related("township")
        .prefetch_related(
            Prefetch("targets", queryset=SummonsTarget.objects.select_related("department").order_by("id"))
        )
        .order_by("-id")
    )


def summons_get(user: Any, pk: int) -> Summons:
    """Fetch-and-check: the summons with everything its page shows, or NotFoundError (also when not visible)."""
    s = (
        Summons.objects.filter(pk=pk)
        .select_related("township", "duty_item", "created_by", "issued_by")
        .prefetch_related(
            Prefetch(
                "targets",
                queryset=SummonsTarget.objects.select_related("department", "acknowledged_by", "rated_by")
                .prefetch_related(
                    Prefetch(
                        "reports", queryset=SummonsReport.objects.select_related("created_by").order_by("id")
                    )
                )
                .order_by("id"),
            )
        )
        .first()
    )
    if s is None or not _can_view(user, s, [t.department_id for t in s.targets.all()]):
        raise NotFoundError()
    return s


def _can_view(user: Any, s: Summons, department_ids: Iterable[int]) -> bool:
    return perms.can_view_summons(
        user, s.township, department_ids=set(department_ids), draft=s.status == SummonsStatus.DRAFT
    )


@dataclass
class TargetState:
    """One summoned department as a page or the API shows it."""

    target: SummonsTarget
    minutes_taken: float | None
    late: bool
    overdue: bool
    minutes_left: int | None
    reports: list[SummonsReport]
    can_ack: bool = False
    can_report: bool = False
    can_rate: bool = False


@dataclass
class Event:
    time: datetime
    kind: str
    text: str
    detail: str = ""
    late: bool = False


@dataclass
class SummonsView:
    summons: Summons
    targets: list[TargetState]
    timeline: list[Event]
    overdue: bool
    can_issue: bool
    can_discard: bool
    can_close: bool
    indicators: list[Indicator] = field(default_factory=list)


def summons_view(user: Any, s: Summons, *, now: datetime | None = None) -> SummonsView:
    """What ``user`` sees of a summons fetched by ``summons_get``: each department's state, the timeline and the
    actions this user may take right there."""
    now = _now(now)
    township_member = perms.is_township_member(user, s.township)
    leader = perms.is_township_member(user, s.township, leader=True)
    mine = perms.member_departments(user)
    is_open = s.status == SummonsStatus.OPEN
    states: list[TargetState] = []
    events: list[Event] = []
    if s.issued_at is None or s.created_by_id != s.issued_by_id:
        events.append(Event(s.created_at, "created", _("%(name)s 起草") % {"name": s.created_by}))
    if s.issued_at is not None:
        events.append(
            Event(s.issued_at, "issued", _("%(name)s 签发吹哨") % {"name": s.issued_by or s.created_by})
        )
    for t in s.targets.all():
        reports = list(t.reports.all())
        left: int | None = None
        if is_open and t.acknowledged_at is None and t.ack_due is not None:
            left = math.ceil((t.ack_due - now).total_seconds() / 60)
        st = TargetState(
            target=t,
            minutes_taken=target_minutes_taken(t, s),
            late=target_late(t),
            overdue=target_overdue(t, s, now),
            minutes_left=left,
            reports=reports,
            can_ack=is_open and t.department_id in mine and t.acknowledged_at is None,
            can_report=is_open and t.department_id in mine,
            can_rate=s.status == SummonsStatus.CLOSED and township_member and t.rated_at is None,
        )
        states.append(st)
        if t.acknowledged_at is not None:
            events.append(
                Event(
                    t.acknowledged_at,
                    "ack",
                    _("%(dept)s 报到") % {"dept": t.department.name},
                    _("用时 %(m)s 分钟") % {"m": fmt_minutes(st.minutes_taken)},
                    late=st.late,
                )
            )
        if t.escalated_at is not None:
            events.append(
                Event(
                    t.escalated_at,
                    "escalated",
                    _("%(dept)s 超时未响应，已提请县减负办督办") % {"dept": t.department.name},
                )
            )
        for r in reports:
            events.append(
                Event(
                    r.created_at,
                    "report",
                    _("%(dept)s %(kind)s") % {"dept": t.department.name, "kind": r.get_kind_display()},
                    r.text,
                )
            )
        if t.rated_at is not None:
            events.append(
                Event(
                    t.rated_at,
                    "rated",
                    _("乡镇评价 %(dept)s：%(score)s 分") % {"dept": t.department.name, "score": t.score},
                    t.rating_comment,
                )
            )
    if s.closed_at is not None:
        events.append(Event(s.closed_at, "closed", _("乡镇办结"), s.closing_note))
    events.sort(key=lambda e: e.time)
    is_draft = s.status == SummonsStatus.DRAFT
    return SummonsView(
        summons=s,
        targets=states,
        timeline=events,
        overdue=any(st.overdue for st in states),
        can_issue=is_draft and leader,
        can_discard=is_draft
        and (leader or (township_member and s.created_by_id == getattr(user, "pk", None))),
        can_close=is_open and township_member,
        indicators=indicators_for(county_of(s.township)) if any(st.can_rate for st in states) else [],
    )


def summons_settings(user: Any, *, county: AdminUnit) -> dict[str, Any]:
    """The county's acknowledgement limits per ground and its rating indicators, for the county office."""
    if not perms.can_configure_summons(user, county):
        raise PermissionDeniedError("只有县减负办可以设置吹哨报到规则")
    rules = dict(SummonsRule.objects.filter(county=county).values_list("ground", "ack_minutes"))
    return {
        "county": county,
        "ack_minutes": [
            {
                "ground": g.value,
                "label": g.label,
                "minutes": int(rules.get(g.value, DEFAULT_ACK_MINUTES[g])),
                "default": DEFAULT_ACK_MINUTES[g],
                "configured": g.value in rules,
            }
            for g in Ground
        ],
        "indicators": indicators_for(county),
    }


def configurable_counties(user: Any) -> list[AdminUnit]:
    """Counties whose summons rules this user may set (the admin: every county)."""
    if perms.is_admin(user):
        return list(AdminUnit.objects.filter(level=Level.COUNTY).order_by("code"))
    ids = {g.unit_id for g in grants_for(user) if g.role == Role.COUNTY_OFFICE and g.unit_id is not None}
    return list(AdminUnit.objects.filter(pk__in=ids, level=Level.COUNTY).order_by("code"))


def _percentile(values: Sequence[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), on sorted ``values``."""
    if not values:
        return None
    k = (len(values) - 1) * p
    lo, hi = math.floor(k), math.ceil(k)
    return round(values[lo] + (values[hi] - values[lo]) * (k - lo), 1)


def _summarize(rows: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    minutes = sorted(
        (r["acknowledged_at"] - r["issued_at"]).total_seconds() / 60 for r in rows if r["acknowledged_at"]
    )
    overdue = sum(
        1
        for r in rows
        if (r["acknowledged_at"] is not None and r["acknowledged_at"] > r["ack_due"])
        or (r["acknowledged_at"] is None and r["ack_due"] < (r["closed_at"] or now))
    )
    scores = [Decimal(r["score"]) for r in rows if r["score"] is not None]
    return {
        "count": len(rows),
        "acknowledged": len(minutes),
        "median_ack_minutes": _percentile(minutes, 0.5),
        "p90_ack_minutes": _percentile(minutes, 0.9),
        "overdue": overdue,
        "rated": len(scores),
        "avg_score": float(round(sum(scores, Decimal(0)) / len(scores), 2)) if scores else None,
    }


def summons_stats(
    *,
    county: AdminUnit,
    townships: Iterable[AdminUnit | int] | None = None,
    departments: Iterable[Department | int] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Response statistics of issued summonses in ``county`` (no permission check: the caller's report scopes it).

    Per department and per township: ``count`` (times summoned), ``acknowledged``, ``median_ack_minutes`` and
    ``p90_ack_minutes`` (issue to acknowledgement), ``overdue`` (acknowledged after the limit, or not acknowledged by
    the limit), ``rated`` and ``avg_score`` (0–100). One query.
    """
    now = _now(now)
    qs = SummonsTarget.objects.filter(
        summons__township__code__startswith=county.code[:6], summons__issued_at__isnull=False
    )
    if townships is not None:
        qs = qs.filter(summons__township_id__in=[t if isinstance(t, int) else t.pk for t in townships])
    if departments is not None:
        qs = qs.filter(department_id__in=[d if isinstance(d, int) else d.pk for d in departments])
    if since is not None:
        qs = qs.filter(summons__issued_at__gte=since)
    if until is not None:
        qs = qs.filter(summons__issued_at__lt=until)
    rows: list[dict[str, Any]] = [
        dict(r)
        for r in qs.values(
            "department_id",
            "department__name",
            "summons__township_id",
            "summons__township__name",
            "summons__issued_at",
            "summons__closed_at",
            "ack_due",
            "acknowledged_at",
            "score",
        ).order_by("department_id", "id")
    ]
    for r in rows:
        r["issued_at"], r["closed_at"] = r["summons__issued_at"], r["summons__closed_at"]
    by_dept: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    by_town: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_dept[(r["department_id"], r["department__name"])].append(r)
        by_town[(r["summons__township_id"], r["summons__township__name"])].append(r)
    return {
        "departments": [
            {"department_id": i, "name": n, **_summarize(rs, now)} for (i, n), rs in sorted(by_dept.items())
        ],
        "townships": [
            {"township_id": i, "name": n, **_summarize(rs, now)} for (i, n), rs in sorted(by_town.items())
        ],
    }


# ---------------------------------------------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------------------------------------------


def _clean_departments(county: AdminUnit, department_ids: Sequence[int | str]) -> list[Department]:
    if isinstance(department_ids, str | bytes):
        raise ServiceError("invalid", "部门编号格式无效")
    if len(department_ids) > MAX_SUMMONED_DEPARTMENTS:
        # A county has a few dozen departments; an unbounded id list would reach the database as bind parameters.
        raise ServiceError("invalid", f"一次吹哨最多选择 {MAX_SUMMONED_DEPARTMENTS} 个部门")
    ids: list[int] = []
    for raw in department_ids:
        try:
            i = int(raw)
        except (TypeError, ValueError):
            raise ServiceError("invalid", f"部门编号「{str(raw)[:20]}」无效") from None
        if not 0 < i < 2**63:
            raise ServiceError("invalid", f"部门编号「{str(raw)[:20]}」无效")
        if i not in ids:
            ids.append(i)
    if not ids:
        raise ServiceError("no_department", "请至少选择一个被吹哨的县直部门")
    found = {d.pk: d for d in Department.objects.filter(pk__in=ids).select_related("county")}
    out: list[Department] = []
    for i in ids:
        d = found.get(i)
        if d is None:
            raise ServiceError("invalid", f"部门编号 {i} 不存在")
        if d.county_id != county.pk:
            raise ServiceError("other_county", f"「{d.name}」不属于{county.name}，只能向本县县直部门吹哨")
        if not d.active:
            raise ServiceError("inactive_department", f"「{d.name}」已停用，不能吹哨")
        if d.kind != DepartmentKind.FUNCTIONAL:
            raise ServiceError("invalid", f"「{d.name}」不是县直职能部门，不能吹哨")
        out.append(d)
    return out


def _check_text(value: str, label: str, max_length: int, *, required: bool = True) -> str:
    """Every text a user types into a summons goes through here: each has a length cap."""
    value = str(value or "").strip()
    if required and not value:
        raise ServiceError("invalid", f"请填写{label}")
    if len(value) > max_length:
        raise ServiceError("invalid", f"{label}不能超过 {max_length:,} 个字（现为 {len(value):,} 个字）")
    if "\x00" in value:  # PostgreSQL refuses NUL in text: a clear refusal rather than a database error
        raise ServiceError("invalid", f"{label}含有无效字符")
    return value


@transaction.atomic
def summons_create(
    *,
    actor: Any,
    township: AdminUnit,
    ground: str,
    title: str,
    description: str,
    department_ids: Sequence[int | str],
    location: str = "",
    duty_item_id: int | str | None = None,
    now: datetime | None = None,
) -> Summons:
    """A township leader's summons is issued at once; a township staff member's waits as a draft for the leader."""
    if township.level != Level.TOWNSHIP:
        raise ServiceError("invalid", "吹哨只能由乡镇（街道）发起")
    if not perms.is_township_member(actor, township):
        raise PermissionDeniedError("只有本乡镇（街道）的干部可以吹哨")
    if ground not in Ground.values:
        raise ServiceError("invalid_ground", f"吹哨事由只能是：{GROUND_LIST}")
    title = _check_text(title, "事项", TITLE_MAX)
    description = _check_text(description, "情况说明", DESCRIPTION_MAX)
    location = _check_text(location, "地点", LOCATION_MAX, required=False)
    county = county_of(township)
    item = None
    if duty_item_id not in (None, ""):
        dl = current_duty_list(township)
        try:
            item_pk = int(duty_item_id)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            item_pk = -1
        if not 0 < item_pk < 2**63:
            item_pk = -1  # beyond the id column's range SQLite raises OverflowError
        item = DutyItem.objects.filter(pk=item_pk, duty_list=dl).first() if dl is not None else None
        if item is None:
            raise ServiceError("invalid_item", "所选事项不在本乡镇现行履职事项清单中")
    departments = _clean_departments(county, department_ids)
    leader = perms.is_township_member(actor, township, leader=True)
    s = Summons.objects.create(
        township=township,
        ground=ground,
        title=title,
        description=description,
        location=location,
        duty_item=item,
        status=SummonsStatus.DRAFT,
        ack_minutes=ack_minutes_for(county, ground),
        created_by=actor,
    )
    SummonsTarget.objects.bulk_create([SummonsTarget(summons=s, department=d) for d in departments])
    audit_record(
        actor=actor,
        action="summons.create",
        object_type="summons",
        object_id=s.pk,
        data={
            "township": township.code,
            "ground": ground,
            "title": title,
            "duty_item": item.pk if item else None,
            "departments": [d.pk for d in departments],
        },
    )
    if leader:
        _issue(actor=actor, s=s, county=county, now=_now(now))
    return s


def _issue(*, actor: Any, s: Summons, county: AdminUnit, now: datetime) -> None:
    # The limit in force when the clock starts is the one that binds.
    s.ack_minutes = ack_minutes_for(county, s.ground)
    s.status, s.issued_at, s.issued_by = SummonsStatus.OPEN, now, actor
    s.save(update_fields=["ack_minutes", "status", "issued_at", "issued_by"])
    due = now + timedelta(minutes=s.ack_minutes)
    SummonsTarget.objects.filter(summons=s).update(ack_due=due)
    audit_record(
        actor=actor,
        action="summons.issue",
        object_type="summons",
        object_id=s.pk,
        data={"ack_minutes": s.ack_minutes, "ack_due": due.isoformat()},
    )


def _locked(actor: Any, summons_id: int) -> tuple[Summons, list[SummonsTarget]]:
    """Fetch-and-check under a row lock: NotFoundError unless the actor may see the summons."""
    # Lock the summons row only (not the joined township): concurrent ack/report/close on one summons serialize.
    s = (
        Summons.objects.select_for_update(of=("self",))
        .filter(pk=summons_id)
        .select_related("township")
        .first()
    )
    if s is None:
        raise NotFoundError()
    targets = list(SummonsTarget.objects.filter(summons=s).select_related("department").order_by("id"))
    if not _can_view(actor, s, [t.department_id for t in targets]):
        raise NotFoundError()
    return s, targets


def _target(targets: list[SummonsTarget], target_id: int) -> SummonsTarget:
    for t in targets:
        if t.pk == target_id:
            return t
    raise NotFoundError()


@transaction.atomic
def summons_issue(*, actor: Any, summons_id: int, now: datetime | None = None) -> Summons:
    s, _targets = _locked(actor, summons_id)
    if not perms.is_township_member(actor, s.township, leader=True):
        raise PermissionDeniedError("只有乡镇主要领导可以签发吹哨")
    if s.status != SummonsStatus.DRAFT:
        raise ServiceError("not_draft", "该吹哨已签发，不能重复签发")
    _issue(actor=actor, s=s, county=county_of(s.township), now=_now(now))
    return s


@transaction.atomic
def summons_discard(*, actor: Any, summons_id: int) -> None:
    """A draft the leader will not issue (or its author withdraws) is deleted; the audit log keeps what it was."""
    s, targets = _locked(actor, summons_id)
    leader = perms.is_township_member(actor, s.township, leader=True)
    author = perms.is_township_member(actor, s.township) and s.created_by_id == actor.pk
    if not (leader or author):
        raise PermissionDeniedError("只有乡镇主要领导或起草人可以撤销吹哨草稿")
    if s.status != SummonsStatus.DRAFT:
        raise ServiceError("not_draft", "已签发的吹哨不能撤销，事项办结后请办结")
    audit_record(
        actor=actor,
        action="summons.discard",
        object_type="summons",
        object_id=s.pk,
        data={
            "township": s.township.code,
            "ground": s.ground,
            "title": s.title,
            "created_by": s.created_by_id,
            "departments": [t.department_id for t in targets],
        },
    )
    s.delete()


def _check_department_member(actor: Any, target: SummonsTarget) -> None:
    if target.department_id not in perms.member_departments(actor):
        raise PermissionDeniedError("只有被吹哨部门的工作人员可以报到")


def _ack(actor: Any, target: SummonsTarget, now: datetime, *, via: str) -> None:
    target.acknowledged_at, target.acknowledged_by = now, actor
    target.save(update_fields=["acknowledged_at", "acknowledged_by"])
    audit_record(
        actor=actor,
        action="summons.acknowledge",
        object_type="summons_target",
        object_id=target.pk,
        data={
            "summons": target.summons_id,
            "department": target.department_id,
            "late": target_late(target),
            "via": via,
        },
    )


@transaction.atomic
def summons_acknowledge(
    *, actor: Any, summons_id: int, target_id: int, now: datetime | None = None
) -> SummonsTarget:
    """报到: one click. Acknowledging again changes nothing (a double click is not an error)."""
    s, targets = _locked(actor, summons_id)
    t = _target(targets, target_id)
    _check_department_member(actor, t)
    if s.status == SummonsStatus.CLOSED:
        raise ServiceError("closed", "已办结的吹哨不能再报到")
    if s.status != SummonsStatus.OPEN:
        raise ServiceError("not_issued", "该吹哨尚未签发")
    if t.acknowledged_at is None:
        _ack(actor, t, _now(now), via="ack")
    return t


@transaction.atomic
def summons_report(
    *, actor: Any, summons_id: int, target_id: int, kind: str, text: str, now: datetime | None = None
) -> SummonsReport:
    """A department reports in (on site or in writing), as often as needed until the summons closes. The first
    report counts as the acknowledgement if the department has not acknowledged yet."""
    s, targets = _locked(actor, summons_id)
    t = _target(targets, target_id)
    _check_department_member(actor, t)
    if s.status == SummonsStatus.CLOSED:
        raise ServiceError("closed", "已办结的吹哨不能再报到")
    if s.status != SummonsStatus.OPEN:
        raise ServiceError("not_issued", "该吹哨尚未签发")
    if kind not in ReportKind.values:
        raise ServiceError("invalid", "报到方式只能是到场报到或书面报告")
    text = _check_text(text, "进展情况", REPORT_MAX)
    at = _now(now)
    if t.acknowledged_at is None:
        _ack(actor, t, at, via="report")
    r = SummonsReport.objects.create(target=t, kind=kind, text=text, created_by=actor)
    if now is not None:
        # created_at is auto_now_add; keep the report on the same clock as the caller's.
        SummonsReport.objects.filter(pk=r.pk).update(created_at=now)
        r.created_at = now
    audit_record(
        actor=actor,
        action="summons.report",
        object_type="summons_report",
        object_id=r.pk,
        data={"summons": s.pk, "department": t.department_id, "kind": kind, "length": len(text)},
    )
    return r


@transaction.atomic
def summons_close(*, actor: Any, summons_id: int, closing_note: str, now: datetime | None = None) -> Summons:
    s, targets = _locked(actor, summons_id)
    if not perms.is_township_member(actor, s.township):
        raise PermissionDeniedError("只有本乡镇（街道）的干部可以办结吹哨")
    if s.status == SummonsStatus.CLOSED:
        raise ServiceError("closed", "该吹哨已办结")
    if s.status != SummonsStatus.OPEN:
        raise ServiceError("not_issued", "草稿尚未签发，不能办结；不需要时请撤销")
    s.closing_note = _check_text(closing_note, "办结说明", CLOSING_NOTE_MAX)
    s.status, s.closed_at = SummonsStatus.CLOSED, _now(now)
    s.save(update_fields=["status", "closed_at", "closing_note"])
    audit_record(
        actor=actor,
        action="summons.close",
        object_type="summons",
        object_id=s.pk,
        data={
            "note": s.closing_note,
            "unacknowledged": [t.department_id for t in targets if not t.acknowledged_at],
        },
    )
    return s


def weighted_score(indicators: Sequence[Indicator], scores: Mapping[str, int]) -> Decimal:
    """0–100: the weighted mean of (s − 1) / 4 × 100 over the indicators (1 → 0, 3 → 50, 5 → 100)."""
    total_w = sum((i.weight for i in indicators), Decimal(0))
    acc = sum((i.weight * Decimal(scores[i.key] - SCORE_MIN) for i in indicators), Decimal(0))
    value = acc / total_w / (SCORE_MAX - SCORE_MIN) * 100
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _clean_scores(indicators: Sequence[Indicator], scores: Mapping[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for ind in indicators:
        raw = scores.get(ind.key)
        try:
            value = int(str(raw).strip()) if raw is not None and str(raw).strip() else None
        except ValueError:
            value = None
        if value is None or not SCORE_MIN <= value <= SCORE_MAX:
            raise ServiceError(
                "invalid_score",
                f"请为每项指标打分（{SCORE_MIN}–{SCORE_MAX} 分）：「{ind.name}」",
                detail={"indicator": ind.key},
            )
        out[ind.key] = value
    unknown = sorted(str(k)[:32] for k in set(scores) - {i.key for i in indicators})
    if unknown:
        more = f" 等 {len(unknown)} 项" if len(unknown) > 5 else ""
        raise ServiceError("invalid_score", f"未知的评价指标：{'、'.join(unknown[:5])}{more}")
    return out


@transaction.atomic
def summons_rate(
    *,
    actor: Any,
    summons_id: int,
    target_id: int,
    scores: Mapping[str, Any],
    comment: str = "",
    now: datetime | None = None,
) -> SummonsTarget:
    """下评上: after closing, the township rates each summoned department once."""
    s, targets = _locked(actor, summons_id)
    t = _target(targets, target_id)
    if not perms.is_township_member(actor, s.township):
        raise PermissionDeniedError("只有本乡镇（街道）的干部可以评价部门响应")
    if s.status != SummonsStatus.CLOSED:
        raise ServiceError("not_closed", "吹哨办结后才能评价部门响应")
    if t.rated_at is not None:
        raise ServiceError("already_rated", f"已评价过「{t.department.name}」，每个部门只评价一次")
    indicators = indicators_for(county_of(s.township))
    clean = _clean_scores(indicators, scores)
    comment = _check_text(comment, "评价意见", COMMENT_MAX, required=False)
    t.score = weighted_score(indicators, clean)
    # Names and weights are kept with the scores, so a rating still explains itself after the indicators change.
    t.scores = {i.key: {"name": i.name, "weight": str(i.weight), "score": clean[i.key]} for i in indicators}
    t.rating_comment, t.rated_by, t.rated_at = comment, actor, _now(now)
    t.save(update_fields=["score", "scores", "rating_comment", "rated_by", "rated_at"])
    audit_record(
        actor=actor,
        action="summons.rate",
        object_type="summons_target",
        object_id=t.pk,
        data={
            "summons": s.pk,
            "department": t.department_id,
            "scores": {k: v["score"] for k, v in t.scores.items()},
            "score": str(t.score),
        },
    )
    return t


def _clean_weight(raw: Any, name: str) -> Decimal:
    try:
        w = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ServiceError("invalid_weight", f"「{name}」的权重不是有效数字") from None
    if not w.is_finite() or w <= 0 or w > 1:
        raise ServiceError("invalid_weight", f"「{name}」的权重必须大于 0 且不超过 1")
    if w != w.quantize(Decimal("0.01")):
        raise ServiceError("invalid_weight", f"「{name}」的权重最多保留两位小数")
    return w.quantize(Decimal("0.01"))


@transaction.atomic
def summons_settings_update(
    *,
    actor: Any,
    county: AdminUnit,
    ack_minutes: Mapping[str, Any] | None = None,
    indicators: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Set the acknowledgement limit per ground and the 下评上 indicators. ``indicators`` is the full active list in
    order (``key`` optional for a new one, ``name``, ``weight``); weights must add up to 1. Indicators left out are
    deactivated, never deleted, so past ratings keep their meaning."""
    if county.level != Level.COUNTY:
        raise ServiceError("invalid", "吹哨规则按县设置")
    if not perms.can_configure_summons(actor, county):
        raise PermissionDeniedError("只有县减负办可以设置吹哨报到规则")
    changes: dict[str, Any] = {}
    if ack_minutes is not None:
        clean_minutes: dict[str, int] = {}
        for ground, raw in ack_minutes.items():
            if ground not in Ground.values:
                raise ServiceError("invalid_ground", f"吹哨事由只能是：{GROUND_LIST}")
            label = Ground(ground).label
            try:
                minutes = int(str(raw).strip())
            except ValueError:
                raise ServiceError("invalid", f"「{label}」的响应时限必须是整数分钟") from None
            if not 1 <= minutes <= MAX_ACK_MINUTES:
                raise ServiceError("invalid", f"「{label}」的响应时限必须在 1 到 {MAX_ACK_MINUTES} 分钟之间")
            clean_minutes[ground] = minutes
        for ground, minutes in clean_minutes.items():
            SummonsRule.objects.update_or_create(
                county=county, ground=ground, defaults={"ack_minutes": minutes}
            )
        changes["ack_minutes"] = clean_minutes
    if indicators is not None:
        changes["indicators"] = _save_indicators(county, indicators)
    audit_record(
        actor=actor,
        action="summons.settings_update",
        object_type="county",
        object_id=county.code,
        data=changes,
    )
    return summons_settings(actor, county=county)


def _save_indicators(county: AdminUnit, indicators: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if not indicators:
        raise ServiceError("invalid", "至少需要一项评价指标")
    if len(indicators) > MAX_INDICATORS:
        raise ServiceError("invalid", f"评价指标最多 {MAX_INDICATORS} 项")
    existing = {r.key: r for r in RatingIndicator.objects.select_for_update().filter(county=county)}
    if not existing:
        # The defaults were in force: they become rows, so keeping one of them keeps its key.
        for pos, (k, label, w) in enumerate(DEFAULT_INDICATORS):
            existing[k] = RatingIndicator.objects.create(
                county=county, key=k, name=label, weight=w, position=pos, active=False
            )
    clean: list[tuple[str, str, Decimal]] = []
    names: set[str] = set()
    keys: set[str] = set()
    for row in indicators:
        name = str(row.get("name") or "").strip()
        if not name:
            raise ServiceError("invalid", "指标名称不能为空")
        if len(name) > 32:
            raise ServiceError("invalid", f"指标名称「{name[:32]}…」不能超过 32 个字")
        if name in names:
            raise ServiceError("invalid", f"指标「{name}」重复")
        names.add(name)
        weight = _clean_weight(row.get("weight"), name)
        key = str(row.get("key") or "").strip()
        if key and not _KEY_RE.match(key):
            raise ServiceError("invalid", f"指标标识「{key}」只能包含小写字母、数字、下划线和连字符")
        if key in keys:
            raise ServiceError("invalid", f"指标标识「{key}」重复")
        if key:
            keys.add(key)
        clean.append((key, name, weight))
    total = sum((w for _k, _n, w in clean), Decimal(0))
    if total != 1:
        raise ServiceError("weights_sum", f"各项指标权重之和必须等于 1（当前为 {total}）")
    n = len(existing)
    out: list[dict[str, Any]] = []
    RatingIndicator.objects.filter(county=county).update(active=False)
    for pos, (key, name, weight) in enumerate(clean):
        if not key:
            n += 1
            key = f"i{n}"
            while key in existing or key in keys:
                n += 1
                key = f"i{n}"
            keys.add(key)
        RatingIndicator.objects.update_or_create(
            county=county,
            key=key,
            defaults={"name": name, "weight": weight, "position": pos, "active": True},
        )
        out.append({"indicator": key, "name": name, "weight": str(weight)})
    return out


def summons_escalate_overdue(*, now: datetime | None = None) -> int:
    """Stamp ``escalated_at`` on targets of open summonses that passed their limit unacknowledged, once each (the
    county office sees overdue summonses anyway; the stamp records when the platform referred them). Returns how
    many targets were newly escalated. Meant for a periodic command."""
    from gongzhi.core.imports import system_actor

    now = _now(now)
    with transaction.atomic():
        rows = list(
            SummonsTarget.objects.select_for_update(of=("self",))
            .filter(
                summons__status=SummonsStatus.OPEN,
                acknowledged_at__isnull=True,
                ack_due__lt=now,
                escalated_at__isnull=True,
            )
            .values_list("id", "summons_id", "department_id")
            .order_by("id")
        )
        if not rows:
            return 0
        SummonsTarget.objects.filter(id__in=[r[0] for r in rows]).update(escalated_at=now)
        actor = system_actor()
        for tid, sid, did in rows:
            audit_record(
                actor=actor,
                action="summons.escalate",
                object_type="summons_target",
                object_id=tid,
                data={"summons": sid, "department": did, "at": now.isoformat()},
            )
    return len(rows)
