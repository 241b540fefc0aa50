"""JSON API for annual plans, items, the review, decisions and the code check (/api/v1/inspections). The same
services and selectors as the pages; every list is paginated; errors are ``{code, message, detail}``."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from gongzhi.core.api import Page
from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError, authenticated_user
from gongzhi.core.models import AdminUnit, Level

from . import planio, plans, review
from .models import InspectionItem, InspectionPlan, ReviewFlag, ReviewRun
from .permissions import can_read_county

router = Router(tags=["inspections"])


class Throttled(ServiceError):
    status = 429

    def __init__(self) -> None:
        super().__init__("throttled", "查询过于频繁，请 10 分钟后再试")


# ---- shapes --------------------------------------------------------------------------------------------------


class PlanOut(Schema):
    id: int
    department_id: int
    department: str
    county_code: str
    year: int
    status: str
    note: str
    filed_at: datetime | None
    counts: dict[str, int]


def _plan_out(p: InspectionPlan) -> dict[str, Any]:
    return {
        "id": p.pk,
        "department_id": p.department_id,
        "department": p.department.name,
        "county_code": p.county.code,
        "year": p.year,
        "status": p.status,
        "note": p.note,
        "filed_at": p.filed_at,
        "counts": {
            "items": getattr(p, "n_items", 0),
            "pending": getattr(p, "n_pending", 0),
            "approved": getattr(p, "n_approved", 0),
            "returned": getattr(p, "n_returned", 0),
            "out_of_plan": getattr(p, "n_out_of_plan", 0),
            "flagged": getattr(p, "n_flagged", 0),
        },
    }


class TownshipOut(Schema):
    code: str
    name: str


class MaterialOut(Schema):
    name: str
    basis: str
    removed: str | None = None


class DataFieldOut(Schema):
    label: str
    ref: dict[str, Any] | None = None


class FlagOut(Schema):
    id: int
    item_id: int
    rule: str
    rule_label: str
    code: str
    sentence: str
    score: float | None
    others: list[int]
    townships: list[str]
    township_count: int
    params: dict[str, Any]


def _flag_out(f: ReviewFlag, sentence: str) -> dict[str, Any]:
    return {
        "id": f.pk,
        "item_id": f.item_id,
        "rule": f.rule,
        "rule_label": review.rule_label(f.rule),
        "code": f.code,
        "sentence": sentence,
        "score": f.score,
        "others": f.others,
        "townships": f.townships,
        "township_count": f.township_count,
        "params": f.params,
    }


class ItemOut(Schema):
    id: int
    plan_id: int
    department_id: int
    department: str
    year: int
    seq: int
    kind: str
    comprehensive: bool
    topic: str
    basis: str
    all_townships: bool
    townships: list[TownshipOut]
    window_start: date
    window_end: date
    mode: str
    township_hours: Decimal
    materials: list[MaterialOut]
    data_fields: list[DataFieldOut]
    out_of_plan: bool
    status: str
    decision_note: str
    decided_at: datetime | None
    code: str | None
    code_revoked_at: datetime | None
    code_revoked_reason: str
    flags: list[FlagOut]


def _items_out(user: Any, items: list[InspectionItem]) -> list[dict[str, Any]]:
    """A page of items with their targets and the newest review's flags: three queries whatever the page size."""
    names = plans.target_names(items)
    run_ids = {k: plans.latest_run_id(*k) for k in {(i.plan.county_id, i.plan.year) for i in items}}
    flags = plans.flags_by_item(items, run_ids, user=user)
    sentences = review.describe_many([f for fs in flags.values() for f in fs])
    out = []
    for i in items:
        see_code = plans.item_actions(user, i)["see_code"]
        out.append(
            {
                "id": i.pk,
                "plan_id": i.plan_id,
                "department_id": i.plan.department_id,
                "department": i.plan.department.name,
                "year": i.plan.year,
                "seq": i.seq,
                "kind": i.kind,
                "comprehensive": i.comprehensive,
                "topic": i.topic,
                "basis": i.basis,
                "all_townships": i.all_townships,
                "townships": [{"code": u.code, "name": u.name} for u in names[i.pk]],
                "window_start": i.window_start,
                "window_end": i.window_end,
                "mode": i.mode,
                "township_hours": i.township_hours,
                "materials": [
                    {"name": m.get("name", ""), "basis": m.get("basis", ""), "removed": m.get("removed")}
                    for m in i.materials
                ],
                "data_fields": [{"label": d.get("label", ""), "ref": d.get("ref")} for d in i.data_fields],
                "out_of_plan": i.out_of_plan,
                "status": i.status,
                "decision_note": i.decision_note,
                "decided_at": i.decided_at,
                "code": i.code if see_code else None,
                "code_revoked_at": i.code_revoked_at if see_code else None,
                "code_revoked_reason": i.code_revoked_reason if see_code else "",
                "flags": [_flag_out(f, sentences[f.pk]) for f in flags[i.pk]],
            }
        )
    return out


class _ItemRows:
    """Lazy adapter: the paginator slices it, so one page of items is fetched and shaped in bulk."""

    def __init__(self, user: Any, qs: Any):
        self.user, self.qs = user, qs

    def __getitem__(self, s: slice) -> list[dict[str, Any]]:
        return _items_out(self.user, list(self.qs[s]))

    def all(self) -> "_ItemRows":
        return self

    def count(self) -> int:
        return int(self.qs.count())


class _PlanRows:
    def __init__(self, qs: Any):
        self.qs = qs

    def __getitem__(self, s: slice) -> list[dict[str, Any]]:
        rows = list(self.qs[s])
        counts = plans.flag_counts(rows)
        for p in rows:
            p.n_flagged = counts.get(p.pk, 0)
        return [_plan_out(p) for p in rows]

    def all(self) -> "_PlanRows":
        return self

    def count(self) -> int:
        return int(self.qs.count())


# ---- plans -------------------------------------------------------------------------------------------------------


class PlanFilter(Schema):
    year: int | None = None
    department_id: int | None = None
    status: str = ""
    flagged: bool = False


@router.get("/plans", response=list[PlanOut], summary="年度督查检查考核计划（按权限范围）")
@paginate(Page)
def plan_index(request: HttpRequest, filters: Query[PlanFilter]) -> Any:
    status = filters.status if filters.status in plans.PLAN_STATUS_FILTERS else ""
    qs = plans.plan_list(
        user=authenticated_user(request),
        year=filters.year,
        department_id=filters.department_id,
        status=status,
        flagged=filters.flagged,
    )
    return _PlanRows(qs)


class PlanIn(Schema):
    year: int
    department_id: int | None = None
    note: str = ""


def _plan_detail(user: Any, pk: int) -> dict[str, Any]:
    plans.plan_get(user=user, pk=pk)  # 404 outside the user's scope
    row = plans.plan_list(user=user).filter(pk=pk).first()
    if row is None:
        raise NotFoundError()
    row.n_flagged = plans.flag_counts([row]).get(row.pk, 0)  # type: ignore[attr-defined]
    return _plan_out(row)


@router.post("/plans", response={201: PlanOut}, summary="编制年度计划（县直部门，草稿）")
def plan_create(request: HttpRequest, payload: PlanIn) -> Any:
    user = authenticated_user(request)
    plan = plans.plan_create(
        actor=user, year=payload.year, department_id=payload.department_id, note=payload.note
    )
    return Status(201, _plan_detail(user, plan.pk))


@router.get("/plans/{plan_id}", response=PlanOut, summary="单个计划")
def plan_detail(request: HttpRequest, plan_id: int) -> Any:
    return _plan_detail(authenticated_user(request), plan_id)


@router.post(
    "/plans/{plan_id}/file", response=PlanOut, summary="报送计划（每个部门每年一次；报送后自动审查）"
)
def plan_file(request: HttpRequest, plan_id: int) -> Any:
    user = authenticated_user(request)
    plans.plan_file(actor=user, plan_id=plan_id)
    return _plan_detail(user, plan_id)


@router.get("/plans/{plan_id}/items", response=list[ItemOut], summary="计划中的事项")
@paginate(Page)
def plan_items(request: HttpRequest, plan_id: int) -> Any:
    user = authenticated_user(request)
    plan = plans.plan_get(user=user, pk=plan_id)
    qs = plans.plan_items(plan).select_related("plan", "plan__department", "plan__county")
    return _ItemRows(user, qs)


class ItemIn(Schema):
    kind: str
    topic: str
    window_start: date
    window_end: date
    comprehensive: bool = False
    basis: str = ""
    all_townships: bool = False
    township_ids: list[int] = []
    mode: str = "onsite"
    township_hours: Decimal = Decimal(0)
    materials: list[dict[str, str]] = []
    data_fields: list[str] = []


def _item_input(p: ItemIn) -> plans.ItemInput:
    return plans.ItemInput(
        kind=p.kind,
        topic=p.topic,
        window_start=p.window_start,
        window_end=p.window_end,
        comprehensive=p.comprehensive,
        basis=p.basis,
        all_townships=p.all_townships,
        township_ids=p.township_ids,
        mode=p.mode,
        township_hours=p.township_hours,
        materials=p.materials,
        data_fields=p.data_fields,
    )


def _item_detail(user: Any, pk: int) -> dict[str, Any]:
    return _items_out(user, [plans.item_get(user=user, pk=pk)])[0]


@router.post(
    "/plans/{plan_id}/items",
    response={201: ItemOut},
    summary="添加事项（草稿中）或报送计划外事项（报送后，一事一报）",
)
def item_create(request: HttpRequest, plan_id: int, payload: ItemIn) -> Any:
    user = authenticated_user(request)
    item = plans.item_create(actor=user, plan_id=plan_id, data=_item_input(payload))
    return Status(201, _item_detail(user, item.pk))


@router.get("/plans/{plan_id}/export", summary="导出计划（.xlsx，可再导入）")
def plan_export(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = authenticated_user(request)
    plan = plans.plan_get(user=user, pk=plan_id)

    def with_codes(p: InspectionPlan) -> bool:
        return plans.can_file_for(user, p.department) or can_read_county(user, p.county)

    response = HttpResponse(planio.export_plans([plan], with_codes=with_codes), content_type=planio.XLSX_MIME)
    name = quote(f"{plan.department.name}{plan.year}年度督查检查考核计划.xlsx")
    response["Content-Disposition"] = f"attachment; filename=\"plan.xlsx\"; filename*=UTF-8''{name}"
    return response


class ImportOut(Schema):
    file_name: str
    sha256: str
    summary: str
    plans: list[dict[str, Any]]


@router.post(
    "/imports", response={201: ImportOut}, summary="导入计划（.xlsx/.csv，全部成功才写入；结果为草稿）"
)
def plan_import(
    request: HttpRequest,
    file: File[UploadedFile],
    year: Form[int | None] = None,
    department_id: Form[int | None] = None,
) -> Any:
    """Errors: 400 ``import_failed`` with ``detail`` = every problem as ``{sheet, row, column, message}``."""
    result = planio.import_plans(
        actor=authenticated_user(request),
        file_name=file.name or "plan.xlsx",
        data=file.read(),
        year=year,
        department_id=department_id,
    )
    return Status(
        201,
        {
            "file_name": result.file_name,
            "sha256": result.sha256,
            "summary": result.summary(),
            "plans": [
                {
                    "plan_id": p.plan_id,
                    "department": p.department,
                    "year": p.year,
                    "items": p.items,
                    "replaced": p.replaced,
                }
                for p in result.plans
            ],
        },
    )


# ---- items -------------------------------------------------------------------------------------------------------


class ItemFilter(Schema):
    county: str = ""
    year: int | None = None
    plan_id: int | None = None
    status: str = ""
    out_of_plan: bool | None = None
    flagged: bool | None = None


@router.get(
    "/items", response=list[ItemOut], summary="事项（按权限范围；乡镇只见批准的、以本乡镇为对象的事项）"
)
@paginate(Page)
def item_index(request: HttpRequest, filters: Query[ItemFilter]) -> Any:
    user = authenticated_user(request)
    county = None
    if filters.county:
        county = AdminUnit.objects.filter(code=filters.county, level=Level.COUNTY).first()
        if county is None:
            raise NotFoundError("县（区）不存在")
    qs = plans.item_list(
        user=user,
        county=county,
        year=filters.year,
        plan_id=filters.plan_id,
        status=filters.status,
        out_of_plan=filters.out_of_plan,
        flagged=filters.flagged,
    )
    return _ItemRows(user, qs)


@router.get("/items/{item_id}", response=ItemOut, summary="单个事项及其审查提示")
def item_detail(request: HttpRequest, item_id: int) -> Any:
    return _item_detail(authenticated_user(request), item_id)


@router.put("/items/{item_id}", response=ItemOut, summary="修改事项（草稿中，或被退回后修改即重新报送）")
def item_update(request: HttpRequest, item_id: int, payload: ItemIn) -> Any:
    user = authenticated_user(request)
    plans.item_update(actor=user, item_id=item_id, data=_item_input(payload))
    return _item_detail(user, item_id)


class DeleteOut(Schema):
    deleted: bool
    item: ItemOut | None = None


@router.delete(
    "/items/{item_id}", response=DeleteOut, summary="删除草稿中的事项；报送后撤回待审核或被退回的事项"
)
def item_delete(request: HttpRequest, item_id: int) -> Any:
    user = authenticated_user(request)
    out = plans.item_delete(actor=user, item_id=item_id)
    if out is None:
        return {"deleted": True, "item": None}
    return {"deleted": False, "item": _item_detail(user, item_id)}


class DecisionIn(Schema):
    action: str  # approve | return | refuse
    note: str = ""


@router.post("/items/{item_id}/decision", response=ItemOut, summary="审核事项（县减负办）：批准即生成事项码")
def item_decision(request: HttpRequest, item_id: int, payload: DecisionIn) -> Any:
    user = authenticated_user(request)
    plans.item_decide(actor=user, item_id=item_id, action=payload.action, note=payload.note)
    return _item_detail(user, item_id)


class RevokeIn(Schema):
    reason: str


@router.post("/items/{item_id}/revoke", response=ItemOut, summary="撤销事项码（县减负办）")
def item_revoke(request: HttpRequest, item_id: int, payload: RevokeIn) -> Any:
    user = authenticated_user(request)
    plans.code_revoke(actor=user, item_id=item_id, reason=payload.reason)
    return _item_detail(user, item_id)


# ---- review and decisions ----------------------------------------------------------------------------------------


class RunOut(Schema):
    id: int
    county_code: str
    year: int
    created_at: datetime
    duration_ms: int
    stats: dict[str, Any]


def _run_out(r: ReviewRun) -> dict[str, Any]:
    stats = {k: v for k, v in (r.stats or {}).items() if k != "notes"}
    stats["notes"] = len((r.stats or {}).get("notes", []))
    return {
        "id": r.pk,
        "county_code": r.county.code,
        "year": r.year,
        "created_at": r.created_at,
        "duration_ms": r.duration_ms,
        "stats": stats,
    }


def _county_for(user: Any, code: str, *, manage: bool) -> AdminUnit:
    counties = plans.managed_counties(user) if manage else plans.readable_counties(user)
    if not counties:
        if manage and plans.readable_counties(user):
            raise PermissionDeniedError("审查和审核由县委县政府办（减负办）负责")
        raise PermissionDeniedError("审查结果由县减负办和县级机关查看")
    if not code:
        return counties[0]
    for c in counties:
        if c.code == code:
            return c
    raise NotFoundError("县（区）不存在或无权查看")


class ReviewIn(Schema):
    year: int
    county: str = ""


@router.post("/reviews", response={201: RunOut}, summary="运行计划审查（县减负办）")
def review_create(request: HttpRequest, payload: ReviewIn) -> Any:
    user = authenticated_user(request)
    county = _county_for(user, payload.county, manage=True)
    run = review.review_run(actor=user, county=county, year=plans.check_year(payload.year))
    if run is None:
        raise ServiceError("engine_unavailable", "审查引擎暂不可用，请稍后再试")
    run.county = county
    return Status(201, _run_out(run))


class RunFilter(Schema):
    county: str = ""
    year: int | None = None


@router.get("/reviews", response=list[RunOut], summary="审查记录（最新在前；最新一次为现行结果）")
@paginate(Page)
def review_index(request: HttpRequest, filters: Query[RunFilter]) -> Any:
    user = authenticated_user(request)
    county = _county_for(user, filters.county, manage=False)
    qs = ReviewRun.objects.filter(county=county).select_related("county").order_by("-id")
    if filters.year:
        qs = qs.filter(year=filters.year)
    return _Shaped(qs, _run_out)


class _Shaped:
    def __init__(self, qs: Any, fn: Any):
        self.qs, self.fn = qs, fn

    def __getitem__(self, s: slice) -> list[dict[str, Any]]:
        return [self.fn(o) for o in self.qs[s]]

    def all(self) -> "_Shaped":
        return self

    def count(self) -> int:
        return int(self.qs.count())


class FlagFilter(Schema):
    rule: str = ""


@router.get("/reviews/{run_id}/flags", response=list[FlagOut], summary="一次审查的提示（含原因说明）")
@paginate(Page)
def review_flags(request: HttpRequest, run_id: int, filters: Query[FlagFilter]) -> Any:
    user = authenticated_user(request)
    run = ReviewRun.objects.filter(pk=run_id).select_related("county").first()
    if run is None or not can_read_county(user, run.county):
        raise NotFoundError()
    qs = ReviewFlag.objects.filter(run=run).order_by("rule", "item_id", "id")
    if filters.rule:
        qs = qs.filter(rule=filters.rule)
    return _FlagRows(qs)


class _FlagRows(_Shaped):
    """A page of flags with their sentences (the items, townships and departments named in bulk)."""

    def __init__(self, qs: Any):
        super().__init__(qs, None)

    def __getitem__(self, s: slice) -> list[dict[str, Any]]:
        flags = list(self.qs[s])
        sentences = review.describe_many(flags)
        return [_flag_out(f, sentences[f.pk]) for f in flags]


class ApproveCleanIn(Schema):
    year: int
    county: str = ""


class ApproveCleanOut(Schema):
    approved: int
    run_id: int | None


@router.post(
    "/decisions/approve-clean", response=ApproveCleanOut, summary="批准全部无审查提示的待审核事项（县减负办）"
)
def approve_clean(request: HttpRequest, payload: ApproveCleanIn) -> Any:
    user = authenticated_user(request)
    county = _county_for(user, payload.county, manage=True)
    result = plans.items_approve_clean(actor=user, county=county, year=plans.check_year(payload.year))
    if result.run_id is None:
        raise ServiceError("engine_unavailable", "审查引擎暂不可用，未批准任何事项")
    return {"approved": result.approved, "run_id": result.run_id}


# ---- the public code check ---------------------------------------------------------------------------------------


class VerifyOut(Schema):
    state: str  # valid | revoked
    code: str
    department: str
    topic: str
    kind: str | None = None
    window_start: date | None = None
    window_end: date | None = None
    in_window: bool | None = None
    onsite: bool | None = None
    all_townships: bool | None = None
    townships: list[str] = []
    approved_by: str | None = None
    approved_at: datetime | None = None
    materials: list[dict[str, str]] = []
    not_allowed: list[str] = []
    catalog_fields: list[str] = []
    data_fields: list[str] = []
    revoked_at: datetime | None = None
    reason: str | None = None


@router.get(
    "/codes/{item_code}", auth=None, response=VerifyOut, summary="核验事项码（公开，无需登录；限制查询频率）"
)
def code_verify(request: HttpRequest, item_code: str) -> Any:
    from .plan_views import record_miss, throttled, verify_lookup

    if throttled(request):
        raise Throttled()
    result = verify_lookup(item_code)
    if result["state"] == "malformed" or result["state"] == "empty":
        record_miss(request)
        raise NotFoundError("事项码格式不正确（可能输错了一位），请核对；仍查不到的，请拒绝并向县减负办反映")
    if result["state"] == "unknown":
        record_miss(request)
        raise NotFoundError("查无此码，请拒绝并向县减负办反映")
    if result["state"] == "valid":
        result["kind"] = result.pop("kind_value")
    return result
