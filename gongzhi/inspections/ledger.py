"""The burden ledger (基层负担账本): what inspections cost each township and what each department asks, for one
county-year, at three stages, and against the previous year.

Counting rules (口径; shown on the page as 口径说明, see ``RULES``)
------------------------------------------------------------------
Every figure is per township: an item aimed at five townships counts five times; "all townships" counts every
township of the county.

- **As filed (按申报)**: every item of the year's *filed* plans, whatever became of it later (approved, returned,
  refused, withdrawn or still pending) — that is what the departments asked for.
  on-site visits = on-site items; township hours = expected hours of every item (on-site and remote);
  forms = items with at least one data request; data fields = requested fields; materials = materials requested.
- **After review (审核后)**: approved items only (a revoked code is not approved). Materials struck as trace
  demands (留痕) are not counted; a data field met by a catalog reference (一表通) is not a request for a township
  that has submitted that value (a township that has not is still asked, so it still counts).
- **After merging (合并后)**: the joint visits of the county-year's active merge run (cancelled visits excluded),
  plus, one visit each, approved on-site items not yet merged (approved after the run; an item the run saw and
  left unscheduled because its window had passed is no visit). Hours are the visits' hours plus approved remote
  items' hours. A material asked by several items of one visit is handed over once. Forms and data fields are as
  after review (merging does not change data requests).
  A department's visits after merging are its share of the visits it takes part in (its items over the visit's
  items: a visit of four items, one of them its own, counts 0.25), so the departments' figures add up to the
  county's; the page also shows how many visits it takes part in and leads. Its hours are its share of each visit
  (in proportion to its items' expected hours) plus its remote items.
- **Awaiting a decision (待审核)**: items the county office has not decided yet — pending, or returned to the
  department and not resubmitted (a resubmitted item is pending again). They are part of "as filed" (they were
  asked) and shown separately as 待审核, but every before → after comparison leaves them out on *both* sides: the
  cut is from *decided as filed* (as filed minus 待审核) to after merging. An undecided item is not burden removed
  (it may still be approved), nor is it burden kept (it may be refused), so counting it either way would move the
  headline without anything having been decided. Refused and withdrawn items are decided: they stay in as filed
  and are burden the review removed; so does an approved item whose code was revoked.
- **Year over year (同比)**: the previous year's figure after merging, or as filed if that year was never merged.
- **Headline (压减比例)**: the cut in on-site visits (and hours) from decided as filed to after merging (undecided
  items excluded from both, see 待审核), against the policy goal of at least 50% (``GOAL``). Not computed before
  the first merge, nor for a row with nothing decided (a department whose items all await a decision shows no cut).
  Materials, forms and data fields are compared the same way (decided as filed → after review → after merging);
  the headline and the township and department tables show the same three figures, so a township's headline and
  its table row agree.

Scope: the county office and the county organs see every row; a township its own row; a department its own row.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_noop

from gongzhi.core.errors import PermissionDeniedError, ServiceError
from gongzhi.core.models import AdminUnit, Department, DepartmentKind, Level, Role
from gongzhi.core.roles import grants_for

from .models import (
    DataSubmission,
    InspectionItem,
    ItemStatus,
    JointVisit,
    JointVisitItem,
    MergeRun,
    Mode,
    PlanStatus,
    VisitStatus,
)
from .permissions import COUNTY_READERS, TOWNSHIP_ROLES
from .plans import check_year
from .visits import county_townships, item_targets

GOAL = 0.5
# Not decided by the county office yet: left out of both sides of every cut (see the module docstring).
UNDECIDED = frozenset({ItemStatus.PENDING, ItemStatus.RETURNED})
ZERO = Decimal(0)
STAGES = (
    ("filed", gettext_noop("按申报")),
    ("reviewed", gettext_noop("审核后")),
    ("merged", gettext_noop("合并后")),
)
RULES: tuple[str, ...] = (
    gettext_noop("所有数字按乡镇计：一个事项面向 5 个乡镇计 5 次；“全部乡镇”按全县乡镇数计。"),
    gettext_noop(
        "按申报：本年度已报送计划中的全部事项，不论后来是否批准、退回、不予批准或撤回。实地次数为实地事项数；"
        "工时为全部事项（实地和非现场）的预计乡镇工时；表格为有数据需求的事项数；数据项为要求填报的字段数；材料为索要材料数。"
    ),
    gettext_noop(
        "审核后：只计已批准且事项码有效的事项；被认定为留痕要求而删去的材料不计；已由一表通引用、且该乡镇已报送过的数据项不计（未报送的乡镇仍需填报，照计）。"
    ),
    gettext_noop(
        "合并后：按本年度现行合并安排的联合督查计（已取消的不计），尚未合并的已批准实地事项每个计一次；工时为各次联合督查工时加非现场事项工时；"
        "同一次督查中多个事项索要的同一材料只计一次；表格和数据项同审核后。"
    ),
    gettext_noop(
        "部门口径：合并后的实地次数按该部门事项在每次联合督查中所占比例折算（4 个事项的联合督查中有 1 个是本部门的，计 0.25 次），"
        "各部门折算次数之和等于全县合并后次数；另列参与和牵头的次数。工时按其事项预计工时分摊，加非现场事项工时。"
    ),
    gettext_noop(
        "待审核：县督查检查考核办尚未作出决定的事项（待审核，以及退回修改后尚未重新报送的）。它们计入按申报，另列为待审核，"
        "但不计入任何“之前 → 之后”的比较（两端都不计）：压减从“已决定的按申报”（按申报减待审核）算到合并后。"
        "不予批准和已撤回的事项已有结论，仍计入按申报，属于审核压减的负担。"
    ),
    gettext_noop("同比：上一年度合并后的数字；上一年度未合并的，用按申报的数字。"),
    gettext_noop(
        "压减比例：实地督查次数（和工时）从已决定的按申报（不含待审核）到合并后的减少比例；政策目标为不低于 50%。"
        "尚未合并时不计算；事项全部待审核的部门或乡镇不计算。材料、表格和数据项同样按“已决定的按申报 → 审核后 → 合并后”比较，"
        "页首和乡镇、部门表中的数字一致。"
    ),
)


@dataclass
class Figures:
    visits: int | Decimal = 0  # a department's visits after merging are a share (Decimal)
    hours: Decimal = ZERO
    forms: int = 0
    fields: int = 0
    materials: int = 0

    def add(self, other: Figures, times: int = 1) -> None:
        self.visits += other.visits * times
        self.hours += other.hours * times
        self.forms += other.forms * times
        self.fields += other.fields * times
        self.materials += other.materials * times

    def minus(self, other: Figures) -> Figures:
        return Figures(
            self.visits - other.visits,
            self.hours - other.hours,
            self.forms - other.forms,
            self.fields - other.fields,
            self.materials - other.materials,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "visits": self.visits if isinstance(self.visits, int) else float(round(self.visits, 2)),
            "hours": float(self.hours.quantize(Decimal("0.1"))),
            "forms": self.forms,
            "fields": self.fields,
            "materials": self.materials,
        }


def _cut(before: float | Decimal, after: float | Decimal) -> float | None:
    b, a = float(before), float(after)
    return (b - a) / b if b else None


@dataclass
class Row:
    id: int
    name: str
    code: str = ""
    filed: Figures = field(default_factory=Figures)
    reviewed: Figures = field(default_factory=Figures)
    merged: Figures | None = None
    pending: Figures = field(default_factory=Figures)  # undecided items (part of filed)
    led: int = 0
    joined: int = 0  # departments: visits after merging it takes part in
    previous: Figures | None = None
    previous_basis: str | None = None  # "merged" | "filed"

    @property
    def decided(self) -> Figures:
        """As filed without the items still awaiting a decision: the 'before' of every cut."""
        return self.filed.minus(self.pending)

    @property
    def visits_cut(self) -> float | None:
        return _cut(self.decided.visits, self.merged.visits) if self.merged is not None else None

    @property
    def hours_cut(self) -> float | None:
        return _cut(self.decided.hours, self.merged.hours) if self.merged is not None else None

    @property
    def now(self) -> Figures:
        """The year's figure compared year over year: after merging, or as filed."""
        return self.merged if self.merged is not None else self.filed

    @property
    def yoy_visits(self) -> float | None:
        if self.previous is None or not self.previous.visits:
            return None
        return float((self.now.visits - self.previous.visits) / self.previous.visits)

    @property
    def met(self) -> bool | None:
        cut = self.visits_cut
        return None if cut is None else cut >= GOAL

    def bars(self) -> list[tuple[str, str, int | Decimal, int]]:
        """(stage, label, visits, percent of the filed figure) for the row's bar chart."""
        top = max(self.filed.visits, 1)
        out = [
            ("filed", STAGES[0][1], self.filed.visits, 100 if self.filed.visits else 0),
            ("reviewed", STAGES[1][1], self.reviewed.visits, round(100 * self.reviewed.visits / top)),
        ]
        if self.merged is not None:
            out.append(("merged", STAGES[2][1], self.merged.visits, round(100 * self.merged.visits / top)))
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "name": self.name,
            "filed": self.filed.as_dict(),
            "reviewed": self.reviewed.as_dict(),
            "merged": self.merged.as_dict() if self.merged is not None else None,
            "pending": self.pending.as_dict(),
            "decided": self.decided.as_dict(),
            "led": self.led,
            "joined": self.joined,
            "previous": self.previous.as_dict() if self.previous is not None else None,
            "previous_basis": self.previous_basis,
            "visits_cut": self.visits_cut,
            "hours_cut": self.hours_cut,
            "yoy_visits": self.yoy_visits,
            "met": self.met,
        }


@dataclass
class Ledger:
    county: AdminUnit
    year: int
    scope: str  # county | township | department
    total: Row
    townships: list[Row]
    departments: list[Row]
    run: MergeRun | None
    goal: float = GOAL

    @property
    def merged(self) -> bool:
        return self.run is not None

    def headline(self) -> dict[str, Any]:
        t = self.total
        return {
            "visits_filed": t.filed.visits,
            "visits_pending": t.pending.visits,
            "visits_decided": t.decided.visits,
            "visits_merged": t.merged.as_dict()["visits"] if t.merged is not None else None,
            "visits_cut": t.visits_cut,
            "hours_filed": float(t.filed.hours),
            "hours_pending": float(t.pending.hours),
            "hours_decided": float(t.decided.hours),
            "hours_merged": float(t.merged.hours) if t.merged is not None else None,
            "hours_cut": t.hours_cut,
            "goal": self.goal,
            "met": t.met,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "county_code": self.county.code,
            "county_name": self.county.name,
            "year": self.year,
            "scope": self.scope,
            "merged": self.merged,
            "merge_run_id": self.run.pk if self.run else None,
            "headline": self.headline(),
            "total": self.total.as_dict(),
            "rules": [str(r) for r in RULES],
        }


# ---- scope ---------------------------------------------------------------------------------------------------------

LEDGER_ROLES: set[str] = COUNTY_READERS | TOWNSHIP_ROLES | {Role.DEPARTMENT_STAFF}


def ledger_counties(user: Any) -> list[AdminUnit]:
    prefixes = {g.unit_prefix[:6] for g in grants_for(user) if g.role in LEDGER_ROLES}
    if not prefixes:
        return []
    qs = AdminUnit.objects.filter(level=Level.COUNTY).order_by("code")
    if "" in prefixes:
        return list(qs)
    return list(qs.filter(reduce(or_, (Q(code__startswith=p) for p in sorted(prefixes)))))


def _scope(user: Any, county: AdminUnit) -> tuple[str, set[int] | None, set[int] | None]:
    """(scope, township ids, department ids) the user may see; None = all."""
    towns: set[int] = set()
    depts: set[int] = set()
    for g in grants_for(user):
        if g.role == Role.PLATFORM_ADMIN or (
            g.role in COUNTY_READERS and county.code.startswith(g.unit_prefix)
        ):
            return "county", None, None
        if g.role in TOWNSHIP_ROLES and g.unit_id and g.unit_prefix.startswith(county.code[:6]):
            towns.add(g.unit_id)
        if g.role == Role.DEPARTMENT_STAFF and g.department_id and county.code.startswith(g.unit_prefix):
            depts.add(g.department_id)
    if not towns and not depts:
        raise PermissionDeniedError("您没有查看本县基层负担账本的权限")
    return ("township" if towns else "department"), towns, depts


# ---- computing -----------------------------------------------------------------------------------------------------


def _materials(raw: Any, *, reviewed: bool) -> list[str]:
    out = []
    for m in raw or ():
        if not isinstance(m, dict):
            continue
        if reviewed and m.get("removed"):
            continue
        name = str(m.get("name", "")).strip()
        if name:
            out.append(name)
    return out


def _held_pairs(county: AdminUnit) -> set[tuple[int, str, int]]:
    """(entry id, field key, township id) for every value a township of the county has submitted."""
    out: set[tuple[int, str, int]] = set()
    for eid, tid, values in DataSubmission.objects.filter(entry__county=county).values_list(
        "entry_id", "township_id", "values"
    ):
        for k, v in (values or {}).items():
            if v not in (None, ""):
                out.add((eid, k, tid))
    return out


def _ref_key(ref: dict[str, Any]) -> tuple[int, str]:
    try:
        return int(ref.get("entry")), str(ref.get("field"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0, ""


def _figures(county: AdminUnit, year: int) -> dict[str, Any]:
    """Per township and per department figures for one county-year (everything, unscoped)."""
    townships = county_townships(county)
    n_towns = len(townships)
    rows = list(
        InspectionItem.objects.filter(
            plan__county=county, plan__year=year, plan__status=PlanStatus.FILED
        ).values_list(
            "pk",
            "plan__department_id",
            "status",
            "mode",
            "township_hours",
            "all_townships",
            "materials",
            "data_fields",
            "code_revoked_at",
            "decided_at",
        )
    )
    # Named targets only: an all-township item is counted by the number of townships, not expanded into rows.
    targets = item_targets(((r[0], False) for r in rows if not r[5]), townships)
    all_ids = list(townships)
    held = _held_pairs(county) if any(r[7] for r in rows) else set()
    town_f: dict[int, Figures] = defaultdict(Figures)
    town_r: dict[int, Figures] = defaultdict(Figures)
    dept_f: dict[int, Figures] = defaultdict(Figures)
    dept_r: dict[int, Figures] = defaultdict(Figures)
    town_p: dict[int, Figures] = defaultdict(Figures)
    dept_p: dict[int, Figures] = defaultdict(Figures)
    # All-township items without per-township differences, added to every township once at the end.
    wide_f, wide_r, wide_p, wide_remote = Figures(), Figures(), Figures(), Figures()
    approved: dict[int, tuple[int, bool, Decimal, list[str]]] = {}  # item -> (dept, onsite, hours, materials)
    remote_by_town: dict[int, Figures] = defaultdict(Figures)
    remote_by_dept: dict[int, Figures] = defaultdict(Figures)
    onsite_pairs: dict[int, list[int]] = {}
    decided_at: dict[int, Any] = {}
    for pk, dept, status, mode, hours, every, materials, data_fields, revoked, decided in rows:
        onsite = mode == Mode.ONSITE
        fields = [d for d in data_fields or () if isinstance(d, dict) and str(d.get("label", "")).strip()]
        mats_f = _materials(materials, reviewed=False)
        one_f = Figures(int(onsite), hours, int(bool(fields)), len(fields), len(mats_f))
        tids = all_ids if every else targets[pk]
        n = len(tids)
        undecided = status in UNDECIDED
        if every:
            wide_f.add(one_f)
            if undecided:
                wide_p.add(one_f)
        else:
            for t in tids:
                town_f[t].add(one_f)
                if undecided:
                    town_p[t].add(one_f)
        dept_f[dept].add(one_f, n)
        if undecided:
            dept_p[dept].add(one_f, n)
        if status != ItemStatus.APPROVED or revoked is not None:
            continue
        mats_r = _materials(materials, reviewed=True)
        approved[pk] = (dept, onsite, hours, mats_r)
        decided_at[pk] = decided
        refs = [_ref_key(d["ref"]) for d in fields if isinstance(d.get("ref"), dict)]
        base = Figures(int(onsite), hours, 0, len(fields) - len(refs), len(mats_r))
        if onsite:
            onsite_pairs[pk] = tids
        d_r = dept_r[dept]
        for t in tids if (refs or not every) else ():
            f = Figures(base.visits, base.hours, 0, base.fields, base.materials)
            for entry_id, key in refs:
                if (entry_id, key, t) not in held:
                    f.fields += 1
            f.forms = int(f.fields > 0)
            town_r[t].add(f)
            d_r.add(f)
            if not onsite:
                remote_by_town[t].hours += hours
                remote_by_town[t].materials += len(mats_r)
        if every and not refs:
            f = Figures(base.visits, base.hours, int(base.fields > 0), base.fields, base.materials)
            wide_r.add(f)
            d_r.add(f, n)
            if not onsite:
                wide_remote.hours += hours
                wide_remote.materials += len(mats_r)
        if not onsite:
            remote_by_dept[dept].hours += hours * n
            remote_by_dept[dept].materials += len(mats_r) * n
    for t in townships:
        town_f[t].add(wide_f)
        town_r[t].add(wide_r)
        town_p[t].add(wide_p)
        remote_by_town[t].hours += wide_remote.hours
        remote_by_town[t].materials += wide_remote.materials

    run = MergeRun.objects.filter(county=county, year=year, active=True).first()
    town_m: dict[int, Figures] | None = None
    dept_m: dict[int, Figures] | None = None
    led: dict[int, int] = defaultdict(int)
    joined: dict[int, int] = defaultdict(int)
    if run is not None:
        town_m = defaultdict(Figures)
        dept_m = defaultdict(Figures)
        visits = {
            pk: (tid, lead, hours)
            for pk, tid, lead, hours in JointVisit.objects.filter(run=run)
            .exclude(status=VisitStatus.CANCELLED)
            .values_list("pk", "township_id", "lead_department_id", "hours")
        }
        members: dict[int, list[int]] = defaultdict(list)
        for vid, iid in JointVisitItem.objects.filter(visit_id__in=list(visits)).values_list(
            "visit_id", "item_id"
        ):
            members[vid].append(iid)
        in_visit: set[tuple[int, int]] = set()
        item_hours = dict(
            InspectionItem.objects.filter(pk__in={i for ms in members.values() for i in ms}).values_list(
                "pk", "township_hours"
            )
        )
        item_dept = {pk: a[0] for pk, a in approved.items()}
        item_mats = {pk: a[3] for pk, a in approved.items()}
        missing = {i for ms in members.values() for i in ms} - set(item_dept)
        if missing:  # items in visits no longer approved: still part of the visit as planned
            for pk, dept, mats in InspectionItem.objects.filter(pk__in=missing).values_list(
                "pk", "plan__department_id", "materials"
            ):
                item_dept[pk] = dept
                item_mats[pk] = _materials(mats, reviewed=True)
        for vid, (tid, lead, hours) in visits.items():
            ms = members.get(vid, [])
            f = town_m[tid]
            f.visits += 1
            f.hours += hours
            f.materials += len({m for i in ms for m in item_mats.get(i, [])})
            led[lead] += 1
            total_h = sum((item_hours.get(i, ZERO) for i in ms), ZERO)
            by_dept: dict[int, list[int]] = defaultdict(list)
            for i in ms:
                by_dept[item_dept[i]].append(i)
                in_visit.add((i, tid))
            for d, its in by_dept.items():
                df = dept_m[d]
                df.visits += Decimal(len(its)) / Decimal(len(ms))
                joined[d] += 1
                share = sum((item_hours.get(i, ZERO) for i in its), ZERO)
                df.hours += hours * share / total_h if total_h else hours / len(by_dept)
                df.materials += len({m for i in its for m in item_mats.get(i, [])})
        # Approved on-site pairs not merged yet: one visit each. Pairs the run saw and did not schedule (approved
        # before it, their window had passed: visits.merge_run) are not a visit anyone will make.
        for pk, tids in onsite_pairs.items():
            seen = decided_at.get(pk)
            if seen is not None and seen <= run.created_at:
                continue
            dept, _on, hours, mats = approved[pk]
            for t in tids:
                if (pk, t) in in_visit:
                    continue
                town_m[t].add(Figures(1, hours, 0, 0, len(mats)))
                dept_m[dept].add(Figures(1, hours, 0, 0, len(mats)))
                joined[dept] += 1
        for t in townships:
            town_m[t].hours += remote_by_town[t].hours
            town_m[t].materials += remote_by_town[t].materials
            town_m[t].forms = town_r[t].forms
            town_m[t].fields = town_r[t].fields
        for d, f in dept_r.items():
            dept_m[d].hours += remote_by_dept[d].hours
            dept_m[d].materials += remote_by_dept[d].materials
            dept_m[d].forms = f.forms
            dept_m[d].fields = f.fields
    return {
        "townships": townships,
        "n_towns": n_towns,
        "town": (town_f, town_r, town_m, town_p),
        "dept": (dept_f, dept_r, dept_m, dept_p),
        "led": led,
        "joined": joined,
        "run": run,
        "total_merged_visits": None if town_m is None else sum(f.visits for f in town_m.values()),
    }


def _row(
    rid: int, name: str, code: str, parts: tuple[Any, Any, Any, Any], led: int = 0, joined: int = 0
) -> Row:
    f, r, m, p = parts
    return Row(
        rid,
        name,
        code,
        filed=f.get(rid, Figures()),
        reviewed=r.get(rid, Figures()),
        merged=(m.get(rid, Figures()) if m is not None else None),
        pending=p.get(rid, Figures()),
        led=led,
        joined=joined,
    )


def _rows(
    data: dict[str, Any], towns: set[int] | None, depts: set[int] | None, county: AdminUnit
) -> tuple[list[Row], list[Row]]:
    township_rows = [
        _row(u.pk, u.name, u.code, data["town"])
        for u in data["townships"].values()
        if towns is None or u.pk in towns
    ]
    dept_ids = set(data["dept"][0]) | set(data["led"])
    dq = Department.objects.filter(county=county, kind=DepartmentKind.FUNCTIONAL)
    dq = dq.filter(pk__in=depts) if depts is not None else dq.filter(Q(pk__in=dept_ids) | Q(active=True))
    dept_rows = [
        _row(d.pk, d.name, "", data["dept"], data["led"].get(d.pk, 0), data["joined"].get(d.pk, 0))
        for d in dq.order_by("id")
        if towns is None or depts  # a township sees no department rows
    ]
    return township_rows, dept_rows


def build_ledger(*, user: Any, county: AdminUnit, year: Any) -> Ledger:
    y = check_year(year)
    if county is None or county.level != Level.COUNTY:
        raise ServiceError("invalid", "县（区）不存在", {"field": "county"})
    scope, towns, depts = _scope(user, county)
    if scope == "township":
        depts = set()
    data = _figures(county, y)
    township_rows, dept_rows = _rows(data, towns, depts, county)
    prev = _figures(county, y - 1)
    prev_basis = "merged" if prev["run"] is not None else "filed"
    p_towns, p_depts = _rows(prev, towns, depts, county)
    p_by_t = {r.id: r for r in p_towns}
    p_by_d = {r.id: r for r in p_depts}
    for r in township_rows:
        if r.id in p_by_t:
            r.previous, r.previous_basis = p_by_t[r.id].now, prev_basis
    for r in dept_rows:
        if r.id in p_by_d:
            r.previous, r.previous_basis = p_by_d[r.id].now, prev_basis
    total = Row(0, "合计")
    source = township_rows if scope != "department" else dept_rows
    merged = data["run"] is not None
    total.merged = Figures() if merged else None
    total.previous = Figures()
    total.previous_basis = prev_basis
    for r in source:
        total.filed.add(r.filed)
        total.reviewed.add(r.reviewed)
        total.pending.add(r.pending)
        if total.merged is not None and r.merged is not None:
            total.merged.add(r.merged)
        if r.previous is not None:
            total.previous.add(r.previous)
        total.led += r.led
        total.joined += r.joined
    if not any(r.previous is not None for r in source):
        total.previous = None
    return Ledger(county, y, scope, total, township_rows, dept_rows, data["run"])


# ---- export --------------------------------------------------------------------------------------------------------

_COLUMNS = (
    ("visits", "实地次数"),
    ("hours", "工时（小时）"),
    ("forms", "表格"),
    ("fields", "数据项"),
    ("materials", "材料"),
)


def ledger_xlsx(ledger: Ledger) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from gongzhi.core.exports import text_cells

    wb = Workbook()
    bold = Font(bold=True)
    sheets = [("按乡镇", ledger.townships), ("按部门", ledger.departments)]
    for n, (title, rows) in enumerate(sheets):
        header = ["名称"]
        for _key, stage in STAGES:
            # A department's visits after merging are its share of the joint visits it takes part in.
            merged_dept = _key == "merged" and title == "按部门"
            header += [
                f"{stage}·{label}" + ("（折算）" if merged_dept and k == "visits" else "")
                for k, label in _COLUMNS
            ]
        header += ["实地次数压减比例", "工时压减比例", "上年实地次数", "上年口径", "参与次数", "牵头次数"]
        header += [f"待审核·{label}" for _k, label in _COLUMNS]
        ws = wb.active if n == 0 else wb.create_sheet()
        ws.title = title
        ws.append(text_cells(ws, [f"{ledger.county.name} {ledger.year} 年基层负担账本（{title}）"]))
        ws["A1"].font = bold
        ws.append(header)
        for c in ws[2]:
            c.font = bold
        for r in [*rows, ledger.total] if rows else []:
            cells: list[Any] = [r.name]
            for figs in (r.filed, r.reviewed, r.merged):
                d = figs.as_dict() if figs is not None else {}
                cells += [d.get(k) for k, _l in _COLUMNS]
            cells += [
                round(r.visits_cut, 4) if r.visits_cut is not None else None,
                round(r.hours_cut, 4) if r.hours_cut is not None else None,
                r.previous.as_dict()["visits"] if r.previous is not None else None,
                {"merged": "上年合并后", "filed": "上年按申报"}.get(r.previous_basis or "", ""),
                r.joined if title == "按部门" else None,
                r.led if title == "按部门" else None,
            ]
            pending = r.pending.as_dict()
            cells += [pending[k] for k, _l in _COLUMNS]
            ws.append(text_cells(ws, cells))
        ws.column_dimensions["A"].width = 22
    ws = wb.create_sheet("口径说明")
    h = ledger.headline()
    ws.append(["政策目标", "实地督查次数压减不低于 50%"])
    ws.append(
        [
            "本年度",
            "尚未合并"
            if h["visits_cut"] is None
            else f"已决定的按申报 {h['visits_decided']} → 合并后 {h['visits_merged']} 次，"
            f"压减 {h['visits_cut'] * 100:.1f}%，" + ("达标" if h["met"] else "未达标"),
        ]
    )
    ws.append(["待审核", f"按申报 {h['visits_filed']} 次中 {h['visits_pending']} 次待审核，不计入压减"])
    for rule in RULES:
        ws.append(["口径", rule])
    ws.column_dimensions["B"].width = 120
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
