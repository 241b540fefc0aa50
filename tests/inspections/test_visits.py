"""Executing joint visits: the calendar (scoped), a visit's page, findings recorded once by the lead department and
read per department, and the merge page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError
from gongzhi.core.models import AuditEvent
from gongzhi.inspections import visits as svc
from gongzhi.inspections.models import Finding, JointVisit, MergeRun, VisitStatus
from tests.factories import cadre

from .factories_visits import YEAR, item, run, visit

DAY = dt.date(YEAR, 5, 12)


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def setup(users: Any, tree: Any) -> dict[str, Any]:
    """东河镇: a joint visit led by 县应急管理局 (dept2) with one item of each department; 城关街道: a visit of
    dept2 alone (县住建局 has nothing to do with it)."""
    r = run(tree.county)
    a = item(tree.dept, topic="农村危房改造检查", targets=[tree.t1])
    b = item(tree.dept2, topic="安全生产检查", targets=[tree.t1, tree.t2], hours=6)
    v1 = visit(r, tree.t1, tree.dept2, [a, b], day=DAY)
    v2 = visit(r, tree.t2, tree.dept2, [b], day=DAY + dt.timedelta(days=1))
    lead = cadre(department=tree.dept2, title="科长", username="lead_dept")
    return {"run": r, "a": a, "b": b, "v1": v1, "v2": v2, "lead": lead}


def test_scopes(users: Any, tree: Any, setup: Any) -> None:
    def seen(role: str) -> set[int]:
        user = setup["lead"] if role == "lead" else users[role]
        return set(svc.visit_list(user=user).values_list("pk", flat=True))

    v1, v2 = setup["v1"].pk, setup["v2"].pk
    assert seen("township_staff") == {v1}
    assert seen("department_staff") == {v1}  # takes part in v1 only
    assert seen("lead") == {v1, v2}
    assert seen("county_office") == {v1, v2} == seen("org_department") == seen("admin")
    assert seen("other_township_staff") == set()
    for role in ("resident", "org_rep", "village_committee"):
        with pytest.raises(PermissionDeniedError):
            svc.visit_list(user=users[role])
    assert set(svc.visit_list(user=setup["lead"], led=True).values_list("pk", flat=True)) == {v1, v2}
    assert not svc.visit_list(user=users["department_staff"], led=True).exists()
    # A superseded run's visits leave the calendar.
    MergeRun.objects.filter(pk=setup["run"].pk).update(active=False)
    assert seen("township_staff") == set()


def test_township_calendar_shows_codes_and_lead(users: Any, tree: Any, setup: Any) -> None:
    c = _client(users["township_leader"])
    page = c.get(f"/visits/?month={YEAR}-05").content.decode()
    assert setup["a"].code in page and setup["b"].code in page and "县应急管理局" in page
    assert "农村危房改造检查" in page and "城关街道" not in page
    assert f'href="#d-{DAY:%Y-%m-%d}"' in page
    empty = c.get(f"/visits/?month={YEAR}-01").content.decode()
    assert "本月没有安排联合督查" in empty


def test_findings_once_by_the_lead_and_each_department_sees_its_own(
    users: Any, tree: Any, setup: Any
) -> None:
    v1, a, b = setup["v1"], setup["a"], setup["b"]
    dept = _client(users["department_staff"])
    assert dept.get(f"/visits/{v1.pk}/findings/").status_code == 403
    r = dept.post(f"/visits/{v1.pk}/findings/", {f"text_{a.pk}": "伪造"})
    assert r.status_code == 403 and not Finding.objects.exists()
    with pytest.raises(PermissionDeniedError) as exc:
        svc.findings_record(actor=users["department_staff"], visit_id=v1.pk, rows=[])
    assert "牵头部门" in exc.value.message
    lead = _client(setup["lead"])
    form = lead.get(f"/visits/{v1.pk}/findings/").content.decode()
    assert f'name="text_{a.pk}"' in form and f'name="text_{b.pk}"' in form
    bad = {f"text_{a.pk}": "危房台账缺失", f"due_{a.pk}": f"{YEAR}-01-01"}
    r = lead.post(f"/visits/{v1.pk}/findings/", bad)
    assert r.status_code == 400 and "不能早于督查日期" in r.content.decode() and not Finding.objects.exists()
    r = lead.post(
        f"/visits/{v1.pk}/findings/",
        {
            f"text_{a.pk}": "危房台账缺失",
            f"follow_{a.pk}": "一个月内补齐",
            f"due_{a.pk}": f"{YEAR}-06-30",
            f"text_{b.pk}": "消防通道堵塞",
            "done": "1",
        },
    )
    assert r.status_code == 303
    v1.refresh_from_db()
    assert v1.status == VisitStatus.DONE and Finding.objects.filter(visit=v1).count() == 2
    ev = AuditEvent.objects.get(action="visit.findings")
    assert ev.data["findings"] == 2 and ev.data["done"] is True
    # 县住建局 takes part: it sees its own item's finding, not 应急's.
    page = dept.get(f"/visits/{v1.pk}/").content.decode()
    assert "危房台账缺失" in page and "消防通道堵塞" not in page and "只能看到本部门事项" in page
    for who in (users["township_staff"], users["county_office"], setup["lead"]):
        page = _client(who).get(f"/visits/{v1.pk}/").content.decode()
        assert "危房台账缺失" in page and "消防通道堵塞" in page
    # Done means closed.
    with pytest.raises(ServiceError):
        svc.findings_record(actor=setup["lead"], visit_id=v1.pk, rows=[], done=True)
    assert Finding.objects.count() == 2


def test_findings_bad_input(users: Any, tree: Any, setup: Any) -> None:
    v1, v2, a = setup["v1"], setup["v2"], setup["a"]
    lead = setup["lead"]
    cases = [
        ([{"item_id": a.pk + 999, "text": "x"}], "不属于本次联合督查"),
        ([{"item_id": a.pk, "text": "", "follow_up": "整改"}], "请先写明发现的问题"),
        ([{"item_id": a.pk, "text": "x", "due": "明天"}], "整改期限格式不正确"),
        ([{"item_id": a.pk, "text": "x" * 2001}], "不超过 2000 字"),
        ([{"item_id": "abc", "text": "x"}], "不属于本次联合督查"),
    ]
    for rows, words in cases:
        with pytest.raises(ServiceError) as exc:
            svc.findings_record(actor=lead, visit_id=v1.pk, rows=rows)
        assert words in exc.value.message
    with pytest.raises(ServiceError):  # an item of v1 is not an item of v2
        svc.findings_record(actor=lead, visit_id=v2.pk, rows=[{"item_id": a.pk, "text": "x"}])
    with pytest.raises(NotFoundError):
        svc.findings_record(actor=users["other_township_staff"], visit_id=v1.pk, rows=[])
    with pytest.raises(NotFoundError):
        svc.findings_record(actor=lead, visit_id=999999, rows=[])
    assert not Finding.objects.exists() and not AuditEvent.objects.exists()


def test_recording_again_replaces_and_blank_rows_mean_no_problem(users: Any, tree: Any, setup: Any) -> None:
    v1, a, b = setup["v1"], setup["a"], setup["b"]
    svc.findings_record(actor=setup["lead"], visit_id=v1.pk, rows=[{"item_id": a.pk, "text": "一"}])
    svc.findings_record(
        actor=setup["lead"],
        visit_id=v1.pk,
        rows=[{"item_id": a.pk, "text": ""}, {"item_id": b.pk, "text": "二"}],
    )
    assert list(Finding.objects.values_list("item_id", "text")) == [(b.pk, "二")]


def test_merge_page(users: Any, tree: Any) -> None:
    item(tree.dept, topic="农村危房改造检查", targets=[tree.t1])
    item(tree.dept2, topic="安全生产检查", targets=[tree.t1])
    office = _client(users["county_office"])
    page = office.get(f"/visits/merge/?year={YEAR}").content.decode()
    assert "2 个已批准的实地事项尚未合并" in page and "本年度尚未合并" in page
    r = office.post(
        "/visits/merge/", {"county": tree.county.code, "year": YEAR, "method": "heuristic", "exact": "1"}
    )
    assert r.status_code == 303
    page = office.get(r["Location"]).content.decode()
    assert "实地督查 2 次 → 1 次" in page and "减少 50.0%" in page and "东河镇" in page and "CP-SAT" in page
    assert "合并为一次联合督查" in page or "joint_visit" not in page
    org = _client(users["org_department"])
    assert org.get(f"/visits/merge/?year={YEAR}").status_code == 200
    assert org.post("/visits/merge/", {"county": tree.county.code, "year": YEAR}).status_code == 403
    assert _client(users["department_staff"]).get("/visits/merge/").status_code == 403
    assert MergeRun.objects.count() == 1


def test_calendar_query_count_does_not_grow(
    users: Any, tree: Any, django_assert_max_num_queries: Any
) -> None:
    r = run(tree.county)

    def add(n: int) -> None:
        for i in range(n):
            its = [
                item(tree.dept, topic=f"事项{i}", targets=[tree.t1]),
                item(tree.dept2, topic=f"另{i}", targets=[tree.t1]),
            ]
            visit(r, tree.t1, tree.dept, its, day=DAY + dt.timedelta(days=i % 15))

    add(2)
    for role in ("township_staff", "county_office", "department_staff"):
        c = _client(users[role])
        c.get(f"/visits/?month={YEAR}-05")
        with CaptureQueriesContext(connection) as few:
            c.get(f"/visits/?month={YEAR}-05")
        with CaptureQueriesContext(connection) as few_detail:
            c.get(f"/visits/{JointVisit.objects.first().pk}/")  # type: ignore[union-attr]
        if role == "township_staff":
            add(60)
        with django_assert_max_num_queries(len(few)):
            html = c.get(f"/visits/?month={YEAR}-05").content.decode()
        assert "下一页" in html
        with django_assert_max_num_queries(len(few_detail)):
            c.get(f"/visits/{JointVisit.objects.last().pk}/")  # type: ignore[union-attr]


def test_visit_page_lists_what_the_township_must_prepare(users: Any, tree: Any) -> None:
    from gongzhi.inspections.models import CatalogSubscription

    from .factories_visits import entry, submit

    e = entry(tree.county)
    submit(e, tree.t1, {"resident_pop": 4321, "farmland": "7.5"})
    r = run(tree.county)
    a = item(
        tree.dept2,
        topic="安全生产检查",
        targets=[tree.t1],
        materials=[
            {"name": "安全台账", "basis": ""},
            {"name": "工作照片", "basis": "", "removed": "trace_demand"},
        ],
        data_fields=[
            {"label": "常住人口", "ref": {"entry": e.pk, "field": "resident_pop"}},
            {"label": "企业数", "ref": None},
        ],
    )
    b = item(tree.dept, topic="危房检查", targets=[tree.t1])
    v = visit(r, tree.t1, tree.dept2, [a, b])
    page = _client(users["township_staff"]).get(f"/visits/{v.pk}/").content.decode()
    assert "安全台账" in page and "<del>工作照片</del>" in page and "可拒绝提供" in page
    assert "一表通已有" in page and "4321人" in page and "需填报" in page
    assert f'href="/v/{a.code}/"' in page
    # 县住建局 takes part but does not subscribe: it sees that the value is held, not the value.
    dept = _client(users["department_staff"])
    page = dept.get(f"/visits/{v.pk}/").content.decode()
    assert "一表通已有" in page and "4321" not in page
    CatalogSubscription.objects.create(entry=e, department=tree.dept)
    assert "4321人" in dept.get(f"/visits/{v.pk}/").content.decode()


def test_merge_page_alone_tab_and_query_count(
    users: Any, tree: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(3):
        item(
            tree.dept, topic=f"合{i}", targets=[tree.t1], start=dt.date(YEAR, 4, 1), end=dt.date(YEAR, 4, 30)
        )
    item(tree.dept2, topic="孤立事项", targets=[tree.t2], start=dt.date(YEAR, 9, 1), end=dt.date(YEAR, 9, 5))
    svc.merge_run(actor=users["county_office"], county=tree.county, year=YEAR, exact_reference=False)
    c = _client(users["county_office"])
    page = c.get(f"/visits/merge/?year={YEAR}&alone=1").content.decode()
    assert "孤立事项" in page and "合0" not in page and "没有其他事项的时间窗口与之重叠" in page
    with CaptureQueriesContext(connection) as few:
        c.get(f"/visits/merge/?year={YEAR}")
    for i in range(120):
        day = dt.date(YEAR, 1, 1) + dt.timedelta(days=2 * i)
        item(tree.dept, topic=f"散{i}", targets=[tree.t1, tree.t2], start=day, end=day)
    svc.merge_run(actor=users["county_office"], county=tree.county, year=YEAR, exact_reference=False)
    with django_assert_max_num_queries(len(few)):
        html = c.get(f"/visits/merge/?year={YEAR}").content.decode()
    assert "下一页" in html


def test_the_items_department_confirms_rectification(users: Any, tree: Any, setup: Any) -> None:
    v1, a, b = setup["v1"], setup["a"], setup["b"]
    made = svc.findings_record(
        actor=setup["lead"],
        visit_id=v1.pk,
        rows=[{"item_id": a.pk, "text": "台账缺失"}, {"item_id": b.pk, "text": "通道堵塞"}],
    )
    fa = next(f for f in made if f.item_id == a.pk)
    fb = next(f for f in made if f.item_id == b.pk)
    with pytest.raises(ServiceError) as exc:  # the visit is not done yet
        svc.finding_close(actor=users["department_staff"], finding_id=fa.pk)
    assert "完成后" in exc.value.message
    JointVisit.objects.filter(pk=v1.pk).update(status=VisitStatus.DONE)
    with pytest.raises(NotFoundError):  # 县住建局 does not even see 应急's finding
        svc.finding_close(actor=users["department_staff"], finding_id=fb.pk)
    with pytest.raises(
        PermissionDeniedError
    ):  # the township sees it but does not confirm its own rectification
        svc.finding_close(actor=users["township_staff"], finding_id=fa.pk)
    with pytest.raises(NotFoundError):
        svc.finding_close(actor=users["other_township_staff"], finding_id=fa.pk)
    assert set(Finding.objects.values_list("status", flat=True)) == {"open"}
    c = _client(users["department_staff"])
    page = c.get(f"/visits/{v1.pk}/").content.decode()
    assert f"/visits/findings/{fa.pk}/close/" in page and f"/visits/findings/{fb.pk}/close/" not in page
    assert c.post(f"/visits/findings/{fa.pk}/close/").status_code == 303
    assert Finding.objects.get(pk=fa.pk).status == "closed"
    r = _client(setup["lead"]).post(
        f"/api/v1/visits/findings/{fb.pk}/close", "{}", content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert c.post(f"/visits/findings/{fa.pk}/close/", {"reopen": "1"}).status_code == 303
    assert Finding.objects.get(pk=fa.pk).status == "open"
    assert AuditEvent.objects.filter(action__in=["finding.close", "finding.reopen"]).count() == 3


def test_a_visit_recorded_before_the_platform_says_why_it_was_alone(users: Any, tree: Any) -> None:
    """2025's visits (the demo records them unmerged, ``before_platform``) carry only ``single_visit``: the page must
    not promise a reason "below" that never comes."""
    r = run(tree.county, year=YEAR - 1)
    a = item(tree.dept2, topic="安全生产检查", targets=[tree.t1], year=YEAR - 1, hours=3)
    v = visit(r, tree.t1, tree.dept2, [a], day=dt.date(YEAR - 1, 5, 6), status=VisitStatus.DONE)
    params = {"items": [a.pk], "hours": 3.0, "lead_department": tree.dept2.name, "before_platform": True}
    v.reasons = [{"code": "single_visit", "params": params}]
    v.save(update_fields=["reasons"])
    page = _client(users["township_staff"]).get(f"/visits/{v.pk}/").content.decode()
    assert "原因见下" not in page
    assert "平台启用前" in page and f"{tree.dept2.name}单独开展" in page and "3 小时" in page
    api = _client(users["township_staff"]).get(f"/api/v1/visits/{v.pk}").json()
    assert "平台启用前" in api["reasons"][0]["text"]
