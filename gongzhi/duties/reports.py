"""P1 reports: per township and per department, what the gate decided, who pushed reclaimed items back down, how
departments answered summonses, and which basic items need a power only a department holds (权责不对等).

Aggregates are a handful of GROUP BY queries, whatever the county's size. Scoped like everything else: county organs
see their county, a township its own row, a department its own row.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_noop

from gongzhi.core.errors import PermissionDeniedError
from gongzhi.core.models import AdminUnit, Department, DepartmentKind, Level, Role
from gongzhi.core.roles import grants_for

from .models import Category, DutyItem, ListStatus, ResourceGrant, Task, TaskStatus
from .permissions import COUNTY_READERS, TOWNSHIP_ROLES

# Gate rules that mean a department tried to push a reclaimed duty down (alone, or bundled with other work).
RECLAIMED_RULES = ("reclaimed_item", "reclaimed_part")

# Labels marked for the catalog (pages translate them); the Excel export keeps the official Chinese.
STATUS_COLUMNS: tuple[tuple[str, str], ...] = (
    (TaskStatus.ADMITTED, gettext_noop("准入")),
    (TaskStatus.ASSISTANCE, gettext_noop("准入（配合）")),
    (TaskStatus.REFUSED, gettext_noop("退回")),
    (TaskStatus.HELD, gettext_noop("待审核")),
    (TaskStatus.APPROVED, gettext_noop("批准（随附资源）")),
    (TaskStatus.DENIED, gettext_noop("不予准入")),
    (TaskStatus.WITHDRAWN, gettext_noop("异议撤回")),
)


@dataclass
class Row:
    id: int
    name: str
    counts: dict[str, int] = field(default_factory=dict)
    total: int = 0
    reclaimed_pushes: int = 0
    funds: Decimal = Decimal(0)
    staff: int = 0
    summons: dict[str, Any] = field(default_factory=dict)

    def bars(self) -> list[tuple[str, str, float, int]]:
        """(status, label, percent, width class 5..100 in steps of 5) for the stacked bar on the page; widths are
        classes because the content security policy forbids inline styles."""
        if not self.total:
            return []
        out = []
        for k, label in STATUS_COLUMNS:
            n = self.counts.get(k, 0)
            if n:
                pct = 100.0 * n / self.total
                out.append((k, label, pct, max(5, round(pct / 5) * 5)))
        return out


@dataclass
class Report:
    county: AdminUnit
    townships: list[Row]
    departments: list[Row]
    mismatches: list[dict[str, Any]]
    totals: Row


def _scope(user: Any, county: AdminUnit) -> tuple[set[int] | None, set[int] | None]:
    """(township ids, department ids) the user may see in this county; None = all of them."""
    township_prefixes: set[str] = set()
    departments: set[int] = set()
    for g in grants_for(user):
        if g.role == Role.PLATFORM_ADMIN or (
            g.role in COUNTY_READERS and county.code.startswith(g.unit_prefix)
        ):
            return None, None
        if g.role in TOWNSHIP_ROLES and g.unit_prefix.startswith(county.code[:6]):
            township_prefixes.add(g.unit_prefix)
        if g.role == Role.DEPARTMENT_STAFF and g.department_id and county.code.startswith(g.unit_prefix):
            departments.add(g.department_id)
    if not township_prefixes and not departments:
        raise PermissionDeniedError("您没有查看本县任务准入报表的权限")
    towns = {
        u.pk
        for u in AdminUnit.objects.filter(level=Level.TOWNSHIP, code__startswith=county.code[:6])
        if any(u.code.startswith(p) for p in township_prefixes)
    }
    return towns, departments


def report_counties(user: Any) -> list[AdminUnit]:
    """Counties the user may report on (first one is the default)."""
    prefixes = {
        g.unit_prefix[:6] for g in grants_for(user) if g.role != Role.RESIDENT and g.role != Role.ORG_REP
    }
    if not prefixes:
        return []
    qs = AdminUnit.objects.filter(level=Level.COUNTY).order_by("code")
    if "" in prefixes:
        return list(qs)
    return [c for c in qs if c.code[:6] in prefixes]


def build_report(*, user: Any, county: AdminUnit) -> Report:
    towns_allowed, depts_allowed = _scope(user, county)
    base = Task.objects.filter(township__code__startswith=county.code[:6])
    townships = {
        u.pk: Row(u.pk, u.name)
        for u in AdminUnit.objects.filter(level=Level.TOWNSHIP, code__startswith=county.code[:6]).order_by(
            "code"
        )
        if towns_allowed is None or u.pk in towns_allowed
    }
    departments = {
        d.pk: Row(d.pk, d.name)
        for d in Department.objects.filter(county=county, kind=DepartmentKind.FUNCTIONAL).order_by("id")
        if depts_allowed is None or d.pk in depts_allowed
    }
    if towns_allowed is not None or depts_allowed is not None:
        base = base.filter(
            Q(township_id__in=towns_allowed or set()) | Q(department_id__in=depts_allowed or set())
        )
    totals = Row(0, "合计")

    for key, rows in (("township_id", townships), ("department_id", departments)):
        for rid, status, n in (
            base.values_list(key, "status").annotate(n=Count("id")).values_list(key, "status", "n")
        ):
            if rid in rows:
                rows[rid].counts[status] = rows[rid].counts.get(status, 0) + n
                rows[rid].total += n
        for rid, n in (
            base.filter(rule__in=RECLAIMED_RULES)
            .values_list(key)
            .annotate(n=Count("id"))
            .values_list(key, "n")
        ):
            if rid in rows:
                rows[rid].reclaimed_pushes = n
        grants = (
            # Only grants of tasks still approved: a task withdrawn after an objection hands nothing over.
            ResourceGrant.objects.filter(task__in=base.filter(status=TaskStatus.APPROVED))
            .values_list(f"task__{key}")
            .annotate(f=Sum("funds"), s=Sum("staff"))
            .values_list(f"task__{key}", "f", "s")
        )
        for rid, funds, staff in grants:
            if rid in rows:
                rows[rid].funds = funds or Decimal(0)
                rows[rid].staff = staff or 0
    for status, n in base.values_list("status").annotate(n=Count("id")).values_list("status", "n"):
        totals.counts[status] = n
        totals.total += n
    totals.reclaimed_pushes = base.filter(rule__in=RECLAIMED_RULES).count()

    stats = _summons_stats(county, townships, departments)
    for rid, s in stats.get("townships", {}).items():
        if rid in townships:
            townships[rid].summons = s
    for rid, s in stats.get("departments", {}).items():
        if rid in departments:
            departments[rid].summons = s

    mismatch_qs = DutyItem.objects.filter(
        duty_list__status=ListStatus.PUBLISHED,
        duty_list__owner__code__startswith=county.code[:6],
        duty_list__owner__level=Level.TOWNSHIP,
        category=Category.BASIC,
        power_department__isnull=False,
    )
    if towns_allowed is not None:
        mismatch_qs = mismatch_qs.filter(
            Q(duty_list__owner_id__in=towns_allowed) | Q(power_department_id__in=depts_allowed or set())
        )
    # Grouped by item and department: the same template item usually recurs in every township's list, and one row
    # per township would bury the point (and make a phone page metres long).
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for t, name, d in mismatch_qs.order_by("name", "duty_list__owner__code").values_list(
        "duty_list__owner__name", "name", "power_department__name"
    ):
        row = grouped.setdefault((name, d), {"name": name, "department": d, "townships": []})
        row["townships"].append(t)
    mismatches = sorted(grouped.values(), key=lambda r: (-len(r["townships"]), r["name"]))
    return Report(county, list(townships.values()), list(departments.values()), mismatches, totals)


def _summons_stats(
    county: AdminUnit, townships: dict[int, Row], departments: dict[int, Row]
) -> dict[str, Any]:
    """Summons response figures keyed by township id and department id (see summons.summons_stats)."""
    from .summons import summons_stats

    stats = summons_stats(county=county)

    def shape(s: dict[str, Any]) -> dict[str, Any]:
        return {
            "count": s.get("count", 0),
            "median_minutes": s.get("median_ack_minutes"),
            "p90_minutes": s.get("p90_ack_minutes"),
            "overdue": s.get("overdue", 0),
            "avg_score": s.get("avg_score"),
        }

    return {
        "townships": {s["township_id"]: shape(s) for s in stats.get("townships", [])},
        "departments": {s["department_id"]: shape(s) for s in stats.get("departments", [])},
    }


def report_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from gongzhi.core.exports import text_cells

    wb = Workbook()
    bold = Font(bold=True)
    header = [
        "名称",
        *[label for _, label in STATUS_COLUMNS],
        "合计",
        "推回收回事项",
        "随附经费（万元）",
        "随附人员",
    ]
    summons_header = ["吹哨次数", "响应中位数（分钟）", "超时", "平均评分"]
    for title, rows in (("乡镇", report.townships), ("部门", report.departments)):
        ws = wb.active if title == "乡镇" else wb.create_sheet()
        ws.title = f"按{title}"
        ws.append(text_cells(ws, [f"{report.county.name} 任务准入与吹哨报到统计（按{title}）"]))
        ws["A1"].font = bold
        ws.append(header + summons_header)
        for c in ws[2]:
            c.font = bold
        for r in rows:
            s = r.summons or {}
            ws.append(
                text_cells(
                    ws,
                    [
                        r.name,
                        *[r.counts.get(k, 0) for k, _ in STATUS_COLUMNS],
                        r.total,
                        r.reclaimed_pushes,
                        float(r.funds),
                        r.staff,
                        s.get("count", 0),
                        s.get("median_minutes"),
                        s.get("overdue", 0),
                        s.get("avg_score"),
                    ],
                )
            )
        ws.column_dimensions["A"].width = 24
    ws = wb.create_sheet("权责不对等事项")
    ws.append(["事项名称", "所需权力所在部门", "乡镇数", "乡镇"])
    for c in ws[1]:
        c.font = bold
    for m in report.mismatches:
        ws.append(
            text_cells(ws, [m["name"], m["department"], len(m["townships"]), "、".join(m["townships"])])
        )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
