"""Duty lists: reads (scoped), the diff between two versions, and 动态调整 (apply → staffing office decides → a new
version is published; the old one stays readable)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone

from gongzhi.core.audit import audit_record
from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError
from gongzhi.core.models import AdminUnit, Department, DepartmentKind, Level, Role
from gongzhi.core.roles import STAFF_ROLES, grants_for

from .models import (
    AdjustmentAction,
    AdjustmentStatus,
    Category,
    DutyAdjustment,
    DutyItem,
    DutyList,
    ListStatus,
)
from .permissions import can_apply_adjustment, can_manage_lists, can_view_unit_duties, member_departments

MAX_DAYS_AHEAD = 366

# Fields compared by the diff and carried by an adjustment, with their Chinese labels.
ITEM_FIELDS: tuple[tuple[str, str], ...] = (
    ("category", "类别"),
    ("name", "事项名称"),
    ("content", "具体内容"),
    ("basis", "依据"),
    ("lead_department", "牵头部门"),
    ("assisting", "配合部门"),
    ("township_part", "乡镇职责"),
    ("department_part", "部门职责"),
    ("reclaimed_by", "承接部门"),
    ("current_practice", "工作方式"),
    ("power_department", "所需权力所在部门"),
)


# ---- reads -------------------------------------------------------------------------------------------------------


def list_scope(user: Any) -> Q | None:
    """Lists a user may read: their township's and their county template (township staff), the whole county
    (departments and county organs), everything (admin)."""
    conds: list[Q] = []
    for g in grants_for(user):
        if g.role == Role.PLATFORM_ADMIN:
            return Q()
        if g.role not in STAFF_ROLES:
            continue
        conds.append(Q(owner__code__startswith=g.unit_prefix))
        # The county template (owner = the county itself) is readable by all staff of the county.
        conds.append(Q(county__code__startswith=g.unit_prefix[:6], owner_id=F("county_id")))
    if not conds:
        return None
    out = conds[0]
    for c in conds[1:]:
        out |= c
    return out


def list_index(*, user: Any, include_old: bool = False, q: str = "") -> QuerySet[DutyList]:
    scope = list_scope(user)
    if scope is None:
        raise PermissionDeniedError("您没有可查看的履职事项清单")
    qs = DutyList.objects.filter(scope)
    if not include_old:
        qs = qs.filter(status=ListStatus.PUBLISHED)
    if q:
        qs = qs.filter(owner__name__contains=q)
    return (
        qs.select_related("owner", "county")
        .annotate(
            n_basic=Count("items", filter=Q(items__category=Category.BASIC)),
            n_cooperative=Count("items", filter=Q(items__category=Category.COOPERATIVE)),
            n_reclaimed=Count("items", filter=Q(items__category=Category.RECLAIMED)),
        )
        .order_by("owner__code", "-version")
    )


def list_get(*, user: Any, pk: int) -> DutyList:
    dl = DutyList.objects.select_related("owner", "county", "created_by").filter(pk=pk).first()
    if dl is None or not can_view_unit_duties(user, dl.owner):
        raise NotFoundError()
    return dl


def list_items(duty_list: DutyList, *, category: str = "", q: str = "") -> QuerySet[DutyItem]:
    qs = DutyItem.objects.filter(duty_list=duty_list)
    if category:
        qs = qs.filter(category=category)
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(content__contains=q))
    return qs.select_related("lead_department", "reclaimed_by", "power_department").prefetch_related(
        Prefetch("assisting", queryset=Department.objects.only("id", "name"))
    )


def list_versions(duty_list: DutyList) -> QuerySet[DutyList]:
    return DutyList.objects.filter(owner_id=duty_list.owner_id).order_by("-version")


# ---- diff --------------------------------------------------------------------------------------------------------


def _item_values(item: DutyItem) -> dict[str, str]:
    def name(d: Department | None) -> str:
        return d.name if d is not None else ""

    return {
        "category": str(Category(item.category).label),
        "name": item.name,
        "content": item.content,
        "basis": item.basis,
        "lead_department": name(item.lead_department),
        "assisting": "、".join(sorted(d.name for d in item.assisting.all())),
        "township_part": item.township_part,
        "department_part": item.department_part,
        "reclaimed_by": name(item.reclaimed_by),
        "current_practice": item.current_practice,
        "power_department": name(item.power_department),
    }


@dataclass
class ItemChange:
    lineage: str
    number: str
    name: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (field label, old, new)


@dataclass
class ListDiff:
    old: DutyList
    new: DutyList
    added: list[tuple[str, str, str]]  # (number, name, category label)
    removed: list[tuple[str, str, str]]
    changed: list[ItemChange]
    unchanged: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "old": {"id": self.old.pk, "version": self.old.version},
            "new": {"id": self.new.pk, "version": self.new.version},
            "added": [{"number": n, "name": m, "category": c} for n, m, c in self.added],
            "removed": [{"number": n, "name": m, "category": c} for n, m, c in self.removed],
            "changed": [
                {
                    "number": c.number,
                    "name": c.name,
                    "changes": [{"field": f, "old": o, "new": n} for f, o, n in c.changes],
                }
                for c in self.changed
            ],
            "unchanged": self.unchanged,
        }


def list_diff(old: DutyList, new: DutyList) -> ListDiff:
    if old.owner_id != new.owner_id:
        raise ServiceError("invalid", "只能比较同一乡镇清单的不同版本")
    if old.version > new.version:
        old, new = new, old
    before = {i.lineage: i for i in list_items(old)}
    after = {i.lineage: i for i in list_items(new)}
    labels = dict(ITEM_FIELDS)
    added = [(i.number, i.name, str(Category(i.category).label)) for k, i in after.items() if k not in before]
    removed = [
        (i.number, i.name, str(Category(i.category).label)) for k, i in before.items() if k not in after
    ]
    changed: list[ItemChange] = []
    unchanged = 0
    for k, i in after.items():
        if k not in before:
            continue
        a, b = _item_values(before[k]), _item_values(i)
        diffs = [(labels[f], a[f], b[f]) for f, _ in ITEM_FIELDS if a[f] != b[f]]
        if diffs:
            changed.append(ItemChange(k, i.number, i.name, diffs))
        else:
            unchanged += 1
    return ListDiff(old, new, added, removed, changed, unchanged)


# ---- 动态调整 ----------------------------------------------------------------------------------------------------


def _dept_by_name(county: AdminUnit, name: str, label: str) -> int | None:
    name = name.strip()
    if not name:
        return None
    dept = (
        Department.objects.filter(county=county, kind=DepartmentKind.FUNCTIONAL)
        .filter(Q(name=name) | Q(short_name=name))
        .first()
    )
    if dept is None:
        raise ServiceError("invalid", f"{label}「{name}」不在本县部门名录中", {"field": label})
    return dept.pk


def _clean_proposal(county: AdminUnit, proposed: dict[str, Any]) -> dict[str, Any]:
    """Validate the proposed item; departments by name against the county registry. Texts are bounded (names 200
    characters as the item's column, content, basis and the two parts 5,000) and at most 50 assisting departments
    (each one is a lookup)."""
    if not isinstance(proposed, dict):
        raise ServiceError("invalid", "调整内容格式无效", {"field": "proposed"})

    def text(field: str, label: str, limit: int) -> str:
        value = str(proposed.get(field, "") or "").strip()
        if len(value) > limit:
            raise ServiceError(
                "invalid", f"{label}不能超过 {limit:,} 字（现为 {len(value):,} 字）", {"field": field}
            )
        if "\x00" in value:  # PostgreSQL refuses NUL in text
            raise ServiceError("invalid", f"{label}含有无效字符", {"field": field})
        return value

    category = str(proposed.get("category", "")).strip()
    if category not in Category.values:
        raise ServiceError(
            "invalid", "请选择事项类别：基本履职事项、配合履职事项或上级部门收回事项", {"field": "category"}
        )
    name = text("name", "事项名称", 200)
    if not name:
        raise ServiceError("invalid", "请填写事项名称", {"field": "name"})
    out: dict[str, Any] = {"category": category, "name": name}
    for f, label in (
        ("content", "具体内容"),
        ("basis", "依据"),
        ("township_part", "乡镇职责"),
        ("department_part", "部门职责"),
        ("current_practice", "工作方式"),
    ):
        out[f] = text(f, label, 5000)
    out["lead_department"] = text("lead_department", "牵头部门", 200)
    out["reclaimed_by"] = text("reclaimed_by", "承接部门", 200)
    out["power_department"] = text("power_department", "所需权力所在部门", 200)
    assisting = proposed.get("assisting", "") or ""
    if isinstance(assisting, str):
        if len(assisting) > 50 * 200:
            raise ServiceError("invalid", "配合部门填写过长", {"field": "assisting"})
        assisting = [a for a in re.split(r"[、，,;；/\n]+", assisting) if a.strip()]
    if not isinstance(assisting, list | tuple) or len(assisting) > 50:
        raise ServiceError("invalid", "配合部门最多填写 50 个", {"field": "assisting"})
    out["assisting"] = [str(a).strip() for a in assisting]
    if any(len(a) > 200 or "\x00" in a for a in out["assisting"]):
        raise ServiceError("invalid", "配合部门名称不能超过 200 字", {"field": "assisting"})
    # Resolve now so a bad name is refused at application time, not at approval.
    _dept_by_name(county, out["lead_department"], "牵头部门")
    _dept_by_name(county, out["reclaimed_by"], "承接部门")
    _dept_by_name(county, out["power_department"], "所需权力所在部门")
    for a in out["assisting"]:
        _dept_by_name(county, a, "配合部门")
    if category == Category.COOPERATIVE and not out["lead_department"]:
        raise ServiceError("invalid", "配合履职事项须填写牵头部门", {"field": "lead_department"})
    if category == Category.RECLAIMED and not out["reclaimed_by"]:
        raise ServiceError("invalid", "上级部门收回事项须填写承接部门", {"field": "reclaimed_by"})
    return out


def adjustment_apply(
    *,
    actor: Any,
    township_id: int,
    action: str,
    reason: str,
    item_lineage: str = "",
    proposed: dict[str, Any] | None = None,
    department_id: int | None = None,
) -> DutyAdjustment:
    township = AdminUnit.objects.filter(pk=township_id, level=Level.TOWNSHIP).select_related("parent").first()
    if township is None:
        raise ServiceError("invalid", "乡镇不存在", {"field": "township"})
    if not can_apply_adjustment(actor, township):
        raise PermissionDeniedError("只有本乡镇或本县部门可以申请调整该乡镇的清单")
    if action not in AdjustmentAction.values:
        raise ServiceError("invalid", "调整类型无效", {"field": "action"})
    reason = str(reason or "").strip()
    if not reason:
        raise ServiceError("invalid", "请写明调整理由", {"field": "reason"})
    if len(reason) > 2000:
        raise ServiceError(
            "invalid", f"调整理由不能超过 2,000 字（现为 {len(reason):,} 字）", {"field": "reason"}
        )
    if "\x00" in reason:  # PostgreSQL refuses NUL in text
        raise ServiceError("invalid", "调整理由含有无效字符", {"field": "reason"})
    base = DutyList.objects.filter(owner=township, status=ListStatus.PUBLISHED).order_by("-version").first()
    if base is None:
        raise ServiceError("invalid", f"「{township.name}」尚无现行清单，请先由县委编办发布清单")
    county = AdminUnit.objects.get(pk=base.county_id)
    item = None
    if action in (AdjustmentAction.CHANGE, AdjustmentAction.REMOVE):
        item = DutyItem.objects.filter(duty_list=base, lineage=item_lineage).first()
        if item is None:
            raise ServiceError("invalid", "请选择要调整的事项", {"field": "item"})
    clean: dict[str, Any] = {}
    if action in (AdjustmentAction.ADD, AdjustmentAction.CHANGE):
        clean = _clean_proposal(county, proposed or {})
    mine = member_departments(actor)
    dept = department_id if department_id in mine else (min(mine) if mine else None)
    with transaction.atomic():
        adj = DutyAdjustment.objects.create(
            township=township,
            base_list=base,
            action=action,
            item_lineage=item.lineage if item else "",
            item_label=f"{item.number} {item.name}" if item else clean.get("name", ""),
            proposed=clean,
            reason=reason,
            applicant=actor,
            applicant_department_id=dept,
        )
        audit_record(
            actor=actor,
            action="duty_adjustment.apply",
            object_type="duty_adjustment",
            object_id=adj.pk,
            data={"township": township.name, "action": action, "item": adj.item_label, "reason": reason},
        )
    return adj


def _item_data(item: DutyItem) -> Any:
    from .listio import ItemData

    return ItemData(
        category=item.category,
        number=item.number,
        name=item.name,
        content=item.content,
        basis=item.basis,
        lead_department_id=item.lead_department_id,
        assisting_ids=tuple(sorted(d.pk for d in item.assisting.all())),
        township_part=item.township_part,
        department_part=item.department_part,
        reclaimed_by_id=item.reclaimed_by_id,
        current_practice=item.current_practice,
        power_department_id=item.power_department_id,
        lineage=item.lineage,
    )


def _next_number(items: list[Any], category: str) -> str:
    """A new item's 序号: the next integer after the category's numeric numbers, prefixed like its siblings."""
    best, prefix = 0, ""
    for it in items:
        if it.category != category:
            continue
        m = re.match(r"^(.*?)(\d+)$", it.number)
        if m:
            prefix = m.group(1)
            best = max(best, int(m.group(2)))
    return f"{prefix}{best + 1}"


def adjustment_decide(
    *, actor: Any, adjustment_id: int, approve: bool, note: str = "", effective_from: Any = None
) -> DutyAdjustment:
    from .listio import ItemData, publish_lists

    note = note.strip()
    with transaction.atomic():
        adj = (
            DutyAdjustment.objects.select_for_update()
            .select_related("township")
            .filter(pk=adjustment_id)
            .first()
        )
        if adj is None:
            raise NotFoundError()
        current = (
            DutyList.objects.filter(owner=adj.township, status=ListStatus.PUBLISHED)
            .order_by("-version")
            .first()
        )
        county = AdminUnit.objects.get(pk=current.county_id if current else adj.base_list.county_id)
        if not can_manage_lists(actor, county):
            if can_view_unit_duties(actor, adj.township):
                raise PermissionDeniedError("清单调整由县委编办审批")
            raise NotFoundError()
        if adj.status != AdjustmentStatus.PENDING:
            raise ServiceError("invalid_state", "该申请已处理")
        if not approve:
            if not note:
                raise ServiceError("invalid", "不予批准时请写明理由", {"field": "note"})
            adj.status = AdjustmentStatus.REJECTED
        else:
            if current is None:
                raise ServiceError("invalid", "该乡镇已无现行清单")
            day = effective_from or timezone.localdate()
            if not isinstance(day, dt.date):
                try:
                    day = dt.date.fromisoformat(str(day))
                except ValueError as e:
                    raise ServiceError(
                        "invalid", "生效日期格式不正确，应为 YYYY-MM-DD", {"field": "effective_from"}
                    ) from e
            if day <= current.effective_from:
                raise ServiceError("invalid", f"生效日期须晚于现行版本的生效日期 {current.effective_from}")
            if day > timezone.localdate() + dt.timedelta(days=MAX_DAYS_AHEAD):
                # A far-future version would block every later one (each must start after it).
                raise ServiceError("invalid", "生效日期不能晚于一年之后", {"field": "effective_from"})
            items = list(list_items(current))
            data = [_item_data(i) for i in items]
            p = adj.proposed
            if adj.action != AdjustmentAction.ADD and not any(d.lineage == adj.item_lineage for d in data):
                raise ServiceError("invalid_state", "该事项已不在现行清单中，申请无法执行")
            if adj.action != AdjustmentAction.ADD and current.pk != adj.base_list_id:
                # The application was written against an older version: if the item changed since, approving it
                # would silently undo that change. The applicant must look at the item as it stands now.
                before = DutyItem.objects.filter(
                    duty_list_id=adj.base_list_id, lineage=adj.item_lineage
                ).first()
                now = next(i for i in items if i.lineage == adj.item_lineage)
                if before is None or _item_values(before) != _item_values(now):
                    raise ServiceError(
                        "invalid_state",
                        "该事项在申请提交后已被调整，请驳回本申请，由申请人对照现行版本重新申请",
                    )
            if adj.action in (AdjustmentAction.ADD, AdjustmentAction.CHANGE):

                def proposed_item(number: str, lineage: str) -> ItemData:
                    assisting = (_dept_by_name(county, a, "配合部门") for a in p.get("assisting", []))
                    return ItemData(
                        category=p["category"],
                        number=number,
                        name=p["name"],
                        content=p.get("content", ""),
                        basis=p.get("basis", ""),
                        lead_department_id=_dept_by_name(county, p.get("lead_department", ""), "牵头部门"),
                        assisting_ids=tuple(sorted(x for x in assisting if x)),
                        township_part=p.get("township_part", ""),
                        department_part=p.get("department_part", ""),
                        reclaimed_by_id=_dept_by_name(county, p.get("reclaimed_by", ""), "承接部门"),
                        current_practice=p.get("current_practice", ""),
                        power_department_id=_dept_by_name(
                            county, p.get("power_department", ""), "所需权力所在部门"
                        ),
                        lineage=lineage,
                    )

            if adj.action == AdjustmentAction.ADD:
                data.append(proposed_item(_next_number(items, p["category"]), ""))
            elif adj.action == AdjustmentAction.CHANGE:
                for idx, d in enumerate(data):
                    if d.lineage == adj.item_lineage:
                        same = d.category == p["category"]
                        data[idx] = proposed_item(
                            d.number if same else _next_number(items, p["category"]), d.lineage
                        )
            else:
                data = [d for d in data if d.lineage != adj.item_lineage]
            (new_list,) = publish_lists(
                actor=actor,
                lists=[(adj.township, data)],
                effective_from=day,
                note=f"动态调整：{adj.get_action_display()} {adj.item_label}"[:200],
                source=current,
            )
            adj.result_list = new_list
            adj.status = AdjustmentStatus.APPROVED
        adj.decided_by = actor
        adj.decided_at = timezone.now()
        adj.decision_note = note[:500]
        adj.save()
        audit_record(
            actor=actor,
            action="duty_adjustment.decide",
            object_type="duty_adjustment",
            object_id=adj.pk,
            data={"approve": approve, "note": note, "new_list": adj.result_list_id},
        )
    return adj


def adjustment_list(*, user: Any, status: str = "") -> QuerySet[DutyAdjustment]:
    conds: list[Q] = []
    for g in grants_for(user):
        if g.role == Role.PLATFORM_ADMIN:
            conds = [Q()]
            break
        if g.role in STAFF_ROLES:
            conds.append(Q(township__code__startswith=g.unit_prefix))
    if not conds:
        raise PermissionDeniedError("您没有可查看的清单调整申请")
    scope = conds[0]
    for c in conds[1:]:
        scope |= c
    qs = DutyAdjustment.objects.filter(scope)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("township", "applicant", "applicant_department", "result_list").order_by("-id")


def adjustment_get(*, user: Any, pk: int) -> DutyAdjustment:
    adj = adjustment_list(user=user).filter(pk=pk).first()
    if adj is None:
        raise NotFoundError()
    return adj


# ---- township lists derived from the county template --------------------------------------------------------------


def derive_from_template(
    *, actor: Any, template_id: int, township_ids: list[int], effective_from: Any
) -> list[DutyList]:
    """Publish the county template as the new list of each chosen township (清单由县级模板生成).

    Items keep the template's content; each township's lineages carry over from its own previous version by
    (category, name), so diffs against what the township had stay meaningful.
    """
    from .listio import publish_lists

    template = DutyList.objects.select_related("owner").filter(pk=template_id).first()
    if template is None or not can_view_unit_duties(actor, template.owner):
        raise NotFoundError()
    if not template.is_template:
        raise ServiceError("invalid", "只能由县级模板生成乡镇清单")
    county = template.owner
    if not can_manage_lists(actor, county):
        raise PermissionDeniedError("乡镇清单由县委编办发布")
    if not township_ids:
        raise ServiceError("invalid", "请至少选择一个乡镇（街道）", {"field": "townships"})
    if len(township_ids) > 2000:
        raise ServiceError("invalid", "一次最多为 2000 个乡镇生成清单", {"field": "townships"})
    units = list(
        AdminUnit.objects.filter(
            pk__in=township_ids, level=Level.TOWNSHIP, code__startswith=county.code[:6]
        ).order_by("code")
    )
    if len(units) != len(set(township_ids)):
        raise ServiceError("invalid", f"所选乡镇须均属于{county.name}", {"field": "townships"})
    day = effective_from
    if not isinstance(day, dt.date):
        try:
            day = dt.date.fromisoformat(str(day))
        except ValueError as e:
            raise ServiceError(
                "invalid", "生效日期格式不正确，应为 YYYY-MM-DD", {"field": "effective_from"}
            ) from e
    if day > timezone.localdate() + dt.timedelta(days=MAX_DAYS_AHEAD):
        raise ServiceError("invalid", "生效日期不能晚于一年之后", {"field": "effective_from"})
    items = [_item_data(i) for i in list_items(template)]
    # The template's own lineages would tie every township's item to the template's; let publish_lists match
    # each township's previous version instead.
    fresh = [dataclasses.replace(d, lineage="") for d in items]
    return publish_lists(
        actor=actor,
        lists=[(u, list(fresh)) for u in units],
        effective_from=day,
        note=f"由县级模板 v{template.version} 生成"[:200],
        source=template,
    )
