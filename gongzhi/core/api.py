"""Core JSON endpoints: me, units, departments, cadres, residents, organizations, API tokens, audit."""

import json
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from . import selectors
from .audit import audit_verify
from .auth import AuthError, token_create, token_revoke
from .errors import NotFoundError, PermissionDeniedError, ServiceError, authenticated_user
from .models import ApiToken, AuditEvent
from .permissions import can_view_audit, is_staff_member
from .roles import grants_for

router = Router(tags=["core"])


class Page(PageNumberPagination):
    """Page pagination on every list: ``?page=N&page_size=M`` (max 500); returns items and count."""

    class Input(Schema):
        page: int = 1
        page_size: int = 50

    class Output(Schema):
        items: list[Any]
        count: int
        page: int
        page_size: int

    def paginate_queryset(self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any) -> Any:
        page = max(1, pagination.page)
        size = min(max(1, pagination.page_size), 500)
        offset = (page - 1) * size
        return {
            "items": list(queryset[offset : offset + size]),
            "count": self._items_count(queryset),
            "page": page,
            "page_size": size,
        }


def _require_staff(request: HttpRequest) -> None:
    if not is_staff_member(request.user):
        raise PermissionDeniedError()


class GrantOut(Schema):
    role: str
    label: str
    unit_id: int | None
    department_id: int | None


class MeOut(Schema):
    username: str
    display_name: str
    roles: list[GrantOut]


@router.get("/me", response=MeOut, summary="当前用户及其角色")
def me(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    return {
        "username": user.get_username(),
        "display_name": str(user),
        "roles": [
            {"role": g.role, "label": g.label, "unit_id": g.unit_id, "department_id": g.department_id}
            for g in grants_for(user)
        ],
    }


class UnitOut(Schema):
    code: str
    name: str
    level: str
    kind: str
    parent_code: str | None


class UnitFilter(Schema):
    parent: str | None = None
    level: str | None = None
    q: str = ""


class UnitQuery(UnitFilter):
    page: int = 1
    page_size: int = 50


class UnitPage(Schema):
    items: list[UnitOut]
    count: int
    page: int
    page_size: int


@router.get("/units", response=UnitPage, summary="行政区划（按权限范围）")
def units(request: HttpRequest, filters: Query[UnitQuery]) -> HttpResponse:
    # The API's most used list: the page and its total in one compiled query (selectors.unit_page), and the JSON
    # written directly — the rows are plain strings, so validating them through UnitPage again cost more CPU than
    # the query (bench/http.py). The response has the same shape as every other list (Page) and UnitPage documents
    # it.
    _require_staff(request)
    page = max(1, filters.page)
    size = min(max(1, filters.page_size), 500)
    rows, count = selectors.unit_page(
        user=request.user,
        parent_code=filters.parent,
        level=filters.level,
        q=filters.q,
        offset=(page - 1) * size,
        limit=size,
    )
    items = [
        {"code": code, "name": name, "level": level, "kind": kind, "parent_code": parent}
        for code, name, level, kind, parent in rows
    ]
    body = {"items": items, "count": count, "page": page, "page_size": size}
    return HttpResponse(json.dumps(body), content_type="application/json; charset=utf-8")


@router.get("/units/{code}", response=UnitOut, summary="单个行政区划")
def unit_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    _require_staff(request)
    unit = selectors.unit_get(user=request.user, code=code)
    if unit is None:
        raise NotFoundError()
    return {
        "code": unit.code,
        "name": unit.name,
        "level": unit.level,
        "kind": unit.kind,
        "parent_code": unit.parent.code if unit.parent else None,
    }


class DepartmentOut(Schema):
    id: int
    name: str
    kind: str
    county_code: str


@router.get("/departments", response=list[DepartmentOut], summary="县直部门")
@paginate(Page)
def departments(request: HttpRequest) -> Any:
    _require_staff(request)
    return _Rows(
        selectors.department_list(user=request.user),
        lambda d: {"id": d.pk, "name": d.name, "kind": d.kind, "county_code": d.county.code},
    )


class _Rows:
    """Lazy list adapter: the paginator slices it, so only one page of rows is fetched and shaped."""

    def __init__(self, qs: Any, shape: Any):
        self.qs, self.shape = qs, shape

    def __getitem__(self, s: slice) -> list[dict[str, Any]]:
        return [self.shape(o) for o in self.qs[s]]

    def all(self) -> "_Rows":
        return self

    def count(self) -> int:
        return int(self.qs.count())


class PositionOut(Schema):
    title: str
    is_leader: bool
    unit_code: str | None
    department_id: int | None


class CadreOut(Schema):
    id: int
    name: str
    positions: list[PositionOut]


class _CadreRows(_Rows):
    def __getitem__(self, s: slice) -> list[dict[str, Any]]:
        page = list(self.qs[s])
        pos = selectors.positions_for(page)
        return [
            {
                "id": c.pk,
                "name": c.name,
                "positions": [
                    {
                        "title": p.title,
                        "is_leader": p.is_leader,
                        "unit_code": p.unit.code if p.unit else None,
                        "department_id": p.department_id,
                    }
                    for p in pos[c.pk]
                ],
            }
            for c in page
        ]


@router.get("/cadres", response=list[CadreOut], summary="干部（按权限范围）")
@paginate(Page)
def cadres(request: HttpRequest, q: str = "") -> Any:
    _require_staff(request)
    return _CadreRows(selectors.cadre_list(user=request.user, q=q), None)


class ResidentOut(Schema):
    id: int
    name: str
    village_code: str
    household_no: str
    phone_masked: str
    verified: bool


@router.get("/residents", response=list[ResidentOut], summary="居民（仅乡镇、村及平台管理员；手机号脱敏）")
@paginate(Page)
def residents(request: HttpRequest, village: str | None = None, q: str = "") -> Any:
    from gongzhi.engines.idcard import mask_phone

    from .permissions import RESIDENT_READERS

    if not any(g.role in RESIDENT_READERS for g in grants_for(request.user)):
        raise PermissionDeniedError("只有乡镇、村（社区）工作人员可以查看居民信息")
    return _Rows(
        selectors.resident_list(user=request.user, village_code=village, q=q),
        lambda r: {
            "id": r.pk,
            "name": r.name,
            "village_code": r.village.code,
            "household_no": r.household_no,
            "phone_masked": mask_phone(r.phone) if r.phone else "",
            "verified": r.verified,
        },
    )


class OrganizationOut(Schema):
    id: int
    name: str
    kind: str
    credit_code: str
    unit_code: str


@router.get("/organizations", response=list[OrganizationOut], summary="企业与社会组织")
@paginate(Page)
def organizations(request: HttpRequest, q: str = "") -> Any:
    _require_staff(request)
    return _Rows(
        selectors.organization_list(user=request.user, q=q),
        lambda o: {
            "id": o.pk,
            "name": o.name,
            "kind": o.kind,
            "credit_code": o.credit_code,
            "unit_code": o.unit.code,
        },
    )


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class TokenIn(Schema):
    name: str


class TokenCreated(TokenOut):
    token: str


@router.get("/tokens", response=list[TokenOut], summary="我的 API 令牌")
@paginate(Page)
def tokens(request: HttpRequest) -> Any:
    return ApiToken.objects.filter(user=authenticated_user(request)).order_by("-created_at", "-id")


@router.post("/tokens", response={201: TokenCreated}, summary="创建 API 令牌（明文只显示一次）")
def tokens_create(request: HttpRequest, body: TokenIn) -> Any:
    try:
        tok, raw = token_create(user=authenticated_user(request), name=body.name)
    except AuthError as e:
        raise ServiceError(e.code, e.message) from e
    return Status(
        201,
        {
            "id": tok.pk,
            "name": tok.name,
            "prefix": tok.prefix,
            "created_at": tok.created_at,
            "revoked_at": None,
            "token": raw,
        },
    )


@router.delete("/tokens/{token_id}", response=TokenOut, summary="撤销 API 令牌")
def tokens_revoke(request: HttpRequest, token_id: int) -> Any:
    try:
        return token_revoke(user=authenticated_user(request), token_id=token_id)
    except AuthError as e:
        raise NotFoundError(e.message) from e


class AuditOut(Schema):
    seq: int
    time: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    digest: str
    hash: str


@router.get("/audit", response=list[AuditOut], summary="审计事件（平台管理员、纪委监委）")
@paginate(Page)
def audit_events(request: HttpRequest, action: str = "") -> Any:
    if not can_view_audit(request.user):
        raise PermissionDeniedError()
    qs = AuditEvent.objects.order_by("-seq")
    if action:
        qs = qs.filter(action=action)
    return _Rows(
        qs,
        lambda e: {
            "seq": e.seq,
            "time": e.time,
            "actor": e.actor_label,
            "action": e.action,
            "object_type": e.object_type,
            "object_id": e.object_id,
            "digest": e.digest,
            "hash": e.hash,
        },
    )


class VerifyOut(Schema):
    ok: bool
    seq: int | None
    message: str


@router.get("/audit/verify", response=VerifyOut, summary="校验审计哈希链")
def audit_chain_verify(request: HttpRequest) -> dict[str, Any]:
    if not can_view_audit(request.user):
        raise PermissionDeniedError()
    problem = audit_verify()
    if problem is None:
        return {"ok": True, "seq": None, "message": "审计链完整"}
    return {"ok": False, "seq": problem.seq, "message": problem.message}
