"""Joint-visit pages: the calendar (month grid and list; a township sees its own, a department what it leads or
takes part in), a visit with its items (一事一码) and findings, the lead department's findings form, and the county
office's merge page (before/after per township, the gap to the CP-SAT optimum, every visit and why). Thin: services
and selectors in ``visits``."""

from __future__ import annotations

import calendar
import datetime as dt
from functools import reduce
from operator import or_
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError, authenticated_user
from gongzhi.core.models import AdminUnit, Level
from gongzhi.core.responses import int_or_none, see_other

from . import visits as svc
from .models import JointVisit, MergeRun, VisitStatus
from .permissions import can_manage_county
from .visits import explain

PAGE_SIZE = 50
WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")


def _month(value: str | None) -> dt.date:
    today = timezone.localdate()
    try:
        y, m = (int(x) for x in (value or "").split("-", 1))
        return dt.date(y, m, 1)
    except (TypeError, ValueError):
        return today.replace(day=1)


def _visit_rows(visits: Any) -> list[dict[str, Any]]:
    out = []
    for v in visits:
        items = list(v.items.all())
        names = {i.pk: i.topic for i in items}
        out.append({"v": v, "items": items, "reasons": [explain(r, names) for r in v.reasons or []]})
    return out


# ---- calendar ------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def calendar_view(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    month = _month(request.GET.get("month"))
    township_id = int_or_none(request.GET.get("township"))
    led = request.GET.get("led") == "1"
    try:
        qs = svc.visit_list(user=user, month=month, township_id=township_id, led=led)
    except PermissionDeniedError as e:
        raise PermissionDenied(e.message) from e
    counts = dict(qs.order_by().values_list("day").annotate(n=Count("id")).values_list("day", "n"))
    page = Paginator(svc.with_items(qs), PAGE_SIZE).get_page(request.GET.get("page"))
    weeks = []
    for week in calendar.Calendar().monthdatescalendar(month.year, month.month):
        weeks.append([(d, d.month == month.month, counts.get(d, 0)) for d in week])
    prev_m = (month - dt.timedelta(days=1)).replace(day=1)
    next_m = (month + dt.timedelta(days=32)).replace(day=1)
    upcoming = None
    if not counts:
        upcoming = (
            svc.visit_list(user=user, township_id=township_id, led=led, start=timezone.localdate())
            .values_list("day", flat=True)
            .first()
        )
    # Township filter only for those who see more than one township.
    from gongzhi.core.models import Role
    from gongzhi.core.roles import grants_for

    roles = {g.role for g in grants_for(user)}
    towns: list[AdminUnit] = []
    if roles & {
        Role.COUNTY_OFFICE,
        Role.ORG_DEPARTMENT,
        Role.DISCIPLINE,
        Role.STAFFING_OFFICE,
        Role.PLATFORM_ADMIN,
    }:
        counties = svc.merge_counties(user)
        if counties:
            cond = reduce(or_, (Q(code__startswith=c.code[:6]) for c in counties))
            towns = list(AdminUnit.objects.filter(cond, level=Level.TOWNSHIP).order_by("code")[:2000])
    return render(
        request,
        "inspections/visits/calendar.html",
        {
            "month": month,
            "prev_month": prev_m,
            "next_month": next_m,
            "weeks": weeks,
            "weekdays": [_(w) for w in WEEKDAYS],
            "page": page,
            "rows": _visit_rows(page.object_list),
            "total": sum(counts.values()),
            "township_id": township_id,
            "townships": towns,
            "led": led,
            "is_department": Role.DEPARTMENT_STAFF in roles,
            "upcoming": upcoming,
            "today": timezone.localdate(),
            "verify_base": reverse("verify:form"),
        },
    )


# ---- one visit -----------------------------------------------------------------------------------------------------


def _visit(request: HttpRequest, visit_id: int) -> JointVisit:
    try:
        return svc.visit_get(user=authenticated_user(request), pk=visit_id)
    except NotFoundError as e:
        raise Http404 from e


@login_required
@require_GET
def detail_view(request: HttpRequest, visit_id: int) -> HttpResponse:
    user = authenticated_user(request)
    v = _visit(request, visit_id)
    items = list(v.items.all())
    names = {i.pk: i.topic for i in items}
    findings = svc.visit_findings(user=user, visit=v)
    requests = svc.visit_requests(user=user, visit=v, items=items)
    by_item: dict[int, list[Any]] = {}
    mine = svc.department_ids_of(user)
    for f in findings:
        f.can_close = v.status == VisitStatus.DONE and (  # type: ignore[attr-defined]
            f.item.plan.department_id in mine or v.lead_department_id in mine or user.is_superuser
        )
        by_item.setdefault(f.item_id, []).append(f)
    return render(
        request,
        "inspections/visits/detail.html",
        {
            "v": v,
            "items": [(i, by_item.get(i.pk, []), requests[i.pk]) for i in items],
            "verify_base": reverse("verify:form"),
            "reasons": [explain(r, names) for r in v.reasons or []],
            "actions": svc.visit_actions(user, v),
            "all_findings": svc.sees_all_findings(user, v),
            "n_findings": len(findings),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def findings_view(request: HttpRequest, visit_id: int) -> HttpResponse:
    user = authenticated_user(request)
    v = _visit(request, visit_id)
    if not svc.can_record(user, v):
        raise PermissionDenied(_("发现问题由牵头部门统一记录"))
    items = list(v.items.all())
    error = ""
    if request.method == "POST":
        rows = [
            {
                "item_id": i.pk,
                "text": request.POST.get(f"text_{i.pk}", ""),
                "follow_up": request.POST.get(f"follow_{i.pk}", ""),
                "due": request.POST.get(f"due_{i.pk}", ""),
            }
            for i in items
        ]
        try:
            svc.findings_record(actor=user, visit_id=v.pk, rows=rows, done=request.POST.get("done") == "1")
        except PermissionDeniedError as e:
            raise PermissionDenied(e.message) from e
        except ServiceError as e:
            error = e.message
        else:
            done = request.POST.get("done") == "1"
            messages.success(request, _("已记录并标记为完成") if done else _("已保存发现问题"))
            return see_other(reverse("visits:detail", args=[v.pk]))
        values = {
            i.pk: (
                request.POST.get(f"text_{i.pk}", ""),
                request.POST.get(f"follow_{i.pk}", ""),
                request.POST.get(f"due_{i.pk}", ""),
            )
            for i in items
        }
    else:
        existing: dict[int, Any] = {}
        for f in svc.visit_findings(user=user, visit=v):
            existing.setdefault(f.item_id, f)
        values = {
            i.pk: (
                existing[i.pk].text if i.pk in existing else "",
                existing[i.pk].follow_up if i.pk in existing else "",
                existing[i.pk].due.isoformat() if i.pk in existing and existing[i.pk].due else "",
            )
            for i in items
        }
    closed = v.status != VisitStatus.PLANNED or not v.run.active
    return render(
        request,
        "inspections/visits/findings.html",
        {"v": v, "rows": [(i, *values[i.pk]) for i in items], "error": error, "closed": closed},
        status=400 if error else 200,
    )


@login_required
@require_POST
def finding_close_view(request: HttpRequest, finding_id: int) -> HttpResponse:
    user = authenticated_user(request)
    reopen = request.POST.get("reopen") == "1"
    try:
        f = svc.finding_close(actor=user, finding_id=finding_id, reopen=reopen)
    except PermissionDeniedError as e:
        raise PermissionDenied(e.message) from e
    except NotFoundError as e:
        raise Http404 from e
    except ServiceError as e:
        messages.error(request, e.message)
        from .models import Finding

        visit_id = Finding.objects.filter(pk=finding_id).values_list("visit_id", flat=True).first()
        return see_other(reverse("visits:detail", args=[visit_id]))
    messages.success(request, _("已重新打开") if reopen else _("已确认整改到位"))
    return see_other(reverse("visits:detail", args=[f.visit_id]))


# ---- merging -------------------------------------------------------------------------------------------------------


def _merge_target(request: HttpRequest, user: Any) -> tuple[AdminUnit, int, list[AdminUnit]]:
    counties = svc.merge_counties(user)
    if not counties:
        raise PermissionDenied
    data = request.POST if request.method == "POST" else request.GET
    county = next((c for c in counties if c.code == data.get("county")), counties[0])
    year = int_or_none(data.get("year")) or timezone.localdate().year
    return county, year, counties


@login_required
@require_http_methods(["GET", "POST"])
def merge_view(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    county, year, counties = _merge_target(request, user)
    error = ""
    if request.method == "POST":
        try:
            made = svc.merge_run(
                actor=user,
                county=county,
                year=year,
                method=request.POST.get("method", "heuristic"),
                exact_reference=request.POST.get("exact", "1") == "1",
            )
        except PermissionDeniedError as e:
            raise PermissionDenied(e.message) from e
        except NotFoundError as e:
            raise Http404 from e
        except ServiceError as e:
            error = e.message
        else:
            messages.success(
                request,
                _("已合并：实地督查由 %(before)s 次减为 %(after)s 次")
                % {"before": made.visits_before, "after": made.visits_after},
            )
            return see_other(reverse("visits:merge") + f"?county={county.code}&year={year}")
    runs = list(svc.runs_of(county, year)[:20])
    chosen = int_or_none(request.GET.get("run"))
    run: MergeRun | None = next((r for r in runs if r.pk == chosen), None) or next(
        (r for r in runs if r.active), None
    )
    ctx: dict[str, Any] = {
        "county": county,
        "year": year,
        "counties": counties,
        "runs": runs,
        "run": run,
        "error": error,
        "can_merge": can_manage_county(user, county),
        "pending": svc.pending_count(county.pk, year),
        "years": range(year - 2, year + 2),
        "verify_base": reverse("verify:form"),
    }
    if run is not None:
        alone = request.GET.get("alone") == "1"
        ctx["alone"] = alone
        per = run.stats.get("per_township", {})
        ctx["per_township"] = [
            {"code": code, **p, "cut": (p["before"] - p["after"]) if p["before"] else 0}
            for code, p in sorted(per.items())
        ]
        ctx["exact"] = run.stats.get("exact")
        ctx["gap_pct"] = run.gap * 100 if run.gap is not None else None
        ctx["cut"] = (
            100.0 * (run.visits_before - run.visits_after) / run.visits_before if run.visits_before else None
        )
        page = Paginator(svc.run_visits(run, alone=alone), PAGE_SIZE).get_page(request.GET.get("page"))
        ctx["page"] = page
        ctx["rows"] = _visit_rows(page.object_list)
    return render(request, "inspections/visits/merge.html", ctx, status=400 if error else 200)
