"""吹哨报到 JSON endpoints under /api/v1/summons: the same services and selectors as the pages."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from gongzhi.core.api import Page, _Rows
from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError
from gongzhi.core.models import AdminUnit, Level

from . import summons as svc
from .models import Summons, SummonsReport, SummonsStatus, SummonsTarget

router = Router(tags=["summons"])


class TownshipOut(Schema):
    id: int
    code: str
    name: str


class DutyItemRef(Schema):
    id: int
    number: str
    name: str


class ReportOut(Schema):
    id: int
    kind: str
    kind_label: str
    text: str
    created_by: str
    created_at: datetime


class TargetBrief(Schema):
    id: int
    department_id: int
    department_name: str
    ack_due: datetime | None
    acknowledged_at: datetime | None
    minutes_to_ack: float | None
    late: bool
    overdue: bool
    escalated_at: datetime | None
    score: Decimal | None


class TargetOut(TargetBrief):
    acknowledged_by: str | None
    scores: dict[str, Any]
    rating_comment: str
    rated_at: datetime | None
    reports: list[ReportOut]


class SummonsBrief(Schema):
    id: int
    township: TownshipOut
    ground: str
    ground_label: str
    title: str
    status: str
    status_label: str
    ack_minutes: int
    issued_at: datetime | None
    closed_at: datetime | None
    overdue: bool
    targets: list[TargetBrief]


class SummonsOut(SummonsBrief):
    description: str
    location: str
    duty_item: DutyItemRef | None
    created_by: str
    created_at: datetime
    issued_by: str | None
    closing_note: str
    targets: list[TargetOut]  # type: ignore[assignment]


def _user_label(u: Any) -> str | None:
    return str(u) if u is not None else None


def _target(t: SummonsTarget, s: Summons, now: datetime, *, full: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": t.pk,
        "department_id": t.department_id,
        "department_name": t.department.name,
        "ack_due": t.ack_due,
        "acknowledged_at": t.acknowledged_at,
        "minutes_to_ack": svc.target_minutes_taken(t, s),
        "late": svc.target_late(t),
        "overdue": svc.target_overdue(t, s, now),
        "escalated_at": t.escalated_at,
        "score": t.score,
    }
    if full:
        out |= {
            "acknowledged_by": _user_label(t.acknowledged_by),
            "scores": t.scores,
            "rating_comment": t.rating_comment,
            "rated_at": t.rated_at,
            "reports": [_report(r) for r in t.reports.all()],
        }
    return out


def _report(r: SummonsReport) -> dict[str, Any]:
    return {
        "id": r.pk,
        "kind": r.kind,
        "kind_label": r.get_kind_display(),
        "text": r.text,
        "created_by": str(r.created_by),
        "created_at": r.created_at,
    }


def _brief(s: Summons, now: datetime, *, full: bool = False) -> dict[str, Any]:
    targets = [_target(t, s, now, full=full) for t in s.targets.all()]
    out: dict[str, Any] = {
        "id": s.pk,
        "township": {"id": s.township.pk, "code": s.township.code, "name": s.township.name},
        "ground": s.ground,
        "ground_label": s.get_ground_display(),
        "title": s.title,
        "status": s.status,
        "status_label": s.get_status_display(),
        "ack_minutes": s.ack_minutes,
        "issued_at": s.issued_at,
        "closed_at": s.closed_at,
        "overdue": any(t["overdue"] for t in targets),
        "targets": targets,
    }
    if full:
        item = s.duty_item
        out |= {
            "description": s.description,
            "location": s.location,
            "duty_item": {"id": item.pk, "number": item.number, "name": item.name} if item else None,
            "created_by": str(s.created_by),
            "created_at": s.created_at,
            "issued_by": _user_label(s.issued_by),
            "closing_note": s.closing_note,
        }
    return out


def _detail(request: HttpRequest, summons_id: int) -> dict[str, Any]:
    return _brief(svc.summons_get(request.user, summons_id), timezone.now(), full=True)


class ListFilter(Schema):
    status: SummonsStatus | None = None
    overdue: bool | None = None


@router.get("", response=list[SummonsBrief], summary="吹哨列表（按权限范围；overdue=true 只看超时未响应）")
@paginate(Page)
def summons_list(request: HttpRequest, filters: Query[ListFilter]) -> Any:
    now = timezone.now()
    qs = svc.summons_list(request.user, status=filters.status, overdue=filters.overdue, now=now)
    return _Rows(qs, lambda s: _brief(s, now))


class SummonsIn(Schema):
    township_id: int | None = None
    ground: str
    title: str
    description: str
    location: str = ""
    duty_item_id: int | None = None
    department_ids: list[int]


@router.post(
    "", response={201: SummonsOut}, summary="发起吹哨（乡镇主要领导发起即签发；乡镇干部提交草稿待签发）"
)
def summons_create(request: HttpRequest, body: SummonsIn) -> Any:
    choices = [i for i, _n in svc.township_choices(request.user)]
    if not choices:
        raise PermissionDeniedError("只有乡镇（街道）干部可以发起吹哨")
    township_id = body.township_id if body.township_id is not None else choices[0]
    township = AdminUnit.objects.filter(pk=township_id, level=Level.TOWNSHIP).first()
    if township is None:
        raise ServiceError("invalid", "乡镇（街道）不存在")
    s = svc.summons_create(
        actor=request.user,
        township=township,
        ground=body.ground,
        title=body.title,
        description=body.description,
        location=body.location,
        duty_item_id=body.duty_item_id,
        department_ids=body.department_ids,
    )
    return Status(201, _detail(request, s.pk))


class GroundRuleOut(Schema):
    ground: str
    label: str
    minutes: int
    default: int
    configured: bool


class IndicatorOut(Schema):
    key: str
    name: str
    weight: Decimal


class SettingsOut(Schema):
    county_code: str
    county_name: str
    ack_minutes: list[GroundRuleOut]
    indicators: list[IndicatorOut]


class IndicatorIn(Schema):
    key: str = ""
    name: str
    weight: Decimal


class SettingsIn(Schema):
    ack_minutes: dict[str, int]
    indicators: list[IndicatorIn]


def _settings_county(request: HttpRequest, county: str | None) -> AdminUnit:
    counties = svc.configurable_counties(request.user)
    if not counties:
        raise PermissionDeniedError("只有县减负办可以设置吹哨报到规则")
    if not county:
        return counties[0]
    for c in counties:
        if c.code == county:
            return c
    raise NotFoundError()


def _settings_out(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "county_code": data["county"].code,
        "county_name": data["county"].name,
        "ack_minutes": [{**g, "label": str(g["label"])} for g in data["ack_minutes"]],
        "indicators": [{"key": i.key, "name": i.name, "weight": i.weight} for i in data["indicators"]],
    }


@router.get(
    "/settings", response=SettingsOut, summary="吹哨报到规则：各事由响应时限、下评上指标与权重（县减负办）"
)
def settings_get(request: HttpRequest, county: str | None = None) -> Any:
    c = _settings_county(request, county)
    return _settings_out(svc.summons_settings(request.user, county=c))


@router.put("/settings", response=SettingsOut, summary="修改吹哨报到规则（权重之和须为 1）")
def settings_put(request: HttpRequest, body: SettingsIn, county: str | None = None) -> Any:
    c = _settings_county(request, county)
    data = svc.summons_settings_update(
        actor=request.user,
        county=c,
        ack_minutes=body.ack_minutes,
        indicators=[i.model_dump() for i in body.indicators],
    )
    return _settings_out(data)


@router.get("/{int:summons_id}", response=SummonsOut, summary="吹哨详情：各部门报到、进展与评价")
def summons_detail(request: HttpRequest, summons_id: int) -> Any:
    return _detail(request, summons_id)


@router.post("/{int:summons_id}/issue", response=SummonsOut, summary="签发吹哨草稿（乡镇主要领导）")
def summons_issue(request: HttpRequest, summons_id: int) -> Any:
    svc.summons_issue(actor=request.user, summons_id=summons_id)
    return _detail(request, summons_id)


@router.post("/{int:summons_id}/discard", response={204: None}, summary="撤销吹哨草稿")
def summons_discard(request: HttpRequest, summons_id: int) -> Any:
    svc.summons_discard(actor=request.user, summons_id=summons_id)
    return Status(204, None)


def _target_out(request: HttpRequest, summons_id: int, target_id: int) -> dict[str, Any]:
    s = svc.summons_get(request.user, summons_id)
    for t in s.targets.all():
        if t.pk == target_id:
            return _target(t, s, timezone.now(), full=True)
    raise NotFoundError()


@router.post(
    "/{int:summons_id}/targets/{int:target_id}/ack", response=TargetOut, summary="报到（被吹哨部门，一键）"
)
def summons_ack(request: HttpRequest, summons_id: int, target_id: int) -> Any:
    svc.summons_acknowledge(actor=request.user, summons_id=summons_id, target_id=target_id)
    return _target_out(request, summons_id, target_id)


class ReportIn(Schema):
    kind: str
    text: str


@router.post(
    "/{int:summons_id}/targets/{int:target_id}/reports",
    response={201: ReportOut},
    summary="报送进展（到场报到或书面报告，办结前可多次）",
)
def summons_report(request: HttpRequest, summons_id: int, target_id: int, body: ReportIn) -> Any:
    r = svc.summons_report(
        actor=request.user, summons_id=summons_id, target_id=target_id, kind=body.kind, text=body.text
    )
    return Status(201, _report(r))


class CloseIn(Schema):
    closing_note: str


@router.post("/{int:summons_id}/close", response=SummonsOut, summary="办结吹哨（乡镇）")
def summons_close(request: HttpRequest, summons_id: int, body: CloseIn) -> Any:
    svc.summons_close(actor=request.user, summons_id=summons_id, closing_note=body.closing_note)
    return _detail(request, summons_id)


class RatingIn(Schema):
    scores: dict[str, Any]
    comment: str = ""


@router.post(
    "/{int:summons_id}/targets/{int:target_id}/rating",
    response=TargetOut,
    summary="评价部门响应（下评上，办结后每个部门一次，各指标 1–5 分）",
)
def summons_rate(request: HttpRequest, summons_id: int, target_id: int, body: RatingIn) -> Any:
    svc.summons_rate(
        actor=request.user,
        summons_id=summons_id,
        target_id=target_id,
        scores=body.scores,
        comment=body.comment,
    )
    return _target_out(request, summons_id, target_id)
