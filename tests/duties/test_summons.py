"""吹哨报到: the flow, the clock, bad input, permissions, overdue escalation, statistics, pages and API."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError
from gongzhi.core.models import AuditEvent, Department, DepartmentKind, User
from gongzhi.duties import summons as svc
from gongzhi.duties.models import (
    RatingIndicator,
    Summons,
    SummonsReport,
    SummonsRule,
    SummonsStatus,
    SummonsTarget,
)

from ..factories import DepartmentFactory, cadre
from .factories import make_list, tree_departments

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.get_fixed_timezone(480))


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _state() -> Any:
    """Everything a summons write can change (to prove a refused write changed nothing)."""
    return (
        list(
            Summons.objects.order_by("pk").values_list(
                "pk", "status", "issued_at", "closed_at", "closing_note"
            )
        ),
        list(
            SummonsTarget.objects.order_by("pk").values_list(
                "pk", "ack_due", "acknowledged_at", "escalated_at", "score", "rated_at"
            )
        ),
        list(SummonsReport.objects.order_by("pk").values_list("pk", "text")),
        AuditEvent.objects.count(),
    )


def _issue(users: dict[str, User], tree: Any, *, departments: list[Any] | None = None, **kw: Any) -> Summons:
    args: dict[str, Any] = {
        "ground": "joint_enforcement",
        "title": "东河村违建联合执法",
        "description": "村民反映违建，乡镇无执法权",
        "now": T0,
    }
    args.update(kw)
    return svc.summons_create(
        actor=users["township_leader"],
        township=tree.t1,
        department_ids=[d.pk for d in (departments or [tree.dept])],
        **args,
    )


@pytest.fixture
def dept2_staff(tree: Any) -> User:
    return cadre(department=tree.dept2, title="科员", username="dept2_staff")


# --- the whole flow --------------------------------------------------------------------------------------------------


def test_full_flow_clock_late_ack_reports_close_and_weighted_rating(
    users: dict[str, User], tree: Any, dept2_staff: User
) -> None:
    s = _issue(users, tree, departments=[tree.dept, tree.dept2])
    s.refresh_from_db()
    assert s.status == SummonsStatus.OPEN and s.issued_at == T0 and s.issued_by == users["township_leader"]
    assert s.ack_minutes == 30  # the default for 综合执法
    t_dept, t_dept2 = list(s.targets.order_by("id"))
    assert t_dept.ack_due == t_dept2.ack_due == T0 + timedelta(minutes=30)

    # 住建局 acknowledges in 10 minutes (on time); 应急局 first reports 45 minutes in: that is its (late) ack.
    svc.summons_acknowledge(
        actor=users["department_staff"], summons_id=s.pk, target_id=t_dept.pk, now=T0 + timedelta(minutes=10)
    )
    svc.summons_report(
        actor=dept2_staff,
        summons_id=s.pk,
        target_id=t_dept2.pk,
        kind="on_site",
        text="已到场",
        now=T0 + timedelta(minutes=45),
    )
    # 事不完、人不撤: reports go on until the township closes the matter.
    for i in range(2):
        svc.summons_report(
            actor=users["department_staff"],
            summons_id=s.pk,
            target_id=t_dept.pk,
            kind="written",
            text=f"进展 {i}",
            now=T0 + timedelta(minutes=60 + i),
        )
    t_dept.refresh_from_db()
    t_dept2.refresh_from_db()
    assert t_dept.acknowledged_at == T0 + timedelta(minutes=10) and not svc.target_late(t_dept)
    assert t_dept2.acknowledged_at == T0 + timedelta(minutes=45) and svc.target_late(t_dept2)
    assert t_dept2.acknowledged_by == dept2_staff
    assert svc.target_minutes_taken(t_dept, s) == 10.0 and svc.target_minutes_taken(t_dept2, s) == 45.0
    assert t_dept.reports.count() == 2 and t_dept2.reports.get().created_at == T0 + timedelta(minutes=45)

    view = svc.summons_view(users["township_leader"], svc.summons_get(users["township_leader"], s.pk))
    acks = [e for e in view.timeline if e.kind == "ack"]
    assert [e.late for e in acks] == [False, True]
    assert [e.kind for e in view.timeline][:2] == ["issued", "ack"]

    svc.summons_close(
        actor=users["township_staff"], summons_id=s.pk, closing_note="违建已拆除", now=T0 + timedelta(hours=3)
    )
    s.refresh_from_db()
    assert s.status == SummonsStatus.CLOSED and s.closing_note == "违建已拆除"

    rated = svc.summons_rate(
        actor=users["township_leader"],
        summons_id=s.pk,
        target_id=t_dept.pk,
        scores={"response_speed": 5, "cooperation": "4", "follow_through": 3},
        comment="响应及时",
    )
    # (5-1)/4*100*0.4 + (4-1)/4*100*0.3 + (3-1)/4*100*0.3 = 40 + 22.5 + 15
    assert rated.score == Decimal("77.50")
    assert rated.scores["cooperation"] == {"name": "协同配合", "weight": "0.30", "score": 4}
    actions = list(AuditEvent.objects.filter(action__startswith="summons.").values_list("action", flat=True))
    assert actions == [
        "summons.create",
        "summons.issue",
        "summons.acknowledge",
        "summons.acknowledge",
        "summons.report",
        "summons.report",
        "summons.report",
        "summons.close",
        "summons.rate",
    ]


def test_staff_draft_waits_for_the_leader(users: dict[str, User], tree: Any) -> None:
    s = svc.summons_create(
        actor=users["township_staff"],
        township=tree.t1,
        ground="resident_demand",
        title="河道垃圾",
        description="群众多次反映",
        department_ids=[tree.dept.pk],
    )
    assert s.status == SummonsStatus.DRAFT and s.issued_at is None
    assert s.targets.get().ack_due is None
    # A draft stays inside the township: the department and the county office do not see it yet.
    for role in ("department_staff", "county_office"):
        with pytest.raises(NotFoundError):
            svc.summons_get(users[role], s.pk)
        assert not svc.summons_list(users[role]).filter(pk=s.pk).exists()
    assert svc.summons_list(users["admin"], status="draft").get().pk == s.pk
    with pytest.raises(PermissionDeniedError):
        svc.summons_issue(actor=users["township_staff"], summons_id=s.pk)
    with pytest.raises(NotFoundError):
        svc.summons_acknowledge(
            actor=users["department_staff"], summons_id=s.pk, target_id=s.targets.get().pk
        )
    svc.summons_issue(actor=users["township_leader"], summons_id=s.pk, now=T0)
    s.refresh_from_db()
    assert s.status == SummonsStatus.OPEN and s.issued_by == users["township_leader"] and s.issued_at == T0
    assert s.targets.get().ack_due == T0 + timedelta(minutes=30)
    assert svc.summons_get(users["department_staff"], s.pk).pk == s.pk
    with pytest.raises(ServiceError, match="不能重复签发"):
        svc.summons_issue(actor=users["township_leader"], summons_id=s.pk)


def test_discard_a_draft(users: dict[str, User], tree: Any) -> None:
    def draft(actor: User) -> Summons:
        return svc.summons_create(
            actor=actor,
            township=tree.t1,
            ground="emergency",
            title="草稿",
            description="说明",
            department_ids=[tree.dept.pk],
        )

    other_staff = cadre(unit=tree.t1, title="干部", username="t1_other")
    a = draft(users["township_staff"])
    before = _state()
    with pytest.raises(PermissionDeniedError):
        svc.summons_discard(actor=other_staff, summons_id=a.pk)
    assert _state() == before
    svc.summons_discard(actor=users["township_staff"], summons_id=a.pk)  # the author withdraws it
    b = draft(users["township_staff"])
    svc.summons_discard(actor=users["township_leader"], summons_id=b.pk)
    assert not Summons.objects.filter(pk__in=[a.pk, b.pk]).exists()
    assert AuditEvent.objects.filter(action="summons.discard").count() == 2
    issued = _issue(users, tree)
    with pytest.raises(ServiceError, match="不能撤销"):
        svc.summons_discard(actor=users["township_leader"], summons_id=issued.pk)


def test_ack_limit_follows_the_county_rule_and_defaults(users: dict[str, User], tree: Any) -> None:
    assert _issue(users, tree, ground="emergency").ack_minutes == 15
    SummonsRule.objects.create(county=tree.county, ground="emergency", ack_minutes=5)
    SummonsRule.objects.create(county=tree.county_b, ground="resident_demand", ack_minutes=99)
    s = _issue(users, tree, ground="emergency")
    assert s.ack_minutes == 5 and s.targets.get().ack_due == T0 + timedelta(minutes=5)
    assert (
        _issue(users, tree, ground="resident_demand").ack_minutes == 30
    )  # another county's rule does not apply


def test_acknowledging_twice_changes_nothing(users: dict[str, User], tree: Any) -> None:
    s = _issue(users, tree)
    t = s.targets.get()
    svc.summons_acknowledge(actor=users["department_staff"], summons_id=s.pk, target_id=t.pk, now=T0)
    before = _state()
    svc.summons_acknowledge(
        actor=users["department_staff"], summons_id=s.pk, target_id=t.pk, now=T0 + timedelta(hours=1)
    )
    assert _state() == before


# --- bad input -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ground": "属地管理"}, "吹哨事由只能是"),
        ({"departments": []}, "请至少选择一个被吹哨的县直部门"),
        ({"departments": ["dept_b"]}, "不属于共治县"),
        ({"departments": ["inactive"]}, "已停用"),
        ({"departments": ["office"]}, "不是县直职能部门"),
        ({"departments": [999999]}, "不存在"),
        ({"title": "  "}, "请填写事项"),
        ({"description": ""}, "请填写情况说明"),
        ({"duty_item_id": 999999}, "不在本乡镇现行履职事项清单中"),
    ],
)
def test_create_refuses_bad_input(
    users: dict[str, User], tree: Any, change: dict[str, Any], message: str
) -> None:
    inactive = DepartmentFactory(county=tree.county, name="县已撤销局", active=False)
    named = {"dept_b": tree.dept_b, "inactive": inactive, "office": tree.office}
    args: dict[str, Any] = {
        "ground": "joint_enforcement",
        "title": "联合执法",
        "description": "说明",
        "department_ids": [tree.dept.pk],
    }
    depts = change.pop("departments", None)
    if depts is not None:
        args["department_ids"] = [named[d].pk if isinstance(d, str) else d for d in depts]
    args.update(change)
    before = _state()
    with pytest.raises(ServiceError, match=message):
        svc.summons_create(actor=users["township_leader"], township=tree.t1, **args)
    assert _state() == before


def test_duty_item_must_come_from_the_townships_current_list(users: dict[str, User], tree: Any) -> None:
    d = tree_departments(tree)
    other = make_list(tree.t2, tree.county, d)
    current = make_list(tree.t1, tree.county, d)
    with pytest.raises(ServiceError, match="不在本乡镇现行履职事项清单中"):
        _issue(users, tree, duty_item_id=other.items.order_by("id")[0].pk)
    item = current.items.get(name="农村危房改造")
    s = _issue(users, tree, duty_item_id=item.pk)
    assert s.duty_item == item
    assert set(svc.item_department_ids(item)) == {tree.dept.pk, tree.dept2.pk}  # lead + assisting


def test_nothing_after_close(users: dict[str, User], tree: Any) -> None:
    s = _issue(users, tree)
    t = s.targets.get()
    svc.summons_close(actor=users["township_leader"], summons_id=s.pk, closing_note="办结")
    before = _state()
    with pytest.raises(ServiceError, match="已办结的吹哨不能再报到"):
        svc.summons_report(
            actor=users["department_staff"],
            summons_id=s.pk,
            target_id=t.pk,
            kind="written",
            text="迟到的报告",
        )
    with pytest.raises(ServiceError, match="已办结的吹哨不能再报到"):
        svc.summons_acknowledge(actor=users["department_staff"], summons_id=s.pk, target_id=t.pk)
    with pytest.raises(ServiceError, match="已办结"):
        svc.summons_close(actor=users["township_leader"], summons_id=s.pk, closing_note="再次办结")
    assert _state() == before


def test_report_and_close_validation(users: dict[str, User], tree: Any) -> None:
    s = _issue(users, tree)
    t = s.targets.get()
    before = _state()
    with pytest.raises(ServiceError, match="到场报到或书面报告"):
        svc.summons_report(
            actor=users["department_staff"], summons_id=s.pk, target_id=t.pk, kind="photo", text="x"
        )
    with pytest.raises(ServiceError, match="请填写进展情况"):
        svc.summons_report(
            actor=users["department_staff"], summons_id=s.pk, target_id=t.pk, kind="written", text=" "
        )
    with pytest.raises(ServiceError, match="请填写办结说明"):
        svc.summons_close(actor=users["township_leader"], summons_id=s.pk, closing_note="")
    assert _state() == before


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ({"response_speed": 5, "cooperation": 4}, "请为每项指标打分（1–5 分）"),
        ({"response_speed": 0, "cooperation": 4, "follow_through": 4}, "请为每项指标打分（1–5 分）"),
        ({"response_speed": 6, "cooperation": 4, "follow_through": 4}, "请为每项指标打分（1–5 分）"),
        ({"response_speed": "很好", "cooperation": 4, "follow_through": 4}, "请为每项指标打分（1–5 分）"),
        ({"response_speed": 4.5, "cooperation": 4, "follow_through": 4}, "请为每项指标打分（1–5 分）"),
        ({"response_speed": 5, "cooperation": 4, "follow_through": 4, "attitude": 5}, "未知的评价指标"),
    ],
)
def test_rating_refuses_bad_scores(
    users: dict[str, User], tree: Any, scores: dict[str, Any], message: str
) -> None:
    s = _issue(users, tree)
    svc.summons_close(actor=users["township_leader"], summons_id=s.pk, closing_note="办结")
    before = _state()
    with pytest.raises(ServiceError, match=message):
        svc.summons_rate(
            actor=users["township_leader"], summons_id=s.pk, target_id=s.targets.get().pk, scores=scores
        )
    assert _state() == before


def test_rating_only_after_close_and_only_once(users: dict[str, User], tree: Any) -> None:
    s = _issue(users, tree)
    t = s.targets.get()
    good = {"response_speed": 1, "cooperation": 1, "follow_through": 1}
    with pytest.raises(ServiceError, match="办结后才能评价"):
        svc.summons_rate(actor=users["township_leader"], summons_id=s.pk, target_id=t.pk, scores=good)
    svc.summons_close(actor=users["township_leader"], summons_id=s.pk, closing_note="办结")
    with pytest.raises(PermissionDeniedError):
        svc.summons_rate(actor=users["county_office"], summons_id=s.pk, target_id=t.pk, scores=good)
    assert (
        svc.summons_rate(actor=users["township_staff"], summons_id=s.pk, target_id=t.pk, scores=good).score
        == 0
    )
    before = _state()
    with pytest.raises(ServiceError, match="每个部门只评价一次"):
        svc.summons_rate(actor=users["township_leader"], summons_id=s.pk, target_id=t.pk, scores=good)
    assert _state() == before


# --- configuration ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ack", "indicators", "message"),
    [
        (
            None,
            [{"name": "响应速度", "weight": "0.5"}, {"name": "办理成效", "weight": "0.4"}],
            "权重之和必须等于 1",
        ),
        (None, [{"name": " ", "weight": "1"}], "指标名称不能为空"),
        (None, [{"name": "响应速度", "weight": "0"}, {"name": "办理成效", "weight": "1"}], "大于 0"),
        (None, [{"name": "响应速度", "weight": "abc"}], "不是有效数字"),
        (None, [{"name": "响应速度", "weight": "0.333"}, {"name": "b", "weight": "0.667"}], "两位小数"),
        (None, [{"name": "甲", "weight": "0.5"}, {"name": "甲", "weight": "0.5"}], "重复"),
        (None, [], "至少需要一项"),
        ({"emergency": 0}, None, "1 到 10080"),
        ({"emergency": "半小时"}, None, "整数分钟"),
        ({"属地管理": 30}, None, "吹哨事由只能是"),
    ],
)
def test_settings_refuse_bad_input(
    users: dict[str, User], tree: Any, ack: Any, indicators: Any, message: str
) -> None:
    before = (list(SummonsRule.objects.values_list("pk")), list(RatingIndicator.objects.values_list("pk")))
    with pytest.raises(ServiceError, match=message):
        svc.summons_settings_update(
            actor=users["county_office"], county=tree.county, ack_minutes=ack, indicators=indicators
        )
    assert (
        list(SummonsRule.objects.values_list("pk")),
        list(RatingIndicator.objects.values_list("pk")),
    ) == before


def test_settings_change_limits_and_indicators(users: dict[str, User], tree: Any) -> None:
    for role in ("township_leader", "department_staff", "staffing_office"):
        with pytest.raises(PermissionDeniedError):
            svc.summons_settings_update(actor=users[role], county=tree.county, ack_minutes={"emergency": 5})
    svc.summons_settings_update(
        actor=users["county_office"],
        county=tree.county,
        ack_minutes={"emergency": 5},
        indicators=[
            {"key": "response_speed", "name": "响应速度", "weight": "0.5"},
            {"name": "群众满意", "weight": "0.5"},
        ],
    )
    active = svc.indicators_for(tree.county)
    assert [(i.name, i.weight) for i in active] == [
        ("响应速度", Decimal("0.50")),
        ("群众满意", Decimal("0.50")),
    ]
    # The defaults that were dropped stay as inactive rows; the new one got a generated key.
    assert set(RatingIndicator.objects.filter(active=False).values_list("key", flat=True)) == {
        "cooperation",
        "follow_through",
    }
    s = _issue(users, tree, ground="emergency")
    assert s.ack_minutes == 5
    svc.summons_close(actor=users["township_leader"], summons_id=s.pk, closing_note="办结")
    t = svc.summons_rate(
        actor=users["township_leader"],
        summons_id=s.pk,
        target_id=s.targets.get().pk,
        scores={"response_speed": 5, active[1].key: 3},
    )
    assert t.score == Decimal("75.00")  # 0.5 * 100 + 0.5 * 50
    assert svc.indicators_for(tree.county_b)[0].key == "response_speed"  # the other county keeps the defaults


# --- permissions -----------------------------------------------------------------------------------------------------


def test_visibility(users: dict[str, User], tree: Any, dept2_staff: User) -> None:
    s = _issue(users, tree)
    seen = {"admin", "county_office", "department_staff", "township_leader", "township_staff"}
    seen |= {"org_department", "discipline", "staffing_office"}
    for role, user in users.items():
        if user is None:
            continue
        listed = (
            svc.summons_list(user).filter(pk=s.pk).exists()
            if role not in {"village_committee", "resident", "org_rep"}
            else None
        )
        if role in seen:
            assert svc.summons_get(user, s.pk).pk == s.pk, role
            assert listed, role
        else:
            with pytest.raises(NotFoundError):
                svc.summons_get(user, s.pk)
            assert not listed, role
    # A department that was not summoned does not see it.
    with pytest.raises(NotFoundError):
        svc.summons_get(dept2_staff, s.pk)
    assert not svc.summons_list(dept2_staff).exists()
    for role in ("village_committee", "resident", "org_rep"):
        with pytest.raises(PermissionDeniedError):
            svc.summons_list(users[role])


def test_denied_writes_change_nothing(users: dict[str, User], tree: Any, dept2_staff: User) -> None:
    s = _issue(users, tree)
    t = s.targets.get()
    other = _issue(users, tree, departments=[tree.dept2])
    before = _state()
    hidden = [users["other_township_staff"], users["village_committee"], dept2_staff]
    for user in hidden:
        for call in (
            lambda u: svc.summons_acknowledge(actor=u, summons_id=s.pk, target_id=t.pk),
            lambda u: svc.summons_report(actor=u, summons_id=s.pk, target_id=t.pk, kind="written", text="x"),
            lambda u: svc.summons_close(actor=u, summons_id=s.pk, closing_note="x"),
            lambda u: svc.summons_issue(actor=u, summons_id=s.pk),
        ):
            with pytest.raises(NotFoundError):
                call(user)
    # Those who see it but may not act get 403.
    for role in ("county_office", "township_leader", "admin"):
        with pytest.raises(PermissionDeniedError):
            svc.summons_acknowledge(actor=users[role], summons_id=s.pk, target_id=t.pk)
        with pytest.raises(PermissionDeniedError):
            svc.summons_report(actor=users[role], summons_id=s.pk, target_id=t.pk, kind="written", text="x")
    for role in ("department_staff", "county_office", "admin"):
        with pytest.raises(PermissionDeniedError):
            svc.summons_close(actor=users[role], summons_id=s.pk, closing_note="x")
    for role in ("admin", "other_township_staff", "department_staff"):
        with pytest.raises(PermissionDeniedError):
            svc.summons_create(
                actor=users[role],
                township=tree.t1,
                ground="emergency",
                title="x",
                description="x",
                department_ids=[tree.dept.pk],
            )
    # A target of another summons is not reachable through this one.
    with pytest.raises(NotFoundError):
        svc.summons_acknowledge(
            actor=users["department_staff"], summons_id=s.pk, target_id=other.targets.get().pk
        )
    assert _state() == before


def test_pages_and_api_answer_404_for_others_summons(users: dict[str, User], tree: Any) -> None:
    s = _issue(users, tree)
    t = s.targets.get()
    c = _client(users["other_township_staff"])
    before = _state()
    assert c.get(f"/summons/{s.pk}/").status_code == 404
    assert c.post(f"/summons/{s.pk}/targets/{t.pk}/ack/").status_code == 404
    assert c.post(f"/summons/{s.pk}/close/", {"closing_note": "x"}).status_code == 404
    r = c.get(f"/api/v1/summons/{s.pk}")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert c.post(f"/api/v1/summons/{s.pk}/targets/{t.pk}/ack").status_code == 404
    assert c.post(f"/api/v1/summons/{s.pk + 1000}/issue").status_code == 404
    assert _state() == before


# --- overdue and escalation ------------------------------------------------------------------------------------------


def test_overdue_reaches_the_county_office_and_escalation_is_idempotent(
    users: dict[str, User], tree: Any, dept2_staff: User
) -> None:
    now = timezone.now()
    late = _issue(
        users, tree, departments=[tree.dept, tree.dept2], title="超时的吹哨", now=now - timedelta(hours=1)
    )
    fresh = _issue(users, tree, title="刚吹的哨", now=now)
    t_dept, t_dept2 = list(late.targets.order_by("id"))
    svc.summons_acknowledge(actor=dept2_staff, summons_id=late.pk, target_id=t_dept2.pk, now=now)

    office = _client(users["county_office"])
    home = office.get("/").content.decode()
    assert "超时的吹哨" in home and "超时未响应：县住房和城乡建设局" in home and "刚吹的哨" not in home
    listed = office.get("/summons/?overdue=1").content.decode()
    assert "超时的吹哨" in listed and "刚吹的哨" not in listed
    assert [x.pk for x in svc.summons_list(users["county_office"], overdue=True)] == [late.pk]
    api = office.get("/api/v1/summons?overdue=true").json()
    assert [x["id"] for x in api["items"]] == [late.pk] and api["items"][0]["overdue"] is True
    # The county office of the other county does not see it.
    office_b = Department.objects.create(
        county=tree.county_b, name="邻县减负办", kind=DepartmentKind.COUNTY_OFFICE
    )
    other_office = cadre(department=office_b)
    assert "超时的吹哨" not in _client(other_office).get("/").content.decode()

    assert svc.summons_escalate_overdue(now=now) == 1
    assert svc.summons_escalate_overdue(now=now) == 0
    assert svc.summons_escalate_overdue(now=now + timedelta(minutes=20)) == 0  # fresh is not yet due
    assert svc.summons_escalate_overdue(now=now + timedelta(minutes=31)) == 1
    t_dept.refresh_from_db()
    assert t_dept.escalated_at == now
    ev = AuditEvent.objects.filter(action="summons.escalate").order_by("seq")
    assert ev.count() == 2 and ev[0].actor_label == "system"
    assert fresh.targets.get().escalated_at is not None

    # Once acknowledged (late), it leaves the overdue list; the timeline keeps the late flag.
    svc.summons_acknowledge(actor=users["department_staff"], summons_id=late.pk, target_id=t_dept.pk)
    assert not svc.summons_list(users["county_office"], overdue=True, now=now).filter(pk=late.pk).exists()
    html = office.get(f"/summons/{late.pk}/").content.decode()
    assert "超时报到" in html and "已提请县减负办督办" in html


def test_stats_per_department_and_township(users: dict[str, User], tree: Any) -> None:
    acks = [10, 20, 60, None]  # minutes; the limit is 30
    for i, m in enumerate(acks):
        s = _issue(users, tree, title=f"第{i}次", now=T0)
        t = s.targets.get()
        if m is not None:
            svc.summons_acknowledge(
                actor=users["department_staff"],
                summons_id=s.pk,
                target_id=t.pk,
                now=T0 + timedelta(minutes=m),
            )
        svc.summons_close(
            actor=users["township_leader"], summons_id=s.pk, closing_note="办结", now=T0 + timedelta(hours=2)
        )
        svc.summons_rate(
            actor=users["township_leader"],
            summons_id=s.pk,
            target_id=t.pk,
            scores={"response_speed": 5 - i, "cooperation": 5 - i, "follow_through": 5 - i},
        )
    _issue(
        users, tree, departments=[tree.dept2], now=T0
    )  # another department, unanswered and still within time
    with CaptureQueriesContext(connection) as q:
        stats = svc.summons_stats(county=tree.county, now=T0 + timedelta(minutes=5))
    assert len(q) == 1
    by_dept = {d["department_id"]: d for d in stats["departments"]}
    d = by_dept[tree.dept.pk]
    assert (d["count"], d["acknowledged"], d["overdue"], d["rated"]) == (4, 3, 2, 4)
    assert d["median_ack_minutes"] == 20.0
    assert d["p90_ack_minutes"] == pytest.approx(20 + (60 - 20) * 0.8)
    assert d["avg_score"] == pytest.approx((100 + 75 + 50 + 25) / 4)
    d2 = by_dept[tree.dept2.pk]
    assert (d2["count"], d2["acknowledged"], d2["overdue"], d2["median_ack_minutes"]) == (1, 0, 0, None)
    (town,) = stats["townships"]
    assert town["township_id"] == tree.t1.pk and town["count"] == 5
    only = svc.summons_stats(county=tree.county, departments=[tree.dept2])
    assert [x["department_id"] for x in only["departments"]] == [tree.dept2.pk]
    assert svc.summons_stats(county=tree.county_b) == {"departments": [], "townships": []}


# --- home pages ------------------------------------------------------------------------------------------------------


def test_home_sections(users: dict[str, User], tree: Any) -> None:
    now = timezone.now()
    svc.summons_create(
        actor=users["township_staff"],
        township=tree.t1,
        ground="resident_demand",
        title="待签发的草稿",
        description="x",
        department_ids=[tree.dept.pk],
    )
    s = _issue(users, tree, title="等待报到", now=now)
    leader = _client(users["township_leader"]).get("/").content.decode()
    assert "草稿：待签发的草稿" in leader and "待您签发" in leader and "处置中：等待报到" in leader
    assert "已报到 0 / 1 个部门" in leader
    dept = _client(users["department_staff"]).get("/").content.decode()
    assert (
        "东河镇吹哨：等待报到" in dept and "剩余 30 分钟" in dept and f"#target-{s.targets.get().pk}" in dept
    )
    assert "待签发的草稿" not in dept


def test_home_query_count_stays_small(users: dict[str, User], tree: Any) -> None:
    for i in range(5):
        _issue(users, tree, title=f"吹哨{i}", now=timezone.now())
    for role in ("township_leader", "department_staff", "county_office"):
        c = _client(users[role])
        c.get("/")
        with CaptureQueriesContext(connection) as q:
            c.get("/")
        for i in range(10):
            _issue(users, tree, title=f"再吹{role}{i}", now=timezone.now() - timedelta(hours=2))
        with CaptureQueriesContext(connection) as q2:
            c.get("/")
        assert len(q2) == len(q), role


# --- pages -----------------------------------------------------------------------------------------------------------


def test_leader_issues_from_the_page_and_department_acks_in_one_click(
    users: dict[str, User], tree: Any
) -> None:
    leader = _client(users["township_leader"])
    form = leader.get("/summons/new/").content.decode()
    assert (
        "群众诉求乡镇难以独立解决" in form and "县住房和城乡建设局" in form and "县委县政府办公室" not in form
    )
    r = leader.post(
        "/summons/new/",
        {
            "township": tree.t1.pk,
            "ground": "emergency",
            "title": "山体滑坡险情",
            "description": "需应急部门到场",
            "departments": [tree.dept.pk],
        },
    )
    assert r.status_code == 303
    s = Summons.objects.get(title="山体滑坡险情")
    assert r["Location"] == f"/summons/{s.pk}/" and s.status == SummonsStatus.OPEN and s.ack_minutes == 15
    t = s.targets.get()

    dept = _client(users["department_staff"])
    page = dept.get(f"/summons/{s.pk}/").content.decode()
    assert f'action="/summons/{s.pk}/targets/{t.pk}/ack/"' in page
    assert f'action="/summons/{s.pk}/close/"' not in page
    listed = dept.get("/summons/").content.decode()
    assert f'action="/summons/{s.pk}/targets/{t.pk}/ack/"' in listed  # also one click from the list
    assert dept.post(f"/summons/{s.pk}/targets/{t.pk}/ack/").status_code == 303
    t.refresh_from_db()
    assert t.acknowledged_by == users["department_staff"]
    r = dept.post(f"/summons/{s.pk}/targets/{t.pk}/report/", {"kind": "on_site", "text": "已到场处置"})
    assert r.status_code == 303 and t.reports.get().text == "已到场处置"

    r = leader.post(f"/summons/{s.pk}/close/", {"closing_note": ""})
    assert r.status_code == 400 and "请填写办结说明" in r.content.decode()
    assert leader.post(f"/summons/{s.pk}/close/", {"closing_note": "险情排除"}).status_code == 303
    page = leader.get(f"/summons/{s.pk}/").content.decode()
    assert f'action="/summons/{s.pk}/targets/{t.pk}/rate/"' in page and "响应速度" in page
    r = leader.post(f"/summons/{s.pk}/targets/{t.pk}/rate/", {"score_response_speed": "5"})
    assert r.status_code == 400 and "请为每项指标打分（1–5 分）" in r.content.decode()
    r = leader.post(
        f"/summons/{s.pk}/targets/{t.pk}/rate/",
        {"score_response_speed": "5", "score_cooperation": "5", "score_follow_through": "5", "comment": "好"},
    )
    assert r.status_code == 303
    t.refresh_from_db()
    assert t.score == 100
    page = leader.get(f"/summons/{s.pk}/").content.decode()
    assert "评价 100 分" in page and "乡镇办结" in page and "险情排除" in page
    assert "乡镇评价 县住房和城乡建设局：100.00 分" in page  # the rating is on the timeline too


def test_new_form_errors_are_inline_and_keep_input(users: dict[str, User], tree: Any) -> None:
    r = _client(users["township_staff"]).post(
        "/summons/new/",
        {"township": tree.t1.pk, "ground": "emergency", "title": "保留的标题", "description": "说明"},
    )
    html = r.content.decode()
    assert r.status_code == 400 and "请至少选择一个被吹哨的县直部门" in html and 'value="保留的标题"' in html
    assert not Summons.objects.exists()


def test_item_partial_preselects_the_listed_departments(users: dict[str, User], tree: Any) -> None:
    dl = make_list(tree.t1, tree.county, tree_departments(tree))
    item = dl.items.get(name="建筑施工安全监管执法")  # reclaimed by 住建局
    c = _client(users["township_staff"])
    html = c.get(f"/summons/new/departments/?duty_item={item.pk}", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in html and "建筑施工安全监管执法" in html
    assert f'value="{tree.dept.pk}" checked' in html and f'value="{tree.dept2.pk}" checked' not in html
    coop = dl.items.get(name="农村危房改造")
    html = c.get(f"/summons/new/departments/?duty_item={coop.pk}").content.decode()
    assert f'value="{tree.dept.pk}" checked' in html and f'value="{tree.dept2.pk}" checked' in html
    # A township that is not the user's falls back to the user's own; its items are never offered.
    other = make_list(tree.t2, tree.county, tree_departments(tree))
    html = c.get(
        f"/summons/new/departments/?township={tree.t2.pk}&duty_item={other.items.order_by('id')[0].pk}"
    ).content.decode()
    assert "checked" not in html


def test_settings_page(users: dict[str, User], tree: Any) -> None:
    c = _client(users["county_office"])
    html = c.get("/summons/settings/").content.decode()
    assert "应急处置" in html and 'value="15"' in html and "协同配合" in html
    data = {
        "county": tree.county.code,
        "ack_resident_demand": "60",
        "ack_joint_enforcement": "30",
        "ack_emergency": "10",
        "ind_key": ["response_speed", "cooperation", "follow_through", ""],
        "ind_name": ["响应速度", "协同配合", "办理成效", ""],
        "ind_weight": ["0.4", "0.3", "0.2", ""],
    }
    r = c.post("/summons/settings/", data)
    assert (
        r.status_code == 400
        and "权重之和必须等于 1" in r.content.decode()
        and 'value="0.2"' in r.content.decode()
    )
    assert not SummonsRule.objects.exists()
    data["ind_weight"] = ["0.4", "0.3", "0.3", ""]
    assert c.post("/summons/settings/", data).status_code == 303
    assert svc.ack_minutes_for(tree.county, "resident_demand") == 60
    assert _client(users["township_leader"]).get("/summons/settings/").status_code == 403


def test_list_page_and_api_query_counts_are_bounded(
    users: dict[str, User], tree: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(3):
        _issue(users, tree, departments=[tree.dept, tree.dept2], title=f"甲{i}")
    c = _client(users["county_office"])
    c.get("/summons/")
    with CaptureQueriesContext(connection) as few:
        c.get("/summons/")
    with CaptureQueriesContext(connection) as few_api:
        c.get("/api/v1/summons")
    for i in range(60):
        _issue(users, tree, departments=[tree.dept, tree.dept2], title=f"乙{i}")
    with django_assert_max_num_queries(len(few)):
        html = c.get("/summons/").content.decode()
    assert "第 1 / 2 页" in html
    with django_assert_max_num_queries(len(few_api)):
        body = c.get("/api/v1/summons").json()
    assert body["count"] == 63 and len(body["items"]) == 50
    with django_assert_max_num_queries(10):
        c.get(f"/summons/{Summons.objects.first().pk}/")  # type: ignore[union-attr]


# --- API -------------------------------------------------------------------------------------------------------------


def test_api_flow(users: dict[str, User], tree: Any) -> None:
    leader = _client(users["township_leader"])
    r = leader.post(
        "/api/v1/summons",
        json.dumps(
            {
                "ground": "joint_enforcement",
                "title": "占道经营",
                "description": "需综合执法",
                "department_ids": [tree.dept.pk],
            }
        ),
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    sid, tid = body["id"], body["targets"][0]["id"]
    assert (
        body["status"] == "open"
        and body["township"]["code"] == tree.t1.code
        and body["targets"][0]["ack_due"]
    )
    bad = leader.post(
        "/api/v1/summons",
        json.dumps(
            {"ground": "属地管理", "title": "x", "description": "x", "department_ids": [tree.dept.pk]}
        ),
        content_type="application/json",
    )
    assert (
        bad.status_code == 400
        and bad.json()["code"] == "invalid_ground"
        and "吹哨事由只能是" in bad.json()["message"]
    )

    dept = _client(users["department_staff"])
    r = dept.post(f"/api/v1/summons/{sid}/targets/{tid}/ack")
    assert r.status_code == 200 and r.json()["acknowledged_at"] and r.json()["late"] is False
    r = dept.post(
        f"/api/v1/summons/{sid}/targets/{tid}/reports",
        json.dumps({"kind": "written", "text": "已函复"}),
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["kind_label"] == "书面报告"
    r = leader.post(
        f"/api/v1/summons/{sid}/targets/{tid}/rating",
        json.dumps({"scores": {"response_speed": 5, "cooperation": 5, "follow_through": 5}}),
        content_type="application/json",
    )
    assert r.status_code == 400 and r.json()["message"] == "吹哨办结后才能评价部门响应"
    r = leader.post(
        f"/api/v1/summons/{sid}/close",
        json.dumps({"closing_note": "已处置"}),
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["status"] == "closed"
    r = dept.post(
        f"/api/v1/summons/{sid}/targets/{tid}/reports",
        json.dumps({"kind": "written", "text": "补充"}),
        content_type="application/json",
    )
    assert r.status_code == 400 and r.json()["message"] == "已办结的吹哨不能再报到"
    r = leader.post(
        f"/api/v1/summons/{sid}/targets/{tid}/rating",
        json.dumps(
            {"scores": {"response_speed": 5, "cooperation": 3, "follow_through": 1}, "comment": "一般"}
        ),
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["score"] == "55.00"  # 0.4*100 + 0.3*50 + 0.3*0
    detail = dept.get(f"/api/v1/summons/{sid}").json()
    assert detail["targets"][0]["reports"][0]["text"] == "已函复" and detail["closing_note"] == "已处置"


def test_api_settings(users: dict[str, User], tree: Any) -> None:
    c = _client(users["county_office"])
    got = c.get("/api/v1/summons/settings").json()
    assert got["county_code"] == tree.county.code
    assert {g["ground"]: g["minutes"] for g in got["ack_minutes"]} == {
        "resident_demand": 30,
        "joint_enforcement": 30,
        "emergency": 15,
    }
    bad = c.put(
        "/api/v1/summons/settings",
        json.dumps(
            {
                "ack_minutes": {},
                "indicators": [{"name": "a", "weight": "0.7"}, {"name": "b", "weight": "0.2"}],
            }
        ),
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["code"] == "weights_sum"
    ok = c.put(
        "/api/v1/summons/settings",
        json.dumps({"ack_minutes": {"emergency": 20}, "indicators": [{"name": "响应", "weight": "1"}]}),
        content_type="application/json",
    )
    assert ok.status_code == 200
    assert [i["name"] for i in ok.json()["indicators"]] == ["响应"]
    assert {g["ground"]: g["configured"] for g in ok.json()["ack_minutes"]}["emergency"] is True
    assert c.get(f"/api/v1/summons/settings?county={tree.county_b.code}").status_code == 404
    admin = _client(users["admin"])
    assert admin.get(f"/api/v1/summons/settings?county={tree.county_b.code}").json()["county_name"] == "邻县"
