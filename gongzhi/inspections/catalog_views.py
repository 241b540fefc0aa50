"""一表通 pages: the catalog, an entry (a township's submission form, prefilled from its last period, or the table of
townships' values a department subscribed to), subscriptions and the .xlsx export. Thin: every write is a
``datacatalog`` service; a refusal is shown next to the form (status 400)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError, authenticated_user
from gongzhi.core.models import AdminUnit, Department, DepartmentKind
from gongzhi.core.responses import int_or_none, see_other

from . import datacatalog as cat
from .models import CatalogEntry, Period

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _entry(request: HttpRequest, entry_id: int) -> CatalogEntry:
    try:
        return cat.entry_get(user=authenticated_user(request), pk=entry_id)
    except NotFoundError as e:
        raise Http404 from e


@login_required
@require_GET
def catalog_view(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    counties = cat.catalog_counties(user)
    if not counties:
        raise PermissionDenied
    county = next((c for c in counties if c.code == request.GET.get("county")), None)
    q = request.GET.get("q", "").strip()
    qs = cat.entry_list(user=user, county=county, q=q, active=None)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    townships = cat.my_townships(user)
    mine: dict[int, str] = {}
    if townships:
        # The newest period this user's township gave for each entry on the page (one query).
        from .models import DataSubmission

        for eid, period in (
            DataSubmission.objects.filter(entry__in=page.object_list, township__in=townships)
            .order_by("entry_id", "-period")
            .values_list("entry_id", "period")
        ):
            mine.setdefault(eid, period)
    # What each entry asks for now (the period just ended for quarterly and monthly sets), next to what was given.
    rows = [
        (e, mine.get(e.pk), cat.due_period(e.period), (mine.get(e.pk) or "") >= cat.due_period(e.period))
        for e in page.object_list
    ]
    return render(
        request,
        "inspections/catalog/list.html",
        {
            "page": page,
            "rows": rows,
            "q": q,
            "counties": counties,
            "county": county,
            "is_township": bool(townships),
            "is_department": bool(cat.department_ids(user)),
            "can_create": bool(cat.managed_counties(user)),
        },
    )


def _new_context(user: Any, post: Any = None, error: str = "") -> dict[str, Any]:
    counties = cat.managed_counties(user)
    return {
        "counties": counties,
        "departments": Department.objects.filter(
            county__in=counties, kind=DepartmentKind.FUNCTIONAL, active=True
        ).order_by("county_id", "id"),
        "periods": Period.choices,
        "post": post or {},
        "error": error,
    }


@login_required
@require_http_methods(["GET", "POST"])
def new_view(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    counties = cat.managed_counties(user)
    if not counties:
        raise PermissionDenied
    if request.method == "GET":
        return render(request, "inspections/catalog/new.html", _new_context(user))
    county = next((c for c in counties if c.code == request.POST.get("county")), None)
    if county is None and len(counties) == 1:
        county = counties[0]
    try:
        if county is None:
            raise ServiceError("invalid", "请选择县（区）", {"field": "county"})
        entry = cat.entry_create(
            actor=user,
            county=county,
            name=request.POST.get("name", ""),
            description=request.POST.get("description", ""),
            period=request.POST.get("period", ""),
            fields=cat.parse_field_lines(request.POST.get("fields", "")),
            owner_department_id=int_or_none(request.POST.get("owner_department")),
        )
    except PermissionDeniedError as e:
        raise PermissionDenied(e.message) from e
    except ServiceError as e:
        return render(
            request, "inspections/catalog/new.html", _new_context(user, request.POST, e.message), status=400
        )
    messages.success(request, _("数据集已设立，乡镇可以报送了"))
    return see_other(reverse("catalog:detail", args=[entry.pk]))


def _township(
    request: HttpRequest, user: Any, entry: CatalogEntry
) -> tuple[AdminUnit | None, list[AdminUnit]]:
    townships = cat.my_townships(user, entry.county)
    wanted = int_or_none(request.POST.get("township") or request.GET.get("township"))
    chosen = next((t for t in townships if t.pk == wanted), townships[0] if townships else None)
    return chosen, townships


def _detail_context(
    request: HttpRequest, user: Any, entry: CatalogEntry, *, error: str = "", errors: Any = None
) -> dict[str, Any]:
    township, townships = _township(request, user, entry)
    ctx: dict[str, Any] = {
        "entry": entry,
        "error": error,
        "field_errors": errors or {},
        "township": township,
        "townships": townships,
        "can_manage": cat.can_manage_county(user, entry.county),
        "departments": cat.my_departments(user, entry.county),
        "subscribed": cat.subscribed_departments(user, entry),
        "type_labels": cat.FIELD_TYPES,
    }
    if township is not None:
        last = cat.last_submission(entry, township)
        period = (
            (request.POST.get("period") if error else None)
            or request.GET.get("period")
            or (cat.current_period(entry.period))
        )
        same = (
            last
            if last is not None and last.period == period
            else entry.submissions.filter(township=township, period=period).first()
        )
        source = same or last
        if error:
            values = {f["key"]: request.POST.get(f"v_{f['key']}", "") for f in entry.fields}
        else:
            values = {f["key"]: (source.values.get(f["key"], "") if source else "") for f in entry.fields}
        ctx |= {
            "period": period,
            "existing": same,
            "prefilled_from": source.period if source is not None and same is None else None,
            "form_fields": [
                (f, values.get(f["key"], ""), (errors or {}).get(f["key"], "")) for f in entry.fields
            ],
            "history": list(
                entry.submissions.filter(township=township)
                .order_by("-period")
                .values_list("period", "submitted_at")[:12]
            ),
        }
    if cat.can_read_values(user, entry):
        period = request.GET.get("values_period", "")
        periods = cat.entry_periods(entry)
        if period not in periods:
            period = ""
        rows = cat.township_values(user=user, entry=entry, period=period)
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        ctx |= {
            "values_page": page,
            "page": page,
            "value_rows": [(r, [r.values.get(f["key"]) for f in entry.fields]) for r in page.object_list],
            "periods": periods,
            "values_period": period,
            "submitted": sum(1 for r in rows if r.period),
            "total_townships": len(rows),
        }
    return ctx


@login_required
@require_GET
def detail_view(request: HttpRequest, entry_id: int) -> HttpResponse:
    user = authenticated_user(request)
    entry = _entry(request, entry_id)
    return render(request, "inspections/catalog/detail.html", _detail_context(request, user, entry))


@login_required
@require_POST
def submit_view(request: HttpRequest, entry_id: int) -> HttpResponse:
    user = authenticated_user(request)
    entry = _entry(request, entry_id)
    township, _all = _township(request, user, entry)
    values = {f["key"]: request.POST.get(f"v_{f['key']}", "") for f in entry.fields}
    try:
        if township is None:
            raise PermissionDeniedError("只有本乡镇（街道）的干部可以报送本乡镇的数据")
        sub = cat.submission_save(
            actor=user,
            entry_id=entry.pk,
            township_id=township.pk,
            period=request.POST.get("period", ""),
            values=values,
        )
    except PermissionDeniedError as e:
        raise PermissionDenied(e.message) from e
    except ServiceError as e:
        errors = (e.detail or {}).get("errors") if isinstance(e.detail, dict) else None
        if isinstance(e.detail, dict) and e.detail.get("field") not in (None, "values", "period", "township"):
            errors = {e.detail["field"]: e.message}
        ctx = _detail_context(request, user, entry, error=e.message, errors=errors)
        return render(request, "inspections/catalog/detail.html", ctx, status=400)
    messages.success(
        request, _("已报送 %(period)s 期数据，各订阅部门直接取用，不再另行要求填报") % {"period": sub.period}
    )
    url = reverse("catalog:detail", args=[entry.pk]) + f"?township={township.pk}&period={quote(sub.period)}"
    return see_other(url)


@login_required
@require_POST
def subscribe_view(request: HttpRequest, entry_id: int) -> HttpResponse:
    user = authenticated_user(request)
    entry = _entry(request, entry_id)
    subscribe = request.POST.get("subscribe", "1") == "1"
    try:
        cat.subscription_set(
            actor=user,
            entry_id=entry.pk,
            subscribe=subscribe,
            department_id=int_or_none(request.POST.get("department")),
        )
    except PermissionDeniedError as e:
        raise PermissionDenied(e.message) from e
    except ServiceError as e:
        ctx = _detail_context(request, user, entry, error=e.message)
        return render(request, "inspections/catalog/detail.html", ctx, status=400)
    messages.success(request, _("已订阅，可以查看各乡镇报送的数据") if subscribe else _("已取消订阅"))
    return see_other(reverse("catalog:detail", args=[entry.pk]))


@login_required
@require_POST
def active_view(request: HttpRequest, entry_id: int) -> HttpResponse:
    user = authenticated_user(request)
    entry = _entry(request, entry_id)
    active = request.POST.get("active", "0") == "1"
    try:
        cat.entry_set_active(actor=user, entry_id=entry.pk, active=active)
    except PermissionDeniedError as e:
        raise PermissionDenied(e.message) from e
    except NotFoundError as e:
        raise Http404 from e
    messages.success(request, _("数据集已恢复使用") if active else _("数据集已停用，已报送的数据仍可查看"))
    return see_other(reverse("catalog:detail", args=[entry.pk]))


@login_required
@require_GET
def values_xlsx_view(request: HttpRequest, entry_id: int) -> HttpResponse:
    user = authenticated_user(request)
    entry = _entry(request, entry_id)
    period = request.GET.get("period", "")
    try:
        rows = cat.township_values(user=user, entry=entry, period=period)
    except PermissionDeniedError as e:
        raise PermissionDenied(e.message) from e
    response = HttpResponse(cat.values_xlsx(entry, rows), content_type=XLSX)
    name = quote(f"{entry.county.name}一表通-{entry.name}.xlsx")
    response["Content-Disposition"] = f"attachment; filename=\"catalog-values.xlsx\"; filename*=UTF-8''{name}"
    return response
