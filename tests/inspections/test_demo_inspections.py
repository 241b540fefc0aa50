"""The demo county ships a realistic year of 督查检查考核 plans: 20 departments in 2026 and in 2025, the review's
findings on them (asserted on the engine's real output), the county office's decisions, items still waiting, the
一表通 catalog, and 2025 recorded unmerged for the year-over-year ledger."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from gongzhi.core import demo
from gongzhi.core.imports import system_actor
from gongzhi.core.models import AdminUnit
from gongzhi.inspections import demo as inspections_demo
from gongzhi.inspections import sample_plans
from gongzhi.inspections.models import (
    CatalogEntry,
    DataSubmission,
    Finding,
    InspectionItem,
    InspectionPlan,
    ItemStatus,
    JointVisit,
    MergeRun,
    PlanStatus,
    ReviewFlag,
    ReviewRun,
)

from ..demo_snapshot import demo_county

YEAR, PREVIOUS = sample_plans.PLAN_YEAR, sample_plans.PREVIOUS_YEAR


@pytest.fixture(scope="module")
def built(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """One demo build for the whole module (it takes seconds), inside a transaction rolled back at the end; each
    test runs in a savepoint of it, so the tests see the same county and leave it as they found it."""
    with django_db_blocker.unblock(), transaction.atomic():
        assert demo_county(0.005)
        yield
        transaction.set_rollback(True)


@pytest.fixture
def county(built: None, db: None) -> AdminUnit:
    return AdminUnit.objects.get(code=demo.COUNTY_CODE)


def _decision_run() -> ReviewRun:
    """The run the county office decided on (the one its one-step approval of clean items made)."""
    return ReviewRun.objects.get(year=YEAR, stats__trigger="approve_clean")


def test_sample_plans_are_realistic_in_size() -> None:  # pure data: no database
    for year in (YEAR, PREVIOUS):
        depts = Counter(it.department for it in sample_plans.items_for(year))
        assert len(depts) == 20
        assert all(7 <= n <= 20 for n in depts.values()), depts
    assert 180 <= len(sample_plans.items_for(YEAR)) <= 220
    assert len(sample_plans.items_for(PREVIOUS)) >= len(sample_plans.items_for(YEAR))
    # Before the platform every item covered its whole group: more visits in 2025 than filed for 2026.
    assert sample_plans.onsite_visits(PREVIOUS) > sample_plans.onsite_visits(YEAR)


def test_both_years_have_plans_from_twenty_departments(county: AdminUnit) -> None:
    for year in (YEAR, PREVIOUS):
        plans = InspectionPlan.objects.filter(county=county, year=year)
        assert plans.count() == 20
        assert all(p.status == PlanStatus.FILED for p in plans)
        assert all(p.department.kind == "functional" for p in plans)
    assert InspectionItem.objects.filter(plan__year=YEAR).count() == len(sample_plans.items_for(YEAR))
    assert InspectionItem.objects.filter(plan__year=PREVIOUS).count() == len(sample_plans.items_for(PREVIOUS))


def test_review_finds_what_real_plans_contain(county: AdminUnit) -> None:
    flags = list(ReviewFlag.objects.filter(run=_decision_run()).select_related("item__plan"))
    rules = Counter(f.rule for f in flags)
    for rule in ("split", "over_quota", "trace_demand", "data_held", "comprehensive_quota"):
        assert rules[rule] >= 1, rules
    assert rules["duplicate"] + rules["near_duplicate"] >= 1
    items = {
        i.pk: i for i in InspectionItem.objects.filter(plan__year=YEAR).select_related("plan__department")
    }

    # A duplicate across departments: 住建局 and 应急局 both inspect 自建房 at every township in May–June.
    cross = [
        f
        for f in flags
        if f.rule in ("duplicate", "near_duplicate")
        and any(items[o].plan.department_id != f.item.plan.department_id for o in f.others)
    ]
    assert cross
    assert all(f.score is not None and f.score >= 40 for f in cross)
    topics = {(items[f.item_id].topic, items[o].topic) for f in cross for o in f.others}
    assert ("自建房安全专项整治检查", "自建房安全隐患排查整治检查") in topics

    # A split: several items of one department on one topic.
    splits = [f for f in flags if f.rule == "split"]
    assert all(items[o].plan_id == f.item.plan_id for f in splits for o in f.others)
    assert {"自建房安全专项整治检查", "经营性自建房安全专项整治“回头看”"} <= {
        items[f.item_id].topic for f in splits
    }

    # Trace demands name the material and what makes it a trace; materials with a legal basis are not refused.
    traces = [f for f in flags if f.rule == "trace_demand"]
    named = {m["material"] for f in traces for m in f.params["materials"]}
    assert {"现场照片", "签到表", "会议记录及照片", "工作台账", "学习笔记"} <= named
    assert "防汛责任人名单" not in named and "动物免疫档案" not in named

    # Data the townships already gave the catalog, with the reference that replaces the request.
    held = [f for f in flags if f.rule == "data_held"]
    labels = {d["field"] for f in held for d in f.params["fields"]}
    assert {"常住人口", "耕地面积", "在校学生数", "规上工业企业数"} & labels
    assert "地区生产总值" not in labels  # not in the catalog: still asked

    # Over quota: on-site items past the per-township cap, with the cap and the count.
    over = [f for f in flags if f.rule == "over_quota"]
    assert all(f.params["count"] > f.params["cap"] for f in over)

    # The second comprehensive inspection of 应急局 and of 农业农村局.
    comp = {items[f.item_id].plan.department.name for f in flags if f.rule == "comprehensive_quota"}
    assert comp == {"县应急管理局", "县农业农村局"}


def test_office_decisions_follow_the_flags(county: AdminUnit) -> None:
    items = InspectionItem.objects.filter(plan__year=YEAR)
    statuses = Counter(items.values_list("status", flat=True))
    assert statuses[ItemStatus.APPROVED] > 150
    assert statuses[ItemStatus.RETURNED] >= 2  # the split pieces and the second comprehensive inspections
    assert statuses[ItemStatus.PENDING] >= 10  # late plans and out-of-plan items wait for the office
    for item in items.exclude(status__in=[ItemStatus.APPROVED, ItemStatus.PENDING]):
        assert item.decision_note and item.decided_by is not None
    approved = items.filter(status=ItemStatus.APPROVED)
    assert all(i.code for i in approved)
    assert len({i.code for i in approved}) == approved.count()

    # Approval struck the trace demands (kept, marked) and turned held data into catalog references.
    struck = [m for i in approved for m in i.materials if m.get("removed") == "trace_demand"]
    assert struck and all(not m["basis"] for m in struck)
    kept_with_basis = [m for i in approved for m in i.materials if m.get("basis")]
    assert kept_with_basis and not any(m.get("removed") for m in kept_with_basis)
    refs = [d for i in approved for d in i.data_fields if d.get("ref")]
    assert refs and all(CatalogEntry.objects.filter(pk=d["ref"]["entry"]).exists() for d in refs)

    # The pieces of a split item go back to the department; the second comprehensive inspection too.
    returned = {i.topic for i in items.filter(status=ItemStatus.RETURNED)}
    assert "经营性自建房安全专项整治“回头看”" in returned
    assert any("综合性" in i.decision_note for i in items.filter(status=ItemStatus.RETURNED))

    # The same inspection filed by two departments: one runs it for both, the other is refused.
    refused = items.get(status=ItemStatus.REFUSED)
    assert refused.topic in ("秋冬季秸秆禁烧巡查", "秸秆禁烧巡查检查") and "重复" in refused.decision_note

    # Out-of-plan items: one approved, the rest waiting one by one.
    extra = items.filter(out_of_plan=True)
    assert extra.count() == len(sample_plans.items_for(YEAR, out_of_plan=True))
    assert extra.filter(status=ItemStatus.APPROVED).count() == 1
    assert extra.filter(status=ItemStatus.PENDING).exists()
    # The late plans are pending entirely, and the newest review covers them.
    for name in inspections_demo.LATE_DEPARTMENTS:
        late = items.filter(plan__department__name=name)
        assert late.exists() and set(late.values_list("status", flat=True)) == {ItemStatus.PENDING}
    newest = ReviewRun.objects.filter(year=YEAR).order_by("-id").first()
    assert (
        newest is not None
        and newest.stats["items"] == items.filter(status__in=["pending", "approved"]).count()
    )


def test_catalog_is_filled_by_the_townships(county: AdminUnit) -> None:
    entries = CatalogEntry.objects.filter(county=county)
    assert entries.count() == len(sample_plans.CATALOG)
    assert {"人口基本情况", "耕地与粮食生产", "安全生产重点企业", "学校与在校生", "养老服务机构"} <= set(
        entries.values_list("name", flat=True)
    )
    owed = sum(len(s.missing) for s in sample_plans.CATALOG)
    assert (
        DataSubmission.objects.filter(entry__county=county).count() == 12 * len(sample_plans.CATALOG) - owed
    )
    pop = DataSubmission.objects.filter(entry__name="人口基本情况").first()
    assert pop is not None and pop.values["resident_pop"] > 0 and pop.values["pop_65"] < pop.values["pop_60"]


def test_previous_year_is_recorded_unmerged(county: AdminUnit) -> None:
    items = InspectionItem.objects.filter(plan__year=PREVIOUS)
    assert set(items.values_list("status", flat=True)) == {ItemStatus.APPROVED}
    run = MergeRun.objects.get(county=county, year=PREVIOUS, active=True)
    expected = sum(len(s.targets) for s in sample_plans.items_for(PREVIOUS) if s.mode == "onsite")
    assert run.visits_before == run.visits_after == expected
    assert JointVisit.objects.filter(run=run).count() == expected
    assert all(v.window_start <= v.day <= v.window_end for v in JointVisit.objects.filter(run=run)[:200])
    # Trace demands were not struck in 2025: nothing reviewed them then.
    assert not any(m.get("removed") for i in items for m in i.materials)


def test_rerun_is_safe(county: AdminUnit) -> None:
    before = InspectionItem.objects.count(), ReviewRun.objects.count()
    assert demo.build_demo_county(scale=0.005) is False
    assert inspections_demo.build(county=county, system=system_actor()) == {}
    assert (InspectionItem.objects.count(), ReviewRun.objects.count()) == before


def test_merge_cuts_visits_by_half(county: AdminUnit) -> None:
    run = MergeRun.objects.get(county=county, year=YEAR, active=True)
    assert run.visits_after < run.visits_before
    assert 1 - run.visits_after / run.visits_before >= 0.5
    assert run.hours_after < run.hours_before
    visits = list(JointVisit.objects.filter(run=run).prefetch_related("items__plan"))
    assert len(visits) == run.visits_after
    joint = [v for v in visits if len(v.items.all()) > 1]
    assert joint and run.stats["joint_visits"] == len(joint)
    for v in visits:
        items = list(v.items.all())
        assert all(i.status == ItemStatus.APPROVED and i.mode == "onsite" for i in items)
        assert all(i.window_start <= v.day <= i.window_end for i in items)
        assert v.lead_department_id in {i.plan.department_id for i in items}
        assert v.reasons and v.reasons[0]["code"] in ("joint_visit", "single_visit")
    # Every approved on-site item reaches each of its townships exactly once.
    pairs = [(i.pk, v.township_id) for v in visits for i in v.items.all()]
    assert len(pairs) == len(set(pairs)) == run.visits_before


def test_visits_held_at_the_demo_township_have_findings(county: AdminUnit) -> None:
    home = AdminUnit.objects.get(positions__cadre__user__username="leader")
    run = MergeRun.objects.get(county=county, year=YEAR, active=True)
    done = JointVisit.objects.filter(run=run, township=home, status="done")
    assert done.exists()
    findings = Finding.objects.filter(visit__in=done).select_related("visit", "item")
    assert findings.exists()
    for f in findings:
        assert f.created_by is not None and f.item in f.visit.items.all()
        assert f.due is None or f.due >= f.visit.day


def test_a_returned_item_comes_back_reworked(county: AdminUnit) -> None:
    dept, topic = inspections_demo.RESUBMIT
    item = InspectionItem.objects.get(plan__year=YEAR, plan__department__name=dept, topic=topic)
    assert item.status == ItemStatus.PENDING and item.mode == "remote"
    assert item.decided_by is None and not item.decision_note
    # The newest review judged the reworked item: no trace demand is flagged on it any more.
    newest = ReviewRun.objects.filter(year=YEAR).order_by("-id").first()
    assert newest is not None
    assert not ReviewFlag.objects.filter(run=newest, item=item, rule="trace_demand").exists()


def test_departments_that_import_the_template_file_the_same_items(county: AdminUnit) -> None:
    from gongzhi.core.models import AuditEvent

    imported = set(inspections_demo.IMPORTED_DEPARTMENTS)
    assert AuditEvent.objects.filter(action="inspection_plan.import").count() == len(imported)
    specs = {(s.department, s.topic): s for s in sample_plans.planned_for(YEAR)}
    items = InspectionItem.objects.filter(
        plan__year=YEAR, plan__department__name__in=imported, out_of_plan=False
    ).select_related("plan__department")
    assert sorted((i.plan.department.name, i.topic) for i in items) == sorted(
        k for k in specs if k[0] in imported
    )
    for item in items:
        spec = specs[(item.plan.department.name, item.topic)]
        assert (item.kind, item.mode, item.comprehensive) == (spec.kind, spec.mode, spec.comprehensive)
        assert (item.window_start, item.window_end) == spec.window(YEAR)
        assert [(m["name"], m["basis"]) for m in item.materials] == [
            (m.name, m.basis) for m in spec.materials
        ]
        assert [d["label"] for d in item.data_fields] == list(spec.data)
        targets = spec.targets_in(YEAR)
        if targets == sample_plans.ALL:
            assert item.all_townships
        else:
            assert item.targets.count() == len(targets)


@pytest.mark.parametrize("year", [YEAR, PREVIOUS])
def test_ledger_reconciles_with_the_raw_rows(county: AdminUnit, year: int) -> None:
    """Every township's ledger row recomputed from the raw item, target and visit rows (no ledger code): as filed,
    after review and after merging; the departments' shares add up to the county's visits after merging."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from gongzhi.core.models import Level
    from gongzhi.inspections.ledger import build_ledger
    from gongzhi.inspections.models import InspectionTarget, JointVisitItem, VisitStatus

    admin = get_user_model().objects.create_superuser("ledger_check", password="x-" * 8)
    ledger = build_ledger(user=admin, county=county, year=year)
    towns = list(AdminUnit.objects.filter(level=Level.TOWNSHIP, code__startswith=county.code[:6]))
    items = list(
        InspectionItem.objects.filter(plan__county=county, plan__year=year, plan__status="filed").values_list(
            "pk", "mode", "township_hours", "all_townships", "status", "code_revoked_at"
        )
    )
    named: dict[int, set[int]] = {}
    for iid, tid in InspectionTarget.objects.filter(
        item__plan__county=county, item__plan__year=year
    ).values_list("item_id", "township_id"):
        named.setdefault(tid, set()).add(iid)
    run = MergeRun.objects.filter(county=county, year=year, active=True).first()
    visits = (
        JointVisit.objects.filter(run=run).exclude(status=VisitStatus.CANCELLED)
        if run
        else JointVisit.objects.none()
    )
    in_visit = set(
        JointVisitItem.objects.filter(visit__in=visits).values_list("item_id", "visit__township_id")
    )
    rows = {r.id: r for r in ledger.townships}
    assert set(rows) == {t.pk for t in towns}
    for t in towns:
        mine = [i for i in items if i[3] or i[0] in named.get(t.pk, set())]
        onsite = [i for i in mine if i[1] == "onsite"]
        approved = [i for i in onsite if i[4] == ItemStatus.APPROVED and i[5] is None]
        row = rows[t.pk]
        assert row.filed.visits == len(onsite), t.name
        assert row.filed.hours == sum((i[2] for i in mine), Decimal(0)), t.name
        assert row.reviewed.visits == len(approved), t.name
        if run is None:
            assert row.merged is None
            continue
        assert row.merged is not None
        unmerged = [i for i in approved if (i[0], t.pk) not in in_visit]
        assert row.merged.visits == visits.filter(township=t).count() + len(unmerged), t.name
    assert ledger.total.filed.visits == sum(r.filed.visits for r in rows.values())
    if run is not None:
        assert ledger.total.merged is not None
        depts = sum(Decimal(str(r.merged.visits)) for r in ledger.departments if r.merged is not None)
        assert abs(depts - Decimal(ledger.total.merged.visits)) < Decimal("0.000001")
