"""The task gate end to end through the services, the pages and the API: every outcome with its explanation, the
county's approval only with a resource grant, objections, bad input and scoping."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError
from gongzhi.core.models import AuditEvent
from gongzhi.duties import gate
from gongzhi.duties.models import ResourceGrant, Task, TaskContest, TaskStatus

from .factories import make_list, tree_departments

FUTURE = dt.date.today() + dt.timedelta(days=30)


@pytest.fixture
def lists(tree: Any) -> Any:
    d = tree_departments(tree)
    return make_list(tree.t1, tree.county, d), make_list(tree.t2, tree.county, d)


def send(users: dict[str, Any], tree: Any, title: str, content: str, **kw: Any) -> Task:
    kw.setdefault("township_ids", [tree.t1.pk])
    (task,) = gate.task_send(
        actor=users["department_staff"], title=title, content=content, deadline=FUTURE, expected_hours=4, **kw
    )
    return task


CASES = [
    (
        "开展低保对象申请受理和入户调查",
        "受理辖区居民最低生活保障申请，开展入户调查和初审",
        "admitted",
        "农村低保对象申请受理与初审",
    ),
    (
        "农村危房改造对象公示和竣工验收",
        "配合开展农村危房鉴定、改造对象公示和竣工验收",
        "assistance",
        "农村危房改造",
    ),
    (
        "建筑工地施工安全违法行为行政处罚",
        "对辖区建筑工地施工安全违法行为实施行政处罚",
        "refused",
        "建筑施工安全监管执法",
    ),
    ("完成年度招商引资签约指标", "各乡镇须引进亿元以上招商项目两个并完成签约", "held", None),
]


@pytest.mark.parametrize(("title", "content", "outcome", "item"), CASES)
def test_each_outcome_with_its_explanation(
    users: Any, tree: Any, lists: Any, title: str, content: str, outcome: str, item: str | None
) -> None:
    task = send(users, tree, title, content)
    assert task.outcome == outcome, task.explanation
    assert (
        task.status
        == {"admitted": "admitted", "assistance": "assistance", "refused": "refused", "held": "held"}[outcome]
    )
    text = task.explanation["explanation"]
    assert text
    if item:
        assert item in text
        assert task.matched_item is not None and task.matched_item.name == item
    else:
        assert task.matched_item is None
    assert AuditEvent.objects.filter(action="task.send", object_id=str(task.pk)).exists()


@pytest.mark.parametrize("label", ["属地管理", "工作专班", "责任状"])
def test_labels_do_not_change_the_outcome(users: Any, tree: Any, lists: Any, label: str) -> None:
    plain = send(users, tree, CASES[2][0], CASES[2][1])
    dressed = send(users, tree, f"{label}：{CASES[2][0]}", f"按照{label}要求，{CASES[2][1]}")
    assert plain.outcome == dressed.outcome == "refused"


def test_splitting_an_off_list_task_does_not_slip_through(users: Any, tree: Any, lists: Any) -> None:
    parts = [
        ("招商引资签约指标（一）", "各乡镇须引进亿元以上招商项目一个"),
        ("招商引资签约指标（二）", "各乡镇须完成招商项目签约一个"),
    ]
    assert {send(users, tree, t, c).outcome for t, c in parts} == {"held"}


def test_county_approves_off_list_task_only_with_a_grant(users: Any, tree: Any, lists: Any) -> None:
    task = send(users, tree, CASES[3][0], CASES[3][1])
    office = users["county_office"]
    with pytest.raises(ServiceError) as e:
        gate.task_decide(actor=office, task_id=task.pk, approve=True)
    assert "费随事转" in e.value.message
    assert Task.objects.get(pk=task.pk).status == TaskStatus.HELD and not ResourceGrant.objects.exists()
    gate.task_decide(actor=office, task_id=task.pk, approve=True, funds="12.5", staff=1, powers="")
    task.refresh_from_db()
    assert task.status == TaskStatus.APPROVED and task.decided_by == office
    grant = ResourceGrant.objects.get(task=task)
    assert grant.funds == Decimal("12.50") and grant.staff == 1
    with pytest.raises(ServiceError):  # decided once
        gate.task_decide(actor=office, task_id=task.pk, approve=False, note="x")


def test_county_refusal_needs_a_reason(users: Any, tree: Any, lists: Any) -> None:
    task = send(users, tree, CASES[3][0], CASES[3][1])
    with pytest.raises(ServiceError):
        gate.task_decide(actor=users["county_office"], task_id=task.pk, approve=False)
    gate.task_decide(actor=users["county_office"], task_id=task.pk, approve=False, note="不属于乡镇职责")
    assert Task.objects.get(pk=task.pk).status == TaskStatus.DENIED


@pytest.mark.parametrize("who", ["department_staff", "township_leader", "staffing_office", "discipline"])
def test_only_the_county_office_decides(users: Any, tree: Any, lists: Any, who: str) -> None:
    task = send(users, tree, CASES[3][0], CASES[3][1])
    with pytest.raises(PermissionDeniedError):
        gate.task_decide(actor=users[who], task_id=task.pk, approve=True, funds=1)
    assert Task.objects.get(pk=task.pk).status == TaskStatus.HELD


def test_other_county_cannot_even_see_the_task(users: Any, tree: Any, lists: Any) -> None:
    task = send(users, tree, CASES[3][0], CASES[3][1])
    with pytest.raises(NotFoundError):
        gate.task_decide(actor=users["other_township_staff"], task_id=task.pk, approve=True, funds=1)
    with pytest.raises(NotFoundError):
        gate.task_get(user=users["other_township_staff"], pk=task.pk)


def test_township_contests_and_county_upholds(users: Any, tree: Any, lists: Any) -> None:
    task = send(users, tree, CASES[0][0], CASES[0][1])
    with pytest.raises(ServiceError):
        gate.task_contest(actor=users["township_staff"], task_id=task.pk, reason=" ")
    gate.task_contest(actor=users["township_staff"], task_id=task.pk, reason="该事项应由民政部门承担")
    with pytest.raises(ServiceError):
        gate.task_contest(actor=users["township_leader"], task_id=task.pk, reason="再次")
    with pytest.raises(PermissionDeniedError):
        gate.contest_decide(actor=users["department_staff"], task_id=task.pk, uphold=True)
    gate.contest_decide(actor=users["county_office"], task_id=task.pk, uphold=True)
    task.refresh_from_db()
    assert task.status == TaskStatus.WITHDRAWN
    assert TaskContest.objects.get(task=task).status == "upheld"


def test_refused_task_cannot_be_contested(users: Any, tree: Any, lists: Any) -> None:
    task = send(users, tree, CASES[2][0], CASES[2][1])
    with pytest.raises(ServiceError):
        gate.task_contest(actor=users["township_staff"], task_id=task.pk, reason="x")


def test_bad_input_is_refused_whole(users: Any, tree: Any, lists: Any) -> None:
    actor = users["department_staff"]
    base = {
        "title": "低保入户调查",
        "content": "开展入户调查",
        "expected_hours": 2,
        "township_ids": [tree.t1.pk],
    }
    bad = [
        ({**base, "deadline": dt.date.today() - dt.timedelta(days=1)}, "完成时限不能早于今天"),
        ({**base, "content": "  ", "deadline": FUTURE}, "任务内容"),
        ({**base, "title": "", "deadline": FUTURE}, "任务名称"),
        ({**base, "deadline": "2026-13-40"}, "格式不正确"),
        ({**base, "deadline": FUTURE, "expected_hours": -1}, "工时"),
        ({**base, "deadline": FUTURE, "expected_hours": "abc"}, "工时"),
        ({**base, "deadline": FUTURE, "township_ids": [tree.t1.pk, tree.tb.pk]}, "不在"),
        ({**base, "deadline": FUTURE, "township_ids": []}, "乡镇"),
        ({**base, "deadline": FUTURE, "township_ids": [tree.v11.pk]}, "不存在"),
    ]
    for kwargs, message in bad:
        with pytest.raises(ServiceError) as e:
            gate.task_send(actor=actor, **kwargs)
        assert message in e.value.message, (kwargs, e.value.message)
    assert not Task.objects.exists()


@pytest.mark.parametrize("who", ["township_leader", "county_office", "resident", "staffing_office"])
def test_only_departments_send(users: Any, tree: Any, lists: Any, who: str) -> None:
    with pytest.raises(PermissionDeniedError):
        gate.task_send(
            actor=users[who],
            title="x",
            content="y",
            deadline=FUTURE,
            expected_hours=1,
            township_ids=[tree.t1.pk],
        )
    assert not Task.objects.exists()


def test_one_task_many_townships_each_judged_on_its_own_list(users: Any, tree: Any) -> None:
    d = tree_departments(tree)
    make_list(tree.t1, tree.county, d)  # T2 has no list yet
    tasks = gate.task_send(
        actor=users["department_staff"],
        title=CASES[0][0],
        content=CASES[0][1],
        deadline=FUTURE,
        expected_hours=1,
        township_ids=[tree.t1.pk, tree.t2.pk],
    )
    by_town = {t.township_id: t for t in tasks}
    assert by_town[tree.t1.pk].outcome == "admitted"
    assert by_town[tree.t2.pk].outcome == "held"
    assert "尚无现行" in by_town[tree.t2.pk].explanation["explanation"]


def test_cited_item_that_fits_decides_and_one_that_does_not_goes_to_county(
    users: Any, tree: Any, lists: Any
) -> None:
    t1_list = lists[0]
    fire = t1_list.items.get(name="森林防火宣传与巡查")
    good = send(
        users, tree, "森林防火宣传和护林员巡山", "组织森林防火宣传教育，落实护林员巡山", cited_item_id=fire.pk
    )
    assert good.outcome == "admitted" and good.cited_item_id == fire.pk
    bad = send(users, tree, CASES[3][0], CASES[3][1], cited_item_id=fire.pk)
    assert bad.outcome == "held" and bad.rule == "cited_mismatch"
    assert "森林防火宣传与巡查" in bad.explanation["explanation"]
    other_list_item = lists[1].items.first()
    with pytest.raises(ServiceError):
        send(users, tree, "x", "y", cited_item_id=other_list_item.pk)


def test_scoping_of_lists(users: Any, tree: Any, lists: Any) -> None:
    task = send(users, tree, CASES[0][0], CASES[0][1])
    assert list(gate.task_list(user=users["township_staff"], box="inbox")) == [task]
    assert list(gate.task_list(user=users["department_staff"], box="sent")) == [task]
    assert list(gate.task_list(user=users["county_office"])) == [task]
    assert list(gate.task_list(user=users["other_township_staff"])) == []
    with pytest.raises(PermissionDeniedError):
        gate.task_list(user=users["resident"])


# ---- pages and API -------------------------------------------------------------------------------------------


def test_send_page_preview_and_submit(users: Any, tree: Any, lists: Any) -> None:
    c = Client()
    c.force_login(users["department_staff"])
    assert c.get("/tasks/new/").status_code == 200
    data = {"townships": [tree.t1.pk], "title": CASES[2][0], "content": CASES[2][1]}
    preview = c.post("/tasks/preview/", data)
    assert preview.status_code == 200 and "建筑施工安全监管执法" in preview.content.decode()
    r = c.post("/tasks/new/", {**data, "deadline": FUTURE.isoformat(), "expected_hours": "3"})
    assert r.status_code == 302
    task = Task.objects.get()
    page = c.get(r["Location"]).content.decode()
    assert "退回" in page and "建筑施工安全监管执法" in page
    r = c.post("/tasks/new/", {**data, "deadline": "2000-01-01", "expected_hours": "3"})
    assert r.status_code == 400 and "完成时限不能早于今天" in r.content.decode()
    assert Task.objects.count() == 1 and task.outcome == "refused"


def test_county_decides_through_the_page(users: Any, tree: Any, lists: Any) -> None:
    task = send(users, tree, CASES[3][0], CASES[3][1])
    c = Client()
    c.force_login(users["county_office"])
    r = c.post(f"/tasks/{task.pk}/decide/", {"decision": "approve"})
    assert r.status_code == 400 and "费随事转" in r.content.decode()
    r = c.post(f"/tasks/{task.pk}/decide/", {"decision": "approve", "staff": "2"})
    assert r.status_code == 302
    assert Task.objects.get(pk=task.pk).status == TaskStatus.APPROVED
    c.force_login(users["township_staff"])
    inbox = c.get("/tasks/?box=inbox").content.decode()
    assert CASES[3][0] in inbox


def test_api_send_and_decide(users: Any, tree: Any, lists: Any) -> None:
    from gongzhi.core.auth import token_create

    _, dept_token = token_create(user=users["department_staff"], name="t")
    _, office_token = token_create(user=users["county_office"], name="t")
    c = Client()
    body = {
        "township_ids": [tree.t1.pk],
        "title": CASES[3][0],
        "content": CASES[3][1],
        "deadline": FUTURE.isoformat(),
        "expected_hours": "6",
    }
    r = c.post(
        "/api/v1/tasks",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {dept_token}",
    )
    assert r.status_code == 201, r.content
    (out,) = r.json()
    assert out["outcome"] == "held" and out["explanation"]
    r = c.post(
        f"/api/v1/tasks/{out['id']}/decision",
        json.dumps({"approve": True}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {office_token}",
    )
    assert r.status_code == 400 and r.json()["code"] == "grant_required"
    r = c.post(
        f"/api/v1/tasks/{out['id']}/decision",
        json.dumps({"approve": True, "funds": "5"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {office_token}",
    )
    assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["grant"]["funds"] == "5.00"
    r = c.post(
        "/api/v1/tasks",
        json.dumps({**body, "deadline": "2001-01-01"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {dept_token}",
    )
    assert r.status_code == 400 and "完成时限" in r.json()["message"]


def test_task_list_query_count_does_not_grow(
    users: Any, tree: Any, lists: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(12):
        send(users, tree, f"{CASES[0][0]}{i}", CASES[0][1])
    c = Client()
    c.force_login(users["county_office"])
    with django_assert_max_num_queries(12):
        assert c.get("/tasks/?box=all").status_code == 200
    with django_assert_max_num_queries(12):
        assert c.get("/api/v1/tasks?page_size=50").status_code == 200
