"""Home-page sections for joint visits (loaded by InspectionsConfig.ready): a township's visits of the next 30 days with their
codes (一事一码) together with the 一表通 data sets it owes, the visits a department leads that wait for findings, and
for the county office the approved on-site items not merged yet.

One hand-written query per role, with table names from model metadata and values bound as parameters: the home page is
the most requested page, and compiling the equivalent ORM queryset cost about 1.7 ms against 0.3 ms for the query
itself (as in duties/home.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.home import Item, Section, provider
from gongzhi.core.models import AdminUnit, Department, Role
from gongzhi.core.roles import Grant
from gongzhi.core.urlcache import reverse, reverse_ids

from . import datacatalog
from .models import (
    InspectionItem,
    InspectionPlan,
    ItemStatus,
    JointVisit,
    JointVisitItem,
    MergeRun,
    Mode,
    VisitStatus,
)

LIMIT = 5


@cache
def _t() -> dict[str, str]:
    models = (AdminUnit, Department, InspectionItem, InspectionPlan, JointVisit, JointVisitItem, MergeRun)
    return {m.__name__: connection.ops.quote_name(m._meta.db_table) for m in models}


def _rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def _day(v: Any) -> dt.date:
    # PostgreSQL returns dates, SQLite ISO strings (a raw cursor skips Django's converters).
    return dt.date.fromisoformat(v[:10]) if isinstance(v, str) else v  # type: ignore[no-any-return]


def _db_day(d: dt.date) -> Any:
    return connection.ops.adapt_datefield_value(d)


@cache
def _township_sql() -> str:
    """The township's two P2 lists in one round trip: joint visits ahead (kind 0) and 一表通 data sets due (kind 1).
    Each branch keeps its own ORDER BY and LIMIT inside a subquery (SQLite allows neither on a bare UNION member)."""
    t = _t()
    return f"""
SELECT * FROM (
  SELECT 0, v.id, v.day, d.name, i.code
    FROM {t["JointVisitItem"]} x
    JOIN {t["JointVisit"]} v ON v.id = x.visit_id
    JOIN {t["MergeRun"]} r ON r.id = v.run_id
    JOIN {t["Department"]} d ON d.id = v.lead_department_id
    JOIN {t["InspectionItem"]} i ON i.id = x.item_id
   WHERE v.township_id = %s AND r.active = %s AND v.day >= %s AND v.day < %s AND v.status <> %s
   ORDER BY v.day, v.id, i.code
   LIMIT 100) a
UNION ALL
SELECT * FROM (
  SELECT 1, e.id, CAST(NULL AS DATE), e.name, e.period {datacatalog.OWED_FROM_WHERE} LIMIT {LIMIT}) b"""  # noqa: S608


# The township's home lists the joint visits of the next 30 days (at most LIMIT): what it has to prepare for,
# whether or not the month turns in between; the calendar has the rest.
AHEAD_DAYS = 30


@provider(Role.TOWNSHIP_LEADER, Role.TOWNSHIP_STAFF)
def township_sections(user: Any, grant: Grant) -> list[Section]:
    today = timezone.localdate()
    end = today + dt.timedelta(days=AHEAD_DAYS + 1)
    township = grant.unit_id or 0
    rows = _rows(
        _township_sql(),
        [
            township,
            True,
            _db_day(today),
            _db_day(end),
            VisitStatus.CANCELLED.value,
            *datacatalog.owed_params(township, grant.unit_prefix, today),
        ],
    )
    visits: dict[int, tuple[dt.date, str, list[str]]] = {}
    owed: list[tuple[int, str, str]] = []
    for kind, pk, day, name, extra in rows:
        if kind == 0:
            visits.setdefault(pk, (_day(day), name, []))[2].append(extra or "—")
        else:
            owed.append((pk, name, extra))
    sections = [_catalog_due(owed, today)] if owed else []
    sections.append(_visits_ahead(visits))
    return sections


def _catalog_due(owed: list[tuple[int, str, str]], today: dt.date) -> Section:
    """一表通 data sets a department subscribes to whose due period this township has not given; left out when all
    is given, so the home page stays short."""
    items = []
    for pk, name, period in owed:
        due = datacatalog.due_period(period, today)
        items.append(
            Item(
                text=name,
                url=reverse_ids("catalog:detail", pk) + f"?period={due}",
                hint=_("应报 %(period)s 期数据：报送一次，各部门直接取用") % {"period": due},
            )
        )
    return Section(title=_("一表通：待报送数据"), items=items, links=[(_("一表通"), reverse("catalog:list"))])


def _visits_ahead(visits: dict[int, tuple[dt.date, str, list[str]]]) -> Section:
    items = [
        Item(
            text=_("%(day)s 联合督查（%(n)s 个事项）") % {"day": f"{day:%m-%d}", "n": len(codes)},
            url=reverse_ids("visits:detail", vid),
            hint=_("牵头：%(lead)s · 事项码 %(codes)s") % {"lead": lead, "codes": "、".join(codes)},
        )
        for vid, (day, lead, codes) in list(visits.items())[:LIMIT]
    ]
    return Section(
        title=_("近期联合督查"),
        items=items,
        empty=_("今后 30 天没有安排联合督查。没有事项码的检查，乡镇可以拒绝。"),
        links=[
            (_("联合督查日历"), reverse("visits:calendar")),
            (_("本乡镇负担账本"), reverse("burden:ledger")),
        ],
    )


@cache
def _department_sql() -> str:
    t = _t()
    return f"""
SELECT v.id, v.day, u.name
  FROM {t["JointVisit"]} v
  JOIN {t["MergeRun"]} r ON r.id = v.run_id
  JOIN {t["AdminUnit"]} u ON u.id = v.township_id
 WHERE v.lead_department_id = %s AND r.active = %s AND v.status = %s AND v.day <= %s
 ORDER BY v.day, v.id
 LIMIT {LIMIT}"""  # noqa: S608


@provider(Role.DEPARTMENT_STAFF)
def department_findings(user: Any, grant: Grant) -> Section:
    rows = _rows(
        _department_sql(),
        [grant.department_id or 0, True, VisitStatus.PLANNED.value, _db_day(timezone.localdate())],
    )
    return Section(
        title=_("本部门牵头的联合督查：待记录发现问题"),
        items=[
            Item(
                text=_("%(township)s %(day)s") % {"township": name, "day": f"{_day(day):%Y-%m-%d}"},
                url=reverse_ids("visits:findings", pk),
                hint=_("一次记录所有合并事项的发现问题"),
            )
            for pk, day, name in rows
        ],
        empty=_("没有待记录发现问题的联合督查。"),
        links=[(_("本部门牵头的督查"), reverse("visits:calendar") + "?led=1")],
    )


@cache
def _pending_sql() -> str:
    t = _t()
    return f"""
SELECT COUNT(*)
  FROM {t["InspectionItem"]} i
  JOIN {t["InspectionPlan"]} p ON p.id = i.plan_id
 WHERE p.county_id = %s AND p.year = %s AND i.status = %s AND i.mode = %s AND i.code_revoked_at IS NULL
   AND NOT EXISTS (
       SELECT 1 FROM {t["MergeRun"]} s
        WHERE s.county_id = %s AND s.year = %s AND s.active = %s AND s.created_at >= i.decided_at)
   AND i.id NOT IN (
       SELECT x.item_id FROM {t["MergeRun"]} r
         JOIN {t["JointVisit"]} v ON v.run_id = r.id
         JOIN {t["JointVisitItem"]} x ON x.visit_id = v.id
        WHERE r.county_id = %s AND r.year = %s AND r.active = %s)"""  # noqa: S608


@provider(Role.COUNTY_OFFICE)
def county_merge(user: Any, grant: Grant) -> Section:
    year = timezone.localdate().year
    county = grant.unit_id or 0
    n = _rows(
        _pending_sql(),
        [
            county,
            year,
            ItemStatus.APPROVED.value,
            Mode.ONSITE.value,
            county,  # as visits.pending_count: an item the active run saw (window passed) waits for no merge
            year,
            True,
            county,
            year,
            True,
        ],
    )[0][0]
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
