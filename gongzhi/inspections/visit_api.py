"""JSON API for 一表通 (/api/v1/catalog), joint visits and merging (/api/v1/visits) and the burden ledger
(/api/v1/burden). The same services and selectors as the pages; every list is paginated; errors are
``{code, message, detail}``."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from gongzhi.core.api import Page, _Rows
from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError, authenticated_user
from gongzhi.core.models import AdminUnit, Level

from . import datacatalog as cat
from . import visits as vsvc
from .models import CatalogEntry

catalog_router = Router(tags=["catalog"])


def _county_arg(user: Any, code: str | None, counties: list[AdminUnit]) -> AdminUnit | None:
    if not code:
        return None
    for c in counties:
        if c.code == code:
            return c
    raise NotFoundError("县（区）不存在或无权查看")


# ---- 一表通 ---------------------------------------------------------------------------------------------------------


class FieldOut(Schema):
    key: str
    label: str
    unit: str
    type: str
    required: bool


class EntryOut(Schema):
    id: int
    county_code: str
    county_name: str
    name: str
    description: str
    period: str
    period_label: str
    fields: list[FieldOut]
    owner_department: str | None
    active: bool
    townships_submitted: int | None = None
    subscribed: bool | None = None


def _entry_out(e: CatalogEntry) -> dict[str, Any]:
    return {
        "id": e.pk,
        "county_code": e.county.code,
        "county_name": e.county.name,
        "name": e.name,
        "description": e.description,
        "period": e.period,
        "period_label": str(e.get_period_display()),
        "fields": [
            {
                "key": f["key"],
                "label": f["label"],
                "unit": f.get("unit", ""),
                "type": f.get("type", "text"),
                "required": bool(f.get("required", True)),
            }
            for f in e.fields or []
        ],
        "owner_department": e.owner_department.name if e.owner_department else None,
        "active": e.active,
        "townships_submitted": getattr(e, "n_townships", None),
        "subscribed": getattr(e, "subscribed", None),
    }


class EntryFilter(Schema):
    county: str | None = None
    q: str = ""
    active: bool | None = True


@catalog_router.get("", response=list[EntryOut], summary="一表通数据集（本县）")
@paginate(Page)
def entry_list(request: HttpRequest, filters: Query[EntryFilter]) -> Any:
    user = authenticated_user(request)
    county = _county_arg(user, filters.county, cat.catalog_counties(user))
    return _Rows(cat.entry_list(user=user, county=county, q=filters.q, active=filters.active), _entry_out)


class FieldIn(Schema):
    key: str = ""
    label: str
    unit: str = ""
    type: str = ""
    required: bool = True


class EntryIn(Schema):
    county: str
    name: str
    period: str = "year"
    description: str = ""
    owner_department_id: int | None = None
    fields: list[FieldIn]


@catalog_router.post("", response={201: EntryOut}, summary="设立数据集（县减负办）")
def entry_create(request: HttpRequest, body: EntryIn) -> Any:
    user = authenticated_user(request)
    if not cat.managed_counties(user):
        raise PermissionDeniedError("一表通数据集由县减负办统一设立")
    county = AdminUnit.objects.filter(code=body.county, level=Level.COUNTY).first()
    if county is None:
        raise ServiceError("invalid", "县（区）不存在", {"field": "county"})
    e = cat.entry_create(
        actor=user,
        county=county,
        name=body.name,
        period=body.period,
        description=body.description,
        owner_department_id=body.owner_department_id,
        fields=[f.model_dump() for f in body.fields],
    )
    return Status(201, _entry_out(cat.entry_get(user=user, pk=e.pk)))


@catalog_router.get("/held", summary="各乡镇已报送的字段（审查引擎据此改为引用；县级）")
def held(request: HttpRequest, county: str) -> dict[str, Any]:
    user = authenticated_user(request)
    from .permissions import can_read_county

    unit = AdminUnit.objects.filter(code=county, level=Level.COUNTY).first()
    if unit is None or not can_read_county(user, unit):
        raise PermissionDeniedError("只有县减负办和县级机关可以查看全县已报送字段")
    return cat.held_fields(unit)


@catalog_router.get("/{int:entry_id}", response=EntryOut, summary="单个数据集")
def entry_detail(request: HttpRequest, entry_id: int) -> Any:
    return _entry_out(cat.entry_get(user=authenticated_user(request), pk=entry_id))


class EntryPatch(Schema):
    active: bool


@catalog_router.patch("/{int:entry_id}", response=EntryOut, summary="停用或恢复数据集（县减负办）")
def entry_patch(request: HttpRequest, entry_id: int, body: EntryPatch) -> Any:
    user = authenticated_user(request)
    e = cat.entry_set_active(actor=user, entry_id=entry_id, active=body.active)
    return _entry_out(cat.entry_get(user=user, pk=e.pk))


class ValueOut(Schema):
    township_id: int
    township_code: str
    township_name: str
    period: str | None
    values: dict[str, Any]
    submitted_at: datetime | None


@catalog_router.get(
    "/{int:entry_id}/values",
    response=list[ValueOut],
    summary="各乡镇报送的数据（县级机关；订阅该数据集的部门）",
)
@paginate(Page)
def entry_values(request: HttpRequest, entry_id: int, period: str = "", missing: bool = True) -> Any:
    user = authenticated_user(request)
    e = cat.entry_get(user=user, pk=entry_id)
    return [r.__dict__ for r in cat.township_values(user=user, entry=e, period=period, missing=missing)]


class SubmissionOut(Schema):
    id: int
    entry_id: int
    township_id: int
    period: str
    values: dict[str, Any]
    submitted_at: datetime


def _sub_out(s: Any) -> dict[str, Any]:
    return {
        "id": s.pk,
        "entry_id": s.entry_id,
        "township_id": s.township_id,
        "period": s.period,
        "values": s.values,
        "submitted_at": s.submitted_at,
    }


def _township_for(user: Any, entry: CatalogEntry, township_id: int | None) -> AdminUnit:
    mine = cat.my_townships(user, entry.county)
    if township_id is None:
        if len(mine) == 1:
            return mine[0]
        if not mine:
            raise PermissionDeniedError("只有本乡镇（街道）的干部可以报送本乡镇的数据")
        raise ServiceError("invalid", "您在多个乡镇任职，请指明 township_id", {"field": "township_id"})
    unit = AdminUnit.objects.filter(pk=township_id, level=Level.TOWNSHIP).first()
    if unit is None:
        raise ServiceError("invalid", "乡镇（街道）不存在", {"field": "township_id"})
    return unit


@catalog_router.get(
    "/{int:entry_id}/submissions",
    response=list[SubmissionOut],
    summary="一个乡镇各期的报送（本乡镇；可读者）",
)
@paginate(Page)
def submissions(request: HttpRequest, entry_id: int, township_id: int | None = None) -> Any:
    user = authenticated_user(request)
    e = cat.entry_get(user=user, pk=entry_id)
    if township_id is None and not cat.my_townships(user, e.county):
        raise ServiceError("invalid", "请指明 township_id", {"field": "township_id"})
    township = _township_for(user, e, township_id)
    return _Rows(cat.own_submissions(user=user, entry=e, township=township), _sub_out)


class SubmissionIn(Schema):
    township_id: int | None = None
    values: dict[str, Any]


@catalog_router.put(
    "/{int:entry_id}/submissions/{period}",
    response=SubmissionOut,
    summary="报送一期数据（本乡镇；同一期再次报送即更正，审计保留原数据摘要）",
)
def submission_put(request: HttpRequest, entry_id: int, period: str, body: SubmissionIn) -> Any:
    user = authenticated_user(request)
    e = cat.entry_get(user=user, pk=entry_id)
    township = _township_for(user, e, body.township_id)
    return _sub_out(
        cat.submission_save(
            actor=user, entry_id=e.pk, township_id=township.pk, period=period, values=body.values
        )
    )


class SubscriptionIn(Schema):
    department_id: int | None = None


class SubscriptionOut(Schema):
    entry_id: int
    subscribed: bool


@catalog_router.put(
    "/{int:entry_id}/subscription", response=SubscriptionOut, summary="订阅数据集（县直部门）"
)
def subscribe(request: HttpRequest, entry_id: int, body: SubscriptionIn) -> Any:
    cat.subscription_set(
        actor=authenticated_user(request), entry_id=entry_id, subscribe=True, department_id=body.department_id
    )
    return {"entry_id": entry_id, "subscribed": True}


@catalog_router.delete(
    "/{int:entry_id}/subscription", response=SubscriptionOut, summary="取消订阅（县直部门）"
)
def unsubscribe(request: HttpRequest, entry_id: int, department_id: int | None = None) -> Any:
    cat.subscription_set(
        actor=authenticated_user(request), entry_id=entry_id, subscribe=False, department_id=department_id
    )
    return {"entry_id": entry_id, "subscribed": False}


# ---- joint visits and merging ----------------------------------------------------------------------------------------

visits_router = Router(tags=["visits"])


class VisitItemOut(Schema):
    id: int
    code: str | None
    topic: str
    kind: str
    department_id: int
    department: str


class ReasonOut(Schema):
    code: str
    params: dict[str, Any]
    text: str


class VisitOut(Schema):
    id: int
    run_id: int
    township_id: int
    township_code: str
    township_name: str
    lead_department_id: int
    lead_department: str
    day: date
    window_start: date
    window_end: date
    hours: Decimal
    status: str
    items: list[VisitItemOut]
    reasons: list[ReasonOut]


class FindingOut(Schema):
    id: int
    item_id: int
    text: str
    follow_up: str
    due: date | None
    status: str
    created_at: datetime


class VisitDetailOut(VisitOut):
    findings: list[FindingOut]
    can_record: bool


def _visit_out(v: Any) -> dict[str, Any]:
    items = list(v.items.all())
    names = {i.pk: i.topic for i in items}
    return {
        "id": v.pk,
        "run_id": v.run_id,
        "township_id": v.township_id,
        "township_code": v.township.code,
        "township_name": v.township.name,
        "lead_department_id": v.lead_department_id,
        "lead_department": v.lead_department.name,
        "day": v.day,
        "window_start": v.window_start,
        "window_end": v.window_end,
        "hours": v.hours,
        "status": v.status,
        "items": [
            {
                "id": i.pk,
                "code": i.code,
                "topic": i.topic,
                "kind": i.kind,
                "department_id": i.plan.department_id,
                "department": i.plan.department.name,
            }
            for i in items
        ],
        "reasons": [
            {"code": str(r.get("code", "")), "params": r.get("params") or {}, "text": vsvc.explain(r, names)}
            for r in v.reasons or []
        ],
    }


def _visit_detail(user: Any, visit_id: int) -> dict[str, Any]:
    v = vsvc.visit_get(user=user, pk=visit_id)
    out = _visit_out(v)
    out["findings"] = [
        {
            "id": f.pk,
            "item_id": f.item_id,
            "text": f.text,
            "follow_up": f.follow_up,
            "due": f.due,
            "status": f.status,
            "created_at": f.created_at,
        }
        for f in vsvc.visit_findings(user=user, visit=v)
    ]
    out["can_record"] = vsvc.visit_actions(user, v)["record"]
    return out


class VisitFilter(Schema):
    month: str | None = None
    township_id: int | None = None
    led: bool = False
    status: str = ""
    county: str | None = None
    year: int | None = None


def _month_arg(value: str | None) -> date | None:
    if not value:
        return None
    try:
        y, m = (int(x) for x in value.split("-", 1))
        return date(y, m, 1)
    except (TypeError, ValueError) as e:
        raise ServiceError("invalid", "月份格式应为 YYYY-MM", {"field": "month"}) from e


@visits_router.get(
    "", response=list[VisitOut], summary="联合督查（按权限范围：本乡镇、本部门牵头或参与、本县）"
)
@paginate(Page)
def visit_list(request: HttpRequest, filters: Query[VisitFilter]) -> Any:
    user = authenticated_user(request)
    county = None
    if filters.county:
        county = AdminUnit.objects.filter(code=filters.county, level=Level.COUNTY).first()
        if county is None:
            raise ServiceError("invalid", "县（区）不存在", {"field": "county"})
    qs = vsvc.visit_list(
        user=user,
        month=_month_arg(filters.month),
        township_id=filters.township_id,
        led=filters.led,
        status=filters.status,
        county=county,
        year=filters.year,
    )
    return _Rows(vsvc.with_items(qs), _visit_out)


class MergeRunOut(Schema):
    id: int
    county_code: str
    county_name: str
    year: int
    method: str
    active: bool
    created_at: datetime
    visits_before: int
    visits_after: int
    hours_before: Decimal
    hours_after: Decimal
    cut: float | None
    exact_visits: int | None
    gap: float | None
    duration_ms: int
    stats: dict[str, Any]


def _run_out(r: Any, *, full: bool = True) -> dict[str, Any]:
    stats = dict(r.stats or {})
    if not full:
        stats.pop("per_township", None)
    return {
        "id": r.pk,
        "county_code": r.county.code,
        "county_name": r.county.name,
        "year": r.year,
        "method": r.method,
        "active": r.active,
        "created_at": r.created_at,
        "visits_before": r.visits_before,
        "visits_after": r.visits_after,
        "hours_before": r.hours_before,
        "hours_after": r.hours_after,
        "cut": round((r.visits_before - r.visits_after) / r.visits_before, 4) if r.visits_before else None,
        "exact_visits": r.exact_visits,
        "gap": r.gap,
        "duration_ms": r.duration_ms,
        "stats": stats,
    }


def _merge_county(user: Any, code: str) -> AdminUnit:
    for c in vsvc.merge_counties(user):
        if c.code == code:
            return c
    if not vsvc.merge_counties(user):
        raise PermissionDeniedError("只有县减负办和县级机关可以查看联合督查合并")
    raise NotFoundError("县（区）不存在或无权查看")


@visits_router.get("/merges", response=list[MergeRunOut], summary="合并记录（县减负办、县级机关）")
@paginate(Page)
def merge_list(request: HttpRequest, county: str, year: int) -> Any:
    user = authenticated_user(request)
    c = _merge_county(user, county)
    return _Rows(vsvc.runs_of(c, year).select_related("county"), lambda r: _run_out(r, full=False))


class MergeIn(Schema):
    county: str
    year: int
    method: str = "heuristic"
    exact_reference: bool = True


@visits_router.post(
    "/merges",
    response={201: MergeRunOut},
    summary="合并已批准的实地事项为联合督查（县减负办；已完成或已记录发现的督查保持不变）",
)
def merge_create(request: HttpRequest, body: MergeIn) -> Any:
    user = authenticated_user(request)
    c = _merge_county(user, body.county)
    run = vsvc.merge_run(
        actor=user, county=c, year=body.year, method=body.method, exact_reference=body.exact_reference
    )
    return Status(201, _run_out(vsvc.run_get(user=user, pk=run.pk)))


@visits_router.get(
    "/merges/{int:merge_id}", response=MergeRunOut, summary="一次合并：前后对比、各乡镇、最优差距"
)
def merge_detail(request: HttpRequest, merge_id: int) -> Any:
    return _run_out(vsvc.run_get(user=authenticated_user(request), pk=merge_id))


@visits_router.get(
    "/merges/{int:merge_id}/visits",
    response=list[VisitOut],
    summary="一次合并安排的督查及理由（alone=true 只看单独安排）",
)
@paginate(Page)
def merge_visits(
    request: HttpRequest, merge_id: int, alone: bool = False, township_id: int | None = None
) -> Any:
    run = vsvc.run_get(user=authenticated_user(request), pk=merge_id)
    return _Rows(vsvc.run_visits(run, alone=alone, township_id=township_id), _visit_out)


@visits_router.get(
    "/{int:visit_id}", response=VisitDetailOut, summary="一次联合督查：事项（一事一码）、理由、发现问题"
)
def visit_detail(request: HttpRequest, visit_id: int) -> Any:
    return _visit_detail(authenticated_user(request), visit_id)


class FindingIn(Schema):
    item_id: int
    text: str = ""
    follow_up: str = ""
    due: date | None = None


class FindingsIn(Schema):
    findings: list[FindingIn]
    done: bool = False


@visits_router.put(
    "/{int:visit_id}/findings",
    response=VisitDetailOut,
    summary="记录本次联合督查的发现问题（牵头部门一次记录全部事项；done=true 标记完成）",
)
def findings_put(request: HttpRequest, visit_id: int, body: FindingsIn) -> Any:
    user = authenticated_user(request)
    vsvc.findings_record(
        actor=user, visit_id=visit_id, rows=[f.model_dump() for f in body.findings], done=body.done
    )
    return _visit_detail(user, visit_id)


class FindingCloseIn(Schema):
    reopen: bool = False


@visits_router.post(
    "/findings/{int:finding_id}/close",
    response=FindingOut,
    summary="确认整改到位（事项所属部门；reopen=true 重新打开）；督查完成后",
)
def finding_close(request: HttpRequest, finding_id: int, body: FindingCloseIn) -> Any:
    f = vsvc.finding_close(actor=authenticated_user(request), finding_id=finding_id, reopen=body.reopen)
    return {
        "id": f.pk,
        "item_id": f.item_id,
        "text": f.text,
        "follow_up": f.follow_up,
        "due": f.due,
        "status": f.status,
        "created_at": f.created_at,
    }


# ---- burden ledger -----------------------------------------------------------------------------------------------------

burden_router = Router(tags=["burden"])


class FiguresOut(Schema):
    visits: float  # a department's visits after merging are a share (see the rules)
    hours: float
    forms: int
    fields: int
    materials: int


class BurdenRowOut(Schema):
    id: int
    code: str
    name: str
    filed: FiguresOut
    reviewed: FiguresOut
    merged: FiguresOut | None
    # Awaiting the county office (pending, or returned and not resubmitted): out of both sides of the cut.
    pending: FiguresOut
    decided: FiguresOut
    led: int
    joined: int
    previous: FiguresOut | None
    previous_basis: str | None
    visits_cut: float | None
    hours_cut: float | None
    yoy_visits: float | None
    met: bool | None


class HeadlineOut(Schema):
    visits_filed: int
    visits_pending: int
    visits_decided: int
    visits_merged: float | None
    visits_cut: float | None
    hours_filed: float
    hours_pending: float
    hours_decided: float
    hours_merged: float | None
    hours_cut: float | None
    goal: float
    met: bool | None


class BurdenOut(Schema):
    county_code: str
    county_name: str
    year: int
    scope: str
    merged: bool
    merge_run_id: int | None
    headline: HeadlineOut
    total: BurdenRowOut
    rules: list[str]


def _ledger(request: HttpRequest, county: str, year: int) -> Any:
    from . import ledger as lg

    user = authenticated_user(request)
    counties = lg.ledger_counties(user)
    if not counties:
        raise PermissionDeniedError("您没有查看基层负担账本的权限")
    unit = next((c for c in counties if c.code == county), None)
    if unit is None:
        raise NotFoundError("县（区）不存在或无权查看")
    return lg.build_ledger(user=user, county=unit, year=year)


@burden_router.get(
    "", response=BurdenOut, summary="基层负担账本：按申报、审核后、合并后与同比；压减比例对照 50% 目标"
)
def burden(request: HttpRequest, county: str, year: int) -> Any:
    return _ledger(request, county, year).as_dict()


@burden_router.get("/townships", response=list[BurdenRowOut], summary="基层负担账本：按乡镇")
@paginate(Page)
def burden_townships(request: HttpRequest, county: str, year: int) -> Any:
    return [r.as_dict() for r in _ledger(request, county, year).townships]


@burden_router.get("/departments", response=list[BurdenRowOut], summary="基层负担账本：按部门")
@paginate(Page)
def burden_departments(request: HttpRequest, county: str, year: int) -> Any:
    return [r.as_dict() for r in _ledger(request, county, year).departments]


@burden_router.get("/export", summary="导出基层负担账本（.xlsx）")
def burden_export(request: HttpRequest, county: str, year: int) -> HttpResponse:
    from urllib.parse import quote

    from . import ledger as lg

    led = _ledger(request, county, year)
    response = HttpResponse(
        lg.ledger_xlsx(led), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = quote(f"{led.county.name}{led.year}年基层负担账本.xlsx")
    response["Content-Disposition"] = f"attachment; filename=\"burden-ledger.xlsx\"; filename*=UTF-8''{name}"
    return response
