"""Plans and items through the services: drafting, filing once, out-of-plan items, returned items, decisions,
codes and revocation; every bad input named in issue 4 refused with a Chinese error and nothing written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError
from gongzhi.core.models import AuditEvent
from gongzhi.inspections import codes, plans
from gongzhi.inspections.models import (
    InspectionItem,
    InspectionPlan,
    InspectionTarget,
    ItemStatus,
    PlanStatus,
    ReviewFlag,
    ReviewRun,
)

from .factories import YEAR, day, dept2_staff, first_item, item_input, make_plan


def audit_count(action: str = "") -> int:
    qs = AuditEvent.objects.all()
    return qs.filter(action=action).count() if action else qs.count()


def test_create_plan_add_items_and_file(users: Any, tree: Any) -> None:
    staff = users["department_staff"]
    plan = plans.plan_create(actor=staff, year=YEAR)
    assert plan.department == tree.dept and plan.county == tree.county and plan.status == PlanStatus.DRAFT
    a = plans.item_create(
        actor=staff,
        plan_id=plan.pk,
        data=item_input(all_townships=False, township_ids=[tree.t1.pk, tree.t2.pk], township_hours="3.5"),
    )
    b = plans.item_create(
        actor=staff, plan_id=plan.pk, data=item_input(topic="农村危房改造考核", kind="考核")
    )
    assert (a.seq, b.seq) == (1, 2)
    assert not a.all_townships and set(
        InspectionTarget.objects.filter(item=a).values_list("township_id", flat=True)
    ) == {tree.t1.pk, tree.t2.pk}
    assert b.kind == "assessment" and b.all_townships and not b.out_of_plan
    filed = plans.plan_file(actor=staff, plan_id=plan.pk)
    assert filed.status == PlanStatus.FILED and filed.filed_at is not None and filed.filed_by == staff
    assert set(plan.items.values_list("status", flat=True)) == {ItemStatus.PENDING}
    assert audit_count("inspection_plan.create") == 1
    assert audit_count("inspection_item.create") == 2
    assert audit_count("inspection_plan.file") == 1


def test_filing_twice_is_refused_with_the_date(users: Any, tree: Any) -> None:
    plan = make_plan(users["department_staff"], tree.dept, filed=True)
    before = audit_count()
    with pytest.raises(ServiceError) as e:
        plans.plan_file(actor=users["department_staff"], plan_id=plan.pk)
    assert e.value.code == "already_filed"
    assert "不能重复报送" in e.value.message and "一事一报" in e.value.message
    with pytest.raises(ServiceError) as e2:
        plans.plan_create(actor=users["department_staff"], department_id=tree.dept.pk, year=YEAR)
    assert e2.value.code == "already_filed"
    assert audit_count() == before
    assert InspectionPlan.objects.filter(department=tree.dept).count() == 1


def test_second_draft_for_the_same_year_is_refused(users: Any, tree: Any) -> None:
    plans.plan_create(actor=users["department_staff"], year=YEAR)
    with pytest.raises(ServiceError) as e:
        plans.plan_create(actor=users["department_staff"], year=YEAR)
    assert e.value.code == "duplicate" and "草稿" in e.value.message


def test_empty_plan_cannot_be_filed(users: Any, tree: Any) -> None:
    plan = make_plan(users["department_staff"], tree.dept, items=[])
    with pytest.raises(ServiceError, match="还没有事项"):
        plans.plan_file(actor=users["department_staff"], plan_id=plan.pk)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT


@pytest.mark.parametrize("year", [1999, YEAR + 2, "二〇二六", None])
def test_bad_year(users: Any, tree: Any, year: Any) -> None:
    with pytest.raises(ServiceError) as e:
        plans.plan_create(actor=users["department_staff"], year=year)
    assert e.value.detail == {"field": "year"}
    assert not InspectionPlan.objects.exists()


def test_only_functional_department_staff_file(users: Any, tree: Any) -> None:
    for role in ("county_office", "township_leader", "org_department", "resident"):
        with pytest.raises(PermissionDeniedError):
            plans.plan_create(actor=users[role], year=YEAR)
    with pytest.raises(PermissionDeniedError):
        plans.plan_create(actor=users["department_staff"], department_id=tree.dept2.pk, year=YEAR)
    with pytest.raises(ServiceError, match="不是在用的县直部门"):
        plans.plan_create(actor=users["admin"], department_id=tree.office.pk, year=YEAR)
    assert (
        plans.plan_create(actor=users["admin"], department_id=tree.dept2.pk, year=YEAR).department
        == tree.dept2
    )


BAD_ITEMS = [
    ({"window_start": day(5), "window_end": day(4)}, "window_end", "早于开始日期"),
    ({"window_start": None}, "window_start", "请填写开始日期"),
    ({"window_end": ""}, "window_end", "请填写结束日期"),
    ({"window_start": "2026-13-01"}, "window_start", "不是有效日期"),
    ({"window_start": dt.date(YEAR - 1, 12, 1)}, "window_start", f"都应在 {YEAR} 年内"),
    ({"kind": "巡查"}, "kind", "类型「巡查」无效"),
    ({"kind": ""}, "kind", "请选择类型"),
    ({"topic": "  "}, "topic", "请填写事项名称"),
    ({"topic": "查" * 201}, "topic", "不能超过 200 字"),
    ({"mode": "飞行"}, "mode", "方式「飞行」无效"),
    ({"township_hours": "三小时"}, "township_hours", "必须是数字"),
    ({"township_hours": -1}, "township_hours", "0 到 1000"),
    ({"all_townships": False, "township_ids": []}, "townships", "请选择对象乡镇"),
    ({"all_townships": False, "township_ids": [987654]}, "townships", "不存在"),
    ({"materials": [{"name": "台账" * 60}]}, "materials", "不能超过"),
]


@pytest.mark.parametrize(("change", "fld", "message"), BAD_ITEMS)
def test_bad_item_is_refused_and_nothing_written(
    users: Any, tree: Any, change: dict[str, Any], fld: str, message: str
) -> None:
    plan = make_plan(users["department_staff"], tree.dept, items=[])
    before = (audit_count(), InspectionItem.objects.count(), InspectionTarget.objects.count())
    with pytest.raises(ServiceError) as e:
        plans.item_create(actor=users["department_staff"], plan_id=plan.pk, data=item_input(**change))
    assert message in e.value.message
    assert e.value.detail["field"] == fld
    assert (audit_count(), InspectionItem.objects.count(), InspectionTarget.objects.count()) == before


def test_items_for_another_county_are_refused(users: Any, tree: Any) -> None:
    plan = make_plan(users["department_staff"], tree.dept, items=[])
    with pytest.raises(ServiceError) as e:
        plans.item_create(
            actor=users["department_staff"],
            plan_id=plan.pk,
            data=item_input(all_townships=False, township_ids=[tree.t1.pk, tree.tb.pk]),
        )
    assert "「邻镇」不是共治县的乡镇" in e.value.message
    # A village is not a township either.
    with pytest.raises(ServiceError, match="不存在"):
        plans.item_create(
            actor=users["department_staff"],
            plan_id=plan.pk,
            data=item_input(all_townships=False, township_ids=[tree.v11.pk]),
        )
    assert not InspectionItem.objects.exists()


def test_every_problem_is_listed(users: Any, tree: Any) -> None:
    clean, problems = plans.validate_item(
        item_input(kind="x", topic="", window_start=day(5), window_end=day(4), mode="y"),
        county=tree.county,
        year=YEAR,
    )
    assert clean is None
    assert {f for f, _ in problems.items} == {"kind", "topic", "window_end", "mode"}


def test_text_inputs_parse(users: Any, tree: Any) -> None:
    plan = make_plan(users["department_staff"], tree.dept, items=[])
    item = plans.item_create(
        actor=users["department_staff"],
        plan_id=plan.pk,
        data=item_input(
            kind="督查",
            mode="线上",
            window_start=f"{YEAR}年3月1日",
            window_end=f"{YEAR}.3.31",
            materials="安全生产台账、现场照片（依据：《安全生产法》第二十二条、第二十三条）；会议记录",
            data_fields="常住人口、耕地面积，常住人口",
            comprehensive="on",
        ),
    )
    assert (item.kind, item.mode, item.comprehensive) == ("supervision", "remote", True)
    assert (item.window_start, item.window_end) == (day(3), day(3, 31))
    assert item.materials == [
        {"name": "安全生产台账", "basis": ""},
        {"name": "现场照片", "basis": "《安全生产法》第二十二条、第二十三条"},
        {"name": "会议记录", "basis": ""},
    ]
    assert item.data_fields == [{"label": "常住人口", "ref": None}, {"label": "耕地面积", "ref": None}]
    assert plans.format_materials(item.materials) == (
        "安全生产台账、现场照片（依据：《安全生产法》第二十二条、第二十三条）、会议记录"
    )


def test_after_filing_new_items_are_out_of_plan(users: Any, tree: Any) -> None:
    plan = make_plan(users["department_staff"], tree.dept, filed=True)
    extra = plans.item_create(
        actor=users["department_staff"], plan_id=plan.pk, data=item_input(topic="汛期检查")
    )
    assert extra.out_of_plan and extra.status == ItemStatus.PENDING and extra.seq == 2
    assert not first_item(plan).out_of_plan
    ev = AuditEvent.objects.get(action="inspection_item.create", object_id=str(extra.pk))
    assert ev.data["out_of_plan"] is True


def test_edit_rules(users: Any, tree: Any) -> None:
    staff = users["department_staff"]
    plan = make_plan(staff, tree.dept)
    item = first_item(plan)
    plans.item_update(actor=staff, item_id=item.pk, data=item_input(topic="改名后的检查"))
    item.refresh_from_db()
    assert item.topic == "改名后的检查"
    plans.plan_file(actor=staff, plan_id=plan.pk)
    with pytest.raises(ServiceError, match="只能修改被退回的事项"):
        plans.item_update(actor=staff, item_id=item.pk, data=item_input(topic="再改"))
    plans.item_decide(actor=users["county_office"], item_id=item.pk, action="return", note="请补充依据")
    item.refresh_from_db()
    assert item.status == ItemStatus.RETURNED and item.decision_note == "请补充依据"
    plans.item_update(actor=staff, item_id=item.pk, data=item_input(topic="再改", basis="《安全生产法》"))
    item.refresh_from_db()
    assert item.status == ItemStatus.PENDING and item.decision_note == "" and item.basis == "《安全生产法》"
    assert audit_count("inspection_item.resubmit") == 1


def test_delete_in_draft_withdraw_after_filing(users: Any, tree: Any) -> None:
    staff = users["department_staff"]
    plan = make_plan(staff, tree.dept, items=[{}, {"topic": "第二项"}])
    a, b = plan.items.order_by("seq")
    assert plans.item_delete(actor=staff, item_id=a.pk) is None
    assert not InspectionItem.objects.filter(pk=a.pk).exists()
    plans.plan_file(actor=staff, plan_id=plan.pk)
    plans.item_decide(actor=users["county_office"], item_id=b.pk, action="return", note="与应急局重复")
    out = plans.item_delete(actor=staff, item_id=b.pk)
    assert out is not None and out.status == ItemStatus.WITHDRAWN
    with pytest.raises(ServiceError, match="不能撤回"):
        plans.item_delete(actor=staff, item_id=b.pk)
    assert audit_count("inspection_item.delete") == 1 and audit_count("inspection_item.withdraw") == 1


def test_other_department_cannot_touch(users: Any, tree: Any) -> None:
    other = dept2_staff(tree)
    plan = make_plan(users["department_staff"], tree.dept)
    item = first_item(plan)
    for call in (
        lambda: plans.item_create(actor=other, plan_id=plan.pk, data=item_input()),
        lambda: plans.item_update(actor=other, item_id=item.pk, data=item_input()),
        lambda: plans.item_delete(actor=other, item_id=item.pk),
        lambda: plans.plan_file(actor=other, plan_id=plan.pk),
    ):
        with pytest.raises(NotFoundError):
            call()
    # The county office reads the plan but does not edit it.
    with pytest.raises(PermissionDeniedError):
        plans.item_update(actor=users["county_office"], item_id=item.pk, data=item_input())
    item.refresh_from_db()
    assert item.topic == "安全生产大检查"


def test_decisions_and_codes(users: Any, tree: Any) -> None:
    staff, office = users["department_staff"], users["county_office"]
    plan = make_plan(staff, tree.dept, items=[{}, {"topic": "b"}, {"topic": "c"}], filed=True)
    a, b, c = plan.items.order_by("seq")
    approved = plans.item_decide(actor=office, item_id=a.pk, action="approve")
    assert (
        approved.status == ItemStatus.APPROVED
        and approved.code
        and codes.normalize(approved.code) == approved.code
    )
    assert approved.code.startswith(f"JC{YEAR % 100:02d}-")
    assert approved.decided_by == office and approved.decided_at is not None
    for action in ("return", "refuse"):
        with pytest.raises(ServiceError, match="理由"):
            plans.item_decide(actor=office, item_id=b.pk, action=action)
    plans.item_decide(actor=office, item_id=c.pk, action="refuse", note="属于拍照留痕式检查")
    c.refresh_from_db()
    assert c.status == ItemStatus.REFUSED and c.code is None
    with pytest.raises(ServiceError, match="不是待审核事项"):
        plans.item_decide(actor=office, item_id=a.pk, action="approve")
    with pytest.raises(ServiceError):
        plans.item_decide(actor=office, item_id=b.pk, action="maybe")
    assert plans.decider_office(approved) == tree.office.name
    assert audit_count("inspection_item.approve") == 1 and audit_count("inspection_item.refuse") == 1


def test_only_the_county_office_decides(users: Any, tree: Any) -> None:
    plan = make_plan(users["department_staff"], tree.dept, filed=True)
    item = first_item(plan)
    with pytest.raises(PermissionDeniedError):
        plans.item_decide(actor=users["department_staff"], item_id=item.pk, action="approve")
    with pytest.raises(PermissionDeniedError):
        plans.item_decide(actor=users["org_department"], item_id=item.pk, action="approve")
    with pytest.raises(NotFoundError):
        plans.item_decide(actor=users["township_leader"], item_id=item.pk, action="approve")
    item.refresh_from_db()
    assert item.status == ItemStatus.PENDING and item.code is None


def test_draft_items_are_not_decided(users: Any, tree: Any) -> None:
    plan = make_plan(users["department_staff"], tree.dept)
    with pytest.raises(ServiceError, match="不是待审核事项"):
        plans.item_decide(actor=users["county_office"], item_id=first_item(plan).pk, action="approve")


def test_revoke_code(users: Any, tree: Any) -> None:
    office = users["county_office"]
    plan = make_plan(users["department_staff"], tree.dept, filed=True)
    item = first_item(plan)
    with pytest.raises(ServiceError, match="没有事项码"):
        plans.code_revoke(actor=office, item_id=item.pk, reason="x")
    plans.item_decide(actor=office, item_id=item.pk, action="approve")
    with pytest.raises(ServiceError, match="撤销原因"):
        plans.code_revoke(actor=office, item_id=item.pk, reason=" ")
    with pytest.raises(PermissionDeniedError):
        plans.code_revoke(actor=users["department_staff"], item_id=item.pk, reason="取消")
    out = plans.code_revoke(actor=office, item_id=item.pk, reason="检查已取消")
    assert out.code_revoked_at is not None and out.code_revoked_reason == "检查已取消"
    with pytest.raises(ServiceError, match="已撤销"):
        plans.code_revoke(actor=office, item_id=item.pk, reason="again")
    code = out.code
    # The code stays on the item: it is never issued again.
    assert InspectionItem.objects.filter(code=code).count() == 1


def test_approval_strikes_trace_materials_and_references_held_data(users: Any, tree: Any) -> None:
    plan = make_plan(
        users["department_staff"],
        tree.dept,
        items=[
            {
                "materials": "安全生产台账、现场照片、签到表（依据：《某某条例》第五条）",
                "data_fields": "常住人口、耕地面积",
            }
        ],
        filed=True,
    )
    item = first_item(plan)
    run = ReviewRun.objects.create(county=tree.county, year=YEAR)
    ReviewFlag.objects.create(
        run=run,
        item=item,
        rule="trace_demand",
        code="trace_demand",
        params={
            "materials": [{"material": "现场照片", "terms": ["照片"], "categories": ["photo"]}],
            "count": 1,
        },
    )
    ReviewFlag.objects.create(
        run=run,
        item=item,
        rule="data_held",
        code="held",
        params={
            "fields": [
                {
                    "field": "常住人口",
                    "catalog_field": "常住人口",
                    "held": 2,
                    "of": 2,
                    "all": True,
                    "refs": ["7:resident_pop"],
                }
            ]
        },
    )
    plans.item_decide(actor=users["county_office"], item_id=item.pk, action="approve")
    item.refresh_from_db()
    assert item.materials == [
        {"name": "安全生产台账", "basis": ""},
        {"name": "现场照片", "basis": "", "removed": "trace_demand"},
        {"name": "签到表", "basis": "《某某条例》第五条"},
    ]
    assert item.data_fields == [
        {"label": "常住人口", "ref": {"entry": 7, "field": "resident_pop"}},
        {"label": "耕地面积", "ref": None},
    ]
    ev = AuditEvent.objects.get(action="inspection_item.approve", object_id=str(item.pk))
    assert ev.data["removed_materials"] == ["现场照片"] and ev.data["catalog_fields"] == ["常住人口"]
    assert "现场照片" not in plans.format_materials(item.materials)


def test_scopes(users: Any, tree: Any) -> None:
    other = dept2_staff(tree)
    mine = make_plan(users["department_staff"], tree.dept, filed=True)
    theirs = make_plan(
        other, tree.dept2, items=[{"all_townships": False, "township_ids": [tree.t2.pk]}], filed=True
    )
    assert list(plans.plan_list(user=users["department_staff"])) == [mine]
    assert set(plans.plan_list(user=users["county_office"])) == {mine, theirs}
    assert set(plans.plan_list(user=users["discipline"])) == {mine, theirs}
    for role in ("township_leader", "village_committee", "resident"):
        with pytest.raises(PermissionDeniedError):
            plans.plan_list(user=users[role])
    with pytest.raises(NotFoundError):
        plans.plan_get(user=users["department_staff"], pk=theirs.pk)
    # Townships read approved items aimed at them only.
    office = users["county_office"]
    a, b = first_item(mine), first_item(theirs)
    assert list(plans.item_list(user=users["township_leader"])) == []
    plans.item_decide(actor=office, item_id=a.pk, action="approve")
    plans.item_decide(actor=office, item_id=b.pk, action="approve")
    assert list(plans.item_list(user=users["township_leader"])) == [a]  # b targets 城关街道 only
    assert list(plans.item_list(user=users["other_township_staff"])) == []
    with pytest.raises(NotFoundError):
        plans.item_get(user=users["township_leader"], pk=b.pk)


def test_plan_list_counts_and_filters(users: Any, tree: Any) -> None:
    staff = users["department_staff"]
    plan = make_plan(staff, tree.dept, items=[{}, {"topic": "b"}], filed=True)
    plans.item_create(actor=staff, plan_id=plan.pk, data=item_input(topic="计划外"))
    a = first_item(plan)
    plans.item_decide(actor=users["county_office"], item_id=a.pk, action="return", note="重复")
    row = plans.plan_list(user=users["county_office"], year=YEAR).get()
    assert (row.n_items, row.n_pending, row.n_returned, row.n_out_of_plan) == (3, 2, 1, 1)
    assert list(plans.plan_list(user=users["county_office"], status="returned")) == [plan]
    assert list(plans.plan_list(user=users["county_office"], status="draft")) == []
    assert list(plans.plan_list(user=users["county_office"], flagged=True)) == []
    run = ReviewRun.objects.create(county=tree.county, year=YEAR)
    ReviewFlag.objects.create(run=run, item=a, rule="duplicate", code="dup")
    assert list(plans.plan_list(user=users["county_office"], flagged=True)) == [plan]
    assert plans.flag_counts([row]) == {plan.pk: 1}
    # A newer run without flags is the one in force.
    ReviewRun.objects.create(county=tree.county, year=YEAR)
    assert list(plans.plan_list(user=users["county_office"], flagged=True)) == []
