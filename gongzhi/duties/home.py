"""Home-page sections for P1 (tasks, 吹哨报到, 动态调整): what the gate, the summonses and the duty lists need from
each role.

The home page is the most requested page, so each role's P1 sections come from ONE hand-written query (the
branches joined by ``UNION ALL``): compiling the equivalent ORM querysets cost more CPU than everything else on
the page together (bench/http.py). Table names come from model metadata; values are bound parameters. Each
branch selects the same column types (typed NULLs, or an ignored column of the right type: PostgreSQL types a bare
NULL in a subquery as text).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from gongzhi.core.home import Item, Section, provider
from gongzhi.core.i18n import gettext as _  # memoized: these pages render on every request
from gongzhi.core.models import AdminUnit, Department, Role
from gongzhi.core.roles import Grant
from gongzhi.core.urlcache import reverse, reverse_ids

from .models import (
    IN_INBOX,
    AdjustmentAction,
    AdjustmentStatus,
    ContestStatus,
    DutyAdjustment,
    Summons,
    SummonsStatus,
    SummonsTarget,
    Task,
    TaskContest,
    TaskStatus,
)

LIMIT = 5  # tasks per list
SUMMONS_LIMIT = 20
OVERDUE_LIMIT = 50


@cache
def _t() -> dict[str, str]:
    models = (AdminUnit, Department, DutyAdjustment, Summons, SummonsTarget, Task, TaskContest)
    return {m.__name__: m._meta.db_table for m in models}


def _rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def _in(n: int) -> str:
    return ", ".join(["%s"] * n)


def _date(v: Any) -> date | None:
    # PostgreSQL returns dates, SQLite ISO strings (a raw cursor skips Django's converters).
    return date.fromisoformat(v[:10]) if isinstance(v, str) else v


def _datetime(v: Any) -> datetime | None:
    # SQLite gives naive UTC datetimes or text, depending on whether the column's declared type survives the query.
    parsed = parse_datetime(v) if isinstance(v, str) else v
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed  # type: ignore[no-any-return]


def _db_datetime(v: datetime) -> Any:
    # What the ORM would bind for a DateTimeField (naive UTC text on SQLite).
    return connection.ops.adapt_datetimefield_value(v)


def _task_item(pk: int, title: str, other: str, status: str, deadline: Any) -> Item:
    """The task, and in the hint the other party (the department for a township, the township for the rest)."""
    day = _date(deadline)
    return Item(
        text=title,
        url=reverse_ids("tasks:detail", pk),
        hint=f"{other} · {TaskStatus(status).label} · {day:%Y-%m-%d}",
    )


def _left_hint(due: datetime | None, now: datetime) -> str:
    if due is None:
        return ""
    m = math.ceil((due - now).total_seconds() / 60)
    if m >= 0:
        return _("剩余 %(m)s 分钟") % {"m": m}
    return _("已超时 %(m)s 分钟") % {"m": -m}


# ---- township leader and staff: admitted tasks + summonses to issue or in progress ------------------------------


@cache
def _township_sql() -> str:
    t = _t()
    return f"""
SELECT * FROM (
  SELECT 0 AS k, x.id, x.title, d.name AS other, x.status, x.deadline AS day, 0 AS n, 0 AS acked
    FROM {t["Task"]} x JOIN {t["Department"]} d ON d.id = x.department_id
   WHERE x.township_id = %s AND x.status IN ({_in(len(IN_INBOX))})
   ORDER BY x.deadline, x.id LIMIT {LIMIT}) a
UNION ALL
SELECT * FROM (
  SELECT 1, s.id, s.title, NULL, s.status, CAST(NULL AS DATE), COUNT(st.id), COUNT(st.acknowledged_at)
    FROM {t["Summons"]} s LEFT JOIN {t["SummonsTarget"]} st ON st.summons_id = s.id
   WHERE s.township_id = %s AND s.status IN (%s, %s)
   GROUP BY s.id, s.title, s.status
   ORDER BY s.status, s.id DESC LIMIT {SUMMONS_LIMIT}) b"""  # noqa: S608


@provider(Role.TOWNSHIP_LEADER, Role.TOWNSHIP_STAFF)
def township_sections(user: Any, grant: Grant) -> list[Section]:
    # A township grant covers exactly one township, and tasks and summonses name their township: match by id.
    rows = _rows(
        _township_sql(),
        [grant.unit_id or 0, *IN_INBOX, grant.unit_id or 0, SummonsStatus.DRAFT, SummonsStatus.OPEN],
    )
    tasks = sorted((r for r in rows if r[0] == 0), key=lambda r: (_date(r[5]), r[1]))
    summonses = sorted((r for r in rows if r[0] == 1), key=lambda r: (r[4], -r[1]))
    items: list[Item] = []
    for _k, pk, title, _o, status, _d, n, acked in summonses:
        url = reverse_ids("summons:detail", pk)
        if status == SummonsStatus.DRAFT:
            hint = _("待您签发") if grant.role == Role.TOWNSHIP_LEADER else _("待乡镇主要领导签发")
            items.append(Item(_("草稿：%(t)s") % {"t": title}, url, hint))
        else:
            hint = _("已报到 %(a)s / %(n)s 个部门") % {"a": acked, "n": n}
            items.append(Item(_("处置中：%(t)s") % {"t": title}, url, hint))
    return [
        Section(
            title=_("上级交办任务（已准入）"),
            items=[_task_item(r[1], r[2], r[3], r[4], r[5]) for r in tasks],
            empty=_("没有已准入的交办任务。"),
            links=[
                (_("全部任务"), reverse("tasks:list") + "?box=inbox"),
                # A redirect, so the home page spends no query on finding the version in force.
                (_("本乡镇履职清单"), reverse_ids("duties:township-current", grant.unit_id or 0)),
            ],
        ),
        Section(
            title=_("吹哨报到"),
            items=items,
            empty=_("没有待签发或处置中的吹哨。"),
            links=[(_("发起吹哨"), reverse("summons:new")), (_("全部吹哨"), reverse("summons:list"))],
        ),
    ]


# ---- department staff: tasks held or sent back + summonses waiting for this department's 报到 ------------------

_DEPT_TASK_STATUSES = (TaskStatus.HELD, TaskStatus.REFUSED, TaskStatus.DENIED)


@cache
def _department_sql() -> str:
    t = _t()
    return f"""
SELECT * FROM (
  SELECT 0 AS k, x.id, x.title, u.name AS other, x.status, x.deadline AS day, x.created_at AS due,
         0 AS summons_id
    FROM {t["Task"]} x JOIN {t["AdminUnit"]} u ON u.id = x.township_id
   WHERE x.department_id = %s AND x.status IN ({_in(len(_DEPT_TASK_STATUSES))})
   ORDER BY x.id DESC LIMIT {LIMIT}) a
UNION ALL
SELECT * FROM (
  SELECT 1, st.id, s.title, u.name, NULL, CAST(NULL AS DATE), st.ack_due, s.id
    FROM {t["SummonsTarget"]} st JOIN {t["Summons"]} s ON s.id = st.summons_id
    JOIN {t["AdminUnit"]} u ON u.id = s.township_id
   WHERE st.department_id = %s AND st.acknowledged_at IS NULL AND s.status = %s
   ORDER BY st.ack_due, st.id LIMIT {SUMMONS_LIMIT}) b"""  # noqa: S608


@provider(Role.DEPARTMENT_STAFF)
def department_sections(user: Any, grant: Grant) -> list[Section]:
    rows = _rows(
        _department_sql(),
        [grant.department_id or 0, *_DEPT_TASK_STATUSES, grant.department_id or 0, SummonsStatus.OPEN],
    )
    tasks = sorted((r for r in rows if r[0] == 0), key=lambda r: -r[1])
    # ack_due may be NULL: those sort last, as in PostgreSQL's ascending order.
    targets = sorted(
        ((r, _datetime(r[6])) for r in rows if r[0] == 1),
        key=lambda p: (p[1] is None, p[1] or datetime.min.replace(tzinfo=UTC), p[0][1]),
    )
    sections = [
        Section(
            title=_("本部门交办任务：待审核或被退回"),
            items=[_task_item(r[1], r[2], r[3], r[4], r[5]) for r in tasks],
            empty=_("没有待审核或被退回的任务。"),
            links=[
                (_("交办新任务"), reverse("tasks:send")),
                (_("本部门交办"), reverse("tasks:list") + "?box=sent"),
            ],
        )
    ]
    if grant.department_id is not None:
        now = timezone.now()
        sections.append(
            Section(
                title=_("待报到的吹哨"),
                items=[
                    Item(
                        _("%(town)s吹哨：%(t)s") % {"town": r[3], "t": r[2]},
                        reverse_ids("summons:detail", r[7]) + f"#target-{r[1]}",
                        _left_hint(due, now),
                        action=reverse_ids("summons:ack", r[7], r[1]),
                        action_label=_("报到"),
                    )
                    for r, due in targets
                ],
                empty=_("没有等待本部门报到的吹哨。"),
                links=[(_("本部门吹哨报到"), reverse("summons:list"))],
            )
        )
    return sections


# ---- county office: tasks held for the county + open objections + overdue summonses ----------------------------


@cache
def _county_sql() -> str:
    t = _t()
    return f"""
SELECT * FROM (
  SELECT 0 AS k, x.id, x.title, u.name AS town, x.status, x.deadline AS day, x.created_at AS due, '' AS dept,
         0 AS target_id
    FROM {t["Task"]} x JOIN {t["AdminUnit"]} u ON u.id = x.township_id
   WHERE u.code LIKE %s AND x.status = %s
   ORDER BY x.id LIMIT {LIMIT}) a
UNION ALL
SELECT * FROM (
  SELECT 1, x.id, x.title, NULL, NULL, CAST(NULL AS DATE), x.created_at, '', 0
    FROM {t["Task"]} x JOIN {t["AdminUnit"]} u ON u.id = x.township_id
    JOIN {t["TaskContest"]} c ON c.task_id = x.id
   WHERE u.code LIKE %s AND c.status = %s
   ORDER BY x.id LIMIT {LIMIT}) b
UNION ALL
SELECT * FROM (
  SELECT 2, s.id, s.title, u.name, NULL, CAST(NULL AS DATE), st.ack_due, d.name, st.id
    FROM {t["SummonsTarget"]} st JOIN {t["Summons"]} s ON s.id = st.summons_id
    JOIN {t["AdminUnit"]} u ON u.id = s.township_id
    JOIN {t["Department"]} d ON d.id = st.department_id
   WHERE u.code LIKE %s AND s.status = %s AND st.acknowledged_at IS NULL AND st.ack_due < %s
   ORDER BY st.ack_due, st.id LIMIT {OVERDUE_LIMIT}) c"""  # noqa: S608


def _like_prefix(prefix: str) -> str:
    # Division-code prefixes are digits only, so nothing needs escaping for LIKE.
    return prefix + "%"


@provider(Role.COUNTY_OFFICE)
def county_sections(user: Any, grant: Grant) -> list[Section]:
    like = _like_prefix(grant.unit_prefix)
    now = timezone.now()
    rows = _rows(
        _county_sql(),
        [like, TaskStatus.HELD, like, ContestStatus.OPEN, like, SummonsStatus.OPEN, _db_datetime(now)],
    )
    held = sorted((r for r in rows if r[0] == 0), key=lambda r: r[1])
    contested = sorted((r for r in rows if r[0] == 1), key=lambda r: r[1])
    overdue = sorted(((r, _datetime(r[6])) for r in rows if r[0] == 2), key=lambda p: (p[1], p[0][8]))
    grouped: dict[int, list[tuple[Any, ...]]] = {}
    for r, _due in overdue:
        grouped.setdefault(r[1], []).append(r)
    return [
        Section(
            title=_("任务准入：待审核与乡镇异议"),
            items=[_task_item(r[1], r[2], r[3], r[4], r[5]) for r in held]
            + [Item(text=r[2], url=reverse_ids("tasks:detail", r[1]), hint=_("乡镇异议")) for r in contested],
            empty=_("没有待审核的清单外任务或乡镇异议。"),
            links=[
                (_("待准入审核"), reverse("tasks:list") + "?box=held"),
                (_("乡镇异议"), reverse("tasks:list") + "?box=contested"),
            ],
        ),
        Section(
            title=_("吹哨超时未响应"),
            items=[
                Item(
                    _("%(town)s：%(t)s") % {"town": rs[0][3], "t": rs[0][2]},
                    reverse_ids("summons:detail", sid),
                    _("超时未响应：%(depts)s") % {"depts": "、".join(r[7] for r in rs)},
                )
                for sid, rs in grouped.items()
            ],
            empty=_("没有超时未响应的吹哨。"),
            links=[
                (_("超时吹哨"), reverse("summons:list") + "?overdue=1"),
                (_("吹哨规则设置"), reverse("summons:settings")),
            ],
        ),
    ]


# ---- county staffing office: 动态调整 applications to decide ----------------------------------------------------


@cache
def _staffing_sql() -> str:
    t = _t()
    return f"""
SELECT a.id, u.name, a.action, a.item_label
  FROM {t["DutyAdjustment"]} a JOIN {t["AdminUnit"]} u ON u.id = a.township_id
 WHERE u.code LIKE %s AND a.status = %s
 ORDER BY a.id DESC LIMIT {LIMIT}"""  # noqa: S608


@provider(Role.STAFFING_OFFICE)
def staffing_adjustments(user: Any, grant: Grant) -> Section:
    rows = _rows(_staffing_sql(), [_like_prefix(grant.unit_prefix), AdjustmentStatus.PENDING])
    return Section(
        title=_("待审批的动态调整申请"),
        items=[
            Item(
                text=f"{town}：{AdjustmentAction(action).label} {label}",
                url=reverse_ids("duties:adjustment", pk),
            )
            for pk, town, action, label in rows
        ],
        empty=_("没有待审批的调整申请。"),
        links=[(_("履职事项清单"), reverse("duties:lists")), (_("导入清单"), reverse("duties_io:import"))],
    )
