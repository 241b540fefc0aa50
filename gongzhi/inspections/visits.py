"""Joint visits (联合督查 / 多检合一): merging a county's approved on-site items, and executing the visits.

``merge_run`` feeds the pure engine ``gongzhi.engines.visit_merge`` and stores what it decided (the visits, their
lead departments and days, and why each item was or was not merged). ``findings_record`` lets the lead department
record the findings of every merged item at once. Selectors scope visits by the admin tree: a township sees its own,
a department the visits it leads or takes part in, the county office and organs the county.

Re-merging
----------
A county may merge again after items were approved or withdrawn. The previous active run of that county-year
becomes inactive in the same transaction, but nothing is deleted: its visits stay attached to it as history. Visits
that already happened — marked done, or with findings recorded — are *kept*: they move to the new run unchanged (with
their findings), and the (item, township) pairs they cover are left out of the new merge, so a re-merge never
re-plans a visit a township already received and never loses a finding. Only pairs not yet in a kept visit are merged
again.

Never in the past
-----------------
A merge proposes days from today on (``today``, the local date unless given). Visits of the active run whose day is
before today are kept like done ones (they took place, or were due: their findings may still come), so a re-merge
leaves the past alone. Every other pair's window is clipped to start today; a pair whose window ended before today
is not scheduled (its township was not visited in time) and is counted in ``stats["window_passed"]`` with its items,
shown on the merge page as 窗口已过. The engines therefore only see windows with ``start <= end``. A past year has
nothing left to schedule; the demo builds its year as the office merged it on 1 January (``today=``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import fields as dc_fields
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from gongzhi.core.audit import audit_record
from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError
from gongzhi.core.models import AdminUnit, Department, Level, Role
from gongzhi.core.roles import grants_for
from gongzhi.engines import visit_merge as engine

from .models import (
    Finding,
    InspectionItem,
    InspectionSettings,
    InspectionTarget,
    ItemStatus,
    JointVisit,
    JointVisitItem,
    MergeRun,
    Mode,
    VisitStatus,
)
from .permissions import COUNTY_READERS, TOWNSHIP_ROLES, can_manage_county, can_read_county
from .plans import check_year, county_townships

# Exact reference (CP-SAT): townships up to this many demands, at most this long each, within this budget per run.
# The reference only needs the visits phase (the gap is in visits), which usually finishes in a fraction of the
# limit; method="exact" also gives the hours phase up to the same time per township.
EXACT_MAX_DEMANDS = 150
EXACT_TIME_S = 2.0
EXACT_BUDGET_S = 10.0
MAX_TEXT, MAX_FINDINGS = 2000, 200


# ---- rules and input -------------------------------------------------------------------------------------------


def merge_rules(county: AdminUnit) -> engine.MergeRules:
    """The engine defaults with the county's overrides (``InspectionSettings.rules``, flat or under ``"merge"``).
    Departments in rules may be given by name or id; the engine sees names. Invalid overrides are ignored."""
    row = InspectionSettings.objects.filter(county=county).values_list("rules", flat=True).first() or {}
    raw = dict(row.get("merge") or {}) if isinstance(row.get("merge"), Mapping) else {}
    known = {f.name for f in dc_fields(engine.MergeRules)}
    kw: dict[str, Any] = {k: v for k, v in {**row, **raw}.items() if k in known}
    names = dict(Department.objects.filter(county=county).values_list("pk", "name"))

    def dept(v: Any) -> str:
        return names.get(int(v), str(v)) if str(v).isdigit() else str(v)

    try:
        if "solo_departments" in kw:
            kw["solo_departments"] = frozenset(dept(v) for v in kw["solo_departments"])
        for key, conv in (("incompatible_departments", dept), ("incompatible_kinds", str)):
            if key in kw:
                kw[key] = frozenset(frozenset(conv(x) for x in pair) for pair in kw[key])
        rules = engine.MergeRules(**kw)
        rules.check()
    except (TypeError, ValueError):
        return engine.MergeRules()
    return rules


def approved_onsite(county: AdminUnit, year: int) -> QuerySet[InspectionItem]:
    """Approved on-site items of the county's plans for the year whose code is not revoked."""
    return approved_onsite_q(county.pk, year)


def item_targets(
    items: Iterable[tuple[int, bool]], townships: Mapping[int, AdminUnit]
) -> dict[int, list[int]]:
    """item id -> township ids: ``all_townships`` expands to the county's townships, else the target rows (those
    outside the county are ignored)."""
    items = list(items)
    out: dict[int, list[int]] = {pk: (list(townships) if every else []) for pk, every in items}
    named = [pk for pk, every in items if not every]
    for chunk in range(0, len(named), 5000):
        for iid, tid in InspectionTarget.objects.filter(item_id__in=named[chunk : chunk + 5000]).values_list(
            "item_id", "township_id"
        ):
            if tid in townships:
                out[iid].append(tid)
    return out


def _kept_visits(county: AdminUnit, year: int) -> list[int]:
    """Visits of the active run that already happened: done, or with findings."""
    active = MergeRun.objects.filter(county=county, year=year, active=True)
    return list(
        JointVisit.objects.filter(run__in=active)
        .filter(Q(status=VisitStatus.DONE) | Exists(Finding.objects.filter(visit=OuterRef("pk"))))
        .values_list("pk", flat=True)
    )


def _past_visits(county: AdminUnit, year: int, today: dt.date) -> list[int]:
    """Visits of the active run planned before today (not cancelled): held or due, their findings may still come;
    a merge keeps them as they are."""
    active = MergeRun.objects.filter(county=county, year=year, active=True)
    return list(
        JointVisit.objects.filter(run__in=active, day__lt=today)
        .exclude(status=VisitStatus.CANCELLED)
        .values_list("pk", flat=True)
    )


# ---- merging -------------------------------------------------------------------------------------------------------


def _exact(
    demands: list[engine.Demand],
    rules: engine.MergeRules,
    *,
    budget_s: float,
    per_township_s: float,
    hours_phase: bool = False,
) -> tuple[dict[str, engine.MergeResult], int]:
    """CP-SAT per township, smallest first, while the budget lasts; returns {township: result} and how many
    eligible townships were skipped for lack of time."""
    by_t: dict[str, list[engine.Demand]] = defaultdict(list)
    for d in demands:
        by_t[d.township].append(d)
    eligible = sorted((len(ds), t) for t, ds in by_t.items() if len(ds) <= EXACT_MAX_DEMANDS)
    out: dict[str, engine.MergeResult] = {}
    deadline = time.perf_counter() + budget_s
    skipped = 0
    for _n, t in eligible:
        left = deadline - time.perf_counter()
        if left < 0.2:
            skipped += 1
            continue
        try:
            out[t] = engine.merge_exact(
                by_t[t],
                rules,
                time_limit_s=min(per_township_s * (2 if hours_phase else 1), left),
                hours_time_limit_s=per_township_s if hours_phase else 0.0,
                workers=2,
            )
        except (RuntimeError, ImportError):
            skipped += 1
    return out, skipped


def _reasons(v: engine.Visit, alone: Mapping[tuple[int, str], engine.Unmerged]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"code": v.code, "params": v.params}]
    if len(v.items) == 1 and (u := alone.get((v.items[0], v.township))) is not None:
        out.append({"code": u.code, "params": u.params, "item": u.item})
    return out


def _hours(value: float) -> Decimal:
    return Decimal(str(round(value, 1)))


def merge_run(
    *,
    actor: Any,
    county: AdminUnit,
    year: Any,
    method: str = "heuristic",
    exact_reference: bool = True,
    exact_budget_s: float | None = None,
    exact_time_s: float | None = None,
    today: dt.date | None = None,
) -> MergeRun:
    """Merge the county's approved on-site items of ``year`` into joint visits (the county office), on days from
    ``today`` (default: the local date) on.

    ``method="heuristic"`` stores the fast heuristic's visits; with ``exact_reference`` CP-SAT also solves the
    townships small enough to finish within the budget, and the run records the optimum there and the heuristic's
    gap. ``method="exact"`` stores CP-SAT's visits where it solved a township (the heuristic's elsewhere). See the
    module docstring for what a re-merge keeps."""
    if county is None or county.level != Level.COUNTY:
        raise ServiceError("invalid", "县（区）不存在", {"field": "county"})
    if not can_manage_county(actor, county):
        if can_read_county(actor, county):
            raise PermissionDeniedError("联合督查由县减负办统一合并安排")
        raise NotFoundError("县（区）不存在或无权查看")
    y = check_year(year)
    if method not in MergeRun.Method.values:
        raise ServiceError("invalid", "合并方法应为 heuristic 或 exact", {"field": "method"})
    budget = EXACT_BUDGET_S if exact_budget_s is None else exact_budget_s
    per_t = EXACT_TIME_S if exact_time_s is None else exact_time_s
    t0 = time.perf_counter()
    try:
        return _merge(
            actor=actor,
            county=county,
            year=y,
            method=method,
            exact_reference=exact_reference,
            budget=budget,
            per_t=per_t,
            t0=t0,
            today=today or timezone.localdate(),
        )
    except IntegrityError as e:
        # Two merges of the same county-year at once: the second finds the first's active run.
        raise ServiceError("conflict", "同一县、同一年度的另一次合并刚刚完成，请刷新后查看") from e


@transaction.atomic
def _merge(
    *,
    actor: Any,
    county: AdminUnit,
    year: int,
    method: str,
    exact_reference: bool,
    budget: float,
    per_t: float,
    t0: float,
    today: dt.date,
) -> MergeRun:
    """The merge itself, in one transaction: the previous active run is locked and deactivated, kept visits move
    to the new run, new visits are written in bulk, one audit event."""
    y = year
    previous = list(
        MergeRun.objects.select_for_update()
        .filter(county=county, year=y, active=True)
        .values_list("pk", flat=True)
    )
    townships = county_townships(county)
    by_code = {u.code: u for u in townships.values()}
    departments = {d.name: d for d in Department.objects.filter(county=county)}
    rows = list(
        approved_onsite(county, y).values_list(
            "pk",
            "all_townships",
            "plan__department__name",
            "kind",
            "comprehensive",
            "window_start",
            "window_end",
            "township_hours",
        )
    )
    targets = item_targets(((r[0], r[1]) for r in rows), townships)
    kept = sorted(set(_kept_visits(county, y)) | set(_past_visits(county, y, today)))
    covered = set(
        JointVisitItem.objects.filter(visit_id__in=kept).values_list("item_id", "visit__township_id")
    )
    kept_rows = list(JointVisit.objects.filter(pk__in=kept).values_list("pk", "township_id", "hours"))
    kept_demands = JointVisitItem.objects.filter(visit_id__in=kept).count()
    kept_item_hours = dict(
        InspectionItem.objects.filter(pk__in={i for i, _t in covered}).values_list("pk", "township_hours")
    )
    demands: list[engine.Demand] = []
    passed: list[tuple[int, int]] = []  # (item, township) whose whole window is before today: not scheduled
    for pk, _all, dept, kind, comp, start, end, hours in rows:
        for tid in targets[pk]:
            if (pk, tid) in covered:
                continue
            if end < today:
                passed.append((pk, tid))
                continue
            demands.append(
                engine.Demand(
                    item=pk,
                    township=townships[tid].code,
                    department=dept,
                    kind=kind,
                    start=max(start, today),  # never a day in the past
                    end=end,
                    hours=float(hours),
                    comprehensive=comp,
                )
            )
    rules = merge_rules(county)
    t_engine = time.perf_counter()
    load_ms = round((t_engine - t0) * 1000)
    try:
        result = engine.merge_heuristic(demands, rules)
    except ValueError as e:
        raise ServiceError("invalid", f"合并失败：{e}") from e
    exact_results: dict[str, engine.MergeResult] = {}
    skipped = 0
    t_exact = time.perf_counter()
    engine_ms = round((t_exact - t_engine) * 1000)
    if demands and (exact_reference or method == MergeRun.Method.EXACT):
        exact_results, skipped = _exact(
            demands,
            rules,
            budget_s=budget,
            per_township_s=per_t,
            hours_phase=method == MergeRun.Method.EXACT,
        )
    exact_ms = round((time.perf_counter() - t_exact) * 1000)
    heur_per = result.stats["per_township"]
    # The gap counts only townships where CP-SAT proved the number of visits optimal.
    proven = {
        t: r.exact[t] for t, r in exact_results.items() if r.exact and t in r.exact and r.exact[t].optimal
    }
    h_on_proven = sum(heur_per[t]["after"] for t in proven)
    e_on_proven = sum(info.visits for info in proven.values())
    visits: list[engine.Visit] = list(result.visits)
    unmerged = list(result.unmerged)
    if method == MergeRun.Method.EXACT and exact_results:
        solved = set(exact_results)
        visits = [v for v in visits if v.township not in solved]
        unmerged = [u for u in unmerged if u.township not in solved]
        for r in exact_results.values():
            visits += r.visits
            unmerged += r.unmerged
    alone = {(u.item, u.township): u for u in unmerged}

    per: dict[str, dict[str, Any]] = {}
    for u in townships.values():
        per[u.code] = {"name": u.name, "before": 0, "after": 0, "hours_before": 0.0, "hours_after": 0.0}
    for d in demands:
        p = per[d.township]
        p["before"] += 1
        p["hours_before"] += d.hours
    for v in visits:
        p = per[v.township]
        p["after"] += 1
        p["hours_after"] += v.hours
    for iid, tid in covered:
        p = per[townships[tid].code]
        p["before"] += 1
        p["hours_before"] += float(kept_item_hours.get(iid, 0))
    for _pk, tid, hours in kept_rows:
        p = per[townships[tid].code]
        p["after"] += 1
        p["hours_after"] += float(hours)
        p["kept"] = p.get("kept", 0) + 1
    for code, p in per.items():
        p["hours_before"] = round(p["hours_before"], 1)
        p["hours_after"] = round(p["hours_after"], 1)
        if code in exact_results:
            info = (exact_results[code].exact or {}).get(code)
            if info is not None:
                p["exact"] = {
                    "visits": info.visits,
                    # What the township row compares with: the optimum plus the visits kept as they were.
                    "with_kept": info.visits + p.get("kept", 0),
                    "optimal": info.optimal,
                    "bound": info.visits_bound,
                    "heuristic": heur_per.get(code, {}).get("after", 0),
                    "wall_s": info.wall_s,
                }
    per = {c: p for c, p in per.items() if p["before"] or p["after"]}
    n_before = len(demands) + kept_demands
    n_after = len(visits) + len(kept_rows)
    stats: dict[str, Any] = {
        "demands": len(demands),
        "items": len(rows),
        "townships": len(per),
        "joint_visits": sum(1 for v in visits if len(v.items) > 1),
        "unmerged": dict(result.stats.get("unmerged", {}))
        if method != MergeRun.Method.EXACT
        else _count(unmerged),
        "kept_visits": len(kept_rows),
        "kept_items": kept_demands,
        "as_of": today.isoformat(),
        "window_passed": {
            "pairs": len(passed),
            "n_items": len({i for i, _t in passed}),
            "items": sorted({i for i, _t in passed})[:50],
            "townships": len({t for _i, t in passed}),
        },
        "per_township": per,
        "rules": {
            "max_items_per_visit": rules.max_items_per_visit,
            "extra_item_share": rules.extra_item_share,
            "min_common_days": rules.min_common_days,
            "solo_departments": sorted(rules.solo_departments),
        },
        "superseded": previous,
    }
    if exact_results or skipped:
        stats["exact"] = {
            "townships": len(exact_results),
            "optimal": len(proven),
            "eligible": len(exact_results) + skipped,
            "skipped": skipped,
            "of": len({d.township for d in demands}),
            "heuristic_visits": h_on_proven,
            "exact_visits": e_on_proven,
            "time_ms": exact_ms,
        }
    gap = (h_on_proven - e_on_proven) / e_on_proven if e_on_proven else (0.0 if proven else None)
    if previous:
        MergeRun.objects.filter(pk__in=previous).update(active=False)
    run = MergeRun.objects.create(
        county=county,
        year=y,
        method=method,
        active=True,
        created_by=actor,
        visits_before=n_before,
        visits_after=n_after,
        hours_before=_hours(sum(p["hours_before"] for p in per.values())),
        hours_after=_hours(sum(p["hours_after"] for p in per.values())),
        exact_visits=e_on_proven if proven else None,
        gap=gap,
        stats=stats,
    )
    if kept:
        JointVisit.objects.filter(pk__in=kept).update(run=run)
    _store_visits(
        run,
        [
            (
                by_code[v.township].pk,
                departments[v.lead_department].pk,
                v.start,
                v.end,
                v.day,
                _hours(v.hours),
                _reasons(v, alone),
                v.items,
            )
            for v in visits
        ],
    )
    run.duration_ms = round((time.perf_counter() - t0) * 1000)
    run.stats["timing_ms"] = {
        "load": load_ms,
        "engine": engine_ms,
        "exact": exact_ms,
        "store": run.duration_ms - load_ms - engine_ms - exact_ms,
    }
    run.save(update_fields=["duration_ms", "stats"])
    audit_record(
        actor=actor,
        action="merge.run",
        object_type="merge_run",
        object_id=run.pk,
        data={
            "county": county.name,
            "year": y,
            "method": method,
            "visits_before": n_before,
            "visits_after": n_after,
            "hours_before": str(run.hours_before),
            "hours_after": str(run.hours_after),
            "exact_visits": run.exact_visits,
            "gap": gap,
            "kept_visits": len(kept_rows),
            "superseded": previous,
        },
    )
    return run


def _store_visits(run: MergeRun, rows: list[tuple[Any, ...]]) -> None:
    """Write a run's visits and their items: each row (township id, lead department id, window start, window end,
    day, hours, reasons, item ids). PostgreSQL: ids from the sequence up front, then COPY (Django's bulk insert
    spent most of its time adapting the reasons JSON into arrays: 8 s for 11,600 visits, COPY about 1 s);
    elsewhere bulk_create."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        import json

        q = connection.ops.quote_name
        vt, it = JointVisit._meta.db_table, JointVisitItem._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [vt, len(rows)],
            )
            ids = [r[0] for r in cursor.fetchall()]
            pg = cursor.cursor
            cols = "id, run_id, township_id, lead_department_id, window_start, window_end, day, hours, reasons, status"
            with pg.copy(f"COPY {q(vt)} ({cols}) FROM STDIN") as copy:  # type: ignore[union-attr]
                for pk, (tid, lead, start, end, day, hours, reasons, _items) in zip(ids, rows, strict=True):
                    copy.write_row(
                        (
                            pk,
                            run.pk,
                            tid,
                            lead,
                            start,
                            end,
                            day,
                            hours,
                            json.dumps(reasons, ensure_ascii=False),
                            VisitStatus.PLANNED,
                        )
                    )
            with pg.copy(f"COPY {q(it)} (visit_id, item_id) FROM STDIN") as copy:  # type: ignore[union-attr]
                for pk, row in zip(ids, rows, strict=True):
                    for item_id in row[7]:
                        copy.write_row((pk, item_id))
        return
    made = JointVisit.objects.bulk_create(
        [
            JointVisit(
                run=run,
                township_id=tid,
                lead_department_id=lead,
                window_start=start,
                window_end=end,
                day=day,
                hours=hours,
                reasons=reasons,
            )
            for tid, lead, start, end, day, hours, reasons, _items in rows
        ],
        batch_size=1000,
    )
    JointVisitItem.objects.bulk_create(
        [
            JointVisitItem(visit_id=jv.pk, item_id=i)
            for jv, row in zip(made, rows, strict=True)
            for i in row[7]
        ],
        batch_size=5000,
    )


def _count(unmerged: Iterable[engine.Unmerged]) -> dict[str, int]:
    out: dict[str, int] = {}
    for u in unmerged:
        out[u.code] = out.get(u.code, 0) + 1
    return out


# ---- scope and reads -----------------------------------------------------------------------------------------------


def _depts(user: Any) -> set[int]:
    return {g.department_id for g in grants_for(user) if g.role == Role.DEPARTMENT_STAFF and g.department_id}


department_ids_of = _depts


def visit_scope(user: Any) -> Q | None:
    """Visits a user may see: the county's (county office and organs), the township's own, and for a department
    the visits it leads or has an item in."""
    conds: list[Any] = []
    depts: set[int] = set()
    for g in grants_for(user):
        if g.role == Role.PLATFORM_ADMIN:
            return Q()
        if g.role in COUNTY_READERS or g.role in TOWNSHIP_ROLES:
            conds.append(Q(township__code__startswith=g.unit_prefix))
        elif g.role == Role.DEPARTMENT_STAFF and g.department_id:
            depts.add(g.department_id)
    if depts:
        conds.append(Q(lead_department_id__in=depts))
        conds.append(
            Exists(
                JointVisitItem.objects.filter(visit_id=OuterRef("pk"), item__plan__department_id__in=depts)
            )
        )
    return Q(reduce(or_, conds)) if conds else None


def can_use_visits(user: Any) -> bool:
    return visit_scope(user) is not None


def visit_list(
    *,
    user: Any,
    township_id: int | None = None,
    month: dt.date | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    led: bool = False,
    status: str = "",
    county: AdminUnit | None = None,
    year: int | None = None,
) -> QuerySet[JointVisit]:
    """Visits of the active merge runs in the user's scope, by day; ``month`` is any day of the month wanted."""
    scope = visit_scope(user)
    if scope is None:
        raise PermissionDeniedError("您没有可查看的联合督查")
    qs = JointVisit.objects.filter(scope, run__active=True)
    if county is not None:
        qs = qs.filter(run__county=county)
    if year is not None:
        qs = qs.filter(run__year=year)
    if township_id:
        qs = qs.filter(township_id=township_id)
    if month is not None:
        first = month.replace(day=1)
        nxt = (first + dt.timedelta(days=32)).replace(day=1)
        qs = qs.filter(day__gte=first, day__lt=nxt)
    if start is not None:
        qs = qs.filter(day__gte=start)
    if end is not None:
        qs = qs.filter(day__lte=end)
    if led:
        qs = qs.filter(lead_department_id__in=_depts(user))
    if status:
        if status not in VisitStatus.values:
            raise ServiceError("invalid", f"状态「{status[:20]}」无效", {"field": "status"})
        qs = qs.filter(status=status)
    return qs.select_related("township", "lead_department").order_by("day", "township__code", "id")


def with_items(qs: QuerySet[JointVisit]) -> QuerySet[JointVisit]:
    """One extra query per page for the items (with their code and department)."""
    return qs.prefetch_related(
        Prefetch(
            "items",
            queryset=InspectionItem.objects.select_related("plan__department").order_by(
                "plan__department_id", "seq"
            ),
        )
    )


def visit_get(*, user: Any, pk: int) -> JointVisit:
    scope = visit_scope(user)
    visit = (
        with_items(
            JointVisit.objects.filter(scope, pk=pk).select_related("township", "lead_department", "run")
        ).first()
        if scope is not None
        else None
    )
    if visit is None:
        raise NotFoundError("联合督查不存在或无权查看")
    return visit


def can_record(user: Any, visit: JointVisit) -> bool:
    """Findings are recorded by the lead department (and the platform admin)."""
    return visit.lead_department_id in _depts(user) or any(
        g.role == Role.PLATFORM_ADMIN for g in grants_for(user)
    )


def sees_all_findings(user: Any, visit: JointVisit) -> bool:
    """The township visited, the county office and organs, and the lead department (it wrote them)."""
    code = visit.township.code
    for g in grants_for(user):
        if g.role == Role.PLATFORM_ADMIN:
            return True
        if (g.role in COUNTY_READERS or g.role in TOWNSHIP_ROLES) and code.startswith(g.unit_prefix):
            return True
    return visit.lead_department_id in _depts(user)


def visit_findings(*, user: Any, visit: JointVisit) -> list[Finding]:
    """The findings the user may read: all of them for the township, the county and the lead department; a
    department taking part only those of its own items."""
    qs = (
        Finding.objects.filter(visit=visit).select_related("item__plan__department").order_by("item_id", "id")
    )
    if not sees_all_findings(user, visit):
        qs = qs.filter(item__plan__department_id__in=_depts(user))
    return list(qs)


def visit_requests(
    *, user: Any, visit: JointVisit, items: Iterable[InspectionItem]
) -> dict[int, dict[str, Any]]:
    """What each item asks the township for: the materials (those struck as trace demands listed apart, so the
    township knows it may refuse them) and the data fields, each either met from 一表通 (its value shown to whoever
    may read the township's data: the township, the county, a subscribing department) or still to be given.
    Three queries at most."""
    from . import datacatalog
    from .models import CatalogEntry, CatalogSubscription

    items = list(items)
    refs = [
        d["ref"]
        for i in items
        for d in i.data_fields or []
        if isinstance(d, Mapping) and isinstance(d.get("ref"), Mapping)
    ]
    resolved = datacatalog.resolve_many(refs, visit.township_id)
    if sees_all_findings(user, visit) and visit.lead_department_id not in _depts(user):
        readable: set[int] | None = None  # the township, the county and the admin read all of its data
    else:
        depts = _depts(user)
        ids = {e for e, _k in resolved}
        readable = (
            set(
                CatalogSubscription.objects.filter(department_id__in=depts, entry_id__in=ids).values_list(
                    "entry_id", flat=True
                )
            )
            | set(
                CatalogEntry.objects.filter(owner_department_id__in=depts, pk__in=ids).values_list(
                    "pk", flat=True
                )
            )
            if ids and depts
            else set()
        )
    out: dict[int, dict[str, Any]] = {}
    for i in items:
        materials = [m for m in i.materials or [] if isinstance(m, Mapping) and m.get("name")]
        data = []
        for d in i.data_fields or []:
            if not isinstance(d, Mapping) or not d.get("label"):
                continue
            ref = d.get("ref") if isinstance(d.get("ref"), Mapping) else None
            found = None
            if ref is not None:
                try:
                    found = resolved.get((int(ref.get("entry")), str(ref.get("field", ""))))
                except (TypeError, ValueError):
                    found = None
            visible = found is not None and (readable is None or found["entry"] in readable)
            data.append(
                {
                    "label": str(d["label"]),
                    "met": found is not None,
                    "entry_name": found["entry_name"] if found else "",
                    "period": found["period"] if found else "",
                    "value": found["value"] if visible and found else None,
                    "unit": found["unit"] if found else "",
                    "visible": visible,
                }
            )
        out[i.pk] = {
            "materials": [str(m["name"]) for m in materials if not m.get("removed")],
            "struck": [str(m["name"]) for m in materials if m.get("removed")],
            "data": data,
        }
    return out


def visit_actions(user: Any, visit: JointVisit) -> dict[str, bool]:
    open_ = visit.status == VisitStatus.PLANNED and visit.run.active
    return {"record": can_record(user, visit) and open_}


# ---- findings ------------------------------------------------------------------------------------------------------


def _parse_due(value: Any, n: int) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as e:
        raise ServiceError(
            "invalid", f"第 {n} 行整改期限格式不正确，应为 YYYY-MM-DD", {"field": "due", "row": n}
        ) from e


def findings_record(
    *, actor: Any, visit_id: int, rows: Iterable[Mapping[str, Any]], done: bool = False
) -> list[Finding]:
    """The lead department records the findings of every item of the visit in one go (a row per finding: item,
    text, follow-up, due date), replacing what it recorded before; ``done`` closes the visit. Rows without text are
    "no problem found" for that item. A done visit, or one superseded by a re-merge, cannot be changed."""
    rows = list(rows)
    if len(rows) > MAX_FINDINGS:
        raise ServiceError("invalid", f"一次最多记录 {MAX_FINDINGS} 条发现问题")
    with transaction.atomic():
        visit = (
            JointVisit.objects.select_for_update()
            .select_related("township", "lead_department", "run")
            .filter(pk=visit_id)
            .first()
        )
        scope = visit_scope(actor)
        if visit is None or scope is None or not JointVisit.objects.filter(scope, pk=visit_id).exists():
            raise NotFoundError("联合督查不存在或无权查看")
        if not can_record(actor, visit):
            raise PermissionDeniedError(
                f"发现问题由牵头部门（{visit.lead_department.name}）统一记录，参与部门可查看本部门事项的发现"
            )
        if not visit.run.active:
            raise ServiceError("invalid_state", "该联合督查已被重新合并的安排取代，请在新的安排中记录")
        if visit.status != VisitStatus.PLANNED:
            raise ServiceError(
                "invalid_state", f"该联合督查已{visit.get_status_display()}，不能再修改发现问题"
            )
        items = set(JointVisitItem.objects.filter(visit=visit).values_list("item_id", flat=True))
        made: list[Finding] = []
        for n, r in enumerate(rows, start=1):
            try:
                item_id = int(r.get("item_id"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                item_id = -1
            if item_id not in items:
                raise ServiceError(
                    "invalid", f"第 {n} 行的事项不属于本次联合督查", {"field": "item_id", "row": n}
                )
            text = str(r.get("text") or "").strip()
            follow = str(r.get("follow_up") or "").strip()
            due = _parse_due(r.get("due"), n)
            if not text:
                if follow or due:
                    raise ServiceError(
                        "invalid",
                        f"第 {n} 行：请先写明发现的问题，再填写整改要求和期限",
                        {"field": "text", "row": n},
                    )
                continue
            if len(text) > MAX_TEXT or len(follow) > MAX_TEXT:
                raise ServiceError(
                    "invalid",
                    f"第 {n} 行：发现问题和整改要求各不超过 {MAX_TEXT} 字",
                    {"field": "text", "row": n},
                )
            if due is not None and due < visit.day:
                raise ServiceError(
                    "invalid",
                    f"第 {n} 行：整改期限不能早于督查日期 {visit.day:%Y-%m-%d}",
                    {"field": "due", "row": n},
                )
            made.append(
                Finding(visit=visit, item_id=item_id, text=text, follow_up=follow, due=due, created_by=actor)
            )
        replaced = Finding.objects.filter(visit=visit).count()
        Finding.objects.filter(visit=visit).delete()
        Finding.objects.bulk_create(made)
        if done:
            visit.status = VisitStatus.DONE
            visit.save(update_fields=["status"])
        per_item: dict[int, int] = {}
        for f in made:
            per_item[f.item_id] = per_item.get(f.item_id, 0) + 1
        audit_record(
            actor=actor,
            action="visit.findings",
            object_type="joint_visit",
            object_id=visit.pk,
            data={
                "township": visit.township.name,
                "day": visit.day.isoformat(),
                "findings": len(made),
                "per_item": {str(k): v for k, v in sorted(per_item.items())},
                "replaced": replaced,
                "done": done,
            },
        )
    return made


def can_close_finding(user: Any, finding: Finding) -> bool:
    """Rectification is confirmed by the department whose item it is (or the lead department, or the admin)."""
    depts = _depts(user)
    return (
        finding.item.plan.department_id in depts
        or finding.visit.lead_department_id in depts
        or any(g.role == Role.PLATFORM_ADMIN for g in grants_for(user))
    )


def finding_close(*, actor: Any, finding_id: int, reopen: bool = False) -> Finding:
    """The item's department confirms that a finding was rectified (整改到位), or reopens it. Only after the visit is
    done; the township is never asked for proof photos — the department checks as it sees fit."""
    from .models import FindingStatus

    with transaction.atomic():
        finding = (
            Finding.objects.select_for_update()
            .select_related("visit__township", "visit__lead_department", "item__plan")
            .filter(pk=finding_id)
            .first()
        )
        scope = visit_scope(actor)
        if (
            finding is None
            or scope is None
            or not JointVisit.objects.filter(scope, pk=finding.visit_id).exists()
            or (
                not sees_all_findings(actor, finding.visit)
                and finding.item.plan.department_id not in _depts(actor)
            )
        ):
            raise NotFoundError("发现问题不存在或无权查看")
        if not can_close_finding(actor, finding):
            raise PermissionDeniedError("整改情况由事项所属部门确认")
        if finding.visit.status != VisitStatus.DONE:
            raise ServiceError("invalid_state", "联合督查完成后才能确认整改")
        status = FindingStatus.OPEN if reopen else FindingStatus.CLOSED
        if finding.status != status:
            finding.status = status
            finding.save(update_fields=["status"])
            audit_record(
                actor=actor,
                action="finding.reopen" if reopen else "finding.close",
                object_type="finding",
                object_id=finding.pk,
                data={
                    "visit": finding.visit_id,
                    "item": finding.item_id,
                    "township": finding.visit.township.name,
                },
            )
    return finding


# ---- reasons as sentences -----------------------------------------------------------------------------------


def explain(reason: Mapping[str, Any], names: Mapping[int, str] | None = None) -> str:
    """One stored reason (``{"code", "params"}``) as a sentence, through ``inspections.explain`` (the one place that
    words the engines' reasons); ``names`` maps item ids to topics."""
    from .explain import reason_text

    return reason_text(str(reason.get("code", "")), reason.get("params") or {}, names or {})


# ---- pages' helpers ------------------------------------------------------------------------------------------------


def merge_counties(user: Any) -> list[AdminUnit]:
    """Counties whose merge the user may read (county office and organs; the admin all)."""
    prefixes = {g.unit_prefix[:6] for g in grants_for(user) if g.role in COUNTY_READERS}
    if not prefixes:
        return []
    qs = AdminUnit.objects.filter(level=Level.COUNTY).order_by("code")
    if "" in prefixes:
        return list(qs)
    return list(qs.filter(reduce(or_, (Q(code__startswith=p) for p in prefixes))))


def runs_of(county: AdminUnit, year: int) -> QuerySet[MergeRun]:
    return MergeRun.objects.filter(county=county, year=year).select_related("created_by").order_by("-id")


def run_get(*, user: Any, pk: int) -> MergeRun:
    run = MergeRun.objects.select_related("county", "created_by").filter(pk=pk).first()
    if run is None or not can_read_county(user, run.county):
        raise NotFoundError("合并记录不存在或无权查看")
    return run


def run_visits(run: MergeRun, *, alone: bool = False, township_id: int | None = None) -> QuerySet[JointVisit]:
    qs = JointVisit.objects.filter(run=run)
    if township_id:
        qs = qs.filter(township_id=township_id)
    if alone:
        qs = qs.exclude(reasons__0__code="joint_visit")
    return with_items(
        qs.select_related("township", "lead_department").order_by("township__code", "day", "id")
    )


def pending_count(county_id: int, year: int) -> int:
    """Approved on-site items of the year that the active run has not seen: not in its visits and approved after
    it was made (one query). An item the run saw but did not schedule (its window had passed, see the module
    docstring) waits for no merge, so it is not counted."""
    active_items = JointVisitItem.objects.filter(
        visit__run__active=True, visit__run__county_id=county_id, visit__run__year=year
    ).values("item_id")
    seen = MergeRun.objects.filter(
        county_id=county_id, year=year, active=True, created_at__gte=OuterRef("decided_at")
    )
    return approved_onsite_q(county_id, year).exclude(pk__in=active_items).exclude(Exists(seen)).count()


def approved_onsite_q(county_id: int, year: int) -> QuerySet[InspectionItem]:
    return InspectionItem.objects.filter(
        plan__county_id=county_id,
        plan__year=year,
        status=ItemStatus.APPROVED,
        mode=Mode.ONSITE,
        code_revoked_at__isnull=True,
    )
