"""The review run through the real engine: when it runs, what it stores, what approval does with its flags, the
one-click approval of the clean items, county rule overrides and an engine failure."""

from __future__ import annotations

from typing import Any

import pytest

from gongzhi.core.errors import NotFoundError, PermissionDeniedError
from gongzhi.core.models import AuditEvent
from gongzhi.inspections import plans, review
from gongzhi.inspections.models import (
    CatalogEntry,
    DataSubmission,
    InspectionItem,
    InspectionSettings,
    ItemStatus,
    ReviewFlag,
    ReviewRun,
)

from .factories import YEAR, day, dept2_staff, first_item, item_input, make_plan


def newest(tree: Any) -> ReviewRun:
    run = ReviewRun.objects.filter(county=tree.county, year=YEAR).order_by("-id").first()
    assert run is not None
    return run


def rules_of(run: ReviewRun, item: InspectionItem) -> set[str]:
    return set(ReviewFlag.objects.filter(run=run, item=item).values_list("rule", flat=True))


def test_filing_runs_the_review_and_flags_duplicates_across_departments(users: Any, tree: Any) -> None:
    t1 = {"all_townships": False, "township_ids": [tree.t1.pk]}
    a = first_item(
        make_plan(
            users["department_staff"],
            tree.dept,
            items=[{"topic": "农村自建房安全专项检查", **t1}],
            filed=True,
        )
    )
    run1 = newest(tree)
    assert run1.stats["items"] == 1 and run1.stats["trigger"] == "file"
    b = first_item(
        make_plan(
            dept2_staff(tree), tree.dept2, items=[{"topic": "农村自建房安全隐患排查检查", **t1}], filed=True
        )
    )
    run2 = newest(tree)
    assert run2.pk > run1.pk and run2.stats["items"] == 2
    fa = ReviewFlag.objects.get(run=run2, item=a)
    fb = ReviewFlag.objects.get(run=run2, item=b)
    assert fa.rule in ("duplicate", "near_duplicate") and fa.others == [b.pk] and fb.others == [a.pk]
    assert fa.score is not None and fa.score >= 40
    assert fa.townships == [tree.t1.code] and fa.township_count == 1
    assert run2.stats["flagged_items"] == 2 and run2.stats["by_rule"][fa.rule] == 2
    sentence = review.describe_many([fa])[fa.pk]
    assert "县应急管理局「农村自建房安全隐患排查检查」（第 1 项）" in sentence and "东河镇" in sentence
    ev = AuditEvent.objects.filter(action="inspection_review.run", object_id=str(run2.pk)).get()
    assert ev.data["flags"] == 2 and ev.data["items"] == 2


def test_drafts_refused_withdrawn_and_revoked_items_are_not_reviewed(users: Any, tree: Any) -> None:
    staff, office = users["department_staff"], users["county_office"]
    make_plan(dept2_staff(tree), tree.dept2)  # a draft: never reviewed
    plan = make_plan(staff, tree.dept, items=[{}, {"topic": "b"}, {"topic": "c"}, {"topic": "d"}], filed=True)
    a, b, c, d = plan.items.order_by("seq")
    plans.item_decide(actor=office, item_id=a.pk, action="refuse", note="x")
    plans.item_decide(actor=office, item_id=b.pk, action="return", note="x")
    plans.item_delete(actor=staff, item_id=b.pk)
    plans.item_decide(actor=office, item_id=c.pk, action="approve")
    plans.code_revoke(actor=office, item_id=c.pk, reason="取消")
    run = review.review_run(actor=office, county=tree.county, year=YEAR)
    assert run is not None and run.stats["items"] == 1  # only d
    items, _ = review.collect(tree.county, YEAR)
    assert [i.pk for i in items] == [d.pk]


def test_trace_demands_and_approval(users: Any, tree: Any) -> None:
    plan = make_plan(
        users["department_staff"],
        tree.dept,
        items=[{"materials": "现场照片、签到表（依据：《安全生产法》第二十五条）、隐患整改情况说明"}],
        filed=True,
    )
    item = first_item(plan)
    run = newest(tree)
    flag = ReviewFlag.objects.get(run=run, item=item)
    assert flag.rule == "trace_demand"
    assert [m["material"] for m in flag.params["materials"]] == ["现场照片"]
    assert [n["item"] for n in run.stats["notes"]] == [item.pk]  # 签到表 cites a law: noted, not refused
    plans.item_decide(actor=users["county_office"], item_id=item.pk, action="approve")
    item.refresh_from_db()
    assert [m["name"] for m in item.materials if not m.get("removed")] == ["签到表", "隐患整改情况说明"]
    # The next run no longer sees the struck material.
    run2 = review.review_run(actor=users["county_office"], county=tree.county, year=YEAR)
    assert run2 is not None and not ReviewFlag.objects.filter(run=run2, item=item).exists()


def test_data_held_becomes_a_catalog_reference(users: Any, tree: Any) -> None:
    entry = CatalogEntry.objects.create(
        county=tree.county,
        name="乡镇基本情况",
        fields=[{"key": "resident_pop", "label": "常住人口", "unit": "人"}],
    )
    for t in (tree.t1, tree.t2):
        DataSubmission.objects.create(
            entry=entry, township=t, period=str(YEAR - 1), values={"resident_pop": 12000}
        )
    plan = make_plan(
        users["department_staff"], tree.dept, items=[{"data_fields": "常住人口、耕地面积"}], filed=True
    )
    item = first_item(plan)
    flag = ReviewFlag.objects.get(run=newest(tree), item=item, rule="data_held")
    assert flag.params["fields"][0]["field"] == "常住人口"
    plans.item_decide(actor=users["county_office"], item_id=item.pk, action="approve")
    item.refresh_from_db()
    assert item.data_fields == [
        {"label": "常住人口", "ref": {"entry": entry.pk, "field": "resident_pop"}},
        {"label": "耕地面积", "ref": None},
    ]


def test_over_quota_with_county_rules(users: Any, tree: Any) -> None:
    InspectionSettings.objects.create(county=tree.county, rules={"onsite_per_quarter": 1, "bogus": 3})
    t1 = {"all_townships": False, "township_ids": [tree.t1.pk]}
    plan = make_plan(
        users["department_staff"],
        tree.dept,
        items=[
            {"topic": "燃气安全检查", **t1},
            {"topic": "消防设施检查", "window_start": day(3, 10), **t1},
        ],
        filed=True,
    )
    a, b = plan.items.order_by("seq")
    run = newest(tree)
    assert "over_quota" in rules_of(run, b)
    assert "over_quota" not in rules_of(run, a)


def test_invalid_county_rules_fall_back_to_defaults(users: Any, tree: Any) -> None:
    InspectionSettings.objects.create(county=tree.county, rules={"duplicate_threshold": 500})
    make_plan(users["department_staff"], tree.dept, filed=True)
    assert newest(tree).stats["items"] == 1


def test_out_of_plan_and_resubmission_rerun(users: Any, tree: Any) -> None:
    staff = users["department_staff"]
    plan = make_plan(staff, tree.dept, filed=True)
    n = ReviewRun.objects.count()
    extra = plans.item_create(actor=staff, plan_id=plan.pk, data=item_input(topic="防汛检查"))
    assert ReviewRun.objects.count() == n + 1 and newest(tree).stats["trigger"] == "out_of_plan"
    plans.item_decide(actor=users["county_office"], item_id=extra.pk, action="return", note="请说明必要性")
    plans.item_update(actor=staff, item_id=extra.pk, data=item_input(topic="防汛检查", basis="《防洪法》"))
    assert newest(tree).stats["trigger"] == "resubmit"


def test_only_the_county_office_runs_on_demand(users: Any, tree: Any) -> None:
    make_plan(users["department_staff"], tree.dept, filed=True)
    n = ReviewRun.objects.count()
    with pytest.raises(PermissionDeniedError):
        review.review_run(actor=users["org_department"], county=tree.county, year=YEAR)
    with pytest.raises(NotFoundError):
        review.review_run(actor=users["department_staff"], county=tree.county, year=YEAR)
    with pytest.raises(NotFoundError):
        review.review_run(actor=users["county_office"], county=tree.county_b, year=YEAR)
    assert ReviewRun.objects.count() == n
    assert review.review_run(actor=users["county_office"], county=tree.county, year=YEAR) is not None


def test_approve_clean_in_one_call(users: Any, tree: Any) -> None:
    t1 = {"all_townships": False, "township_ids": [tree.t1.pk]}
    plan = make_plan(
        users["department_staff"],
        tree.dept,
        items=[
            {"topic": "建筑工地扬尘治理检查"},
            {"topic": "物业小区消防通道检查", "materials": "现场照片"},
            {"topic": "农村自建房安全专项检查", **t1},
        ],
        filed=True,
    )
    make_plan(
        dept2_staff(tree), tree.dept2, items=[{"topic": "农村自建房安全隐患排查检查", **t1}], filed=True
    )
    # A clean out-of-plan item is still decided one by one (一事一报).
    extra = plans.item_create(
        actor=users["department_staff"], plan_id=plan.pk, data=item_input(topic="秋季森林防火宣传检查", **t1)
    )
    a, b, c = plan.items.filter(out_of_plan=False).order_by("seq")
    result = plans.items_approve_clean(actor=users["county_office"], county=tree.county, year=YEAR)
    assert result.approved == 1
    for i in (a, b, c):
        i.refresh_from_db()
    assert a.status == ItemStatus.APPROVED and a.code
    assert b.status == c.status == ItemStatus.PENDING
    extra.refresh_from_db()
    assert extra.status == ItemStatus.PENDING and extra.code is None
    assert not ReviewFlag.objects.filter(run_id=result.run_id, item=extra).exists()  # clean, yet not in bulk
    ev = AuditEvent.objects.get(action="inspection_item.approve_clean")
    assert ev.data["items"] == [a.pk] and ev.data["approved"] == 1
    with pytest.raises(PermissionDeniedError):
        plans.items_approve_clean(actor=users["org_department"], county=tree.county, year=YEAR)
    with pytest.raises(NotFoundError):
        plans.items_approve_clean(actor=users["department_staff"], county=tree.county, year=YEAR)


def test_engine_failure_does_not_undo_the_filing(users: Any, tree: Any, monkeypatch: Any) -> None:
    def boom(*a: Any, **k: Any) -> Any:
        raise RuntimeError("engine bug")

    monkeypatch.setattr(review, "_run_engine", boom)
    plan = make_plan(users["department_staff"], tree.dept, filed=True)
    assert plan.status == "filed"
    assert not ReviewRun.objects.exists()
    # Nothing is clean when nothing was reviewed.
    assert (
        plans.items_approve_clean(actor=users["county_office"], county=tree.county, year=YEAR).approved == 0
    )
