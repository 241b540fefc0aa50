"""/api/v1/inspections: the same services as the pages, {code, message, detail} errors, paginated lists, and the
public code check."""

from __future__ import annotations

import json
from typing import Any

from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from gongzhi.inspections import codes
from gongzhi.inspections.models import InspectionItem, InspectionPlan

from .factories import YEAR, dept2_staff

API = "/api/v1/inspections"


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def post(c: Client, path: str, body: dict[str, Any]) -> Any:
    return c.post(API + path, json.dumps(body), content_type="application/json")


def item_body(**kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "inspection",
        "topic": "建筑工地扬尘治理检查",
        "window_start": f"{YEAR}-03-01",
        "window_end": f"{YEAR}-03-31",
        "all_townships": True,
        "township_hours": "2",
        "materials": [{"name": "扬尘治理方案", "basis": ""}, {"name": "现场照片", "basis": ""}],
        "data_fields": [],
    }
    body.update(kw)
    return body


def test_plan_lifecycle_through_the_api(users: Any, tree: Any) -> None:
    c = client_for(users["department_staff"])
    r = post(c, "/plans", {"year": YEAR})
    assert r.status_code == 201, r.json()
    plan = r.json()
    assert plan["status"] == "draft" and plan["department"] == tree.dept.name
    r = post(c, "/plans", {"year": YEAR})
    assert r.status_code == 400 and r.json()["code"] == "duplicate"
    r = post(c, f"/plans/{plan['id']}/items", item_body(window_end=f"{YEAR}-02-01"))
    assert r.status_code == 400
    body = r.json()
    assert set(body) == {"code", "message", "detail"} and "早于开始日期" in body["message"]
    assert body["detail"]["field"] == "window_end"
    r = post(c, f"/plans/{plan['id']}/items", item_body(all_townships=False, township_ids=[tree.tb.pk]))
    assert r.status_code == 400 and "不是共治县的乡镇" in r.json()["message"]
    r = post(c, f"/plans/{plan['id']}/items", item_body(all_townships=False, township_ids=[tree.t1.pk]))
    assert r.status_code == 201
    item = r.json()
    assert item["townships"] == [{"code": tree.t1.code, "name": "东河镇"}] and item["seq"] == 1
    r = c.put(
        f"{API}/items/{item['id']}", json.dumps(item_body(topic="改名")), content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["topic"] == "改名" and r.json()["all_townships"]
    r = post(c, f"/plans/{plan['id']}/file", {})
    assert r.status_code == 200 and r.json()["status"] == "filed"
    r = post(c, f"/plans/{plan['id']}/file", {})
    assert r.status_code == 400 and r.json()["code"] == "already_filed"
    r = c.get(f"{API}/plans/{plan['id']}/items")
    page = r.json()
    assert page["count"] == 1 and page["items"][0]["flags"][0]["rule"] == "trace_demand"
    assert "「现场照片」属于留痕类" in page["items"][0]["flags"][0]["sentence"]
    r = c.get(f"{API}/plans?year={YEAR}")
    assert r.json()["count"] == 1 and r.json()["items"][0]["counts"]["flagged"] == 1
    assert c.get(f"{API}/plans/{plan['id']}/export").status_code == 200


def test_decisions_codes_and_verification(users: Any, tree: Any) -> None:
    cache.clear()
    staff, office = client_for(users["department_staff"]), client_for(users["county_office"])
    plan = post(staff, "/plans", {"year": YEAR}).json()
    a = post(staff, f"/plans/{plan['id']}/items", item_body(materials=[])).json()
    b = post(staff, f"/plans/{plan['id']}/items", item_body(topic="燃气安全检查")).json()
    post(staff, f"/plans/{plan['id']}/file", {})
    r = post(staff, f"/items/{a['id']}/decision", {"action": "approve"})
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    r = post(office, "/decisions/approve-clean", {"year": YEAR})
    assert r.status_code == 200 and r.json()["approved"] == 1
    got = office.get(f"{API}/items/{a['id']}").json()
    assert got["status"] == "approved" and codes.normalize(got["code"]) == got["code"]
    r = post(office, f"/items/{b['id']}/decision", {"action": "refuse"})
    assert r.status_code == 400 and r.json()["detail"] == {"field": "note"}
    r = post(office, f"/items/{b['id']}/decision", {"action": "approve"})
    assert r.status_code == 200
    assert [m for m in r.json()["materials"] if m["removed"]] == [
        {"name": "现场照片", "basis": "", "removed": "trace_demand"}
    ]
    # The public check: no login.
    anon = Client()
    r = anon.get(f"{API}/codes/{got['code'].lower()}")
    assert r.status_code == 200 and r.json()["state"] == "valid" and r.json()["department"] == tree.dept.name
    assert r.json()["approved_by"] == tree.office.name
    r = anon.get(f"{API}/codes/{codes.make_code(YEAR)}")
    assert r.status_code == 404 and r.json()["message"] == "查无此码，请拒绝并向县减负办反映"
    r = post(office, f"/items/{a['id']}/revoke", {"reason": "活动取消"})
    assert r.status_code == 200 and r.json()["code_revoked_reason"] == "活动取消"
    r = anon.get(f"{API}/codes/{got['code']}")
    assert r.json()["state"] == "revoked" and r.json()["reason"] == "活动取消"


def test_review_endpoints(users: Any, tree: Any) -> None:
    staff = client_for(users["department_staff"])
    plan = post(staff, "/plans", {"year": YEAR}).json()
    post(staff, f"/plans/{plan['id']}/items", item_body())
    post(staff, f"/plans/{plan['id']}/file", {})
    office = client_for(users["county_office"])
    r = post(office, "/reviews", {"year": YEAR})
    assert r.status_code == 201 and r.json()["stats"]["items"] == 1
    run_id = r.json()["id"]
    runs = office.get(f"{API}/reviews?year={YEAR}").json()
    assert runs["count"] == 2 and runs["items"][0]["id"] == run_id
    flags = office.get(f"{API}/reviews/{run_id}/flags").json()
    assert flags["count"] == 1 and flags["items"][0]["rule"] == "trace_demand"
    assert client_for(users["department_staff"]).get(f"{API}/reviews/{run_id}/flags").status_code == 404
    r = post(client_for(users["org_department"]), "/reviews", {"year": YEAR})
    assert r.status_code == 403


def test_import_endpoint(users: Any, tree: Any) -> None:
    c = client_for(users["department_staff"])
    bad = f"类型,事项名称,对象乡镇,开始日期,结束日期\n检查,燃气检查,邻镇,{YEAR}-05-01,{YEAR}-05-31\n".encode()
    r = c.post(f"{API}/imports", {"file": SimpleUploadedFile("p.csv", bad), "year": YEAR})
    assert r.status_code == 400 and r.json()["code"] == "import_failed"
    assert r.json()["detail"][0] == {
        "sheet": "CSV",
        "row": 2,
        "column": "对象乡镇",
        "message": "「邻镇」不是共治县的乡镇，不能列为本县计划的对象",
    }
    good = bad.replace("邻镇".encode(), "东河镇".encode())
    r = c.post(f"{API}/imports", {"file": SimpleUploadedFile("p.csv", good), "year": YEAR})
    assert r.status_code == 201 and r.json()["plans"][0]["items"] == 1


def test_lists_are_paginated_and_scoped(users: Any, tree: Any) -> None:
    other = dept2_staff(tree)
    for actor in (users["department_staff"], other):
        c = client_for(actor)
        plan = post(c, "/plans", {"year": YEAR}).json()
        for k in range(3):
            post(c, f"/plans/{plan['id']}/items", item_body(topic=f"事项{k}", materials=[]))
    office = client_for(users["county_office"])
    r = office.get(f"{API}/items?page_size=4&page=2").json()
    assert r["count"] == 6 and len(r["items"]) == 2 and r["page"] == 2
    assert office.get(f"{API}/items?county={tree.county.code}").json()["count"] == 6
    # A township's code is not a county: said so, as /visits says it, instead of an empty list.
    r = office.get(f"{API}/items?county={tree.t1.code}")
    assert r.status_code == 404 and r.json()["message"] == "县（区）不存在"
    mine = client_for(users["department_staff"]).get(f"{API}/items").json()
    assert mine["count"] == 3
    assert client_for(users["township_leader"]).get(f"{API}/items").json()["count"] == 0
    assert client_for(users["township_leader"]).get(f"{API}/plans").status_code == 403
    theirs = InspectionPlan.objects.get(department=tree.dept2)
    r = client_for(users["department_staff"]).get(f"{API}/plans/{theirs.pk}")
    assert r.status_code == 404 and set(r.json()) == {"code", "message", "detail"}
    item = InspectionItem.objects.filter(plan=theirs).first()
    assert item is not None
    r = client_for(users["department_staff"]).delete(f"{API}/items/{item.pk}")
    assert r.status_code == 404 and InspectionItem.objects.filter(pk=item.pk).exists()
    r = client_for(other).delete(f"{API}/items/{item.pk}")
    assert r.status_code == 200 and r.json()["deleted"] is True


def test_item_list_query_count_is_flat(users: Any, tree: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    staff = client_for(users["department_staff"])
    plan = post(staff, "/plans", {"year": YEAR}).json()
    for k in range(4):
        post(
            staff,
            f"/plans/{plan['id']}/items",
            item_body(topic=f"事项{k}", all_townships=False, township_ids=[tree.t1.pk]),
        )
    post(staff, f"/plans/{plan['id']}/file", {})
    office = client_for(users["county_office"])
    office.get(f"{API}/items")
    with CaptureQueriesContext(connection) as small:
        assert office.get(f"{API}/items").json()["count"] == 4
    for k in range(9):
        post(
            staff,
            f"/plans/{plan['id']}/items",
            item_body(topic=f"计划外事项{k}", all_townships=False, township_ids=[tree.t1.pk, tree.t2.pk]),
        )
    with CaptureQueriesContext(connection) as big:
        assert office.get(f"{API}/items").json()["count"] == 13
    # More items bring more kinds of flags (splits name departments, quotas name townships): at most the three
    # naming lookups of describe_many are added once, never a query per item.
    assert len(big) <= len(small) + 3, [q["sql"][:100] for q in big.captured_queries]
    assert len(big) <= 14


def test_code_check_is_throttled(users: Any, tree: Any) -> None:
    from gongzhi.inspections.plan_views import VERIFY_MAX_MISSES

    cache.clear()
    anon = Client(REMOTE_ADDR="198.51.100.7")
    for _ in range(VERIFY_MAX_MISSES):
        assert anon.get(f"{API}/codes/{codes.make_code(YEAR)}").status_code == 404
    r = anon.get(f"{API}/codes/{codes.make_code(YEAR)}")
    assert r.status_code == 429 and r.json()["code"] == "throttled"
    cache.clear()
