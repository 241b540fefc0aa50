"""merge_run: approved on-site items into joint visits, with reasons, the exact reference and re-merging that keeps
visits that already happened."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError
from gongzhi.core.models import AuditEvent
from gongzhi.inspections import visits as svc
from gongzhi.inspections.models import (
    Finding,
    InspectionSettings,
    ItemStatus,
    JointVisit,
    JointVisitItem,
    MergeRun,
    Mode,
    VisitStatus,
)

from .factories_visits import YEAR, item

D = dt.date


def _three_at_t1(tree: Any) -> dict[str, Any]:
    a = item(
        tree.dept,
        topic="农村危房改造检查",
        targets=[tree.t1],
        hours=3,
        start=D(YEAR, 4, 1),
        end=D(YEAR, 5, 31),
    )
    b = item(
        tree.dept2, topic="安全生产检查", targets=[tree.t1], hours=4, start=D(YEAR, 5, 1), end=D(YEAR, 6, 30)
    )
    c = item(
        tree.dept2,
        topic="防汛准备督查",
        all_townships=True,
        hours=2,
        start=D(YEAR, 5, 10),
        end=D(YEAR, 5, 20),
    )
    return {"a": a, "b": b, "c": c}


def test_merge_builds_joint_visits_with_reasons(users: Any, tree: Any) -> None:
    its = _three_at_t1(tree)
    # Not merged: pending, remote, refused, another year, a revoked code, a target outside the county.
    item(tree.dept, topic="待审", targets=[tree.t1], status=ItemStatus.PENDING)
    item(tree.dept, topic="远程", targets=[tree.t1], mode=Mode.REMOTE)
    item(tree.dept, topic="不批", targets=[tree.t1], status=ItemStatus.REFUSED)
    item(tree.dept, topic="明年", targets=[tree.t1], year=YEAR + 1)
    revoked = item(tree.dept, topic="撤码", targets=[tree.t1])
    revoked.code_revoked_at = revoked.created_at
    revoked.save()
    item(tree.dept, topic="外县", targets=[tree.tb])
    run = svc.merge_run(actor=users["county_office"], county=tree.county, year=YEAR)
    assert run.active and run.visits_before == 4 and run.visits_after == 2
    assert run.hours_before == Decimal("11.0")
    visits = {v.township_id: v for v in JointVisit.objects.filter(run=run)}
    t1 = visits[tree.t1.pk]
    assert set(JointVisitItem.objects.filter(visit=t1).values_list("item_id", flat=True)) == {
        its["a"].pk,
        its["b"].pk,
        its["c"].pk,
    }
    assert D(YEAR, 5, 10) <= t1.day <= D(YEAR, 5, 20) and t1.day.weekday() < 5
    assert t1.lead_department == tree.dept2  # the longest item leads
    assert t1.hours == Decimal("6.5")  # 4 + 0.5 × (3 + 2)
    assert t1.reasons[0]["code"] == "joint_visit" and t1.reasons[0]["params"]["saved"] == 2.5
    t2 = visits[tree.t2.pk]
    assert [r["code"] for r in t2.reasons] == ["single_visit", "no_overlap"]
    per = run.stats["per_township"]
    assert per[tree.t1.code]["before"] == 3 and per[tree.t1.code]["after"] == 1
    assert run.exact_visits == 2 and run.gap == 0.0 and run.stats["exact"]["optimal"] == 2
    ev = AuditEvent.objects.get(action="merge.run")
    assert ev.data["visits_before"] == 4 and ev.data["visits_after"] == 2


def test_separate_windows_stay_apart_and_say_why(users: Any, tree: Any) -> None:
    item(tree.dept, topic="甲", targets=[tree.t1], start=D(YEAR, 3, 1), end=D(YEAR, 3, 10))
    item(tree.dept2, topic="乙", targets=[tree.t1], start=D(YEAR, 9, 1), end=D(YEAR, 9, 10))
    run = svc.merge_run(actor=users["county_office"], county=tree.county, year=YEAR, exact_reference=False)
    assert run.visits_after == 2 and run.gap is None and run.exact_visits is None
    for v in JointVisit.objects.filter(run=run):
        assert [r["code"] for r in v.reasons] == ["single_visit", "no_overlap"]


def test_cap_and_solo_rules_from_county_settings(users: Any, tree: Any) -> None:
    for n in range(3):
        item(tree.dept, topic=f"住建{n}", targets=[tree.t1])
    item(tree.dept2, topic="应急", targets=[tree.t1])
    InspectionSettings.objects.create(
        county=tree.county,
        rules={"max_items_per_visit": 2, "solo_departments": [tree.dept2.pk], "unknown": 1},
    )
    run = svc.merge_run(actor=users["county_office"], county=tree.county, year=YEAR)
    assert run.visits_after == 3  # 住建 2 + 1, 应急 alone
    solo = [v for v in JointVisit.objects.filter(run=run) if v.lead_department_id == tree.dept2.pk]
    assert [r["code"] for r in solo[0].reasons] == ["single_visit", "solo_department"]
    assert run.stats["rules"]["solo_departments"] == [tree.dept2.name]


def test_only_the_county_office_merges(users: Any, tree: Any) -> None:
    _three_at_t1(tree)
    for role in ("department_staff", "township_leader", "org_department"):
        with pytest.raises((PermissionDeniedError, NotFoundError)):
            svc.merge_run(actor=users[role], county=tree.county, year=YEAR)
    with pytest.raises(NotFoundError):
        svc.merge_run(actor=users["county_office"], county=tree.county_b, year=YEAR)
    with pytest.raises(ServiceError):
        svc.merge_run(actor=users["county_office"], county=tree.t1, year=YEAR)
    with pytest.raises(ServiceError) as exc:
        svc.merge_run(actor=users["county_office"], county=tree.county, year="二〇二六")
    assert "年度" in exc.value.message
    with pytest.raises(ServiceError):
        svc.merge_run(actor=users["county_office"], county=tree.county, year=YEAR, method="magic")
    assert not MergeRun.objects.exists() and not JointVisit.objects.exists()
    assert not AuditEvent.objects.exists()


def test_remerge_keeps_visits_that_happened_and_their_findings(users: Any, tree: Any) -> None:
    its = _three_at_t1(tree)
    first = svc.merge_run(actor=users["county_office"], county=tree.county, year=YEAR)
    done = JointVisit.objects.get(run=first, township=tree.t1)
    svc.findings_record(
        actor=users["department_staff"] if done.lead_department == tree.dept else users["admin"],
        visit_id=done.pk,
        rows=[{"item_id": its["a"].pk, "text": "台账不全", "follow_up": "补齐", "due": D(YEAR, 8, 1)}],
        done=True,
    )
    t2_old = JointVisit.objects.get(run=first, township=tree.t2)
    late = item(
        tree.dept, topic="补充检查", targets=[tree.t1, tree.t2], start=D(YEAR, 5, 12), end=D(YEAR, 5, 15)
    )
    second = svc.merge_run(actor=users["county_office"], county=tree.county, year=YEAR)
    first.refresh_from_db()
    assert not first.active and second.active
    assert MergeRun.objects.filter(county=tree.county, year=YEAR, active=True).count() == 1
    done.refresh_from_db()
    assert done.run_id == second.pk and done.status == VisitStatus.DONE
    assert Finding.objects.filter(visit=done).count() == 1
    # The planned visit of the first run stays with it as history; t2 is planned afresh with the late item.
    assert JointVisit.objects.get(pk=t2_old.pk).run_id == first.pk
    new_t1 = JointVisit.objects.filter(run=second, township=tree.t1).exclude(pk=done.pk).get()
    assert list(JointVisitItem.objects.filter(visit=new_t1).values_list("item_id", flat=True)) == [late.pk]
    new_t2 = JointVisit.objects.get(run=second, township=tree.t2)
    assert set(JointVisitItem.objects.filter(visit=new_t2).values_list("item_id", flat=True)) == {
        its["c"].pk,
        late.pk,
    }
    assert second.visits_before == 6 and second.visits_after == 3
    assert second.stats["kept_visits"] == 1 and second.stats["superseded"] == [first.pk]
    # A finding cannot be written into a superseded plan.
    with pytest.raises(ServiceError) as exc:
        svc.findings_record(actor=users["admin"], visit_id=t2_old.pk, rows=[], done=True)
    assert "取代" in exc.value.message


def test_exact_method_stores_the_optimum(users: Any, tree: Any) -> None:
    _three_at_t1(tree)
    run = svc.merge_run(actor=users["county_office"], county=tree.county, year=YEAR, method="exact")
    assert run.method == "exact" and run.visits_after == 2 and run.exact_visits == 2
    assert JointVisitItem.objects.filter(visit__run=run).count() == 4


def test_empty_year_makes_an_empty_run(users: Any, tree: Any) -> None:
    run = svc.merge_run(actor=users["county_office"], county=tree.county, year=YEAR)
    assert run.visits_before == 0 and run.visits_after == 0 and run.gap is None


def test_a_concurrent_merge_is_refused_cleanly(users: Any, tree: Any, monkeypatch: Any) -> None:
    _three_at_t1(tree)
    real = svc._kept_visits

    def racing(county: Any, year: int) -> list[int]:
        # Another office clerk's merge commits its active run while this one is computing.
        MergeRun.objects.create(county=county, year=year, active=True)
        return real(county, year)

    monkeypatch.setattr(svc, "_kept_visits", racing)
    with pytest.raises(ServiceError) as exc:
        svc.merge_run(actor=users["county_office"], county=tree.county, year=YEAR)
    assert exc.value.code == "conflict"
    assert not JointVisit.objects.exists() and not AuditEvent.objects.exists()


def test_township_optimum_counts_the_visits_kept(users: Any, tree: Any) -> None:
    its = _three_at_t1(tree)
    first = svc.merge_run(actor=users["county_office"], county=tree.county, year=YEAR)
    JointVisit.objects.filter(run=first, township=tree.t1).update(status=VisitStatus.DONE)
    item(tree.dept, topic="补充", targets=[tree.t1], start=D(YEAR, 9, 1), end=D(YEAR, 9, 30))
    second = svc.merge_run(actor=users["county_office"], county=tree.county, year=YEAR)
    p = second.stats["per_township"][tree.t1.code]
    assert p["kept"] == 1 and p["after"] == 2
    assert p["exact"]["visits"] == 1 and p["exact"]["with_kept"] == 2
    assert its["a"].pk in JointVisitItem.objects.filter(visit__run=second).values_list("item_id", flat=True)


def _active_pairs(county: Any, year: int) -> list[tuple[int, int]]:
    return list(
        JointVisitItem.objects.filter(
            visit__run__county=county, visit__run__year=year, visit__run__active=True
        )
        .exclude(visit__status=VisitStatus.CANCELLED)
        .values_list("item_id", "visit__township_id")
    )


def test_every_approved_onsite_pair_is_in_exactly_one_active_visit_across_re_merges(
    users: Any, tree: Any
) -> None:
    """The merge's invariant, recomputed from the item rows: each approved, unrevoked on-site (item, township)
    pair sits in exactly one visit of the active run, nothing else does; a re-merge after more approvals, a
    revoked code and a withdrawn item keeps it (a visit that happened keeps its items as they were)."""
    from django.utils import timezone

    Y = timezone.localdate().year + 1  # every window in the future, whatever day the test runs
    office = users["county_office"]
    towns = [tree.t1, tree.t2]
    made = [
        item(
            tree.dept if n % 2 else tree.dept2,
            topic=f"专项检查{n}",
            targets=None if n % 3 == 0 else [towns[n % 2]],
            all_townships=n % 3 == 0,
            start=D(Y, 3, 1) + dt.timedelta(days=7 * n),
            end=D(Y, 3, 1) + dt.timedelta(days=7 * n + (0 if n % 4 == 0 else 20)),  # one-day windows too
            hours=0 if n == 5 else 2,
            year=Y,
        )
        for n in range(12)
    ]

    def expected() -> set[tuple[int, int]]:
        out = set()
        for i in type(made[0]).objects.filter(pk__in=[m.pk for m in made]):
            if i.status != ItemStatus.APPROVED or i.code_revoked_at is not None or i.mode != Mode.ONSITE:
                continue
            ts = towns if i.all_townships else [t for t in towns if i.targets.filter(pk=t.pk).exists()]
            out |= {(i.pk, t.pk) for t in ts}
        return out

    svc.merge_run(actor=office, county=tree.county, year=Y)
    pairs = _active_pairs(tree.county, Y)
    assert len(pairs) == len(set(pairs)) and set(pairs) == expected()
    # A visit happens; then a code is revoked, an item withdrawn, and two more are approved.
    happened = JointVisit.objects.filter(run__active=True, run__county=tree.county).order_by("day").first()
    assert happened is not None
    happened.status = VisitStatus.DONE
    happened.save(update_fields=["status"])
    kept = set(JointVisitItem.objects.filter(visit=happened).values_list("item_id", "visit__township_id"))
    in_happened = {i for i, _t in kept}
    others = [m for m in made if m.pk not in in_happened]
    revoked, withdrawn = others[0], others[1]
    type(revoked).objects.filter(pk=revoked.pk).update(code_revoked_at=timezone.now())
    type(withdrawn).objects.filter(pk=withdrawn.pk).update(status=ItemStatus.WITHDRAWN)
    made += [
        item(tree.dept, topic="补充检查甲", targets=[tree.t1], start=D(Y, 3, 10), end=D(Y, 3, 10), year=Y),
        item(
            tree.dept2, topic="补充检查乙", all_townships=True, start=D(Y, 12, 20), end=D(Y, 12, 31), year=Y
        ),
    ]
    svc.merge_run(actor=office, county=tree.county, year=Y)
    pairs = _active_pairs(tree.county, Y)
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == expected() | kept
    assert not {p for p in pairs if p[0] in (revoked.pk, withdrawn.pk)} - kept
