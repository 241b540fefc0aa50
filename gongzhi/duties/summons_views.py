"""吹哨报到 pages. Thin: parse the form, call ``summons`` services/selectors, POST-redirect-GET; a ServiceError is shown
inline (status 400) next to the form that caused it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError
from gongzhi.core.models import AdminUnit, Level
from gongzhi.core.responses import see_other

from . import permissions as perms
from . import summons as svc
from .models import Ground, ReportKind, SummonsStatus

PAGE_SIZE = 50


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _detail(
    request: HttpRequest, summons_id: int, *, error: str = "", form: str = "", status: int = 200
) -> HttpResponse:
    try:
        s = svc.summons_get(request.user, summons_id)
    except NotFoundError as e:
        raise Http404 from e
    view = svc.summons_view(request.user, s)
    ctx = {
        "v": view,
        "s": s,
        "error": error,
        "error_form": form,
        "error_target": int(form.removeprefix("target-")) if form.startswith("target-") else None,
        "post": request.POST if error else {},
        "report_kinds": ReportKind.choices,
        "scores": range(svc.SCORE_MIN, svc.SCORE_MAX + 1),
    }
    return render(request, "duties/summons/detail.html", ctx, status=status)


def _act(
    request: HttpRequest,
    summons_id: int,
    form: str,
    call: Callable[[], Any],
    done: str,
    *,
    to_list: bool = False,
) -> HttpResponse:
    """Run one service call for a detail-page form: success redirects back (PRG), a refusal shows inline."""
    try:
        call()
    except PermissionDeniedError as e:
        raise PermissionDenied(e.message) from e
    except NotFoundError as e:
        raise Http404 from e
    except ServiceError as e:
        return _detail(request, summons_id, error=e.message, form=form, status=400)
    messages.success(request, done)
    if to_list:
        return see_other("summons:list")
    return see_other("summons:detail", summons_id=summons_id)


# --- list ---------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def list_view(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in SummonsStatus.values:
        status = ""
    overdue = request.GET.get("overdue") == "1"
    try:
        qs = svc.summons_list(request.user, status=status or None, overdue=True if overdue else None)
    except PermissionDeniedError as e:
        raise PermissionDenied(e.message) from e
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    mine = perms.member_departments(request.user)
    rows = []
    for s in page.object_list:
        targets = list(s.targets.all())
        rows.append(
            {
                "s": s,
                "targets": [(t, svc.target_overdue(t, s, now)) for t in targets],
                "acked": sum(1 for t in targets if t.acknowledged_at is not None),
                "overdue": any(svc.target_overdue(t, s, now) for t in targets),
                # 报到 straight from the list: one click for a department with the summons waiting on it.
                "ackable": [
                    t
                    for t in targets
                    if s.status == SummonsStatus.OPEN
                    and t.department_id in mine
                    and t.acknowledged_at is None
                ],
            }
        )
    query = urlencode({k: v for k, v in (("status", status), ("overdue", "1" if overdue else "")) if v})
    ctx = {
        "page": page,
        "rows": rows,
        "status": status,
        "overdue": overdue,
        "statuses": SummonsStatus.choices,
        "query": query,
        "can_raise": svc.can_raise_summons(request.user),
        "can_configure": bool(svc.configurable_counties(request.user))
        if perms.can_use_summons(request.user)
        else False,
    }
    template = "duties/summons/_rows.html" if _htmx(request) else "duties/summons/list.html"
    return render(request, template, ctx)


# --- new ------------------------------------------------------------------------------------------------------------


def _township(request: HttpRequest, raw: str | None, *, strict: bool = False) -> AdminUnit:
    """The township chosen on the form, among those the user works in (the first one by default). A submitted
    form naming a township the user does not work in is refused rather than redirected to another township."""
    choices = svc.township_choices(request.user)
    if not choices:
        raise PermissionDenied(_("只有乡镇（街道）干部可以发起吹哨"))
    ids = [i for i, _n in choices]
    try:
        wanted = int(raw or ids[0])
    except ValueError:
        wanted = -1
    if wanted not in ids:
        if strict:
            raise PermissionDenied(_("只能以本乡镇（街道）的名义吹哨"))
        wanted = ids[0]
    return AdminUnit.objects.get(pk=wanted, level=Level.TOWNSHIP)


def _choices_ctx(township: AdminUnit, item_raw: str | None, selected: list[str] | None) -> dict[str, Any]:
    items = svc.duty_items_for(township)
    item = None
    if item_raw:
        item = next((i for i in items if str(i.pk) == item_raw), None)
    departments = list(svc.summonable_departments(svc.county_of(township)))
    holders: list[int] = svc.item_department_ids(item) if item is not None else []
    if selected is None:
        chosen = {i for i in holders if any(d.pk == i for d in departments)}
    else:
        chosen = {int(x) for x in selected if x.isdigit()}
    return {
        "items": items,
        "item": item,
        "departments": departments,
        "chosen": chosen,
        "holders": set(holders),
    }


@login_required
@require_http_methods(["GET", "POST"])
def new_view(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    township = _township(request, data.get("township"), strict=request.method == "POST")
    error = ""
    if request.method == "POST":
        try:
            s = svc.summons_create(
                actor=request.user,
                township=township,
                ground=request.POST.get("ground", ""),
                title=request.POST.get("title", ""),
                description=request.POST.get("description", ""),
                location=request.POST.get("location", ""),
                duty_item_id=request.POST.get("duty_item") or None,
                department_ids=request.POST.getlist("departments"),
            )
        except PermissionDeniedError as e:
            raise PermissionDenied(e.message) from e
        except ServiceError as e:
            error = e.message
        else:
            if s.status == SummonsStatus.OPEN:
                messages.success(request, _("已吹哨，被吹哨部门须在 %(m)s 分钟内报到") % {"m": s.ack_minutes})
            else:
                messages.success(request, _("已提交，待乡镇主要领导签发"))
            return see_other("summons:detail", summons_id=s.pk)
    selected = request.POST.getlist("departments") if request.method == "POST" else None
    ctx = {
        "townships": svc.township_choices(request.user),
        "township": township,
        "grounds": Ground.choices,
        "leader": perms.is_township_member(request.user, township, leader=True),
        "error": error,
        "post": request.POST,
        **_choices_ctx(township, data.get("duty_item"), selected),
    }
    return render(request, "duties/summons/new.html", ctx, status=400 if error else 200)


@login_required
@require_GET
def new_departments_view(request: HttpRequest) -> HttpResponse:
    """The duty item → departments partial: the departments the list shows holding the power, pre-selected."""
    township = _township(request, request.GET.get("township"))
    ctx = {"township": township, **_choices_ctx(township, request.GET.get("duty_item"), None)}
    return render(request, "duties/summons/_choices.html", ctx)


# --- detail and actions ---------------------------------------------------------------------------------------------


@login_required
@require_GET
def detail_view(request: HttpRequest, summons_id: int) -> HttpResponse:
    return _detail(request, summons_id)


@login_required
@require_POST
def issue_view(request: HttpRequest, summons_id: int) -> HttpResponse:
    return _act(
        request,
        summons_id,
        "issue",
        lambda: svc.summons_issue(actor=request.user, summons_id=summons_id),
        _("已签发，报到计时开始"),
    )


@login_required
@require_POST
def discard_view(request: HttpRequest, summons_id: int) -> HttpResponse:
    return _act(
        request,
        summons_id,
        "issue",
        lambda: svc.summons_discard(actor=request.user, summons_id=summons_id),
        _("吹哨草稿已撤销"),
        to_list=True,
    )


@login_required
@require_POST
def ack_view(request: HttpRequest, summons_id: int, target_id: int) -> HttpResponse:
    return _act(
        request,
        summons_id,
        f"target-{target_id}",
        lambda: svc.summons_acknowledge(actor=request.user, summons_id=summons_id, target_id=target_id),
        _("已报到"),
    )


@login_required
@require_POST
def report_view(request: HttpRequest, summons_id: int, target_id: int) -> HttpResponse:
    return _act(
        request,
        summons_id,
        f"target-{target_id}",
        lambda: svc.summons_report(
            actor=request.user,
            summons_id=summons_id,
            target_id=target_id,
            kind=request.POST.get("kind", ""),
            text=request.POST.get("text", ""),
        ),
        _("进展已报送"),
    )


@login_required
@require_POST
def close_view(request: HttpRequest, summons_id: int) -> HttpResponse:
    return _act(
        request,
        summons_id,
        "close",
        lambda: svc.summons_close(
            actor=request.user, summons_id=summons_id, closing_note=request.POST.get("closing_note", "")
        ),
        _("已办结，请评价各部门的响应"),
    )


# One-click overall ratings and the score they give every indicator.
OVERALL = {"satisfied": 5, "fair": 3, "unsatisfied": 1}


@login_required
@require_POST
def rate_view(request: HttpRequest, summons_id: int, target_id: int) -> HttpResponse:
    scores: dict[str, Any] = {
        k.removeprefix("score_"): v for k, v in request.POST.items() if k.startswith("score_")
    }
    overall = request.POST.get("overall", "")

    def rate() -> Any:
        if not scores and overall in OVERALL:
            # 满意 / 基本满意 / 不满意 in one click: the same score on every indicator (the detailed form remains).
            township = svc.summons_get(request.user, summons_id).township
            scores.update({i.key: OVERALL[overall] for i in svc.indicators_for(svc.county_of(township))})
        return svc.summons_rate(
            actor=request.user,
            summons_id=summons_id,
            target_id=target_id,
            scores=scores,
            comment=request.POST.get("comment", ""),
        )

    return _act(
        request,
        summons_id,
        f"target-{target_id}",
        rate,
        _("评价已保存"),
    )


# --- settings -------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def settings_view(request: HttpRequest) -> HttpResponse:
    counties = svc.configurable_counties(request.user)
    if not counties:
        raise PermissionDenied(_("只有县减负办可以设置吹哨报到规则"))
    wanted = (request.POST if request.method == "POST" else request.GET).get("county", "")
    county = next((c for c in counties if c.code == wanted), counties[0])
    error = ""
    rows: list[dict[str, str]] = []
    if request.method == "POST":
        keys, names, weights = (request.POST.getlist(f) for f in ("ind_key", "ind_name", "ind_weight"))
        for key, name, weight in zip(keys, names, weights, strict=False):
            if name.strip() or weight.strip():
                rows.append({"key": key, "name": name, "weight": weight})
        minutes = {g: request.POST.get(f"ack_{g}", "") for g in Ground.values}
        try:
            svc.summons_settings_update(
                actor=request.user, county=county, ack_minutes=minutes, indicators=rows
            )
        except PermissionDeniedError as e:
            raise PermissionDenied(e.message) from e
        except ServiceError as e:
            error = e.message
        else:
            messages.success(request, _("吹哨报到规则已保存"))
            return see_other("summons:settings", query=urlencode({"county": county.code}))
    current = svc.summons_settings(request.user, county=county)
    if error:
        for g in current["ack_minutes"]:
            g["minutes"] = request.POST.get(f"ack_{g['ground']}", g["minutes"])
        indicators = rows
    else:
        indicators = [{"key": i.key, "name": i.name, "weight": str(i.weight)} for i in current["indicators"]]
    blank = [{"key": "", "name": "", "weight": ""}] * 2
    ctx = {
        "counties": counties,
        "county": county,
        "grounds": current["ack_minutes"],
        "indicators": indicators + blank,
        "error": error,
    }
    return render(request, "duties/summons/settings.html", ctx, status=400 if error else 200)
