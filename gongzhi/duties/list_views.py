"""Pages for duty lists (read, versions, diff) and 动态调整 (apply, decide)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError, authenticated_user
from gongzhi.core.models import AdminUnit, Department, DepartmentKind, Level
from gongzhi.core.responses import int_or_none

from . import lists
from .models import AdjustmentAction, AdjustmentStatus, Category, DutyItem, DutyList, ListStatus
from .permissions import can_apply_adjustment, can_manage_lists, can_view_unit_duties

PAGE_SIZE = 50


def _get_list(user: Any, pk: int) -> DutyList:
    try:
        return lists.list_get(user=user, pk=pk)
    except NotFoundError as e:
        raise Http404 from e


@login_required
@require_GET
def list_index_view(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    q = request.GET.get("q", "").strip()
    try:
        qs = lists.list_index(user=user, q=q)
    except PermissionDeniedError as e:
        raise PermissionDenied(e.message) from e
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    counties = {dl.county_id for dl in page.object_list}
    can_import = any(can_manage_lists(user, c) for c in AdminUnit.objects.filter(pk__in=counties)) or bool(
        user.is_superuser
    )
    return render(request, "duties/lists/index.html", {"page": page, "q": q, "can_import": can_import})


@login_required
@require_GET
def list_detail_view(request: HttpRequest, list_id: int) -> HttpResponse:
    user = authenticated_user(request)
    dl = _get_list(user, list_id)
    category = request.GET.get("category", "")
    if category not in Category.values:
        category = ""
    q = request.GET.get("q", "").strip()
    page = Paginator(lists.list_items(dl, category=category, q=q), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    counts = {c: 0 for c in Category.values}
    for cat in DutyItem.objects.filter(duty_list=dl).values_list("category", flat=True):
        counts[cat] += 1
    return render(
        request,
        "duties/lists/detail.html",
        {
            "dl": dl,
            "page": page,
            "category": category,
            "categories": [(v, label, counts[v]) for v, label in Category.choices],
            "q": q,
            "versions": lists.list_versions(dl),
            "can_derive": dl.is_template
            and dl.status == ListStatus.PUBLISHED
            and can_manage_lists(user, dl.owner),
            "can_adjust": dl.status == ListStatus.PUBLISHED
            and dl.owner.level == Level.TOWNSHIP
            and can_apply_adjustment(user, dl.owner),
        },
    )


@login_required
@require_GET
def township_current_view(request: HttpRequest, unit_id: int) -> HttpResponse:
    """The township's list in force today (the home page links here without looking it up)."""
    from .gate import current_list

    user = authenticated_user(request)
    unit = AdminUnit.objects.filter(pk=unit_id, level__in=(Level.TOWNSHIP, Level.COUNTY)).first()
    if unit is None or not can_view_unit_duties(user, unit):
        raise Http404
    dl = current_list(unit)
    if dl is None:
        messages.info(request, _("「%(name)s」尚无现行的履职事项清单") % {"name": unit.name})
        return redirect("duties:lists")
    return redirect("duties:list-detail", dl.pk)


@login_required
@require_GET
def list_diff_view(request: HttpRequest, list_id: int, other_id: int) -> HttpResponse:
    user = authenticated_user(request)
    a, b = _get_list(user, list_id), _get_list(user, other_id)
    try:
        diff = lists.list_diff(a, b)
    except ServiceError as e:
        raise Http404 from e
    return render(request, "duties/lists/diff.html", {"diff": diff})


def _adjust_context(user: Any, dl: DutyList, values: dict[str, Any], error: str = "") -> dict[str, Any]:
    return {
        "dl": dl,
        "items": DutyItem.objects.filter(duty_list=dl).only("lineage", "number", "name"),
        "actions": AdjustmentAction.choices,
        "categories": Category.choices,
        "departments": Department.objects.filter(
            county_id=dl.county_id, kind=DepartmentKind.FUNCTIONAL, active=True
        ).only("id", "name"),
        "values": values,
        "error": error,
    }


@login_required
@require_http_methods(["GET", "POST"])
def adjustment_new_view(request: HttpRequest, list_id: int) -> HttpResponse:
    user = authenticated_user(request)
    dl = _get_list(user, list_id)
    if dl.owner.level != Level.TOWNSHIP or not can_apply_adjustment(user, dl.owner):
        raise PermissionDenied
    if request.method == "GET":
        # Opened from an item's row: the item and the action come pre-filled (no scanning a 340-item drop-down).
        values: dict[str, Any] = {"action": request.GET.get("action", "change")}
        if values["action"] not in AdjustmentAction.values:
            values["action"] = "change"
        picked = DutyItem.objects.filter(duty_list=dl, lineage=request.GET.get("item", "")).first()
        if picked is not None:
            values["item"] = picked.lineage
            if values["action"] == AdjustmentAction.CHANGE:
                values.update(
                    {
                        "category": picked.category,
                        "name": picked.name,
                        "content": picked.content,
                        "basis": picked.basis,
                        "lead_department": picked.lead_department.name if picked.lead_department else "",
                        "reclaimed_by": picked.reclaimed_by.name if picked.reclaimed_by else "",
                        "township_part": picked.township_part,
                        "department_part": picked.department_part,
                    }
                )
        return render(request, "duties/lists/adjust.html", _adjust_context(user, dl, values))
    p = request.POST
    values = {k: p.get(k, "") for k in ("action", "item", "reason", *(f for f, _ in lists.ITEM_FIELDS))}
    values["assisting"] = p.getlist("assisting")
    try:
        adj = lists.adjustment_apply(
            actor=user,
            township_id=dl.owner_id,
            action=values["action"],
            reason=values["reason"],
            item_lineage=values["item"],
            proposed={f: values[f] for f, _ in lists.ITEM_FIELDS},
        )
    except PermissionDeniedError as e:
        raise PermissionDenied(e.message) from e
    except ServiceError as e:
        return render(
            request, "duties/lists/adjust.html", _adjust_context(user, dl, values, e.message), status=400
        )
    messages.success(request, _("调整申请已提交县委编办"))
    return redirect("duties:adjustment", adj.pk)


@login_required
@require_GET
def adjustment_list_view(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    status = request.GET.get("status", "")
    if status not in AdjustmentStatus.values:
        status = ""
    try:
        qs = lists.adjustment_list(user=user, status=status)
    except PermissionDeniedError as e:
        raise PermissionDenied(e.message) from e
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "duties/lists/adjustments.html",
        {"page": page, "status": status, "statuses": AdjustmentStatus.choices},
    )


def _adjustment_context(user: Any, adj: Any, error: str = "") -> dict[str, Any]:
    labels = dict(lists.ITEM_FIELDS)
    proposed = [
        (labels[f], "、".join(v) if isinstance(v, list) else (Category(v).label if f == "category" else v))
        for f, v in adj.proposed.items()
        if v and f in labels
    ]
    county = AdminUnit.objects.get(pk=adj.base_list.county_id)
    return {
        "adj": adj,
        "proposed": proposed,
        "can_decide": adj.status == AdjustmentStatus.PENDING and can_manage_lists(user, county),
        "today": timezone.localdate().isoformat(),
        "error": error,
    }


@login_required
@require_GET
def adjustment_detail_view(request: HttpRequest, adj_id: int) -> HttpResponse:
    user = authenticated_user(request)
    try:
        adj = lists.adjustment_get(user=user, pk=adj_id)
    except (NotFoundError, PermissionDeniedError) as e:
        raise Http404 from e  # no existence leak to people outside the county
    return render(request, "duties/lists/adjustment.html", _adjustment_context(user, adj))


@login_required
@require_POST
def adjustment_decide_view(request: HttpRequest, adj_id: int) -> HttpResponse:
    user = authenticated_user(request)
    approve = request.POST.get("decision") == "approve"
    try:
        adj = lists.adjustment_decide(
            actor=user,
            adjustment_id=adj_id,
            approve=approve,
            note=request.POST.get("note", ""),
            effective_from=request.POST.get("effective_from") or None,
        )
    except NotFoundError as e:
        raise Http404 from e
    except PermissionDeniedError as e:
        raise PermissionDenied(e.message) from e
    except ServiceError as e:
        try:
            adj = lists.adjustment_get(user=user, pk=adj_id)
        except NotFoundError as nf:
            raise Http404 from nf
        return render(
            request, "duties/lists/adjustment.html", _adjustment_context(user, adj, e.message), status=400
        )
    messages.success(request, _("已批准，新版本清单已发布") if approve else _("已不予批准"))
    return redirect("duties:adjustment", adj.pk)


def _report(request: HttpRequest) -> Any:
    from . import reports

    user = authenticated_user(request)
    counties = reports.report_counties(user)
    if not counties:
        raise PermissionDenied
    chosen = next((c for c in counties if c.code == request.GET.get("county")), counties[0])
    try:
        return reports.build_report(user=user, county=chosen), counties
    except PermissionDeniedError as e:
        raise PermissionDenied(e.message) from e


@login_required
@require_GET
def report_view(request: HttpRequest) -> HttpResponse:
    from .reports import STATUS_COLUMNS

    report, counties = _report(request)
    return render(
        request,
        "duties/reports.html",
        {"report": report, "counties": counties, "columns": STATUS_COLUMNS},
    )


@login_required
@require_GET
def report_xlsx_view(request: HttpRequest) -> HttpResponse:
    from .reports import report_xlsx

    report, _ = _report(request)
    response = HttpResponse(
        report_xlsx(report), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = quote(f"{report.county.name}任务准入统计.xlsx")
    response["Content-Disposition"] = f"attachment; filename=\"duties-report.xlsx\"; filename*=UTF-8''{name}"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def derive_view(request: HttpRequest, template_id: int) -> HttpResponse:
    """The staffing office publishes the county template as the list of the townships it picks."""
    user = authenticated_user(request)
    template = _get_list(user, template_id)
    if not template.is_template or not can_manage_lists(user, template.owner):
        raise PermissionDenied
    townships = list(
        AdminUnit.objects.filter(level=Level.TOWNSHIP, code__startswith=template.owner.code[:6]).order_by(
            "code"
        )
    )
    with_list = set(
        DutyList.objects.filter(owner__in=townships, status=ListStatus.PUBLISHED).values_list(
            "owner_id", flat=True
        )
    )
    error = ""
    chosen: set[int] = {t.pk for t in townships if t.pk not in with_list}
    effective = timezone.localdate().isoformat()
    if request.method == "POST":
        chosen = {i for i in (int_or_none(v) for v in request.POST.getlist("townships")) if i is not None}
        effective = request.POST.get("effective_from", "") or effective
        try:
            made = lists.derive_from_template(
                actor=user, template_id=template.pk, township_ids=sorted(chosen), effective_from=effective
            )
        except PermissionDeniedError as e:
            raise PermissionDenied(e.message) from e
        except ServiceError as e:
            error = e.message
        else:
            messages.success(
                request, _("已为 %(n)s 个乡镇（街道）发布由县级模板生成的清单") % {"n": len(made)}
            )
            return redirect("duties:lists")
    return render(
        request,
        "duties/lists/derive.html",
        {
            "template": template,
            "townships": [(t, t.pk in with_list, t.pk in chosen) for t in townships],
            "effective": effective,
            "error": error,
        },
        status=400 if error else 200,
    )
