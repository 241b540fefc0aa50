"""JSON API for duty lists, 动态调整 and the task gate. Same services and selectors as the pages."""

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from gongzhi.core.api import Page
from gongzhi.core.errors import authenticated_user

from . import gate, lists
from .models import Task

router = Router(tags=["duties"])
task_router = Router(tags=["tasks"])


# ---- duty lists ----------------------------------------------------------------------------------------------


class ListOut(Schema):
    id: int
    owner_code: str
    owner_name: str
    is_template: bool
    version: int
    status: str
    effective_from: date
    effective_to: date | None
    counts: dict[str, int]


def _list_out(dl: Any) -> dict[str, Any]:
    return {
        "id": dl.pk,
        "owner_code": dl.owner.code,
        "owner_name": dl.owner.name,
        "is_template": dl.is_template,
        "version": dl.version,
        "status": dl.status,
        "effective_from": dl.effective_from,
        "effective_to": dl.effective_to,
        "counts": {
            "basic": getattr(dl, "n_basic", 0),
            "cooperative": getattr(dl, "n_cooperative", 0),
            "reclaimed": getattr(dl, "n_reclaimed", 0),
        },
    }


class ListFilter(Schema):
    q: str = ""
    include_old: bool = False


@router.get("/lists", response=list[ListOut], summary="履职事项清单（按权限范围）")
@paginate(Page)
def list_index(request: HttpRequest, filters: Query[ListFilter]) -> Any:
    qs = lists.list_index(user=authenticated_user(request), include_old=filters.include_old, q=filters.q)
    return _Mapped(qs, _list_out)


@router.get("/lists/{list_id}", response=ListOut, summary="单个清单版本")
def list_detail(request: HttpRequest, list_id: int) -> dict[str, Any]:
    dl = lists.list_get(user=authenticated_user(request), pk=list_id)
    out = _list_out(dl)
    counts = {"basic": 0, "cooperative": 0, "reclaimed": 0}
    for cat in dl.items.values_list("category", flat=True):
        counts[cat] += 1
    out["counts"] = counts
    return out


class ItemOut(Schema):
    id: int
    lineage: str
    number: str
    category: str
    name: str
    content: str
    basis: str
    lead_department: str | None
    assisting: list[str]
    township_part: str
    department_part: str
    reclaimed_by: str | None
    current_practice: str
    power_department: str | None


class ItemFilter(Schema):
    category: str = ""
    q: str = ""


class _Mapped:
    """Slices the queryset first, then converts each row, so a page costs a count and one page query (plus
    prefetches) whatever the total size."""

    def __init__(self, qs: Any, fn: Any):
        self.qs, self.fn = qs, fn

    def count(self) -> int:
        return int(self.qs.count())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, s: slice) -> list[dict[str, Any]]:
        return [self.fn(row) for row in self.qs[s]]


def _item_out(i: Any) -> dict[str, Any]:
    return {
        "id": i.pk,
        "lineage": i.lineage,
        "number": i.number,
        "category": i.category,
        "name": i.name,
        "content": i.content,
        "basis": i.basis,
        "lead_department": i.lead_department.name if i.lead_department else None,
        "assisting": [d.name for d in i.assisting.all()],
        "township_part": i.township_part,
        "department_part": i.department_part,
        "reclaimed_by": i.reclaimed_by.name if i.reclaimed_by else None,
        "current_practice": i.current_practice,
        "power_department": i.power_department.name if i.power_department else None,
    }


@router.get("/lists/{list_id}/items", response=list[ItemOut], summary="清单事项")
@paginate(Page)
def list_items(request: HttpRequest, list_id: int, filters: Query[ItemFilter]) -> Any:
    dl = lists.list_get(user=authenticated_user(request), pk=list_id)
    return _Mapped(lists.list_items(dl, category=filters.category, q=filters.q), _item_out)


@router.get("/lists/{list_id}/diff/{other_id}", summary="两个版本之间的差异")
def list_diff(request: HttpRequest, list_id: int, other_id: int) -> dict[str, Any]:
    user = authenticated_user(request)
    return lists.list_diff(
        lists.list_get(user=user, pk=list_id), lists.list_get(user=user, pk=other_id)
    ).as_dict()


class DeriveIn(Schema):
    township_ids: list[int]
    effective_from: date


@router.post(
    "/lists/{template_id}/derive", response={201: list[ListOut]}, summary="由县级模板生成乡镇清单（县委编办）"
)
def list_derive(request: HttpRequest, template_id: int, payload: DeriveIn) -> Any:
    made = lists.derive_from_template(
        actor=authenticated_user(request),
        template_id=template_id,
        township_ids=payload.township_ids,
        effective_from=payload.effective_from,
    )
    return Status(201, [_list_out(dl) for dl in made])


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/lists/{list_id}/export", summary="导出清单（官方格式 .xlsx）")
def list_export(request: HttpRequest, list_id: int) -> HttpResponse:
    from .listio import export_duty_list

    dl = lists.list_get(user=authenticated_user(request), pk=list_id)
    response = HttpResponse(export_duty_list(dl), content_type=XLSX)
    name = quote(f"{dl.owner.name}履行职责事项清单v{dl.version}.xlsx")
    response["Content-Disposition"] = f"attachment; filename=\"duty-list.xlsx\"; filename*=UTF-8''{name}"
    return response


class ImportOut(Schema):
    file_name: str
    sha256: str
    summary: str
    lists: list[dict[str, Any]]


@router.post("/imports", response={201: ImportOut}, summary="导入清单（.xlsx/.csv，全部成功才写入）")
def list_import(
    request: HttpRequest,
    file: File[UploadedFile],
    county: Form[str],
    effective_from: Form[date],
    township: Form[str] = "",
    mapping: Form[str] = "",
) -> Any:
    """``county``/``township``: 12-digit division codes (``township`` may be omitted when the file has a 乡镇
    column). When the columns are unclear the answer is 409 ``mapping_unsure`` with the detected ``mapping`` in
    ``detail``; send it back (edited) as the ``mapping`` form field, a JSON object."""
    from gongzhi.core.errors import NotFoundError, ServiceError
    from gongzhi.core.models import AdminUnit

    from .listio import MappingUnsure, import_duty_lists, mapping_of

    user = authenticated_user(request)
    county_unit = AdminUnit.objects.filter(code=county).first()
    township_unit = AdminUnit.objects.filter(code=township).first() if township else None
    if county_unit is None or (township and township_unit is None):
        raise NotFoundError("县或乡镇的区划代码不存在")
    try:
        parsed_mapping = json.loads(mapping) if mapping else None
    except json.JSONDecodeError as e:
        raise ServiceError("invalid", "mapping 须为 JSON 对象") from e
    if parsed_mapping is not None and not isinstance(parsed_mapping, dict):
        raise ServiceError("invalid", "mapping 须为 JSON 对象")
    try:
        result = import_duty_lists(
            actor=user,
            file_name=file.name or "upload.xlsx",
            data=file.read(),
            county=county_unit,
            township=township_unit,
            effective_from=effective_from,
            mapping=parsed_mapping,
        )
    except MappingUnsure as e:
        e.status = 409
        e.detail = {"errors": e.detail, "mapping": mapping_of(e.sheets)}
        raise
    return Status(
        201,
        {
            "file_name": result.file_name,
            "sha256": result.sha256,
            "summary": result.summary(),
            "lists": [
                {
                    "list_id": lc.list_id,
                    "owner_code": lc.owner_division,
                    "owner_name": lc.owner_name,
                    "version": lc.version,
                    "counts": lc.counts,
                    "carried": list(lc.carried),
                }
                for lc in result.lists
            ],
        },
    )


class ReportRowOut(Schema):
    id: int
    name: str
    counts: dict[str, int]
    total: int
    reclaimed_pushes: int
    funds: Decimal
    staff: int
    summons: dict[str, Any]


class ReportOut(Schema):
    county_code: str
    county_name: str
    townships: list[ReportRowOut]
    departments: list[ReportRowOut]
    mismatches: list[dict[str, Any]]
    totals: ReportRowOut


@router.get("/reports", response=ReportOut, summary="任务准入与吹哨报到统计（按乡镇、按部门）")
def report(request: HttpRequest, county: str = "") -> Any:
    from gongzhi.core.errors import PermissionDeniedError

    from . import reports

    user = authenticated_user(request)
    counties = reports.report_counties(user)
    if not counties:
        raise PermissionDeniedError("您没有查看任务准入统计的权限")
    chosen = next((c for c in counties if c.code == county), counties[0])
    r = reports.build_report(user=user, county=chosen)

    def row(x: Any) -> dict[str, Any]:
        return {
            "id": x.id,
            "name": x.name,
            "counts": x.counts,
            "total": x.total,
            "reclaimed_pushes": x.reclaimed_pushes,
            "funds": x.funds,
            "staff": x.staff,
            "summons": x.summons,
        }

    return {
        "county_code": chosen.code,
        "county_name": chosen.name,
        "townships": [row(x) for x in r.townships],
        "departments": [row(x) for x in r.departments],
        "mismatches": r.mismatches,
        "totals": row(r.totals),
    }


class AdjustmentIn(Schema):
    township_id: int
    action: str
    reason: str
    item_lineage: str = ""
    proposed: dict[str, Any] = {}


class AdjustmentOut(Schema):
    id: int
    township_id: int
    action: str
    item_label: str
    proposed: dict[str, Any]
    reason: str
    status: str
    created_at: datetime
    decision_note: str
    result_list_id: int | None


def _adj_out(a: Any) -> dict[str, Any]:
    return {
        "id": a.pk,
        "township_id": a.township_id,
        "action": a.action,
        "item_label": a.item_label,
        "proposed": a.proposed,
        "reason": a.reason,
        "status": a.status,
        "created_at": a.created_at,
        "decision_note": a.decision_note,
        "result_list_id": a.result_list_id,
    }


class AdjustmentFilter(Schema):
    status: str = ""


@router.get("/adjustments", response=list[AdjustmentOut], summary="动态调整申请")
@paginate(Page)
def adjustment_index(request: HttpRequest, filters: Query[AdjustmentFilter]) -> Any:
    return _Mapped(lists.adjustment_list(user=authenticated_user(request), status=filters.status), _adj_out)


@router.post("/adjustments", response={201: AdjustmentOut}, summary="申请动态调整")
def adjustment_create(request: HttpRequest, payload: AdjustmentIn) -> Any:
    adj = lists.adjustment_apply(
        actor=authenticated_user(request),
        township_id=payload.township_id,
        action=payload.action,
        reason=payload.reason,
        item_lineage=payload.item_lineage,
        proposed=payload.proposed,
    )
    return Status(201, _adj_out(adj))


class AdjustmentDecisionIn(Schema):
    approve: bool
    note: str = ""
    effective_from: date | None = None


@router.post(
    "/adjustments/{adjustment_id}/decision", response=AdjustmentOut, summary="审批动态调整（县委编办）"
)
def adjustment_decision(request: HttpRequest, adjustment_id: int, payload: AdjustmentDecisionIn) -> Any:
    adj = lists.adjustment_decide(
        actor=authenticated_user(request),
        adjustment_id=adjustment_id,
        approve=payload.approve,
        note=payload.note,
        effective_from=payload.effective_from,
    )
    return _adj_out(adj)


# ---- tasks -------------------------------------------------------------------------------------------------------


class MatchOut(Schema):
    item_id: int
    category: str
    name: str
    number: str
    score: float


class TaskOut(Schema):
    id: int
    department_id: int
    department: str
    township_code: str
    township: str
    title: str
    content: str
    basis: str
    deadline: date
    expected_hours: Decimal
    resources_offered: str
    cited_item_id: int | None
    duty_list_id: int | None
    outcome: str
    rule: str
    explanation: str
    matched: list[MatchOut]
    suggestions: list[MatchOut]
    labels: list[str]
    status: str
    created_at: datetime
    decision_note: str
    grant: dict[str, Any] | None = None
    contest: dict[str, Any] | None = None


def _task_out(t: Task, *, detail: bool = False) -> dict[str, Any]:
    e = t.explanation or {}
    out: dict[str, Any] = {
        "id": t.pk,
        "department_id": t.department_id,
        "department": t.department.name,
        "township_code": t.township.code,
        "township": t.township.name,
        "title": t.title,
        "content": t.content,
        "basis": t.basis,
        "deadline": t.deadline,
        "expected_hours": t.expected_hours,
        "resources_offered": t.resources_offered,
        "cited_item_id": t.cited_item_id,
        "duty_list_id": t.duty_list_id,
        "outcome": t.outcome,
        "rule": t.rule,
        "explanation": e.get("explanation", ""),
        "matched": e.get("matched", []),
        "suggestions": e.get("suggestions", []),
        "labels": e.get("labels", []),
        "status": t.status,
        "created_at": t.created_at,
        "decision_note": t.decision_note,
    }
    if detail:
        grant, contest = gate.task_extras(t)
        if grant is not None:
            out["grant"] = {
                "funds": str(grant.funds),
                "staff": grant.staff,
                "powers": grant.powers,
                "note": grant.note,
            }
        if contest is not None:
            out["contest"] = {
                "reason": contest.reason,
                "status": contest.status,
                "decision_note": contest.decision_note,
            }
    return out


class TaskFilter(Schema):
    box: str = "all"
    status: str = ""
    township_id: int | None = None
    q: str = ""


@task_router.get("", response=list[TaskOut], summary="交办任务（按权限范围）")
@paginate(Page)
def task_index(request: HttpRequest, filters: Query[TaskFilter]) -> Any:
    box = filters.box if filters.box in gate.BOXES else "all"
    qs = gate.task_list(
        user=authenticated_user(request),
        box=box,
        status=filters.status,
        township_id=filters.township_id,
        q=filters.q,
    )
    return _Mapped(qs, _task_out)


class TaskIn(Schema):
    township_ids: list[int]
    title: str
    content: str
    deadline: date
    expected_hours: Decimal = Decimal(0)
    basis: str = ""
    resources_offered: str = ""
    cited_item_id: int | None = None
    department_id: int | None = None


@task_router.post("", response={201: list[TaskOut]}, summary="交办任务（经任务准入判定）")
def task_create(request: HttpRequest, payload: TaskIn) -> Any:
    tasks = gate.task_send(
        actor=authenticated_user(request),
        township_ids=payload.township_ids,
        title=payload.title,
        content=payload.content,
        deadline=payload.deadline,
        expected_hours=payload.expected_hours,
        basis=payload.basis,
        resources_offered=payload.resources_offered,
        cited_item_id=payload.cited_item_id,
        department_id=payload.department_id,
    )
    return Status(201, [_task_out(t) for t in tasks])


class PreviewIn(Schema):
    township_id: int
    title: str
    content: str = ""
    basis: str = ""
    cited_item_id: int | None = None


class PreviewOut(Schema):
    outcome: str
    rule: str
    explanation: str
    matched: list[MatchOut]
    suggestions: list[MatchOut]
    labels: list[str]
    duty_list_id: int | None


@task_router.post("/preview", response=PreviewOut, summary="准入预判（不保存）")
def task_preview(request: HttpRequest, payload: PreviewIn) -> Any:
    from gongzhi.core.errors import NotFoundError, PermissionDeniedError

    from .permissions import sender_departments

    user = authenticated_user(request)
    if not sender_departments(user):
        raise PermissionDeniedError("只有县直部门可以交办任务")
    township = gate.sendable_townships(user).filter(pk=payload.township_id).first()
    if township is None:
        raise NotFoundError("乡镇不存在或不在本部门所属县")
    decision, duty_list = gate.preview(
        township=township,
        title=payload.title,
        content=payload.content,
        basis=payload.basis,
        cited_item_id=payload.cited_item_id,
    )
    return {**decision.as_dict(), "duty_list_id": duty_list.pk if duty_list else None}


@task_router.get("/{task_id}", response=TaskOut, summary="单个任务及其准入判定说明")
def task_detail(request: HttpRequest, task_id: int) -> Any:
    return _task_out(gate.task_get(user=authenticated_user(request), pk=task_id), detail=True)


class DecisionIn(Schema):
    approve: bool
    note: str = ""
    funds: Decimal = Decimal(0)
    staff: int = 0
    powers: str = ""
    grant_note: str = ""


@task_router.post("/{task_id}/decision", response=TaskOut, summary="职责准入审核（县减负办）：批准须随附资源")
def task_decision(request: HttpRequest, task_id: int, payload: DecisionIn) -> Any:
    user = authenticated_user(request)
    gate.task_decide(
        actor=user,
        task_id=task_id,
        approve=payload.approve,
        note=payload.note,
        funds=payload.funds,
        staff=payload.staff,
        powers=payload.powers,
        grant_note=payload.grant_note,
    )
    return _task_out(gate.task_get(user=user, pk=task_id), detail=True)


class ContestIn(Schema):
    reason: str


@task_router.post("/{task_id}/contest", response={201: TaskOut}, summary="乡镇对任务提出异议")
def task_contest(request: HttpRequest, task_id: int, payload: ContestIn) -> Any:
    user = authenticated_user(request)
    gate.task_contest(actor=user, task_id=task_id, reason=payload.reason)
    return Status(201, _task_out(gate.task_get(user=user, pk=task_id), detail=True))


class ContestDecisionIn(Schema):
    uphold: bool
    note: str = ""


@task_router.post("/{task_id}/contest/decision", response=TaskOut, summary="处理乡镇异议（县减负办）")
def task_contest_decision(request: HttpRequest, task_id: int, payload: ContestDecisionIn) -> Any:
    user = authenticated_user(request)
    gate.contest_decide(actor=user, task_id=task_id, uphold=payload.uphold, note=payload.note)
    return _task_out(gate.task_get(user=user, pk=task_id), detail=True)
