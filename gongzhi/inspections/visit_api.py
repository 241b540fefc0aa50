"""JSON API for 一表通 (/api/v1/catalog), joint visits and merging (/api/v1/visits) and the burden ledger
(/api/v1/burden). The same services and selectors as the pages; every list is paginated; errors are
``{code, message, detail}``."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from gongzhi.core.api import Page, _Rows
from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError, authenticated_user
from gongzhi.core.models import AdminUnit, Level

from . import datacatalog as cat
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
