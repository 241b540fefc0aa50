"""Burden ledger pages (/burden/): the headline cut against the 50% goal, per township and per department, three
stages and year over year, the counting rules, and the .xlsx export. Mounted in gongzhi/urls.py with this module's
``urlpatterns``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from gongzhi.core.errors import PermissionDeniedError, ServiceError, authenticated_user

from . import ledger as lg

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _ledger(request: HttpRequest) -> tuple[lg.Ledger, list[Any]]:
    user = authenticated_user(request)
    counties = lg.ledger_counties(user)
    if not counties:
        raise PermissionDenied
    county = next((c for c in counties if c.code == request.GET.get("county")), counties[0])
    year = request.GET.get("year") or timezone.localdate().year
    try:
        return lg.build_ledger(user=user, county=county, year=year), counties
    except PermissionDeniedError as e:
        raise PermissionDenied(e.message) from e
    except ServiceError:
        return lg.build_ledger(user=user, county=county, year=timezone.localdate().year), counties


@login_required
@require_GET
def ledger_view(request: HttpRequest) -> HttpResponse:
    ledger, counties = _ledger(request)
    head = ledger.headline()
    return render(
        request,
        "inspections/ledger/ledger.html",
        {
            "ledger": ledger,
            "head": head,
            "counties": counties,
            # Translated here: {% translate var %} would look a "50%" rule up as "50%%" and miss it.
            "rules": [gettext(r) for r in lg.RULES],
            "stages": lg.STAGES,
            "goal_pct": round(lg.GOAL * 100),
            "cut_pct": head["visits_cut"] * 100 if head["visits_cut"] is not None else None,
            "hours_cut_pct": head["hours_cut"] * 100 if head["hours_cut"] is not None else None,
            "years": range(ledger.year - 2, ledger.year + 2),
        },
    )


@login_required
@require_GET
def ledger_xlsx_view(request: HttpRequest) -> HttpResponse:
    ledger, _counties = _ledger(request)
    response = HttpResponse(lg.ledger_xlsx(ledger), content_type=XLSX)
    name = quote(f"{ledger.county.name}{ledger.year}年基层负担账本.xlsx")
    response["Content-Disposition"] = f"attachment; filename=\"burden-ledger.xlsx\"; filename*=UTF-8''{name}"
    return response


app_name = "burden"
urlpatterns = [
    path("", ledger_view, name="ledger"),
    path("export.xlsx", ledger_xlsx_view, name="export"),
]
