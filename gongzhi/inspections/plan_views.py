"""Pages for annual plans, items, the review, decisions and the public code check (一事一码). Thin: parse the
request, call plans.py / planio.py / review.py, render."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError, authenticated_user
from gongzhi.core.imports import ImportFailed
from gongzhi.core.models import AdminUnit, Department
from gongzhi.core.responses import int_or_none, see_other

from . import codes, planio, plans, review
from .models import InspectionItem, InspectionPlan, ItemStatus, Kind, Mode, PlanStatus, ReviewFlag, ReviewRun
from .permissions import can_manage_county, can_read_county, is_admin

PAGE_SIZE = 50
ITEM_PAGE_SIZE = 100
STATUS_CLASS = {
    ItemStatus.PENDING: "held",
    ItemStatus.APPROVED: "approved",
    ItemStatus.RETURNED: "refused",
    ItemStatus.REFUSED: "refused",
    ItemStatus.WITHDRAWN: "withdrawn",
}


def _year(request: HttpRequest) -> int:
    y = int_or_none(request.GET.get("year"))
    this = timezone.localdate().year
    return y if y is not None and 2000 <= y <= this + 1 else this


def _denied(e: PermissionDeniedError) -> PermissionDenied:
    return PermissionDenied(e.message)


# ---- flags as sentences -----------------------------------------------------------------------------------------


def flag_views(flags: Sequence[ReviewFlag], user: Any) -> list[dict[str, Any]]:
    """Flags ready for a template: the sentence, the other items (linked where the viewer may open them), the
    townships by name. Two queries for any number of flags."""
    other_ids = {o for f in flags for o in f.others}
    others: dict[int, InspectionItem] = {}
    visible: set[int] = set()
    if other_ids:
        others = {
            i.pk: i
            for i in InspectionItem.objects.filter(pk__in=other_ids).select_related(
                "plan", "plan__department"
            )
        }
        scope = plans.item_scope(user)
        if scope is not None:
            visible = set(InspectionItem.objects.filter(scope, pk__in=other_ids).values_list("pk", flat=True))
    town_codes = {t for f in flags for t in f.townships}
    names = (
        dict(AdminUnit.objects.filter(code__in=town_codes).values_list("code", "name")) if town_codes else {}
    )
    sentences = review.describe_many(flags)
    out = []
    for f in flags:
        out.append(
            {
                "flag": f,
                "rule_label": review.rule_label(f.rule),
                "sentence": sentences[f.pk],
                "others": [
                    {
                        "id": o,
                        "topic": others[o].topic if o in others else "",
                        "department": others[o].plan.department.name if o in others else "",
                        "visible": o in visible,
                    }
                    for o in f.others
                ],
                "townships": [names.get(t, t) for t in f.townships],
                "more_townships": max(0, f.township_count - len(f.townships)),
            }
        )
    return out


# ---- plans -------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def plan_list_view(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    year = _year(request)
    department_id = int_or_none(request.GET.get("department"))
    status = request.GET.get("status", "")
    if status not in plans.PLAN_STATUS_FILTERS:
        status = ""
    flagged = request.GET.get("flagged") == "1"
    try:
        qs = plans.plan_list(
            user=user, year=year, department_id=department_id, status=status, flagged=flagged
        )
    except PermissionDeniedError as e:
        raise _denied(e) from e
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    counts = plans.flag_counts(rows)
    for p in rows:
        p.n_flagged = counts.get(p.pk, 0)  # type: ignore[attr-defined]
    counties = plans.readable_counties(user)
    filing = plans.filing_departments(user)
    departments: list[Department] = []
    if counties:
        departments = list(
            Department.objects.filter(county__in=counties, kind="functional", active=True).order_by(
                "county_id", "id"
            )
        )
    return render(
        request,
        "inspections/plans/list.html",
        {
            "page": page,
            "rows": rows,
            "year": year,
            "years": plans.years_for(user),
            "department_id": department_id,
            "departments": departments,
            "status": status,
            "flagged": flagged,
            "can_file": bool(filing),
            "county_reader": bool(counties),
            "county_manager": bool(plans.managed_counties(user)),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_create_view(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    departments = plans.filing_departments(user)
    if not departments:
        raise PermissionDenied(_("只有县直部门可以编制督查检查考核计划"))
    this = timezone.localdate().year
    ctx: dict[str, Any] = {"departments": departments, "years": [this + 1, this], "values": {"year": this}}
    if request.method == "GET":
        return render(request, "inspections/plans/create.html", ctx)
    values = {
        "year": int_or_none(request.POST.get("year")),
        "department": int_or_none(request.POST.get("department")),
    }
    try:
        plan = plans.plan_create(
            actor=user,
            year=request.POST.get("year"),
            department_id=values["department"] or (departments[0].pk if len(departments) == 1 else None),
            note=request.POST.get("note", ""),
        )
    except PermissionDeniedError as e:
        raise _denied(e) from e
    except ServiceError as e:
        existing = (e.detail or {}).get("plan") if isinstance(e.detail, dict) else None
        ctx.update({"values": values, "error": e.message, "existing": existing})
        return render(request, "inspections/plans/create.html", ctx, status=400)
    messages.success(request, _("已创建 %(year)s 年度计划草稿，请逐项添加事项后报送") % {"year": plan.year})
    return see_other("plans:detail", plan.pk)


def _plan_or_404(user: Any, pk: int) -> InspectionPlan:
    try:
        return plans.plan_get(user=user, pk=pk)
    except NotFoundError as e:
        raise Http404 from e


def _item_rows(items: Sequence[InspectionItem], user: Any) -> list[dict[str, Any]]:
    names = plans.target_names(items)
    runs = {(i.plan.county_id, i.plan.year) for i in items}
    run_ids = {k: plans.latest_run_id(*k) for k in runs}
    flags = plans.flags_by_item(items, run_ids, user=user)
    return [
        {
            "item": i,
            "targets": names[i.pk],
            "flags": flags[i.pk],
            "rules": sorted({review.rule_label(f.rule) for f in flags[i.pk]}),
            "status_class": STATUS_CLASS.get(ItemStatus(i.status), ""),
        }
        for i in items
    ]


@login_required
@require_GET
def plan_detail_view(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = authenticated_user(request)
    plan = _plan_or_404(user, plan_id)
    return render(request, "inspections/plans/detail.html", _plan_context(request, user, plan))


def _plan_context(request: HttpRequest, user: Any, plan: InspectionPlan, error: str = "") -> dict[str, Any]:
    qs = plans.plan_items(plan).select_related("plan", "plan__county", "plan__department")
    page = Paginator(qs, ITEM_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = _item_rows(list(page.object_list), user)
    filer = plans.can_file_for(user, plan.department)
    return {
        "plan": plan,
        "page": page,
        "rows": rows,
        "error": error,
        "can_edit": filer,
        "can_file": filer and plan.status == PlanStatus.DRAFT,
        "can_add": filer,
        "county_manager": can_manage_county(user, plan.county),
        "county_reader": can_read_county(user, plan.county),
        "draft": plan.status == PlanStatus.DRAFT,
    }


@login_required
@require_POST
def plan_file_view(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = authenticated_user(request)
    try:
        plan = plans.plan_file(actor=user, plan_id=plan_id)
    except NotFoundError as e:
        raise Http404 from e
    except PermissionDeniedError as e:
        raise _denied(e) from e
    except ServiceError as e:
        plan = _plan_or_404(user, plan_id)
        return render(
            request,
            "inspections/plans/detail.html",
            _plan_context(request, user, plan, e.message),
            status=400,
        )
    n = plan.items.count()
    messages.success(
        request, _("计划已报送（%(n)s 项），等待县减负办审核；报送后新增事项按计划外逐项报批") % {"n": n}
    )
    return see_other("plans:detail", plan.pk)


# ---- items -------------------------------------------------------------------------------------------------------


def _item_input(post: Any) -> plans.ItemInput:
    return plans.ItemInput(
        kind=post.get("kind", ""),
        topic=post.get("topic", ""),
        window_start=post.get("window_start", ""),
        window_end=post.get("window_end", ""),
        comprehensive=post.get("comprehensive") == "on",
        basis=post.get("basis", ""),
        all_townships=post.get("scope") == "all",
        township_ids=post.getlist("townships"),
        mode=post.get("mode", ""),
        township_hours=post.get("township_hours", "") or 0,
        materials=post.get("materials", ""),
        data_fields=post.get("data_fields", ""),
    )


def _form_values(item: InspectionItem | None, post: Any = None) -> dict[str, Any]:
    if post is not None:
        return {
            "kind": post.get("kind", ""),
            "topic": post.get("topic", ""),
            "window_start": post.get("window_start", ""),
            "window_end": post.get("window_end", ""),
            "comprehensive": post.get("comprehensive") == "on",
            "basis": post.get("basis", ""),
            "scope": post.get("scope", "all"),
            "townships": {i for i in (int_or_none(v) for v in post.getlist("townships")) if i is not None},
            "mode": post.get("mode", Mode.ONSITE),
            "township_hours": post.get("township_hours", ""),
            "materials": post.get("materials", ""),
            "data_fields": post.get("data_fields", ""),
        }
    if item is None:
        return {"kind": Kind.INSPECTION, "scope": "all", "townships": set(), "mode": Mode.ONSITE}
    from .models import InspectionTarget

    return {
        "kind": item.kind,
        "topic": item.topic,
        "window_start": item.window_start.isoformat(),
        "window_end": item.window_end.isoformat(),
        "comprehensive": item.comprehensive,
        "basis": item.basis,
        "scope": "all" if item.all_townships else "some",
        "townships": set(InspectionTarget.objects.filter(item=item).values_list("township_id", flat=True)),
        "mode": item.mode,
        "township_hours": item.township_hours.normalize() if item.township_hours else "",
        "materials": "\n".join(plans.format_materials([m]) for m in item.materials if not m.get("removed")),
        "data_fields": "、".join(str(d.get("label", "")) for d in item.data_fields),
    }


def _item_form(
    request: HttpRequest,
    plan: InspectionPlan,
    values: dict[str, Any],
    *,
    item: InspectionItem | None = None,
    error: str = "",
    error_field: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "inspections/plans/item_form.html",
        {
            "plan": plan,
            "item": item,
            "values": values,
            "error": error,
            "error_field": error_field,
            "townships": list(plans.county_townships(plan.county).values()),
            "kinds": Kind.choices,
            "modes": Mode.choices,
            "out_of_plan": item is None and plan.status == PlanStatus.FILED,
            "year": plan.year,
        },
        status=status,
    )


def _check_filer(user: Any, plan: InspectionPlan) -> None:
    if not plans.can_file_for(user, plan.department):
        raise PermissionDenied(_("只有本部门干部可以编制和报送本部门的计划"))


@login_required
@require_http_methods(["GET", "POST"])
def item_create_view(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = authenticated_user(request)
    plan = _plan_or_404(user, plan_id)
    _check_filer(user, plan)
    if request.method == "GET":
        return _item_form(request, plan, _form_values(None))
    try:
        item = plans.item_create(actor=user, plan_id=plan.pk, data=_item_input(request.POST))
    except NotFoundError as e:
        raise Http404 from e
    except PermissionDeniedError as e:
        raise _denied(e) from e
    except ServiceError as e:
        fld = e.detail.get("field", "") if isinstance(e.detail, dict) else ""
        return _item_form(
            request, plan, _form_values(None, request.POST), error=e.message, error_field=fld, status=400
        )
    if item.out_of_plan:
        messages.success(request, _("计划外事项已报送（一事一报），等待县减负办逐项审核"))
        return see_other("plans:item", item.pk)
    messages.success(request, _("已添加第 %(seq)s 项") % {"seq": item.seq})
    if request.POST.get("next") == "another":
        return see_other("plans:item-create", plan.pk)
    return see_other("plans:detail", plan.pk)


def _item_or_404(user: Any, pk: int) -> InspectionItem:
    try:
        return plans.item_get(user=user, pk=pk)
    except NotFoundError as e:
        raise Http404 from e


@login_required
@require_http_methods(["GET", "POST"])
def item_edit_view(request: HttpRequest, item_id: int) -> HttpResponse:
    user = authenticated_user(request)
    item = _item_or_404(user, item_id)
    _check_filer(user, item.plan)
    if not plans.editable(item):
        raise PermissionDenied(_("计划报送后只能修改被退回的事项"))
    if request.method == "GET":
        return _item_form(request, item.plan, _form_values(item), item=item)
    try:
        plans.item_update(actor=user, item_id=item.pk, data=_item_input(request.POST))
    except PermissionDeniedError as e:
        raise _denied(e) from e
    except ServiceError as e:
        fld = e.detail.get("field", "") if isinstance(e.detail, dict) else ""
        return _item_form(
            request,
            item.plan,
            _form_values(item, request.POST),
            item=item,
            error=e.message,
            error_field=fld,
            status=400,
        )
    if item.plan.status == PlanStatus.FILED:
        messages.success(request, _("已修改并重新报送，等待县减负办审核"))
        return see_other("plans:item", item.pk)
    messages.success(request, _("已保存"))
    return see_other("plans:detail", item.plan_id)


@login_required
@require_POST
def item_delete_view(request: HttpRequest, item_id: int) -> HttpResponse:
    user = authenticated_user(request)
    item = _item_or_404(user, item_id)
    try:
        out = plans.item_delete(actor=user, item_id=item.pk)
    except PermissionDeniedError as e:
        raise _denied(e) from e
    except ServiceError as e:
        return render(
            request, "inspections/plans/item.html", _item_context(request, user, item, e.message), status=400
        )
    messages.success(request, _("已删除") if out is None else _("已撤回该事项"))
    return see_other("plans:detail", item.plan_id)


def qr_svg(url: str, scale: int = 4) -> SafeString:
    import segno

    qr = segno.make(url, error="m")
    # segno writes only attributes (no inline style), so the strict CSP is kept.
    svg = qr.svg_inline(scale=scale, dark="#000", light="#fff", title=_("事项码二维码"))
    return mark_safe(svg)  # noqa: S308 - generated by segno from our own URL


def verify_url(request: HttpRequest, code: str) -> str:
    return request.build_absolute_uri(reverse("verify:code", args=[code]))


def _item_context(
    request: HttpRequest, user: Any, item: InspectionItem, error: str = "", form: str = ""
) -> dict[str, Any]:
    actions = plans.item_actions(user, item)
    rows = _item_rows([item], user)
    flags = rows[0]["flags"]
    run_id = plans.latest_run_id(item.plan.county_id, item.plan.year)
    run = ReviewRun.objects.filter(pk=run_id).first() if run_id else None
    notes = [n for n in (run.stats.get("notes", []) if run else []) if n.get("item") == item.pk]
    ctx: dict[str, Any] = {
        "item": item,
        "row": rows[0],
        "flags": flag_views(flags, user),
        "notes": [review.describe_note(n) for n in notes],
        "run": run,
        "actions": actions,
        "materials": [m for m in item.materials if not m.get("removed")],
        "removed": [m for m in item.materials if m.get("removed")],
        "error": error,
        "error_form": form,
        "office": plans.decider_office(item) if item.decided_by_id else "",
        "status_class": STATUS_CLASS.get(ItemStatus(item.status), ""),
    }
    if item.code and actions["see_code"]:
        url = verify_url(request, item.code)
        ctx.update({"qr": qr_svg(url), "verify_link": url})
    return ctx


@login_required
@require_GET
def item_detail_view(request: HttpRequest, item_id: int) -> HttpResponse:
    user = authenticated_user(request)
    item = _item_or_404(user, item_id)
    return render(request, "inspections/plans/item.html", _item_context(request, user, item))


def _item_post(
    request: HttpRequest, item_id: int, form: str, call: Callable[[Any], Any], ok: str
) -> HttpResponse:
    user = authenticated_user(request)
    try:
        call(user)
    except NotFoundError as e:
        raise Http404 from e
    except PermissionDeniedError as e:
        raise _denied(e) from e
    except ServiceError as e:
        item = _item_or_404(user, item_id)
        return render(
            request,
            "inspections/plans/item.html",
            _item_context(request, user, item, e.message, form),
            status=400,
        )
    messages.success(request, ok)
    nxt = request.POST.get("next", "")
    if nxt == "decisions":
        return see_other(reverse("plans:decisions") + f"?year={request.POST.get('year', '')}")
    return see_other("plans:item", item_id)


@login_required
@require_POST
def item_decide_view(request: HttpRequest, item_id: int) -> HttpResponse:
    action = request.POST.get("action", "")
    ok = {"approve": _("已批准，事项码已生成"), "return": _("已退回修改"), "refuse": _("已不予批准")}.get(
        action, _("已处理")
    )
    return _item_post(
        request,
        item_id,
        "decide",
        lambda user: plans.item_decide(
            actor=user, item_id=item_id, action=action, note=request.POST.get("note", "")
        ),
        ok,
    )


@login_required
@require_POST
def item_revoke_view(request: HttpRequest, item_id: int) -> HttpResponse:
    return _item_post(
        request,
        item_id,
        "revoke",
        lambda user: plans.code_revoke(actor=user, item_id=item_id, reason=request.POST.get("reason", "")),
        _("事项码已撤销，乡镇核验时将显示撤销原因"),
    )


@login_required
@require_GET
def item_slip_view(request: HttpRequest, item_id: int) -> HttpResponse:
    """A printable slip: the code, its QR and what the item may ask for; the inspectors carry it."""
    user = authenticated_user(request)
    item = _item_or_404(user, item_id)
    if not item.code or not plans.item_actions(user, item)["see_code"]:
        raise Http404
    url = verify_url(request, item.code)
    rows = _item_rows([item], user)
    return render(
        request,
        "inspections/plans/slip.html",
        {
            "item": item,
            "row": rows[0],
            "qr": qr_svg(url, scale=5),
            "verify_link": url,
            "materials": [m for m in item.materials if not m.get("removed")],
            "office": plans.decider_office(item),
        },
    )


# ---- import / export ------------------------------------------------------------------------------------------


def _xlsx(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=planio.XLSX_MIME)
    response["Content-Disposition"] = content_disposition_header(True, name) or "attachment"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def import_view(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    departments = plans.filing_departments(user)
    if not departments and not is_admin(user):
        raise PermissionDenied(_("只有县直部门可以导入督查检查考核计划"))
    this = timezone.localdate().year
    ctx: dict[str, Any] = {
        "departments": departments,
        "years": [this + 1, this],
        "selected": {"year": str(this)},
        "max_mb": planio.max_bytes() // (1024 * 1024),
    }
    if request.method == "GET":
        return render(request, "inspections/plans/import.html", ctx)
    upload = request.FILES.get("file")
    ctx["selected"] = {"year": request.POST.get("year", ""), "department": request.POST.get("department", "")}
    if upload is None:
        ctx["error"] = _("请选择要上传的文件")
        return render(request, "inspections/plans/import.html", ctx, status=400)
    if upload.size and upload.size > planio.max_bytes():
        ctx["error"] = _("文件超过 %(n)s MB") % {"n": ctx["max_mb"]}
        return render(request, "inspections/plans/import.html", ctx, status=400)
    try:
        result = planio.import_plans(
            actor=user,
            file_name=upload.name or "plan.xlsx",
            data=upload.read(),
            year=request.POST.get("year") or None,
            department_id=int_or_none(request.POST.get("department")),
        )
    except PermissionDeniedError as e:
        raise _denied(e) from e
    except ImportFailed as e:
        ctx.update({"errors": e.errors, "truncated": e.truncated})
        return render(request, "inspections/plans/import.html", ctx, status=400)
    except ServiceError as e:
        ctx["error"] = e.message
        return render(request, "inspections/plans/import.html", ctx, status=400)
    messages.success(request, _("导入成功：%(summary)s。请核对后报送") % {"summary": result.summary()})
    if len(result.plans) == 1:
        return see_other("plans:detail", result.plans[0].plan_id)
    return see_other("plans:list")


@login_required
@require_GET
def export_view(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    year = _year(request)
    plan_id = int_or_none(request.GET.get("plan"))
    try:
        qs = plans.plan_list(
            user=user,
            year=None if plan_id else year,
            department_id=int_or_none(request.GET.get("department")),
        )
    except PermissionDeniedError as e:
        raise _denied(e) from e
    if plan_id:
        qs = qs.filter(pk=plan_id)
    chosen = list(qs[:500])
    if plan_id and not chosen:
        raise Http404

    def with_codes(plan: InspectionPlan) -> bool:
        return plans.can_file_for(user, plan.department) or can_read_county(user, plan.county)

    data = planio.export_plans(chosen, with_codes=with_codes)
    name = (
        f"{chosen[0].department.name}{chosen[0].year}年度督查检查考核计划.xlsx"
        if len(chosen) == 1
        else f"{year}年度督查检查考核计划.xlsx"
    )
    return _xlsx(data, name)


@login_required
@require_GET
def template_view(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    if not plans.can_use_plans(user):
        raise PermissionDenied
    return _xlsx(planio.template_workbook(), "督查检查考核计划模板.xlsx")


# ---- review and decisions ----------------------------------------------------------------------------------------


def _county(request: HttpRequest, counties: list[AdminUnit]) -> AdminUnit:
    if not counties:
        raise PermissionDenied(_("审查结果由县减负办和县级机关查看"))
    wanted = int_or_none(request.GET.get("county") or request.POST.get("county"))
    return next((c for c in counties if c.pk == wanted), counties[0])


@login_required
@require_GET
def review_view(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    counties = plans.readable_counties(user)
    county = _county(request, counties)
    year = _year(request)
    rule = request.GET.get("rule", "")
    run_id = plans.latest_run_id(county.pk, year)
    run = ReviewRun.objects.filter(pk=run_id).select_related("created_by").first() if run_id else None
    rows: list[dict[str, Any]] = []
    page = None
    if run is not None:
        qs = ReviewFlag.objects.filter(run=run).select_related("item", "item__plan", "item__plan__department")
        if rule:
            qs = qs.filter(rule=rule)
        page = Paginator(qs.order_by("rule", "item_id", "id"), ITEM_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        flags = list(page.object_list)
        views = flag_views(flags, user)
        for v in views:
            f = v["flag"]
            v["item"] = f.item
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for v in views:
            groups[v["flag"].rule].append(v)
    by_rule = (run.stats.get("by_rule", {}) if run else {}) or {}
    if run is not None:
        # A group's count is the rule's total in the run, as in the summary, not the flags on this page.
        rows = [
            {"rule": r, "label": review.rule_label(r), "flags": g, "total": by_rule.get(r, len(g))}
            for r, g in groups.items()
        ]
    return render(
        request,
        "inspections/plans/review.html",
        {
            "county": county,
            "counties": counties,
            "year": year,
            "years": plans.years_for(user),
            "run": run,
            "page": page,
            "groups": rows,
            "rule": rule,
            "rule_counts": [(r, review.rule_label(r), by_rule.get(r, 0)) for r in review.RULES],
            "can_run": can_manage_county(user, county),
        },
    )


@login_required
@require_POST
def review_run_view(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    county = _county(request, plans.readable_counties(user))
    if not can_manage_county(user, county):
        raise PermissionDenied(_("审查由县委县政府办（减负办）发起"))
    try:
        year = plans.check_year(request.POST.get("year"))
    except ServiceError as e:
        return render(request, "inspections/plans/error.html", {"error": e.message}, status=400)
    try:
        run = review.review_run(actor=user, county=county, year=year)
    except NotFoundError as e:
        raise Http404 from e
    except PermissionDeniedError as e:
        raise _denied(e) from e
    if run is None:
        messages.error(request, _("审查引擎暂不可用，请稍后再试"))
    else:
        messages.success(
            request,
            _("审查完成：%(items)s 个事项，%(flagged)s 个有提示")
            % {"items": run.stats.get("items", 0), "flagged": run.stats.get("flagged_items", 0)},
        )
    return see_other(reverse("plans:review") + f"?county={county.pk}&year={year}")


@login_required
@require_GET
def decisions_view(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    counties = plans.managed_counties(user)
    if not counties:
        raise PermissionDenied(_("事项审核由县委县政府办（减负办）负责"))
    county = _county(request, counties)
    year = _year(request)
    show = request.GET.get("show", "flagged")
    if show not in ("flagged", "clean", "all"):
        show = "flagged"
    flagged = {"flagged": True, "clean": False, "all": None}[show]
    qs = plans.item_list(
        user=user, county=county, year=year, status=ItemStatus.PENDING, flagged=flagged
    ).filter(plan__status=PlanStatus.FILED)
    page = Paginator(qs.order_by("out_of_plan", "plan__department_id", "seq"), ITEM_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = _item_rows(list(page.object_list), user)
    base = plans.item_list(user=user, county=county, year=year, status=ItemStatus.PENDING).filter(
        plan__status=PlanStatus.FILED
    )
    n_pending = base.count()
    n_out_of_plan = base.filter(out_of_plan=True).count()
    # Clean planned items are the ones the one-click approval takes; out-of-plan items go one by one.
    n_clean = (
        plans.item_list(user=user, county=county, year=year, status=ItemStatus.PENDING, flagged=False)
        .filter(plan__status=PlanStatus.FILED, out_of_plan=False)
        .count()
    )
    run_id = plans.latest_run_id(county.pk, year)
    return render(
        request,
        "inspections/plans/decisions.html",
        {
            "county": county,
            "counties": counties,
            "year": year,
            "years": plans.years_for(user),
            "show": show,
            "page": page,
            "rows": rows,
            "n_pending": n_pending,
            "n_out_of_plan": n_out_of_plan,
            "n_clean": n_clean,
            "n_one_by_one": n_pending - n_clean,
            "has_run": run_id is not None,
        },
    )


@login_required
@require_POST
def approve_clean_view(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    counties = plans.managed_counties(user)
    if not counties:
        raise PermissionDenied(_("事项审核由县委县政府办（减负办）负责"))
    county = _county(request, counties)
    try:
        year = plans.check_year(request.POST.get("year"))
    except ServiceError as e:
        return render(request, "inspections/plans/error.html", {"error": e.message}, status=400)
    try:
        result = plans.items_approve_clean(actor=user, county=county, year=year)
    except PermissionDeniedError as e:
        raise _denied(e) from e
    except NotFoundError as e:
        raise Http404 from e
    if result.run_id is None:
        messages.error(request, _("审查引擎暂不可用，未批准任何事项"))
    else:
        messages.success(
            request,
            _("已批准 %(n)s 个无审查提示的事项并生成事项码；有提示的事项请逐项审核") % {"n": result.approved},
        )
    return see_other(reverse("plans:decisions") + f"?county={county.pk}&year={year}")


# ---- the public code check (一事一码) -------------------------------------------------------------------------------

VERIFY_WINDOW = 600  # seconds
VERIFY_MAX_MISSES = 20  # unknown or mistyped codes per client and window
VERIFY_MAX_LOOKUPS = 300  # all lookups per client and window


def client_ip(request: HttpRequest) -> str:
    """The client address. Behind a reverse proxy set ``VERIFY_TRUST_FORWARDED`` so the proxy's X-Forwarded-For
    (its last entry, the one the proxy itself appended) is used; otherwise every client would share one counter."""
    if getattr(settings, "VERIFY_TRUST_FORWARDED", False):
        fwd = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if fwd:
            return fwd.split(",")[-1].strip()
    return str(request.META.get("REMOTE_ADDR", ""))


def _counter(kind: str, ip: str) -> str:
    return "verify:" + kind + ":" + hashlib.sha256(ip.encode()).hexdigest()[:24]


def _bump(key: str) -> int:
    if cache.add(key, 1, VERIFY_WINDOW):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, VERIFY_WINDOW)
        return 1


def throttled(request: HttpRequest) -> bool:
    ip = client_ip(request)
    misses = cache.get(_counter("miss", ip), 0)
    return bool(misses >= VERIFY_MAX_MISSES or _bump(_counter("all", ip)) > VERIFY_MAX_LOOKUPS)


def record_miss(request: HttpRequest) -> None:
    _bump(_counter("miss", client_ip(request)))


def verify_lookup(raw: str) -> dict[str, Any]:
    """What the verification page and the public API say about a typed code; nothing beyond what a township
    needs at the gate."""
    code = codes.normalize(raw)
    if code is None:
        return {
            "state": "malformed" if codes.looks_like_code(raw) or raw.strip() else "empty",
            "code": raw.strip()[:32],
        }
    item = (
        InspectionItem.objects.filter(code=code, status=ItemStatus.APPROVED)
        .select_related("plan", "plan__department", "plan__county")
        .first()
    )
    if item is None:
        return {"state": "unknown", "code": code}
    if item.code_revoked_at is not None:
        return {
            "state": "revoked",
            "code": code,
            "department": item.plan.department.name,
            "topic": item.topic,
            "revoked_at": item.code_revoked_at,
            "reason": item.code_revoked_reason,
        }
    names = plans.target_names([item])[item.pk]
    today = timezone.localdate()
    return {
        "state": "valid",
        "code": code,
        "department": item.plan.department.name,
        "kind": item.get_kind_display(),
        "kind_value": item.kind,
        "topic": item.topic,
        "window_start": item.window_start,
        "window_end": item.window_end,
        "in_window": item.window_start <= today <= item.window_end,
        "onsite": item.onsite,
        "mode": item.get_mode_display(),
        "all_townships": item.all_townships,
        "county": item.plan.county.name,
        "townships": [u.name for u in names],
        "approved_by": plans.decider_office(item),
        "approved_at": item.decided_at,
        "materials": [
            {"name": m.get("name", ""), "basis": m.get("basis", "")}
            for m in item.materials
            if not m.get("removed")
        ],
        "not_allowed": [str(m.get("name", "")) for m in item.materials if m.get("removed")],
        "catalog_fields": [str(d.get("label", "")) for d in item.data_fields if d.get("ref")],
        "data_fields": [str(d.get("label", "")) for d in item.data_fields if not d.get("ref")],
        "out_of_plan": item.out_of_plan,
    }


@never_cache
@require_GET
def verify_view(request: HttpRequest, item_code: str = "") -> HttpResponse:
    raw = item_code or request.GET.get("code", "")
    ctx: dict[str, Any] = {"typed": raw[:64]}
    status = 200
    if raw.strip():
        if throttled(request):
            ctx["throttled"] = True
            return render(request, "inspections/verify.html", ctx, status=429)
        result = verify_lookup(raw)
        if result["state"] in ("unknown", "malformed"):
            record_miss(request)
        ctx["result"] = result
    return render(request, "inspections/verify.html", ctx, status=status)
