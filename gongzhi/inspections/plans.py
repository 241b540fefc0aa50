"""Annual inspection plans and their items: services (every write) and selectors (every scoped read).

A department's staff create the year's plan, add, edit and delete items while it is a draft, and file it once
(报送). Filing makes every item wait for the county office's decision; items added after filing are out of plan
(计划外，一事一报), decided one by one and counted. The county office approves (the item gets its code, 一事一码),
returns with a reason (the department edits and resubmits, or withdraws) or refuses each item. Filing, an
out-of-plan item and a resubmission re-run the review (``review.review_run``) in the same transaction, so the flags
the office decides on always cover every item it sees.

Every write validates everything before it writes anything, runs in one transaction and records one audit event.
Errors are ``ServiceError`` with a Chinese message and ``detail={"field": …}`` naming the offending input.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import reduce
from operator import or_
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from gongzhi.core.audit import audit_record
from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError
from gongzhi.core.models import AdminUnit, Department, DepartmentKind, Level, Role
from gongzhi.core.roles import grants_for

from . import codes
from .models import (
    InspectionItem,
    InspectionPlan,
    InspectionTarget,
    ItemStatus,
    Kind,
    Mode,
    PlanStatus,
    ReviewFlag,
    ReviewRun,
)
from .permissions import (
    COUNTY_READERS,
    TOWNSHIP_ROLES,
    can_file_for,
    can_manage_county,
    can_read_county,
    member_departments,
)

MAX_TOPIC = 200
MAX_BASIS = 300
MAX_NOTE = 200
MAX_REASON = 500
MAX_MATERIALS = 30
MAX_MATERIAL_NAME = 100
MAX_MATERIAL_BASIS = 200
MAX_DATA_FIELDS = 50
MAX_DATA_LABEL = 60
MAX_HOURS = Decimal("1000")
MAX_ITEMS = 2000  # per plan; a department files a few dozen
MAX_TARGETS = 2000

# Items the review and the ledger count: waiting for a decision, or approved with a code in force.
LIVE_STATUSES = (ItemStatus.PENDING, ItemStatus.APPROVED)

KIND_WORDS: dict[str, str] = {
    "督查": Kind.SUPERVISION,
    "督导": Kind.SUPERVISION,
    "督察": Kind.SUPERVISION,
    "supervision": Kind.SUPERVISION,
    "检查": Kind.INSPECTION,
    "inspection": Kind.INSPECTION,
    "考核": Kind.ASSESSMENT,
    "考评": Kind.ASSESSMENT,
    "评估": Kind.ASSESSMENT,
    "assessment": Kind.ASSESSMENT,
}
MODE_WORDS: dict[str, str] = {
    "实地": Mode.ONSITE,
    "现场": Mode.ONSITE,
    "实地检查": Mode.ONSITE,
    "线下": Mode.ONSITE,
    "onsite": Mode.ONSITE,
    "非现场": Mode.REMOTE,
    "线上": Mode.REMOTE,
    "远程": Mode.REMOTE,
    "书面": Mode.REMOTE,
    "网上": Mode.REMOTE,
    "调阅资料": Mode.REMOTE,
    "remote": Mode.REMOTE,
}
ALL_TOWNSHIPS_WORDS = {
    "全部乡镇",
    "全部",
    "所有乡镇",
    "全县",
    "全县乡镇",
    "全县所有乡镇",
    "全部乡镇（街道）",
    "全县各乡镇",
}


# ---- parsing shared by forms, the API and the importer --------------------------------------------------------


def _squash(text: Any) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", str(text or "")))


def parse_kind(value: Any) -> str | None:
    text = _squash(value).lower()
    return KIND_WORDS.get(text) or (text if text in Kind.values else None)


def parse_mode(value: Any) -> str | None:
    text = _squash(value).lower()
    return MODE_WORDS.get(text) or (text if text in Mode.values else None)


_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_date(value: Any) -> dt.date | None:
    """A date from a date object, ISO text, 2026年3月1日, 2026.3.1 or 2026/3/1; None when it is none of these."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    if not text:
        return None
    m = _DATE_TEXT.match(text)
    if m is None:
        try:
            return dt.datetime.fromisoformat(text).date()
        except ValueError:
            return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def parse_hours(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return Decimal(0)
    if isinstance(value, bool):
        return None
    try:
        hours = Decimal(unicodedata.normalize("NFKC", str(value)).strip())
    except (InvalidOperation, ValueError):
        return None
    if not hours.is_finite():
        return None
    return hours


# Materials: "安全生产台账、现场照片（依据：《安全生产法》第二十二条）". Separators inside brackets or 《》 belong to
# the basis, so the split walks the text instead of using a regular expression.
_OPEN, _CLOSE = "（(《[【", "）)》]】"
_SEPARATORS = "、；;\n\r"
_BASIS = re.compile(r"^(?P<name>.*?)[（(]\s*(?:法定)?依据\s*[:：]?\s*(?P<basis>.*?)\s*[）)]\s*$", re.S)


def split_list(text: str) -> list[str]:
    out: list[str] = []
    buf: list[str] = []
    depth = 0
    for ch in text:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        if depth == 0 and ch in _SEPARATORS:
            out.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    out.append("".join(buf))
    return [s.strip() for s in out if s.strip()]


def parse_materials(text: str) -> list[dict[str, str]]:
    out = []
    for part in split_list(unicodedata.normalize("NFKC", text) if text else ""):
        m = _BASIS.match(part)
        if m:
            out.append({"name": m.group("name").strip(), "basis": m.group("basis").strip()})
        else:
            out.append({"name": part, "basis": ""})
    return out


def format_materials(materials: Iterable[Mapping[str, Any]], *, include_removed: bool = False) -> str:
    parts = []
    for m in materials:
        if m.get("removed") and not include_removed:
            continue
        name = str(m.get("name", ""))
        parts.append(f"{name}（依据：{m['basis']}）" if m.get("basis") else name)
    return "、".join(parts)


def parse_data_fields(text: str) -> list[str]:
    return [s for s in (p.strip() for p in re.split(r"[、，,；;\n\r]+", text or "")) if s]


# ---- validation --------------------------------------------------------------------------------------------------


@dataclass
class ItemInput:
    """An item as typed (form, API or a spreadsheet row), before validation."""

    kind: Any = ""
    topic: Any = ""
    window_start: Any = None
    window_end: Any = None
    comprehensive: bool = False
    basis: Any = ""
    all_townships: bool = False
    township_ids: Sequence[Any] = ()
    mode: Any = Mode.ONSITE
    township_hours: Any = 0
    materials: Any = ()  # list of {"name", "basis"} or text
    data_fields: Any = ()  # list of labels (or {"label"}) or text


@dataclass
class CleanItem:
    kind: str
    topic: str
    window_start: dt.date
    window_end: dt.date
    comprehensive: bool
    basis: str
    all_townships: bool
    township_ids: list[int]
    mode: str
    township_hours: Decimal
    materials: list[dict[str, Any]]
    data_fields: list[dict[str, Any]]

    def model_fields(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "topic": self.topic,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "comprehensive": self.comprehensive,
            "basis": self.basis,
            "all_townships": self.all_townships,
            "mode": self.mode,
            "township_hours": self.township_hours,
            "materials": self.materials,
            "data_fields": self.data_fields,
        }


@dataclass
class Problems:
    items: list[tuple[str, str]] = field(default_factory=list)

    def add(self, fld: str, message: str) -> None:
        self.items.append((fld, message))

    def raise_first(self) -> None:
        if self.items:
            fld, message = self.items[0]
            raise ServiceError(
                "invalid",
                message,
                {"field": fld, "errors": [{"field": f, "message": m} for f, m in self.items]},
            )


def county_townships(county: AdminUnit) -> dict[int, AdminUnit]:
    return {
        u.pk: u
        for u in AdminUnit.objects.filter(code__startswith=county.code[:6], level=Level.TOWNSHIP).order_by(
            "code"
        )
    }


def _text(value: Any) -> str:
    return str(value or "").strip()


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "on", "yes", "是", "y"}
    return bool(value)


def _materials(value: Any, problems: Problems) -> list[dict[str, Any]]:
    raw = parse_materials(value) if isinstance(value, str) else list(value or ())
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for m in raw:
        if isinstance(m, str):
            m = {"name": m, "basis": ""}
        if not isinstance(m, Mapping):
            problems.add("materials", "索要材料的格式不正确")
            return []
        name, basis = _text(m.get("name")), _text(m.get("basis"))
        if not name:
            continue
        if len(name) > MAX_MATERIAL_NAME or len(basis) > MAX_MATERIAL_BASIS:
            problems.add(
                "materials", f"材料名称不能超过 {MAX_MATERIAL_NAME} 字，依据不能超过 {MAX_MATERIAL_BASIS} 字"
            )
            return []
        if name in seen:
            continue
        seen.add(name)
        out.append({"name": name, "basis": basis})
    if len(out) > MAX_MATERIALS:
        problems.add("materials", f"一个事项索要的材料不能超过 {MAX_MATERIALS} 项")
    return out


def _data_fields(value: Any, problems: Problems) -> list[dict[str, Any]]:
    raw = parse_data_fields(value) if isinstance(value, str) else list(value or ())
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for d in raw:
        label = _text(d.get("label") if isinstance(d, Mapping) else d)
        if not label or label in seen:
            continue
        if len(label) > MAX_DATA_LABEL:
            problems.add("data_fields", f"数据项名称不能超过 {MAX_DATA_LABEL} 字")
            return []
        seen.add(label)
        out.append({"label": label, "ref": None})
    if len(out) > MAX_DATA_FIELDS:
        problems.add("data_fields", f"一个事项的数据需求不能超过 {MAX_DATA_FIELDS} 项")
    return out


def validate_item(
    data: ItemInput, *, county: AdminUnit, year: int, townships: Mapping[int, AdminUnit] | None = None
) -> tuple[CleanItem | None, Problems]:
    """Every problem of one item, each with the field it belongs to (the importer maps fields to columns)."""
    p = Problems()
    kind = parse_kind(data.kind)
    if not _text(data.kind):
        p.add("kind", "请选择类型：督查、检查或考核")
    elif kind is None:
        p.add("kind", f"类型「{_text(data.kind)}」无效，应为督查、检查或考核")
    topic = re.sub(r"\s+", " ", _text(data.topic))
    if not topic:
        p.add("topic", "请填写事项名称")
    elif len(topic) > MAX_TOPIC:
        p.add("topic", f"事项名称不能超过 {MAX_TOPIC} 字")
    basis = _text(data.basis)
    if len(basis) > MAX_BASIS:
        p.add("basis", f"依据不能超过 {MAX_BASIS} 字")
    start, end = parse_date(data.window_start), parse_date(data.window_end)
    for fld, raw, got, label in (
        ("window_start", data.window_start, start, "开始日期"),
        ("window_end", data.window_end, end, "结束日期"),
    ):
        if got is None:
            if _text(raw):
                p.add(fld, f"{label}「{_text(raw)}」不是有效日期，应为 2026-03-01 或 2026年3月1日")
            else:
                p.add(fld, f"请填写{label}：没有时间窗口的事项无法统筹安排")
    if start and end:
        if end < start:
            p.add("window_end", f"结束日期（{end:%Y-%m-%d}）早于开始日期（{start:%Y-%m-%d}），请检查是否填反")
        elif start.year != year or end.year != year:
            p.add("window_start", f"计划年度为 {year} 年，开始和结束日期都应在 {year} 年内")
    mode = parse_mode(data.mode) if _text(data.mode) else Mode.ONSITE
    if mode is None:
        p.add("mode", f"方式「{_text(data.mode)}」无效，应为实地或非现场（线上）")
    hours = parse_hours(data.township_hours)
    if hours is None:
        p.add("township_hours", "预计占用乡镇工时必须是数字（小时/乡镇）")
    elif hours < 0 or hours > MAX_HOURS:
        p.add("township_hours", f"预计占用乡镇工时应在 0 到 {MAX_HOURS} 小时之间")
    all_townships = _bool(data.all_townships)
    ids: list[int] = []
    if not all_townships:
        for v in data.township_ids or ():
            try:
                ids.append(int(v))
            except (TypeError, ValueError):
                p.add("townships", f"乡镇编号「{v}」无效")
        ids = sorted(set(ids))
        if not ids:
            p.add("townships", "请选择对象乡镇，或选择“全部乡镇”")
        elif len(ids) > MAX_TARGETS:
            p.add("townships", f"对象乡镇不能超过 {MAX_TARGETS} 个")
        else:
            known = townships if townships is not None else county_townships(county)
            missing = [i for i in ids if i not in known]
            if missing:
                strays = {u.pk: u for u in AdminUnit.objects.filter(pk__in=missing).select_related("parent")}
                for i in missing:
                    u = strays.get(i)
                    if u is None or u.level != Level.TOWNSHIP:
                        p.add("townships", f"乡镇（编号 {i}）不存在")
                    else:
                        p.add("townships", f"「{u.name}」不是{county.name}的乡镇，不能列为本县计划的对象")
    materials = _materials(data.materials, p)
    data_fields = _data_fields(data.data_fields, p)
    if p.items:
        return None, p
    assert kind is not None and mode is not None and hours is not None and start and end
    return (
        CleanItem(
            kind=kind,
            topic=topic,
            window_start=start,
            window_end=end,
            comprehensive=_bool(data.comprehensive),
            basis=basis,
            all_townships=all_townships,
            township_ids=ids,
            mode=mode,
            township_hours=hours.quantize(Decimal("0.1")),
            materials=materials,
            data_fields=data_fields,
        ),
        p,
    )


def _validated(data: ItemInput, plan: InspectionPlan) -> CleanItem:
    clean, problems = validate_item(data, county=plan.county, year=plan.year)
    problems.raise_first()
    assert clean is not None
    return clean


# ---- writes ------------------------------------------------------------------------------------------------------


def _this_year() -> int:
    return timezone.localdate().year


def filing_departments(user: Any) -> list[Department]:
    """The functional departments this user may file plans for (the admin: none of their own; they pass one)."""
    ids = member_departments(user)
    if not ids:
        return []
    return list(
        Department.objects.filter(pk__in=ids, active=True, kind=DepartmentKind.FUNCTIONAL)
        .select_related("county")
        .order_by("id")
    )


def _filing_department(actor: Any, department_id: int | None) -> Department:
    if department_id is None:
        mine = filing_departments(actor)
        if not mine:
            raise PermissionDeniedError("只有县直部门可以报送督查检查考核计划")
        if len(mine) > 1:
            raise ServiceError("invalid", "您在多个部门任职，请选择以哪个部门报送", {"field": "department"})
        return mine[0]
    dept = Department.objects.select_related("county").filter(pk=department_id).first()
    if dept is None:
        raise NotFoundError("部门不存在")
    if not can_file_for(actor, dept):
        raise PermissionDeniedError("只有本部门干部可以编制和报送本部门的计划")
    if not dept.active or dept.kind != DepartmentKind.FUNCTIONAL:
        raise ServiceError("invalid", f"「{dept.name}」不是在用的县直部门，不能报送督查检查考核计划")
    return dept


def check_year(year: Any) -> int:
    try:
        y = int(year)
    except (TypeError, ValueError) as e:
        raise ServiceError("invalid", "年度必须是四位数字，例如 2026", {"field": "year"}) from e
    if y < 2000 or y > _this_year() + 1:
        raise ServiceError("invalid", f"年度应在 2000 到 {_this_year() + 1} 之间", {"field": "year"})
    return y


def _duplicate_plan_error(plan: InspectionPlan) -> ServiceError:
    if plan.status == PlanStatus.FILED:
        when = timezone.localtime(plan.filed_at).strftime("%Y-%m-%d") if plan.filed_at else ""
        return ServiceError(
            "already_filed",
            f"{plan.department.name} {plan.year} 年度计划已于 {when} 报送，不能重复报送；"
            "报送后新增的事项请作为计划外事项逐项报批（一事一报）",
            {"plan": plan.pk},
        )
    return ServiceError(
        "duplicate",
        f"{plan.department.name}已有 {plan.year} 年度计划（草稿），请在原计划中继续编制",
        {"plan": plan.pk},
    )


def plan_create(*, actor: Any, year: Any, department_id: int | None = None, note: str = "") -> InspectionPlan:
    dept = _filing_department(actor, department_id)
    y = check_year(year)
    note = _text(note)
    if len(note) > MAX_NOTE:
        raise ServiceError("invalid", f"说明不能超过 {MAX_NOTE} 字", {"field": "note"})
    with transaction.atomic():
        existing = InspectionPlan.objects.select_related("department").filter(department=dept, year=y).first()
        if existing is not None:
            raise _duplicate_plan_error(existing)
        try:
            with transaction.atomic():
                plan = InspectionPlan.objects.create(department=dept, county=dept.county, year=y, note=note)
        except IntegrityError as e:  # a concurrent create of the same year
            existing = InspectionPlan.objects.select_related("department").get(department=dept, year=y)
            raise _duplicate_plan_error(existing) from e
        audit_record(
            actor=actor,
            action="inspection_plan.create",
            object_type="inspection_plan",
            object_id=plan.pk,
            data={"department": dept.name, "year": y},
        )
    return plan


def _locked_plan(plan_id: int) -> InspectionPlan:
    plan = (
        InspectionPlan.objects.select_for_update(of=("self",))
        .select_related("department", "county")
        .filter(pk=plan_id)
        .first()
    )
    if plan is None:
        raise NotFoundError()
    return plan


def _check_filer(actor: Any, plan: InspectionPlan) -> None:
    if can_file_for(actor, plan.department):
        return
    if can_view_plan(actor, plan):
        raise PermissionDeniedError("只有本部门干部可以编制和报送本部门的计划")
    raise NotFoundError()


def plan_file(*, actor: Any, plan_id: int) -> InspectionPlan:
    """报送: once per department and year. Every item then waits for the county office; the review runs."""
    from .review import review_run

    with transaction.atomic():
        plan = _locked_plan(plan_id)
        _check_filer(actor, plan)
        if plan.status == PlanStatus.FILED:
            raise _duplicate_plan_error(plan)
        n = plan.items.count()
        if n == 0:
            raise ServiceError("invalid", "计划中还没有事项，不能报送；没有督查检查考核安排时无需报送")
        plan.status = PlanStatus.FILED
        plan.filed_at = timezone.now()
        plan.filed_by = actor
        plan.save(update_fields=["status", "filed_at", "filed_by"])
        audit_record(
            actor=actor,
            action="inspection_plan.file",
            object_type="inspection_plan",
            object_id=plan.pk,
            data={"department": plan.department.name, "year": plan.year, "items": n},
        )
        review_run(actor=actor, county=plan.county, year=plan.year, trigger="file", check=False)
    return plan


def _next_seq(plan: InspectionPlan) -> int:
    top = InspectionItem.objects.filter(plan=plan).aggregate(m=Max("seq"))["m"]
    return int(top or 0) + 1


def _write_targets(item: InspectionItem, clean: CleanItem, *, replace: bool) -> None:
    if replace:
        InspectionTarget.objects.filter(item=item).delete()
    if not clean.all_townships:
        InspectionTarget.objects.bulk_create(
            [InspectionTarget(item=item, township_id=t) for t in clean.township_ids]
        )


def _audit_item(item: InspectionItem, clean: CleanItem) -> dict[str, Any]:
    return {
        "plan": item.plan_id,
        "seq": item.seq,
        "topic": clean.topic,
        "kind": clean.kind,
        "mode": clean.mode,
        "window": [clean.window_start.isoformat(), clean.window_end.isoformat()],
        "townships": "all" if clean.all_townships else clean.township_ids,
        "hours": str(clean.township_hours),
        "materials": [m["name"] for m in clean.materials],
        "data_fields": [d["label"] for d in clean.data_fields],
        "out_of_plan": item.out_of_plan,
    }


def item_create(*, actor: Any, plan_id: int, data: ItemInput) -> InspectionItem:
    """Add an item. In a draft it is part of the plan; after filing it is out of plan (一事一报) and reviewed now."""
    from .review import review_run

    with transaction.atomic():
        plan = _locked_plan(plan_id)
        _check_filer(actor, plan)
        clean = _validated(data, plan)
        if plan.items.count() >= MAX_ITEMS:
            raise ServiceError("invalid", f"一个年度计划最多 {MAX_ITEMS} 个事项")
        filed = plan.status == PlanStatus.FILED
        item = InspectionItem.objects.create(
            plan=plan,
            seq=_next_seq(plan),
            out_of_plan=filed,
            status=ItemStatus.PENDING,
            **clean.model_fields(),
        )
        _write_targets(item, clean, replace=False)
        audit_record(
            actor=actor,
            action="inspection_item.create",
            object_type="inspection_item",
            object_id=item.pk,
            data=_audit_item(item, clean),
        )
        if filed:
            review_run(actor=actor, county=plan.county, year=plan.year, trigger="out_of_plan", check=False)
    return item


def _locked_item(item_id: int) -> InspectionItem:
    item = InspectionItem.objects.select_for_update(of=("self",)).filter(pk=item_id).first()
    if item is None:
        raise NotFoundError()
    item.plan = InspectionPlan.objects.select_related("department", "county").get(pk=item.plan_id)
    return item


def editable(item: InspectionItem) -> bool:
    return item.plan.status == PlanStatus.DRAFT or item.status == ItemStatus.RETURNED


def item_update(*, actor: Any, item_id: int, data: ItemInput) -> InspectionItem:
    """Edit an item of a draft, or a returned item after filing (which resubmits it for a decision)."""
    from .review import review_run

    with transaction.atomic():
        item = _locked_item(item_id)
        plan = item.plan
        _check_filer(actor, plan)
        if not editable(item):
            raise ServiceError(
                "invalid_state",
                f"该事项当前状态为「{item.get_status_display()}」，计划报送后只能修改被退回的事项",
            )
        clean = _validated(data, plan)
        resubmit = plan.status == PlanStatus.FILED
        for k, v in clean.model_fields().items():
            setattr(item, k, v)
        fields = [*clean.model_fields().keys()]
        if resubmit:
            item.status = ItemStatus.PENDING
            item.decided_by, item.decided_at, item.decision_note = None, None, ""
            fields += ["status", "decided_by", "decided_at", "decision_note"]
        item.save(update_fields=fields)
        _write_targets(item, clean, replace=True)
        audit_record(
            actor=actor,
            action="inspection_item.resubmit" if resubmit else "inspection_item.update",
            object_type="inspection_item",
            object_id=item.pk,
            data=_audit_item(item, clean),
        )
        if resubmit:
            review_run(actor=actor, county=plan.county, year=plan.year, trigger="resubmit", check=False)
    return item


def item_delete(*, actor: Any, item_id: int) -> InspectionItem | None:
    """A draft's item is deleted; a filed item that is returned or still pending is withdrawn (kept and counted,
    so the ledger shows what was filed). Approved, refused and withdrawn items stay as they are."""
    with transaction.atomic():
        item = _locked_item(item_id)
        plan = item.plan
        _check_filer(actor, plan)
        data = {"plan": plan.pk, "seq": item.seq, "topic": item.topic}
        if plan.status == PlanStatus.DRAFT:
            pk = item.pk
            item.delete()
            audit_record(
                actor=actor,
                action="inspection_item.delete",
                object_type="inspection_item",
                object_id=pk,
                data=data,
            )
            return None
        if item.status not in (ItemStatus.RETURNED, ItemStatus.PENDING):
            raise ServiceError("invalid_state", f"该事项当前状态为「{item.get_status_display()}」，不能撤回")
        item.status = ItemStatus.WITHDRAWN
        item.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action="inspection_item.withdraw",
            object_type="inspection_item",
            object_id=item.pk,
            data=data,
        )
    return item


# ---- decisions and codes ---------------------------------------------------------------------------------------

DECISIONS = ("approve", "return", "refuse")


def _check_manager(actor: Any, plan: InspectionPlan, what: str) -> None:
    if can_manage_county(actor, plan.county):
        return
    if can_view_plan(actor, plan):
        raise PermissionDeniedError(f"{what}由县委县政府办（减负办）负责")
    raise NotFoundError()


def issue_code(item: InspectionItem, year: int) -> str:
    """A fresh code for ``item`` (saved by the caller). The unique index is the final word on collisions."""
    for _ in range(8):
        candidate = codes.make_code(year)
        if not InspectionItem.objects.filter(code=candidate).exists():
            return candidate
    raise ServiceError("code_exhausted", "事项码生成失败，请重试")  # 35 random bits: practically unreachable


def _save_with_code(item: InspectionItem, fields: list[str]) -> None:
    for attempt in range(3):
        item.code = issue_code(item, item.plan.year)
        try:
            with transaction.atomic():
                item.save(update_fields=[*fields, "code"])
            return
        except IntegrityError:
            if attempt == 2:
                raise


def _apply_flags(item: InspectionItem, flags: Sequence[ReviewFlag]) -> dict[str, Any]:
    """On approval: trace materials without a legal basis are struck from what the item may ask for, and data the
    township already submitted becomes a catalog reference. Returns what changed, for the audit event."""
    removed: list[str] = []
    referenced: list[str] = []
    trace = {str(n) for f in flags if f.rule == "trace_demand" for n in _flag_names(f, "material")}
    if trace:
        materials = []
        for m in item.materials:
            m = dict(m)
            if m.get("name") in trace and not m.get("basis") and not m.get("removed"):
                m["removed"] = "trace_demand"
                removed.append(str(m["name"]))
            materials.append(m)
        item.materials = materials
    held: dict[str, dict[str, Any]] = {}
    for f in flags:
        if f.rule != "data_held":
            continue
        for label, ref in _held_refs(f).items():
            held.setdefault(label, ref)
    if held:
        fields = []
        for d in item.data_fields:
            d = dict(d)
            found = held.get(str(d.get("label")))
            if found is not None and not d.get("ref"):
                d["ref"] = found
                referenced.append(str(d["label"]))
            fields.append(d)
        item.data_fields = fields
    return {"removed_materials": removed, "catalog_fields": referenced}


def _flag_names(flag: ReviewFlag, key: str) -> list[str]:
    """The material names a trace_demand flag names: ``params["materials"]`` entries ``{"material": name, …}``."""
    params = flag.params or {}
    value = params.get(key + "s") or params.get(key) or []
    if isinstance(value, str):
        return [value]
    return [str(v.get(key) or v.get("name") or "") if isinstance(v, Mapping) else str(v) for v in value]


def _held_refs(flag: ReviewFlag) -> dict[str, dict[str, Any]]:
    """Requested label -> catalog reference ``{"entry", "field"}`` from a data_held flag's ``params["fields"]``
    (``{"field": label, "refs": ["<entry>:<key>", …], "held": n, "of": m}``). Where only some targets hold the
    value, the reference still serves those; the others are asked (``datacatalog.resolve`` finds no value)."""
    from .review import parse_ref

    out: dict[str, dict[str, Any]] = {}
    for r in (flag.params or {}).get("fields") or []:
        if not isinstance(r, Mapping):
            continue
        label = r.get("field")
        refs = [x for x in (parse_ref(t) for t in r.get("refs") or []) if x is not None]
        if label and refs:
            ref = dict(refs[0])
            if not r.get("all", True):
                ref["held"], ref["of"] = r.get("held"), r.get("of")
            out[str(label)] = ref
    return out


def latest_run_id(county_id: int, year: int) -> int | None:
    return (
        ReviewRun.objects.filter(county_id=county_id, year=year)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )


def item_flags(item: InspectionItem, run_id: int | None = None) -> list[ReviewFlag]:
    rid = run_id if run_id is not None else latest_run_id(item.plan.county_id, item.plan.year)
    if rid is None:
        return []
    return list(ReviewFlag.objects.filter(run_id=rid, item=item).order_by("rule", "id"))


def item_decide(*, actor: Any, item_id: int, action: str, note: str = "") -> InspectionItem:
    """The county office decides a pending item: approve (issues its code), return with a reason, or refuse."""
    note = _text(note)
    with transaction.atomic():
        item = _locked_item(item_id)
        plan = item.plan
        _check_manager(actor, plan, "事项审核")
        if action not in DECISIONS:
            raise ServiceError("invalid", "审核结论应为批准、退回修改或不予批准", {"field": "action"})
        if len(note) > MAX_REASON:
            raise ServiceError("invalid", f"审核意见不能超过 {MAX_REASON} 字", {"field": "note"})
        if plan.status != PlanStatus.FILED or item.status != ItemStatus.PENDING:
            raise ServiceError(
                "invalid_state", f"该事项当前状态为「{item.get_status_display()}」，不是待审核事项"
            )
        if action != "approve" and not note:
            raise ServiceError(
                "invalid",
                "退回修改或不予批准时请写明理由，报送部门会看到"
                if action == "return"
                else "不予批准时请写明理由",
                {"field": "note"},
            )
        changes: dict[str, Any] = {}
        item.decided_by = actor
        item.decided_at = timezone.now()
        item.decision_note = note
        fields = ["status", "decided_by", "decided_at", "decision_note"]
        if action == "approve":
            changes = _apply_flags(item, item_flags(item))
            item.status = ItemStatus.APPROVED
            _save_with_code(item, [*fields, "materials", "data_fields"])
        else:
            item.status = ItemStatus.RETURNED if action == "return" else ItemStatus.REFUSED
            item.save(update_fields=fields)
        audit_record(
            actor=actor,
            action=f"inspection_item.{action}",
            object_type="inspection_item",
            object_id=item.pk,
            data={"note": note, "out_of_plan": item.out_of_plan, **changes},
        )
    return item


@dataclass
class BulkResult:
    approved: int
    skipped_flagged: int
    run_id: int | None


def items_approve_clean(*, actor: Any, county: AdminUnit, year: int) -> BulkResult:
    """One click for the clean part of the year: re-run the review, then approve every pending planned item of a
    filed plan that the fresh run did not flag. Flagged and out-of-plan items stay for a decision one by one."""
    from .review import review_run

    with transaction.atomic():
        if not can_manage_county(actor, county):
            if can_read_county(actor, county):
                raise PermissionDeniedError("事项审核由县委县政府办（减负办）负责")
            raise NotFoundError()
        run = review_run(actor=actor, county=county, year=year, trigger="approve_clean", check=False)
        # Out-of-plan items are decided one by one (一事一报), never in bulk.
        pending = InspectionItem.objects.select_for_update(of=("self",)).filter(
            plan__county=county,
            plan__year=year,
            plan__status=PlanStatus.FILED,
            status=ItemStatus.PENDING,
            out_of_plan=False,
        )
        if run is not None:
            flagged_ids = set(ReviewFlag.objects.filter(run=run).values_list("item_id", flat=True))
        else:
            # The engine could not run: nothing counts as clean.
            flagged_ids = set(pending.values_list("id", flat=True))
        items = [i for i in pending.select_related("plan").order_by("id") if i.pk not in flagged_ids]
        now = timezone.now()
        taken = set(
            InspectionItem.objects.filter(code__startswith=f"{codes.PREFIX}{year % 100:02d}").values_list(
                "code", flat=True
            )
        )
        for item in items:
            code = codes.make_code(year)
            while code in taken:
                code = codes.make_code(year)
            taken.add(code)
            item.code = code
            item.status = ItemStatus.APPROVED
            item.decided_by, item.decided_at, item.decision_note = actor, now, ""
        InspectionItem.objects.bulk_update(
            items, ["code", "status", "decided_by", "decided_at", "decision_note"], batch_size=500
        )
        audit_record(
            actor=actor,
            action="inspection_item.approve_clean",
            object_type="review_run",
            object_id=run.pk if run else "",
            data={
                "county": county.code,
                "year": year,
                "approved": len(items),
                "items": [i.pk for i in items],
                "flagged_pending": len(flagged_ids & {i.pk for i in pending}),
            },
        )
    return BulkResult(
        approved=len(items), skipped_flagged=len(flagged_ids) if run else 0, run_id=run.pk if run else None
    )


def code_revoke(*, actor: Any, item_id: int, reason: str) -> InspectionItem:
    """The county office revokes an item's code; the code keeps saying "revoked" on the verification page."""
    reason = _text(reason)
    with transaction.atomic():
        item = _locked_item(item_id)
        _check_manager(actor, item.plan, "撤销事项码")
        if not item.code:
            raise ServiceError("invalid_state", "该事项没有事项码")
        if item.code_revoked_at is not None:
            raise ServiceError("invalid_state", "该事项码已撤销")
        if not reason:
            raise ServiceError("invalid", "请写明撤销原因，乡镇核验时会看到", {"field": "reason"})
        if len(reason) > 200:
            raise ServiceError("invalid", "撤销原因不能超过 200 字", {"field": "reason"})
        item.code_revoked_at = timezone.now()
        item.code_revoked_reason = reason
        item.save(update_fields=["code_revoked_at", "code_revoked_reason"])
        audit_record(
            actor=actor,
            action="inspection_item.revoke_code",
            object_type="inspection_item",
            object_id=item.pk,
            data={"reason": reason},
        )
    return item


# ---- reads -------------------------------------------------------------------------------------------------------


def plan_scope(user: Any) -> Q | None:
    """Plans a user may read: their own department's; every plan of the county for the county office and organs."""
    conds: list[Q] = []
    for g in grants_for(user):
        if g.role == Role.PLATFORM_ADMIN:
            return Q()
        if g.role in COUNTY_READERS:
            conds.append(Q(county__code__startswith=g.unit_prefix))
        elif g.role == Role.DEPARTMENT_STAFF and g.department_id:
            conds.append(Q(department_id=g.department_id))
    return reduce(or_, conds) if conds else None


def can_view_plan(user: Any, plan: InspectionPlan) -> bool:
    return bool(can_read_county(user, plan.county) or can_file_for(user, plan.department))


def can_use_plans(user: Any) -> bool:
    return plan_scope(user) is not None


def township_item_q(user: Any) -> Q | None:
    """Approved items aimed at the user's township (named, or all townships of its county)."""
    towns = [g for g in grants_for(user) if g.role in TOWNSHIP_ROLES and g.unit_id is not None]
    if not towns:
        return None
    ids = [g.unit_id for g in towns]
    counties = sorted({g.unit_prefix[:6] for g in towns})
    named = InspectionTarget.objects.filter(township_id__in=ids).values("item_id")
    county_wide = reduce(or_, (Q(plan__county__code__startswith=c) for c in counties))
    return Q(status=ItemStatus.APPROVED) & (Q(pk__in=named) | (Q(all_townships=True) & county_wide))


def item_scope(user: Any) -> Q | None:
    conds: list[Q] = []
    ps = plan_scope(user)
    if ps is not None:
        if not ps.children:
            return Q()
        conds.append(Q(plan__in=InspectionPlan.objects.filter(ps).values("pk")))
    tq = township_item_q(user)
    if tq is not None:
        conds.append(tq)
    return reduce(or_, conds) if conds else None


def with_latest_run(qs: QuerySet[InspectionPlan]) -> QuerySet[InspectionPlan]:
    latest = ReviewRun.objects.filter(county=OuterRef("county"), year=OuterRef("year")).order_by("-id")
    return qs.annotate(latest_run=Subquery(latest.values("id")[:1]))


PLAN_STATUS_FILTERS = ("draft", "filed", "pending", "returned")


def plan_list(
    *,
    user: Any,
    year: int | None = None,
    department_id: int | None = None,
    status: str = "",
    flagged: bool = False,
) -> QuerySet[InspectionPlan]:
    scope = plan_scope(user)
    if scope is None:
        raise PermissionDeniedError("您没有可查看的督查检查考核计划")
    qs = InspectionPlan.objects.filter(scope)
    if year:
        qs = qs.filter(year=year)
    if department_id:
        qs = qs.filter(department_id=department_id)
    if status in (PlanStatus.DRAFT, PlanStatus.FILED):
        qs = qs.filter(status=status)
    elif status in ("pending", "returned"):
        qs = qs.filter(Exists(InspectionItem.objects.filter(plan=OuterRef("pk"), status=status)))
    if flagged:
        # Nested: the run is looked up for the plan two levels out (plan -> flag -> run).
        latest = ReviewRun.objects.filter(
            county=OuterRef(OuterRef("county")), year=OuterRef(OuterRef("year"))
        ).order_by("-id")
        qs = qs.filter(
            Exists(
                ReviewFlag.objects.filter(item__plan=OuterRef("pk"), run_id=Subquery(latest.values("id")[:1]))
            )
        )
    return (
        qs.select_related("department", "county")
        .annotate(
            n_items=Count("items", distinct=True),
            n_pending=Count("items", filter=Q(items__status=ItemStatus.PENDING), distinct=True),
            n_approved=Count("items", filter=Q(items__status=ItemStatus.APPROVED), distinct=True),
            n_returned=Count("items", filter=Q(items__status=ItemStatus.RETURNED), distinct=True),
            n_out_of_plan=Count("items", filter=Q(items__out_of_plan=True), distinct=True),
        )
        .order_by("-year", "county__code", "department_id")
    )


def flag_counts(plans: Sequence[InspectionPlan]) -> dict[int, int]:
    """Flagged items per plan in the newest review of each plan's county and year: one query for a page."""
    pairs = {(p.county_id, p.year) for p in plans}
    if not pairs:
        return {}
    cond = reduce(or_, (Q(county_id=c, year=y) for c, y in pairs))
    runs = (
        ReviewRun.objects.filter(cond)
        .values("county_id", "year")
        .annotate(m=Max("id"))
        .values_list("m", flat=True)
    )
    rows = (
        ReviewFlag.objects.filter(run_id__in=Subquery(runs), item__plan__in=[p.pk for p in plans])
        .values("item__plan_id")
        .annotate(n=Count("item_id", distinct=True))
    )
    return {r["item__plan_id"]: r["n"] for r in rows}


def plan_get(*, user: Any, pk: int) -> InspectionPlan:
    scope = plan_scope(user)
    plan = (
        InspectionPlan.objects.filter(scope, pk=pk).select_related("department", "county", "filed_by").first()
        if scope is not None
        else None
    )
    if plan is None:
        raise NotFoundError()
    return plan


def plan_items(plan: InspectionPlan) -> QuerySet[InspectionItem]:
    return InspectionItem.objects.filter(plan=plan).order_by("seq")


def target_names(items: Sequence[InspectionItem]) -> dict[int, list[AdminUnit]]:
    """Named target townships of each item: one query for a page of items."""
    out: dict[int, list[AdminUnit]] = {i.pk: [] for i in items}
    rows = (
        InspectionTarget.objects.filter(item_id__in=list(out))
        .select_related("township")
        .order_by("township__code")
    )
    for t in rows:
        out[t.item_id].append(t.township)
    return out


def flags_by_item(
    items: Sequence[InspectionItem], run_ids: Mapping[tuple[int, int], int | None], *, user: Any
) -> dict[int, list[ReviewFlag]]:
    """Flags of the newest run for each item (``run_ids``: (county id, year) -> run id): one query. Only for items
    whose plan ``user`` reads (the filing department, the county office and organs): the flags name other
    departments' items, pending ones too, and other townships, so a township reading an approved item gets none."""
    out: dict[int, list[ReviewFlag]] = {i.pk: [] for i in items}
    wanted = {rid for rid in run_ids.values() if rid is not None}
    readers: dict[int, bool] = {}
    for i in items:
        if i.plan_id not in readers:
            readers[i.plan_id] = can_view_plan(user, i.plan)
    shown = [i.pk for i in items if readers[i.plan_id]]
    if not wanted or not shown:
        return out
    for f in ReviewFlag.objects.filter(run_id__in=wanted, item_id__in=shown).order_by("rule", "id"):
        out[f.item_id].append(f)
    return out


def item_list(
    *,
    user: Any,
    county: AdminUnit | None = None,
    year: int | None = None,
    plan_id: int | None = None,
    status: str = "",
    out_of_plan: bool | None = None,
    flagged: bool | None = None,
) -> QuerySet[InspectionItem]:
    scope = item_scope(user)
    if scope is None:
        raise PermissionDeniedError("您没有可查看的督查检查考核事项")
    qs = InspectionItem.objects.filter(scope)
    if county is not None:
        qs = qs.filter(plan__county=county)
    if year:
        qs = qs.filter(plan__year=year)
    if plan_id:
        qs = qs.filter(plan_id=plan_id)
    if status:
        if status not in ItemStatus.values:
            raise ServiceError("invalid", f"状态「{status}」无效", {"field": "status"})
        qs = qs.filter(status=status)
    if out_of_plan is not None:
        qs = qs.filter(out_of_plan=out_of_plan)
    if flagged is not None:
        latest = ReviewRun.objects.filter(
            county=OuterRef(OuterRef("plan__county")), year=OuterRef(OuterRef("plan__year"))
        ).order_by("-id")
        has = Exists(ReviewFlag.objects.filter(item=OuterRef("pk"), run_id=Subquery(latest.values("id")[:1])))
        qs = qs.filter(has if flagged else ~has)
    return qs.select_related("plan", "plan__department", "plan__county").order_by("plan_id", "seq")


def item_get(*, user: Any, pk: int) -> InspectionItem:
    scope = item_scope(user)
    item = (
        InspectionItem.objects.filter(scope, pk=pk)
        .select_related("plan", "plan__department", "plan__county", "decided_by")
        .first()
        if scope is not None
        else None
    )
    if item is None:
        raise NotFoundError()
    return item


def item_actions(user: Any, item: InspectionItem) -> dict[str, bool]:
    """What the viewer may do on this item, for the page (the services check again)."""
    filer = can_file_for(user, item.plan.department)
    manager = can_manage_county(user, item.plan.county)
    filed = item.plan.status == PlanStatus.FILED
    return {
        "edit": filer and editable(item),
        "delete": filer and not filed,
        "withdraw": filer and filed and item.status in (ItemStatus.RETURNED, ItemStatus.PENDING),
        "decide": manager and filed and item.status == ItemStatus.PENDING,
        "revoke": manager and bool(item.code) and item.code_revoked_at is None,
        "see_code": bool(item.code) and (filer or can_read_county(user, item.plan.county)),
    }


def decider_office(item: InspectionItem) -> str:
    """The name of the office that decided (the approver's county office post), for the verification page."""
    if item.decided_by_id is None:
        return ""
    from gongzhi.core.models import Position

    name = (
        Position.objects.filter(
            cadre__user_id=item.decided_by_id,
            department__kind=DepartmentKind.COUNTY_OFFICE,
            department__county_id=item.plan.county_id,
        )
        .values_list("department__name", flat=True)
        .first()
    )
    if name:
        return str(name)
    office = (
        Department.objects.filter(
            county_id=item.plan.county_id, kind=DepartmentKind.COUNTY_OFFICE, active=True
        )
        .values_list("name", flat=True)
        .first()
    )
    return str(office or f"{item.plan.county.name}减负办")


def years_for(user: Any) -> list[int]:
    """Years that have plans in the user's scope, newest first, always including this year."""
    scope = plan_scope(user)
    years = set()
    if scope is not None:
        years = set(InspectionPlan.objects.filter(scope).values_list("year", flat=True).distinct())
    years.add(_this_year())
    return sorted(years, reverse=True)


def managed_counties(user: Any) -> list[AdminUnit]:
    """Counties whose plans this user decides (county office; the admin: every county with plans)."""
    prefixes = sorted(
        {g.unit_prefix for g in grants_for(user) if g.role in (Role.COUNTY_OFFICE, Role.PLATFORM_ADMIN)}
    )
    if not prefixes:
        return []
    if "" in prefixes:
        ids = InspectionPlan.objects.values_list("county_id", flat=True).distinct()
        return list(AdminUnit.objects.filter(pk__in=ids).order_by("code"))
    cond = reduce(or_, (Q(code__startswith=p) for p in prefixes))
    return list(AdminUnit.objects.filter(cond, level=Level.COUNTY).order_by("code"))


def readable_counties(user: Any) -> list[AdminUnit]:
    """Counties whose plans and reviews this user reads as a whole (county office and organs; the admin)."""
    prefixes = sorted({g.unit_prefix for g in grants_for(user) if g.role in COUNTY_READERS})
    if not prefixes:
        return []
    if "" in prefixes:
        ids = InspectionPlan.objects.values_list("county_id", flat=True).distinct()
        return list(AdminUnit.objects.filter(pk__in=ids).order_by("code"))
    cond = reduce(or_, (Q(code__startswith=p) for p in prefixes))
    return list(AdminUnit.objects.filter(cond, level=Level.COUNTY).order_by("code"))
