"""Fixes for what the QA walk of the inspections pillar found (review headings, home links and placeholders, merging
never in the past, the township's upcoming visits, 一表通 due periods and reminders, the demo's year)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.test import Client
from django.utils import timezone

from gongzhi.inspections import datacatalog, ledger, sample_plans, visits
from gongzhi.inspections.models import (
    CatalogSubscription,
    InspectionItem,
    JointVisit,
    MergeRun,
    ReviewFlag,
    ReviewRun,
    VisitStatus,
)

from .factories_visits import entry, item, plan, run, submit, visit


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


# ---- 1. the review's group heading counts the rule's total, not the page ------------------------------------------


def test_review_group_heading_shows_the_rules_total(users: Any, tree: Any) -> None:
    year = timezone.localdate().year
    it = item(tree.dept, targets=[tree.t1], year=year)
    r = ReviewRun.objects.create(
        county=tree.county, year=year, stats={"items": 1, "by_rule": {"over_quota": 130}}
    )
    ReviewFlag.objects.bulk_create(
        [
            ReviewFlag(run=r, item=it, rule="over_quota", code="quota_year", params={"cap": 4}, townships=[])
            for _ in range(130)
        ]
    )
    page = (
        _client(users["county_office"])
        .get(f"/inspections/review/?year={year}&rule=over_quota")
        .content.decode()
    )
    heading = re.search(r'<h2 class="h3">[^<]*<span class="badge">(\d+)</span>', page)
    assert heading is not None and heading.group(1) == "130"  # 100 flags on the page, 130 in the run


# ---- 2 and 5. the department's home: a direct link for an out-of-plan item; no "P2 is coming" placeholders ----------


def test_department_home_links_straight_to_an_out_of_plan_item(users: Any, tree: Any) -> None:
    p = plan(tree.dept, year=timezone.localdate().year)
    page = _client(users["department_staff"]).get("/").content.decode()
    assert f'href="/inspections/{p.pk}/items/new/"' in page and "报送计划外事项" in page


def test_department_home_has_no_out_of_plan_link_before_the_plan_is_filed(users: Any, tree: Any) -> None:
    plan(tree.dept, year=timezone.localdate().year, status="draft")
    assert "报送计划外事项" not in _client(users["department_staff"]).get("/").content.decode()


def test_home_pages_no_longer_announce_the_inspections_pillar(users: Any) -> None:
    for who in ("county_office", "department_staff", "township_leader"):
        page = _client(users[who]).get("/").content.decode()
        for placeholder in (
            "督查检查计划与基层负担指数将在这里汇总",
            "年度督查计划将在这里列出",
            "检查安排和居民诉求",
        ):
            assert placeholder not in page, (who, placeholder)


# ---- 3. merging proposes days from today on ------------------------------------------------------------------------


def test_merge_never_schedules_a_day_in_the_past(users: Any, tree: Any) -> None:
    year = timezone.localdate().year
    today = dt.date(year, 6, 10)
    past = item(
        tree.dept,
        topic="春季检查",
        targets=[tree.t1, tree.t2],
        start=dt.date(year, 3, 1),
        end=dt.date(year, 3, 31),
        year=year,
    )
    open_ = item(
        tree.dept,
        topic="夏季检查",
        targets=[tree.t1],
        start=dt.date(year, 5, 1),
        end=dt.date(year, 7, 31),
        year=year,
    )
    later = item(
        tree.dept2,
        topic="秋季检查",
        targets=[tree.t1],
        start=dt.date(year, 9, 1),
        end=dt.date(year, 9, 30),
        year=year,
    )
    InspectionItem.objects.filter(pk__in=[past.pk, open_.pk, later.pk]).update(
        decided_at=timezone.now() - dt.timedelta(days=1)
    )
    made = visits.merge_run(
        actor=users["county_office"], county=tree.county, year=year, exact_reference=False, today=today
    )
    days = dict(JointVisit.objects.filter(run=made).values_list("items__id", "day"))
    assert past.pk not in days  # its window ended before today: not scheduled in the past
    assert days[open_.pk] >= today and days[later.pk] >= dt.date(year, 9, 1)
    assert made.stats["window_passed"]["pairs"] == 2 and made.stats["window_passed"]["items"] == [past.pk]
    # The run saw the passed item: it no longer waits for a merge.
    assert visits.pending_count(tree.county.pk, year) == 0
    page = _client(users["county_office"]).get(f"/visits/merge/?county={tree.county.code}&year={year}")
    assert "窗口已过" in page.content.decode()
    # Nor is it a visit in the burden ledger: after merging is what the run scheduled.
    led = ledger.build_ledger(user=users["county_office"], county=tree.county, year=year)
    assert led.total.merged is not None and led.total.merged.visits == made.visits_after == 2


def test_re_merge_keeps_the_past_and_plans_only_from_today(users: Any, tree: Any) -> None:
    year = timezone.localdate().year
    a = item(
        tree.dept,
        topic="甲检查",
        targets=[tree.t1],
        start=dt.date(year, 2, 1),
        end=dt.date(year, 11, 30),
        year=year,
    )
    b = item(
        tree.dept2,
        topic="乙检查",
        targets=[tree.t1],
        start=dt.date(year, 2, 1),
        end=dt.date(year, 11, 30),
        year=year,
    )
    first = visits.merge_run(
        actor=users["county_office"],
        county=tree.county,
        year=year,
        exact_reference=False,
        today=dt.date(year, 1, 1),
    )
    held = JointVisit.objects.get(run=first)
    assert held.day < dt.date(year, 6, 1)  # planned early in the year, not done, no findings
    second = visits.merge_run(
        actor=users["county_office"],
        county=tree.county,
        year=year,
        exact_reference=False,
        today=dt.date(year, 6, 1),
    )
    held.refresh_from_db()
    assert (
        held.run_id == second.pk and held.status == VisitStatus.PLANNED
    )  # kept as it was: it is in the past
    assert not JointVisit.objects.filter(run=second, day__lt=dt.date(year, 6, 1)).exclude(pk=held.pk).exists()
    assert second.stats["kept_visits"] == 1 and {a.pk, b.pk} == set(held.items.values_list("id", flat=True))


# ---- 6. the township's home lists the visits coming up, across the month's end --------------------------------------


def test_township_home_lists_the_next_visits_not_the_past_ones(users: Any, tree: Any) -> None:
    today = timezone.localdate()
    year = today.year
    r = run(tree.county, year=year)
    nxt = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    soon = nxt if (nxt - today).days <= 30 else today + dt.timedelta(days=1)
    a = item(tree.dept, topic="下月初的检查", targets=[tree.t1], year=year)
    b = item(tree.dept, topic="几天前的检查", targets=[tree.t1], year=year)
    c = item(tree.dept, topic="两个月后的检查", targets=[tree.t1], year=year)
    visit(r, tree.t1, tree.dept, [a], day=soon)
    visit(r, tree.t1, tree.dept, [b], day=today - dt.timedelta(days=2))
    visit(r, tree.t1, tree.dept, [c], day=today + dt.timedelta(days=45))
    page = _client(users["township_staff"]).get("/").content.decode()
    assert "近期联合督查" in page and a.code in page
    assert b.code not in page and c.code not in page
    MergeRun.objects.filter(pk=r.pk).update(active=False)
    assert "今后 30 天没有安排联合督查" in _client(users["township_staff"]).get("/").content.decode()


# ---- 7. 一表通: the period due, shown and reminded -------------------------------------------------------------------


def test_due_period_is_the_period_just_ended() -> None:
    nov = dt.date(2026, 11, 26)
    assert datacatalog.due_period("quarter", nov) == "2026Q3"
    assert datacatalog.due_period("quarter", dt.date(2027, 2, 1)) == "2026Q4"
    assert datacatalog.due_period("month", nov) == "2026-10"
    assert datacatalog.due_period("month", dt.date(2027, 1, 5)) == "2026-12"
    assert datacatalog.due_period("year", nov) == "2026"
    assert datacatalog.due_period("once", nov) == "once"
    assert datacatalog.current_period("quarter", nov) == "2026Q4"  # in progress, not yet due


def test_township_is_reminded_of_a_subscribed_data_set_it_owes(users: Any, tree: Any) -> None:
    due = datacatalog.due_period("quarter")
    owed = entry(tree.county, name="防返贫监测", period="quarter")
    CatalogSubscription.objects.create(entry=owed, department=tree.dept)
    entry(tree.county, name="没人订阅的数据", period="quarter")  # nobody uses it: no reminder
    c = _client(users["township_staff"])
    page = c.get("/").content.decode()
    assert "一表通：待报送数据" in page and "防返贫监测" in page and f"应报 {due} 期数据" in page
    assert "没人订阅的数据" not in page
    listing = c.get("/catalog/").content.decode()
    assert f"应报 {due}，未报送" in listing
    submit(owed, tree.t1, {"resident_pop": 1}, period=due)
    assert "一表通：待报送数据" not in c.get("/").content.decode()
    assert f"已报送 {due}" in c.get("/catalog/").content.decode()


# ---- 8. the demo plans the current year ----------------------------------------------------------------------------


def test_demo_sample_follows_the_current_year() -> None:
    this = timezone.localdate().year
    assert (this, this - 1) == (sample_plans.PLAN_YEAR, sample_plans.PREVIOUS_YEAR)
    assert sample_plans.sample_year(this) == sample_plans.SAMPLE_YEAR
    topics = {it.topic for it in sample_plans.items_for(this)}
    assert f"{this}年度乡镇安全生产和消防工作考核" in topics
    assert all(it.window(this)[0].year == this for it in sample_plans.items_for(this))


# ---- 9. the decisions table names the department next to its 序号 -----------------------------------------------------


def test_decisions_table_shows_department_with_each_sequence_number(users: Any, tree: Any) -> None:
    year = timezone.localdate().year
    item(tree.dept, topic="甲部门事项", targets=[tree.t1], status="pending", year=year)
    item(tree.dept2, topic="乙部门事项", targets=[tree.t1], status="pending", year=year)
    page = (
        _client(users["county_office"]).get(f"/inspections/decisions/?year={year}&show=all").content.decode()
    )
    assert "部门 · 序号" in page
    for dept in (tree.dept, tree.dept2):
        name = dept.short_name or dept.name
        assert re.search(rf"<td>{re.escape(name)} · 1</td>", page), name
