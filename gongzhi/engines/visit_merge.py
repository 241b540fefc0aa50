"""Merging approved on-site inspections into joint visits (多检合一、联合督查): fewest visits, then fewest hours.

Each township is an independent instance: its demands (one approved on-site item at that township, with the item's
window and expected hours) are partitioned into visits. A visit may hold at most ``max_items_per_visit`` items, its
items must have at least ``min_common_days`` days in common in their windows, and no two of them may be incompatible
(``incompatible_departments``, ``incompatible_kinds``); items of ``solo_departments`` (discipline inspection 巡察,
audit) never join one. A visit costs the township ``max(hours) + extra_item_share × (sum − max)``: reception,
briefing and materials are shared, so the longest item sets the day and every further item adds a share of its own
time. The objective is lexicographic: the number of visits first, then the total township hours.

Windows are intervals, and intervals that pairwise share ``m`` days share ``m`` days together (Helly), so a visit is
feasible when its members' common window ``[max start, min end]`` has ``m`` days. Shortening every window's end by
``m − 1`` days turns this into plain overlap; the canonical day of a visit is then the earliest shortened end among
its items, which every member contains.

``merge_heuristic`` — interval stabbing with capacity: take the unassigned demand whose (shortened) window ends first,
hold a visit on its last day, and fill it with the compatible demands already open on that day that end soonest
(ties: the longer first, so long items share a visit). Without compatibility rules this is optimal in the number of
visits (an exchange argument: an optimal solution can always be rearranged to contain the greedy's first visit).
Then a local search: empty a visit whose items all fit elsewhere (only needed with compatibility rules), move the
longest item of a visit into a visit whose longest is at least as long, and swap items between neighbouring visits
when that brings long items together (the hours term is ``(1 − share) × Σ max``).

``merge_exact`` — OR-Tools CP-SAT per township, the representative model: demands sorted by shortened end; ``x[i, j]``
says demand ``i`` is in the visit represented by ``j`` (its earliest-ending member), allowed only when ``j ≤ i`` in that
order, ``i`` is open on ``j``'s last day, and the two are compatible; a visit holds at most ``cap`` demands and no
incompatible pair. Phase 1 minimises visits; phase 2 fixes that number and minimises ``Σ max hours``. The heuristic's
solution is the hint. ``optimal`` and the solver's bounds are reported per township.

Every visit says why its items were merged (``code``/``params``), and every demand left alone says why it could not
join a neighbour that overlaps it (``Unmerged``). ``gongzhi.inspections.explain`` renders both.

Pure Python, no Django (OR-Tools is imported inside ``merge_exact`` only).
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

VISIT_CODES = ("joint_visit", "single_visit")
# Restarts under compatibility rules blur the fill order by up to this many days.
_JITTER_DAYS = (8.0, 15.0, 25.0)
_SKIP = 2
UNMERGED_CODES = (
    "solo_department",
    "window_too_short",
    "no_overlap",
    "incompatible",
    "visit_full",
    "window_conflict",
    "kept_apart",
)


# ---- input ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Demand:
    """One approved on-site item at one township."""

    item: int
    township: str
    department: str
    kind: str
    start: date
    end: date
    hours: float
    comprehensive: bool = False


@dataclass(frozen=True)
class MergeRules:
    """Defaults and why:

    - ``max_items_per_visit`` 4: four items is what one day's joint visit can take (a briefing, one or two hours
      per item on site).
    - ``extra_item_share`` 0.5: in a joint visit the longest item sets the day; each further item costs the
      township half its own time (its own documents and talks), the rest (reception, briefing, the leaders' time,
      materials already on the table) is shared.
    - ``min_common_days`` 1: a single common day is enough to hold the visit.
    - ``solo_departments`` empty here; a county lists discipline inspection (巡察) and audit (审计), whose
      independence forbids joint visits. Items of a solo department are never merged.
    - ``incompatible_kinds`` empty: an assessment (考核) with a supervision (督查) of the same department is fine; a
      pair ``frozenset({a, b})`` forbids kinds a and b in one visit, ``frozenset({a})`` two items of kind a.
    - ``incompatible_departments`` empty: pairs of departments that must not share a visit, same convention.
    - ``improve`` runs the local search after the greedy (off: the greedy alone, for comparison).
    - ``restarts`` 48: under compatibility rules the greedy is no longer optimal; up to 48 more runs with a blurred
      fill order (stopping early at the relaxation's bound) reached the proven optimum on all 66 calibration
      townships of the bench's stress variant (16 restarts missed it by one visit on 2, none on 11).
    """

    max_items_per_visit: int = 4
    extra_item_share: float = 0.5
    min_common_days: int = 1
    solo_departments: frozenset[str] = frozenset()
    incompatible_kinds: frozenset[frozenset[str]] = frozenset()
    incompatible_departments: frozenset[frozenset[str]] = frozenset()
    improve: bool = True
    restarts: int = 48

    def check(self) -> None:
        if self.max_items_per_visit < 1:
            raise ValueError("每次联合督查至少容纳 1 个事项")
        if not 0.0 <= self.extra_item_share <= 1.0:
            raise ValueError("合并后每增加一个事项的时长系数须在 0 到 1 之间")
        if self.min_common_days < 1:
            raise ValueError("共同天数至少为 1")
        for pair in (*self.incompatible_kinds, *self.incompatible_departments):
            if not 1 <= len(pair) <= 2:
                raise ValueError("不相容规则须是一对（或同一）类型或部门")

    def visit_hours(self, hours: Iterable[float]) -> float:
        hs = list(hours)
        if not hs:
            return 0.0
        top = max(hs)
        return top + self.extra_item_share * (sum(hs) - top)


# ---- output --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Visit:
    township: str
    items: tuple[int, ...]
    start: date  # the common window
    end: date
    day: date  # a proposed day inside it
    lead_department: str
    hours: float
    code: str  # joint_visit | single_visit
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Unmerged:
    item: int
    township: str
    code: str  # one of UNMERGED_CODES
    params: dict[str, Any]


@dataclass(frozen=True)
class ExactInfo:
    """What CP-SAT proved for one township."""

    demands: int
    optimal: bool  # visits proven minimal
    visits: int
    visits_bound: int
    hours_optimal: bool  # total hours proven minimal for that number of visits
    hours: float
    hours_bound: float
    status: str
    wall_s: float  # both phases
    visits_wall_s: float = 0.0  # phase 1 (visits) alone


@dataclass
class MergeResult:
    visits: list[Visit]
    unmerged: list[Unmerged]
    stats: dict[str, Any] = field(default_factory=dict)
    exact: dict[str, ExactInfo] | None = None

    def visits_of(self, township: str) -> list[Visit]:
        return [v for v in self.visits if v.township == township]


# ---- one township --------------------------------------------------------------------------------------------


class _Instance:
    """One township's demands as arrays, windows shortened by ``min_common_days − 1``."""

    def __init__(self, township: str, ds: list[Demand], rules: MergeRules) -> None:
        self.township = township
        self.ds = ds
        self.rules = rules
        shift = rules.min_common_days - 1
        self.s = [d.start.toordinal() for d in ds]
        self.e = [d.end.toordinal() - shift for d in ds]  # shortened end: the last day a visit can start
        self.h = [d.hours for d in ds]
        self.solo = [d.department in rules.solo_departments for d in ds]
        self.short = [self.e[i] < self.s[i] for i in range(len(ds))]
        self.mergeable = [i for i in range(len(ds)) if not self.solo[i] and not self.short[i]]
        # Labels for the compatibility rules: ("d", department) and ("k", kind).
        bad: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
        for tag, pairs in (("k", rules.incompatible_kinds), ("d", rules.incompatible_departments)):
            for pair in pairs:
                a, b = (tuple(pair) * 2)[:2]
                bad[(tag, a)].add((tag, b))
                bad[(tag, b)].add((tag, a))
        self.constrained = bool(bad)
        self.labels = [(("d", d.department), ("k", d.kind)) for d in ds]
        self.bad = [tuple(bad[la] | bad[lb]) if self.constrained else () for la, lb in self.labels]
        self._bound: int | None = None
        self._orient: dict[bool, tuple[list[int], list[int], list[int], list[int]]] = {}
        # The longest (shortened) window: a visit's window lies inside each member's, so it is never longer.
        self.span = max((self.e[i] - self.s[i] for i in self.mergeable), default=0)

    def compatible(self, i: int, members: Iterable[int]) -> bool:
        if not self.constrained:
            return True
        badi = self.bad[i]
        if not badi:
            return True
        for j in members:
            la, lb = self.labels[j]
            if la in badi or lb in badi:
                return False
        return True

    def conflict(self, i: int, j: int) -> bool:
        return self.constrained and not self.compatible(i, (j,))

    def window(self, group: Iterable[int]) -> tuple[int, int]:
        """The common (shortened) window of a group: [latest start, earliest end]; empty when lo > hi."""
        s, e = self.s, self.e
        lo, hi = -(10**9), 10**9
        for i in group:
            if s[i] > lo:
                lo = s[i]
            if e[i] < hi:
                hi = e[i]
        return lo, hi

    def cost_max(self, group: Iterable[int]) -> float:
        return max(self.h[i] for i in group)

    # -- the greedy --

    def greedy(
        self, mirror: bool = False, jitter: float = 0.0, rng: random.Random | None = None
    ) -> list[list[int]]:
        """Stabbing with capacity, in time order (or, ``mirror``, backwards from the year's end: the same argument
        holds with starts for ends, and the two often group long items differently). ``jitter`` (days, with
        ``rng``) blurs the fill order by end, for the restarts under compatibility rules."""
        cap = self.rules.max_items_per_visit
        h = self.h
        s, e, by_end, by_start = self._oriented(mirror)
        done = [False] * len(self.ds)
        heap: list[tuple[float, float, int, int]] = []
        p = 0
        groups: list[list[int]] = []
        n = len(by_start)
        noise = rng.random if rng is not None and jitter > 0 else None
        for j in by_end:
            if done[j]:
                continue
            day = e[j]
            while p < n and s[by_start[p]] <= day:
                i = by_start[p]
                key = e[i] + noise() * jitter if noise is not None else float(e[i])
                heapq.heappush(heap, (key, -h[i], self.ds[i].item, i))
                p += 1
            group = [j]
            done[j] = True
            skipped = []
            while heap and len(group) < cap:
                entry = heapq.heappop(heap)
                i = entry[3]
                if done[i]:
                    continue
                if self.compatible(i, group):
                    group.append(i)
                    done[i] = True
                else:
                    skipped.append(entry)
            for entry in skipped:
                heapq.heappush(heap, entry)
            groups.append(group)
        return groups

    def _oriented(self, mirror: bool) -> tuple[list[int], list[int], list[int], list[int]]:
        """Starts, ends and the demands sorted by end and by start, forwards or mirrored (computed once)."""
        got = self._orient.get(mirror)
        if got is None:
            s, e, h = self.s, self.e, self.h
            if mirror:
                s, e = [-x for x in e], [-x for x in s]
            by_end = sorted(self.mergeable, key=lambda i: (e[i], -h[i], self.ds[i].item))
            by_start = sorted(self.mergeable, key=lambda i: s[i])
            got = self._orient[mirror] = (s, e, by_end, by_start)
        return got

    # -- local search --

    def eliminate(self, groups: list[list[int]], bound: int) -> list[list[int]]:
        """Dissolve visits whose items all find a place elsewhere, directly (a visit with room whose window meets
        the item's) or by an ejection chain of length two (the item takes the place of an item ``b`` of a visit,
        and ``b`` moves into a third visit with room). Visits with room are tried, smallest first; stops at
        ``bound`` (a lower bound on the number of visits)."""
        cap = self.rules.max_items_per_visit
        live = [list(g) for g in groups]
        while len(live) > bound:
            wins = [self.window(g) for g in live]
            by_hi = sorted(range(len(live)), key=lambda k: wins[k][1])
            his = [wins[k][1] for k in by_hi]
            order = sorted(
                (k for k in range(len(live)) if len(live[k]) < cap), key=lambda k: (len(live[k]), wins[k][1])
            )
            for k in order:
                plan = self._dissolve(live, wins, by_hi, his, k)
                if plan is not None:
                    for kk, g in plan.items():
                        live[kk] = g
                    live[k] = []
                    break
            else:
                break
            live = [g for g in live if g]
        return live

    def _dissolve(
        self, live: list[list[int]], wins: list[tuple[int, int]], by_hi: list[int], his: list[int], k: int
    ) -> dict[int, list[int]] | None:
        cap = self.rules.max_items_per_visit
        s, e = self.s, self.e
        span = self.span
        tent: dict[int, list[int]] = {}
        twin: dict[int, tuple[int, int]] = {}

        def near(lo: int, hi: int) -> list[int]:
            """Visits whose (original) last day is in [lo, hi]: windows only shrink, so this is a superset."""
            return by_hi[bisect.bisect_left(his, lo) : bisect.bisect_right(his, hi)]

        def meets(i: int, lo: int, hi: int) -> bool:
            return max(lo, s[i]) <= min(hi, e[i])

        for i in sorted(live[k], key=lambda i: e[i] - s[i]):
            si, ei = s[i], e[i]
            placed = False
            # Direct: a visit with room whose window meets i's (its last day is then in [si, ei + span]).
            for w in near(si, ei + span):
                if w == k:
                    continue
                gw = tent.get(w, live[w])
                lo, hi = twin.get(w, wins[w])
                if len(gw) < cap and meets(i, lo, hi) and self.compatible(i, gw):
                    tent[w] = [*gw, i]
                    twin[w] = (max(lo, si), min(hi, ei))
                    placed = True
                    break
            if placed:
                continue
            # Chain: i replaces b in w (every other member of w meets i's window), b moves to x with room.
            for w in near(si - span, ei + span):
                gw = tent.get(w, live[w])
                if w == k or len(gw) < 2:
                    continue
                outside = [m for m in gw if e[m] < si or s[m] > ei]
                if len(outside) > 1:
                    continue
                for b in outside or gw:
                    rest = [m for m in gw if m != b]
                    lo_r, hi_r = self.window(rest)
                    if not meets(i, lo_r, hi_r) or not self.compatible(i, rest):
                        continue
                    for x in near(s[b], e[b] + span):
                        if x in (k, w):
                            continue
                        gx = tent.get(x, live[x])
                        lo, hi = twin.get(x, wins[x])
                        if len(gx) < cap and meets(b, lo, hi) and self.compatible(b, gx):
                            tent[w] = [*rest, i]
                            twin[w] = (max(lo_r, si), min(hi_r, ei))
                            tent[x] = [*gx, b]
                            twin[x] = (max(lo, s[b]), min(hi, e[b]))
                            placed = True
                            break
                    if placed:
                        break
                if placed:
                    break
            if not placed:
                return None
        return tent

    def improve_hours(self, groups: list[list[int]], passes: int = 4) -> list[list[int]]:
        """Moves and swaps that lower ``Σ max hours`` without adding a visit (a move that empties a visit removes
        it). Only the unique longest item ``a`` of a visit V can lower V's maximum; moving it into a visit W (if W
        has room) or swapping it for a shorter item ``b`` of W gains ``max V + max W − max(V − a + b) − max(W − b +
        a)``. Each pass tries, for every visit, the visits whose common window meets ``a``'s window, and applies the
        best gain."""
        cap = self.rules.max_items_per_visit
        h, s, e = self.h, self.s, self.e
        longest = max((e[i] - s[i] for g in groups for i in g), default=0)
        for _ in range(passes):
            improved = False
            wins = [self.window(g) for g in groups]
            order = sorted(range(len(groups)), key=lambda k: wins[k][1])
            his = [wins[k][1] for k in order]
            for k in range(len(groups)):
                g = groups[k]
                if not g:
                    continue
                a = max(g, key=lambda i: h[i])
                ha = h[a]
                rest = [i for i in g if i != a]
                v2 = max((h[i] for i in rest), default=0.0)
                if rest and v2 >= ha:
                    continue  # no unique longest item: nothing lowers V's maximum
                lo_r, hi_r = self.window(rest) if rest else (-(10**9), 10**9)
                sa, ea = s[a], e[a]
                best: tuple[float, int, int | None] | None = None
                for idx in range(bisect.bisect_left(his, sa), len(order)):
                    if his[idx] > ea + longest:
                        break
                    kw = order[idx]
                    w = groups[kw]
                    if kw == k or not w:
                        continue
                    lo_w, hi_w = wins[kw]
                    if lo_w > ea:
                        continue
                    mw = max(h[i] for i in w)
                    if len(w) < cap and max(lo_w, sa) <= min(hi_w, ea) and self.compatible(a, w):
                        gain = ha + mw - (v2 + max(mw, ha)) if rest else ha + mw - max(mw, ha)
                        if gain > 1e-9 and (best is None or gain > best[0]):
                            best = (gain, kw, None)
                    for bi in w:
                        hb = h[bi]
                        if hb >= ha:
                            continue
                        if max(lo_r, s[bi]) > min(hi_r, e[bi]):
                            continue
                        others = [i for i in w if i != bi]
                        lo_o, hi_o = self.window(others) if others else (-(10**9), 10**9)
                        if max(lo_o, sa) > min(hi_o, ea):
                            continue
                        m_o = max((h[i] for i in others), default=0.0)
                        gain = ha + mw - (max(v2, hb) + max(m_o, ha))
                        if gain <= 1e-9 or (best is not None and gain <= best[0]):
                            continue
                        if not self.compatible(bi, rest) or not self.compatible(a, others):
                            continue
                        best = (gain, kw, bi)
                if best is None:
                    continue
                _, kw, b_opt = best
                g.remove(a)
                groups[kw].append(a)
                if b_opt is not None:
                    groups[kw].remove(b_opt)
                    g.append(b_opt)
                for kk in (k, kw):
                    if groups[kk]:
                        wins[kk] = self.window(groups[kk])
                improved = True
            groups = [g for g in groups if g]
            if not improved:
                break
        return groups

    def lower_bound(self) -> int:
        """Visits needed without the compatibility rules: the greedy's count, optimal for that relaxation."""
        if self._bound is None:
            saved, self.constrained = self.constrained, False
            try:
                self._bound = len(self.greedy())
            finally:
                self.constrained = saved
        return self._bound

    def heuristic(self) -> list[list[int]]:
        """The greedy both ways in time, each improved by the local search; under compatibility rules, while the
        count is above the relaxation's bound, ``restarts`` more runs with the fill order blurred by up to
        ``_JITTER_DAYS`` days (seeded by the township, so a run is reproducible). The best (visits, then hours)."""
        rules = self.rules
        bound = self.lower_bound() if self.constrained else 0
        candidates: list[list[list[int]]] = []
        for mirror in (False, True) if rules.improve else (False,):
            groups = self.greedy(mirror)
            if rules.improve and self.constrained:
                groups = self.eliminate(groups, bound)
            candidates.append(groups)
        best_n = min(len(g) for g in candidates)
        if rules.improve and self.constrained and best_n > bound and rules.restarts:
            rng = random.Random(zlib.crc32(self.township.encode()))
            for r in range(rules.restarts):
                groups = self.greedy(r % 2 == 1, _JITTER_DAYS[r // 2 % len(_JITTER_DAYS)], rng)
                if len(groups) > best_n + _SKIP:
                    continue  # an elimination pass rarely saves three visits: not worth its time
                groups = self.eliminate(groups, bound)
                if len(groups) < best_n:
                    candidates, best_n = [groups], len(groups)
                    if best_n <= bound:
                        break
        best: list[list[int]] | None = None
        best_key = (0, 0.0)
        for groups in candidates:
            if len(groups) > best_n:
                continue
            if rules.improve:
                groups = self.improve_hours(groups)
            key = (len(groups), sum(max(self.h[i] for i in g) for g in groups))
            if best is None or key < best_key:
                best, best_key = groups, key
        assert best is not None
        return best + [[i] for i in range(len(self.ds)) if self.solo[i] or self.short[i]]

    # -- reasons --

    def unmerged(self, groups: list[list[int]]) -> list[Unmerged]:
        """A reason for every demand that is alone in its visit."""
        where: dict[int, int] = {}
        for k, g in enumerate(groups):
            for i in g:
                where[i] = k
        windows = [self.window(g) for g in groups]
        cap = self.rules.max_items_per_visit
        m = self.mergeable
        by_start = sorted(m, key=lambda i: self.s[i])
        starts = [self.s[i] for i in by_start]
        longest = max((self.e[i] - self.s[i] for i in m), default=0)
        out: list[Unmerged] = []
        for g in groups:
            if len(g) != 1:
                continue
            i = g[0]
            d = self.ds[i]
            if self.solo[i]:
                out.append(Unmerged(d.item, self.township, "solo_department", {"department": d.department}))
                continue
            if self.short[i]:
                out.append(
                    Unmerged(
                        d.item,
                        self.township,
                        "window_too_short",
                        {
                            "days": d.end.toordinal() - d.start.toordinal() + 1,
                            "min_days": self.rules.min_common_days,
                        },
                    )
                )
                continue
            si, ei = self.s[i], self.e[i]
            lo_k = bisect.bisect_left(starts, si - longest)
            hi_k = bisect.bisect_right(starts, ei)
            reasons: Counter[str] = Counter()
            examples: list[dict[str, Any]] = []
            for b in by_start[lo_k:hi_k]:
                if b == i or self.e[b] < si:
                    continue
                k = where[b]
                members = groups[k]
                if self.conflict(i, b) or not self.compatible(i, members):
                    why = "incompatible"
                elif len(members) >= cap:
                    why = "visit_full"
                elif max(windows[k][0], si) > min(windows[k][1], ei):
                    why = "window_conflict"
                else:
                    why = "kept_apart"
                reasons[why] += 1
                if len(examples) < 3:
                    examples.append({"item": self.ds[b].item, "reason": why})
            if not reasons:
                out.append(Unmerged(d.item, self.township, "no_overlap", {"neighbours": 0}))
                continue
            rank = {c: n for n, c in enumerate(UNMERGED_CODES)}
            code = max(reasons, key=lambda c: (reasons[c], -rank[c]))
            out.append(
                Unmerged(
                    d.item,
                    self.township,
                    code,
                    {"neighbours": sum(reasons.values()), "by_reason": dict(reasons), "examples": examples},
                )
            )
        return out

    def visits(self, groups: list[list[int]]) -> list[Visit]:
        rules = self.rules
        shift = rules.min_common_days - 1
        out: list[Visit] = []
        used: set[int] = set()
        wins = [(self.window(g), g) for g in groups]
        wins.sort(key=lambda w: (w[0][1], w[0][0], min(self.ds[i].item for i in w[1])))
        for (lo, hi_short), g in wins:
            hi = hi_short + shift  # the real common window ends m − 1 days after the last possible start
            if len(g) == 1:
                lo, hi = self.s[g[0]], self.e[g[0]] + shift
            day = _pick_day(lo, hi, used)
            used.add(day)
            ds = sorted((self.ds[i] for i in g), key=lambda d: d.item)
            hours = rules.visit_hours(d.hours for d in ds)
            lead = max(ds, key=lambda d: (d.comprehensive, d.hours, -d.item))
            separate = sum(d.hours for d in ds)
            params: dict[str, Any] = {
                "items": [d.item for d in ds],
                "departments": list(dict.fromkeys(d.department for d in ds)),
                "kinds": list(dict.fromkeys(d.kind for d in ds)),
                "from": date.fromordinal(lo).isoformat(),
                "to": date.fromordinal(hi).isoformat(),
                "day": date.fromordinal(day).isoformat(),
                "hours_separate": round(separate, 2),
                "hours": round(hours, 2),
                "saved": round(separate - hours, 2),
                "lead_department": lead.department,
                "lead_reason": "comprehensive" if lead.comprehensive else "hours",
                "share": rules.extra_item_share,
                "cap": rules.max_items_per_visit,
            }
            out.append(
                Visit(
                    township=self.township,
                    items=tuple(d.item for d in ds),
                    start=date.fromordinal(lo),
                    end=date.fromordinal(hi),
                    day=date.fromordinal(day),
                    lead_department=lead.department,
                    hours=round(hours, 4),
                    code="joint_visit" if len(ds) > 1 else "single_visit",
                    params=params,
                )
            )
        return out


def _pick_day(lo: int, hi: int, used: set[int]) -> int:
    """The first working day in [lo, hi] not yet used at this township, else the first working day, else ``lo``."""
    first_work: int | None = None
    for d in range(lo, min(hi, lo + 62) + 1):
        if date.fromordinal(d).weekday() < 5:
            if d not in used:
                return d
            if first_work is None:
                first_work = d
    return first_work if first_work is not None else lo


def _instances(demands: Sequence[Demand], rules: MergeRules) -> list[_Instance]:
    rules.check()
    by_t: dict[str, list[Demand]] = defaultdict(list)
    seen: set[tuple[int, str]] = set()
    for d in demands:
        key = (d.item, d.township)
        if key in seen:
            raise ValueError(f"事项 {d.item} 在乡镇 {d.township} 重复出现")
        seen.add(key)
        if d.end < d.start:
            raise ValueError(f"事项 {d.item} 的结束日期早于开始日期")
        if d.hours < 0 or not math.isfinite(d.hours):
            raise ValueError(f"事项 {d.item} 的预计时长无效")
        by_t[d.township].append(d)
    return [_Instance(t, by_t[t], rules) for t in sorted(by_t)]


def _result(
    parts: list[tuple[_Instance, list[list[int]]]],
    rules: MergeRules,
    exact: dict[str, ExactInfo] | None = None,
) -> MergeResult:
    visits: list[Visit] = []
    unmerged: list[Unmerged] = []
    per: dict[str, dict[str, Any]] = {}
    for inst, groups in parts:
        vs = inst.visits(groups)
        visits += vs
        unmerged += inst.unmerged(groups)
        per[inst.township] = {
            "before": len(inst.ds),
            "after": len(vs),
            "hours_before": round(sum(inst.h), 2),
            "hours_after": round(sum(v.hours for v in vs), 2),
        }
    stats: dict[str, Any] = {
        "townships": len(per),
        "visits_before": sum(p["before"] for p in per.values()),
        "visits_after": len(visits),
        "hours_before": round(sum(p["hours_before"] for p in per.values()), 2),
        "hours_after": round(sum(v.hours for v in visits), 2),
        "joint_visits": sum(1 for v in visits if len(v.items) > 1),
        "unmerged": dict(Counter(u.code for u in unmerged)),
        "per_township": per,
    }
    return MergeResult(visits=visits, unmerged=unmerged, stats=stats, exact=exact)


def merge_heuristic(demands: Sequence[Demand], rules: MergeRules | None = None) -> MergeResult:
    """Fast merge of every township's demands (greedy stabbing + local search)."""
    rules = rules or MergeRules()
    parts = [(inst, inst.heuristic()) for inst in _instances(demands, rules)]
    return _result(parts, rules)


# ---- exact ---------------------------------------------------------------------------------------------------

_HOUR_SCALE = 100  # CP-SAT works in integers: hours to the hundredth


def _solve_exact(
    inst: _Instance,
    time_limit_s: float,
    workers: int,
    hint: list[list[int]] | None,
    hours_time_limit_s: float | None,
) -> tuple[list[list[int]], ExactInfo]:
    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    cap = inst.rules.max_items_per_visit
    s, e, h = inst.s, inst.e, inst.h
    order = sorted(inst.mergeable, key=lambda i: (e[i], s[i], inst.ds[i].item))
    n = len(order)
    fixed = [[i] for i in range(len(inst.ds)) if inst.solo[i] or inst.short[i]]
    if n == 0:
        hours = sum(h[g[0]] for g in fixed)
        info = ExactInfo(len(inst.ds), True, len(fixed), len(fixed), True, hours, hours, "OPTIMAL", 0.0)
        return fixed, info
    hs = [round(h[i] * _HOUR_SCALE) for i in order]

    def build() -> tuple[Any, dict[tuple[int, int], Any], list[Any]]:
        model = cp_model.CpModel()
        x: dict[tuple[int, int], Any] = {}
        col: dict[int, list[int]] = defaultdict(list)  # j -> members i
        for a in range(n):
            ia = order[a]
            for b in range(a + 1):
                ib = order[b]
                # i = a may join the visit represented by j = b if it is open on b's last (shortened) day.
                if s[ia] <= e[ib] and (a == b or not inst.conflict(ia, ib)):
                    x[(a, b)] = model.new_bool_var(f"x{a}_{b}")
                    col[b].append(a)
        y = [x[(b, b)] for b in range(n)]
        for a in range(n):
            model.add_exactly_one(x[(a, b)] for b in range(a + 1) if (a, b) in x)
        for b in range(n):
            members = col[b]
            model.add(sum(x[(a, b)] for a in members) <= cap * y[b])
            for a in members:
                if a != b:
                    model.add_implication(x[(a, b)], y[b])
            if inst.constrained:
                for p, a1 in enumerate(members):
                    for a2 in members[p + 1 :]:
                        if a1 != b and a2 != b and inst.conflict(order[a1], order[a2]):
                            model.add_bool_or([x[(a1, b)].negated(), x[(a2, b)].negated()])
        # Interval cuts: the demands whose windows lie inside [a, b] can only join visits held on a day in [a, b],
        # i.e. represented by a demand whose (shortened) end is in [a, b]; those visits hold at most cap each. The
        # LP misses these roundings, and without them CP-SAT cannot prove even the greedy's optimum.
        ends = [e[order[b]] for b in range(n)]  # non-decreasing
        wins = sorted((s[order[a]], e[order[a]]) for a in range(n))
        starts = sorted({w[0] for w in wins})
        for lo in starts:
            inside = sorted(w[1] for w in wins if w[0] >= lo)
            last_need = 0
            for k, hi in enumerate(inside):
                if k + 1 < len(inside) and inside[k + 1] == hi:
                    continue
                need = -(-(k + 1) // cap)
                if need <= last_need:
                    continue
                last_need = need
                first = bisect.bisect_left(ends, lo)
                upto = bisect.bisect_right(ends, hi)
                if upto - first > need:
                    model.add(sum(y[first:upto]) >= need)
        model.add(sum(y) >= -(-n // cap))
        return model, x, y

    model, x, y = build()
    if hint:
        pos = {i: k for k, i in enumerate(order)}
        for g in hint:
            ks = sorted(pos[i] for i in g if i in pos)
            if not ks:
                continue
            rep = ks[0]
            for a in ks:
                if (a, rep) in x:
                    model.add_hint(x[(a, rep)], 1)
    model.minimize(sum(y))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit_s)
    solver.parameters.num_workers = workers
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RuntimeError(f"CP-SAT 未找到可行解（乡镇 {inst.township}）")
    optimal = status == cp_model.OPTIMAL
    t_visits = time.perf_counter() - t0
    v_best = round(solver.objective_value)
    v_bound = math.ceil(solver.best_objective_bound - 1e-6)

    def groups_of(solv: Any) -> list[list[int]]:
        gs: dict[int, list[int]] = defaultdict(list)
        for (a, b), var in x.items():
            if solv.value(var):
                gs[b].append(order[a])
        return list(gs.values())

    groups = groups_of(solver)
    hours_optimal = False
    m_total = sum(max(h[i] for i in g) for g in groups)
    m_bound = 0.0
    left = time_limit_s - (time.perf_counter() - t0)
    if hours_time_limit_s is not None:
        left = min(left, hours_time_limit_s)
    p2_status = "NOT_RUN"
    if left > 0.1:
        # Phase 2: the same number of visits, the fewest hours (Σ max hours; the shared part is constant).
        model.add(sum(y) == v_best)
        ms = []
        for b in range(n):
            mb = model.new_int_var(0, max(hs), f"m{b}")
            for a in range(n):
                if (a, b) in x:
                    model.add(mb >= hs[a] * x[(a, b)])
            ms.append(mb)
        model.clear_hints()
        start = {key: solver.value(var) for key, var in x.items()}
        if hint:
            # The heuristic's grouping, when it has the optimal number of visits and fewer hours, is the better start.
            pos = {i: k for k, i in enumerate(order)}
            hg = [sorted(pos[i] for i in g if i in pos) for g in hint]
            hg = [g for g in hg if g]
            phase1 = sum(max(h[i] for i in g) for g in groups) * _HOUR_SCALE
            if (
                len(hg) == v_best
                and all((a, g[0]) in x for g in hg for a in g)
                and sum(max(hs[a] for a in g) for g in hg) < phase1
            ):
                start = dict.fromkeys(x, 0)
                for g in hg:
                    for a in g:
                        start[(a, g[0])] = 1
        for key, var in x.items():
            model.add_hint(var, start[key])
        model.minimize(sum(ms))
        solver2 = cp_model.CpSolver()
        solver2.parameters.max_time_in_seconds = left
        solver2.parameters.num_workers = workers
        st2 = solver2.solve(model)
        p2_status = solver2.status_name(st2)
        if st2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            g2 = groups_of(solver2)
            t2 = sum(max(h[i] for i in g) for g in g2)
            if t2 <= m_total + 1e-9:
                groups, m_total = g2, t2
            hours_optimal = st2 == cp_model.OPTIMAL and optimal
            m_bound = solver2.best_objective_bound / _HOUR_SCALE
    if hint and not hours_optimal:
        # A multi-threaded search stopped by the clock may end above its own hint: keep the best grouping known.
        mergeable = set(order)
        hg = [[i for i in g if i in mergeable] for g in hint]
        hg = [g for g in hg if g]
        if len(hg) == len(groups):
            t_h = sum(max(h[i] for i in g) for g in hg)
            if t_h < m_total - 1e-9:
                groups, m_total = hg, t_h
    share = inst.rules.extra_item_share
    mergeable_hours = sum(h[i] for i in order)
    hours = share * mergeable_hours + (1 - share) * m_total + sum(h[g[0]] for g in fixed)
    hours_bound = share * mergeable_hours + (1 - share) * m_bound + sum(h[g[0]] for g in fixed)
    info = ExactInfo(
        demands=len(inst.ds),
        optimal=optimal,
        visits=v_best + len(fixed),
        visits_bound=v_bound + len(fixed),
        hours_optimal=hours_optimal,
        hours=round(hours, 4),
        hours_bound=round(hours_bound, 4),
        status=f"{solver.status_name(status)}/{p2_status}",
        wall_s=round(time.perf_counter() - t0, 3),
        visits_wall_s=round(t_visits, 3),
    )
    return groups + fixed, info


def merge_exact(
    demands: Sequence[Demand],
    rules: MergeRules | None = None,
    *,
    time_limit_s: float = 60.0,
    hours_time_limit_s: float | None = None,
    workers: int = 2,
    hint: bool = True,
) -> MergeResult:
    """Each township solved by CP-SAT (``time_limit_s`` per township for both phases; the hours phase gets what is
    left, at most ``hours_time_limit_s``), hinted with the heuristic.
    ``result.exact`` holds, per township, whether the number of visits (and the hours) were proven optimal and the
    solver's bounds."""
    rules = rules or MergeRules()
    parts: list[tuple[_Instance, list[list[int]]]] = []
    exact: dict[str, ExactInfo] = {}
    for inst in _instances(demands, rules):
        h = inst.heuristic() if hint else None
        groups, info = _solve_exact(inst, time_limit_s, workers, h, hours_time_limit_s)
        parts.append((inst, groups))
        exact[inst.township] = info
    return _result(parts, rules, exact)


def gap(heuristic: MergeResult, exact: MergeResult, *, optimal_only: bool = True) -> float:
    """Relative gap in visits, (heuristic − exact) / exact, over the townships the exact result covers (those proven
    optimal when ``optimal_only``)."""
    per_h = heuristic.stats["per_township"]
    per_e = exact.stats["per_township"]
    towns = [
        t for t in per_e if t in per_h and (not optimal_only or exact.exact is None or exact.exact[t].optimal)
    ]
    ve = sum(per_e[t]["after"] for t in towns)
    vh = sum(per_h[t]["after"] for t in towns)
    return (vh - ve) / ve if ve else 0.0


def gap_per_township(heuristic: MergeResult, exact: MergeResult) -> dict[str, float]:
    per_h = heuristic.stats["per_township"]
    out: dict[str, float] = {}
    for t, p in exact.stats["per_township"].items():
        if t in per_h and p["after"]:
            out[t] = (per_h[t]["after"] - p["after"]) / p["after"]
    return out
