"""JSON API for 一表通, joint visits and merging: the same rules as the pages, bad input answered with
{code, message, detail} and nothing written, pagination with bounded queries."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gongzhi.inspections.models import CatalogEntry, DataSubmission, Finding, JointVisit, MergeRun
from tests.factories import cadre

from .factories_visits import YEAR, entry, item, run, submit, visit


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _put(c: Client, url: str, body: Any) -> Any:
    return c.put(url, json.dumps(body), content_type="application/json")


def _post(c: Client, url: str, body: Any) -> Any:
    return c.post(url, json.dumps(body), content_type="application/json")


def _error(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.content
    body = r.json()
    assert set(body) == {"code", "message", "detail"}
    return body


# ---- 一表通 -----------------------------------------------------------------------------------------------------------


def test_catalog_api_flow_and_bad_input(users: Any, tree: Any) -> None:
    office = _client(users["county_office"])
    r = _post(
        office,
        "/api/v1/catalog",
        {
            "county": tree.county.code,
            "name": "人口",
            "fields": [{"label": "常住人口", "unit": "人", "key": "pop"}],
        },
    )
    assert r.status_code == 201, r.content
    eid = r.json()["id"]
    assert r.json()["fields"][0] == {
        "key": "pop",
        "label": "常住人口",
        "unit": "人",
        "type": "integer",
        "required": True,
    }
    body = _error(
        _post(office, "/api/v1/catalog", {"county": tree.county.code, "name": "x", "fields": []}), 400
    )
    assert "至少定义一个字段" in body["message"]
    _error(
        _post(office, "/api/v1/catalog", {"county": "990199000000", "name": "x", "fields": [{"label": "a"}]}),
        400,
    )

    town = _client(users["township_staff"])
    r = _put(town, f"/api/v1/catalog/{eid}/submissions/2025", {"values": {"pop": "1,234"}})
    assert r.status_code == 200 and r.json()["values"] == {"pop": 1234}
    body = _error(_put(town, f"/api/v1/catalog/{eid}/submissions/2025", {"values": {"pop": "很多"}}), 400)
    assert "「常住人口」须为整数" in body["message"] and body["detail"]["errors"] == {"pop": body["message"]}
    body = _error(_put(town, f"/api/v1/catalog/{eid}/submissions/2025", {"values": {"nope": 1}}), 400)
    assert "没有这些字段" in body["message"]
    _error(_put(town, f"/api/v1/catalog/{eid}/submissions/2025", {"values": {"pop": [1]}}), 400)
    # Another township of the same county: refused.
    body = _error(
        _put(
            town, f"/api/v1/catalog/{eid}/submissions/2025", {"township_id": tree.t2.pk, "values": {"pop": 1}}
        ),
        403,
    )
    assert "本乡镇" in body["message"]
    _error(_put(town, "/api/v1/catalog/999999/submissions/2025", {"values": {"pop": 1}}), 404)
    assert DataSubmission.objects.get().values == {"pop": 1234}

    dept = _client(users["department_staff"])
    body = _error(dept.get(f"/api/v1/catalog/{eid}/values"), 403)
    assert "订阅" in body["message"]
    assert _put(dept, f"/api/v1/catalog/{eid}/subscription", {}).json() == {
        "entry_id": eid,
        "subscribed": True,
    }
    values = dept.get(f"/api/v1/catalog/{eid}/values?missing=false").json()
    assert values["count"] == 1 and values["items"][0]["values"] == {"pop": 1234}
    assert dept.delete(f"/api/v1/catalog/{eid}/subscription").json()["subscribed"] is False
    held = office.get(f"/api/v1/catalog/held?county={tree.county.code}").json()
    assert held[tree.t1.code]["常住人口"]["entry"] == eid
    assert (
        office.patch(
            f"/api/v1/catalog/{eid}", json.dumps({"active": False}), content_type="application/json"
        ).json()["active"]
        is False
    )
    assert CatalogEntry.objects.get().active is False


def test_catalog_list_api_query_count(users: Any, tree: Any, django_assert_max_num_queries: Any) -> None:
    for i in range(3):
        submit(entry(tree.county, name=f"表{i}"), tree.t1, {"resident_pop": 1, "farmland": "1"})
    c = _client(users["department_staff"])
    with CaptureQueriesContext(connection) as few:
        c.get("/api/v1/catalog")
    for i in range(3, 70):
        entry(tree.county, name=f"表{i}")
    with django_assert_max_num_queries(len(few)):
        body = c.get("/api/v1/catalog").json()
    assert body["count"] == 70 and len(body["items"]) == 50


# ---- visits and merging ------------------------------------------------------------------------------------------


def test_merge_and_findings_api(users: Any, tree: Any) -> None:
    a = item(tree.dept, topic="危房检查", targets=[tree.t1], hours=5)
    b = item(tree.dept2, topic="安全检查", targets=[tree.t1], hours=3)
    office = _client(users["county_office"])
    body = _error(
        _post(
            _client(users["department_staff"]),
            "/api/v1/visits/merges",
            {"county": tree.county.code, "year": YEAR},
        ),
        403,
    )
    assert body["code"] == "permission_denied"
    _error(
        _post(
            _client(users["org_department"]),
            "/api/v1/visits/merges",
            {"county": tree.county.code, "year": YEAR},
        ),
        403,
    )
    _error(_post(office, "/api/v1/visits/merges", {"county": tree.county_b.code, "year": YEAR}), 404)
    _error(_post(office, "/api/v1/visits/merges", {"county": tree.county.code, "year": 1990}), 400)
    _error(
        _post(office, "/api/v1/visits/merges", {"county": tree.county.code, "year": YEAR, "method": "x"}), 400
    )
    assert not MergeRun.objects.exists()
    r = _post(office, "/api/v1/visits/merges", {"county": tree.county.code, "year": YEAR})
    assert r.status_code == 201, r.content
    run_out = r.json()
    assert run_out["visits_before"] == 2 and run_out["visits_after"] == 1 and run_out["cut"] == 0.5
    assert run_out["gap"] == 0.0 and run_out["stats"]["per_township"][tree.t1.code]["before"] == 2
    listing = office.get(f"/api/v1/visits/merges?county={tree.county.code}&year={YEAR}").json()
    assert listing["count"] == 1 and "per_township" not in listing["items"][0]["stats"]
    vs = office.get(f"/api/v1/visits/merges/{run_out['id']}/visits").json()
    assert vs["count"] == 1
    v = vs["items"][0]
    assert {i["code"] for i in v["items"]} == {a.code, b.code} and v[
        "lead_department"
    ] == "县住房和城乡建设局"
    assert v["reasons"][0]["code"] == "joint_visit" and "合并为一次联合督查" in v["reasons"][0]["text"]

    # Findings: the lead (县住建局) records for both items; 应急局 reads only its own.
    dept = _client(users["department_staff"])
    findings = {
        "findings": [
            {"item_id": a.pk, "text": "危房台账不全", "follow_up": "补齐", "due": f"{YEAR}-12-31"},
            {"item_id": b.pk, "text": "消防通道堵塞"},
        ],
        "done": True,
    }
    other = cadre(department=tree.dept2, title="科员", username="yingji")
    body = _error(_put(_client(other), f"/api/v1/visits/{v['id']}/findings", findings), 403)
    assert "牵头部门" in body["message"]
    body = _error(
        _put(dept, f"/api/v1/visits/{v['id']}/findings", {"findings": [{"item_id": 0, "text": "x"}]}), 400
    )
    assert "不属于本次联合督查" in body["message"]
    assert not Finding.objects.exists()
    r = _put(dept, f"/api/v1/visits/{v['id']}/findings", findings)
    assert r.status_code == 200 and r.json()["status"] == "done" and len(r.json()["findings"]) == 2
    seen = _client(other).get(f"/api/v1/visits/{v['id']}").json()
    assert [f["text"] for f in seen["findings"]] == ["消防通道堵塞"] and seen["can_record"] is False
    town = _client(users["township_staff"]).get(f"/api/v1/visits/{v['id']}").json()
    assert len(town["findings"]) == 2
    _error(_client(users["other_township_staff"]).get(f"/api/v1/visits/{v['id']}"), 404)
    body = _error(_put(dept, f"/api/v1/visits/{v['id']}/findings", findings), 400)
    assert body["code"] == "invalid_state"


def test_visit_list_api_filters_and_query_count(
    users: Any, tree: Any, django_assert_max_num_queries: Any
) -> None:
    r = run(tree.county)
    day = dt.date(YEAR, 5, 4)

    def add(n: int) -> None:
        for i in range(n):
            its = [
                item(tree.dept, topic=f"甲{i}", targets=[tree.t1]),
                item(tree.dept2, topic=f"乙{i}", targets=[tree.t1]),
            ]
            visit(r, tree.t1, tree.dept, its, day=day + dt.timedelta(days=i % 20))

    add(2)
    c = _client(users["township_staff"])
    with CaptureQueriesContext(connection) as few:
        c.get(f"/api/v1/visits?month={YEAR}-05")
    add(60)
    with django_assert_max_num_queries(len(few)):
        body = c.get(f"/api/v1/visits?month={YEAR}-05").json()
    assert body["count"] == 62 and len(body["items"]) == 50 and len(body["items"][0]["items"]) == 2
    assert c.get(f"/api/v1/visits?month={YEAR}-06").json()["count"] == 0
    _error(c.get("/api/v1/visits?month=五月"), 400)
    _error(c.get("/api/v1/visits?status=bogus"), 400)
    assert JointVisit.objects.count() == 62
