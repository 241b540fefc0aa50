"""Home-page sections for joint visits (loaded by InspectionsConfig.ready): a township's visits this month with their
codes (一事一码), the visits a department leads that wait for findings, and for the county office the approved
on-site items not merged yet. One query each."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.home import Item, Section, provider
from gongzhi.core.models import Role
from gongzhi.core.roles import Grant
from gongzhi.core.sqlcache import Compiled
from gongzhi.core.urlcache import reverse, reverse_ids

from .models import JointVisit, JointVisitItem, VisitStatus
from .visits import pending_count

LIMIT = 5


# Compiled once per process (core/sqlcache.py): the ORM's compilation of this four-join query cost more CPU than the
# rest of the township home page (bench/http.py).
_TOWNSHIP_VISITS = Compiled(
    lambda p: (
        JointVisitItem.objects.filter(
            visit__township_id=p.int("township"),
            visit__run__active=True,
            visit__day__gte=p.date("start"),
            visit__day__lt=p.date("end"),
        )
        .exclude(visit__status=VisitStatus.CANCELLED)
        .order_by("visit__day", "visit_id", "item__code")
        .values_list("visit_id", "visit__day", "visit__lead_department__name", "item__code")[:100]
    )
)


@provider(Role.TOWNSHIP_LEADER, Role.TOWNSHIP_STAFF)
def township_visits(user: Any, grant: Grant) -> Section:
    today = timezone.localdate()
    end = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    rows = _TOWNSHIP_VISITS(township=grant.unit_id or 0, start=today, end=end)
    visits: dict[int, tuple[dt.date, str, list[str]]] = {}
    for vid, day, lead, code in rows:
        visits.setdefault(vid, (day, lead, []))[2].append(code or "—")
    items = [
        Item(
            text=_("%(day)s 联合督查（%(n)s 个事项）") % {"day": f"{day:%m-%d}", "n": len(codes)},
            url=reverse_ids("visits:detail", vid),
            hint=_("牵头：%(lead)s · 事项码 %(codes)s") % {"lead": lead, "codes": "、".join(codes)},
        )
        for vid, (day, lead, codes) in list(visits.items())[:LIMIT]
    ]
    return Section(
        title=_("本月联合督查"),
        items=items,
        empty=_("本月没有安排联合督查。没有事项码的检查，乡镇可以拒绝。"),
        links=[
            (_("联合督查日历"), reverse("visits:calendar")),
            (_("本乡镇负担账本"), reverse("burden:ledger")),
        ],
    )


@provider(Role.DEPARTMENT_STAFF)
def department_findings(user: Any, grant: Grant) -> Section:
    rows = list(
        JointVisit.objects.filter(
            lead_department_id=grant.department_id or 0,
            run__active=True,
            status=VisitStatus.PLANNED,
            day__lte=timezone.localdate(),
        )
        .order_by("day", "id")
        .values_list("pk", "day", "township__name")[:LIMIT]
    )
    return Section(
        title=_("本部门牵头的联合督查：待记录发现问题"),
        items=[
            Item(
                text=_("%(township)s %(day)s") % {"township": name, "day": f"{day:%Y-%m-%d}"},
                url=reverse_ids("visits:findings", pk),
                hint=_("一次记录所有合并事项的发现问题"),
            )
            for pk, day, name in rows
        ],
        empty=_("没有待记录发现问题的联合督查。"),
        links=[(_("本部门牵头的督查"), reverse("visits:calendar") + "?led=1")],
    )


@provider(Role.COUNTY_OFFICE)
def county_merge(user: Any, grant: Grant) -> Section:
    year = timezone.localdate().year
    n = pending_count(grant.unit_prefix[:6], year)
    items = []
    if n:
        items.append(
            Item(
                text=_("%(n)s 个已批准的实地事项尚未合并安排") % {"n": n},
                url=reverse("visits:merge") + f"?year={year}",
                hint=_("合并后再下达，乡镇接待次数最少"),
            )
        )
    return Section(
        title=_("联合督查合并"),
        items=items,
        empty=_("已批准的实地事项都已合并安排。"),
        links=[(_("合并与安排"), reverse("visits:merge")), (_("基层负担账本"), reverse("burden:ledger"))],
    )
