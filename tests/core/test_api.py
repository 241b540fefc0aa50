from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gongzhi.core.auth import token_create
from gongzhi.core.models import AdminUnit, User

from ..factories import cadre, resident


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_error_shape_is_code_message_detail(users: dict[str, User]) -> None:
    r = Client().get("/api/v1/units")
    assert r.status_code == 401
    assert r.json() == {"code": "unauthenticated", "message": "请先登录或提供有效的 API 令牌", "detail": None}
    r = _client(users["resident"]).get("/api/v1/units")
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    r = _client(users["admin"]).get("/api/v1/units/000000000000")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = _client(users["admin"]).get("/api/v1/units?page=abc")
    assert r.status_code == 422 and r.json()["code"] == "invalid" and r.json()["detail"]


def test_pagination(users: dict[str, User], tree: Any) -> None:
    for i in range(30):
        AdminUnit.objects.create(
            code=f"990102001{100 + i:03d}", name=f"新村{i}", level="village", kind="村", parent=tree.t1
        )
    c = _client(users["township_leader"])
    r1 = c.get("/api/v1/units?page=1&page_size=10").json()
    r4 = c.get("/api/v1/units?page=4&page_size=10").json()
    assert r1["count"] == 33 and len(r1["items"]) == 10 and r1["page_size"] == 10
    assert len(r4["items"]) == 3
    codes = {
        u["code"] for p in (1, 2, 3, 4) for u in c.get(f"/api/v1/units?page={p}&page_size=10").json()["items"]
    }
    assert len(codes) == 33
    assert c.get("/api/v1/units?page_size=100000").json()["page_size"] == 500


def test_units_are_scoped_by_tree(users: dict[str, User], tree: Any) -> None:
    codes = {u["code"] for u in _client(users["township_staff"]).get("/api/v1/units").json()["items"]}
    assert codes == {tree.t1.code, tree.v11.code, tree.v12.code}
    codes = {u["code"] for u in _client(users["village_committee"]).get("/api/v1/units").json()["items"]}
    assert codes == {tree.v11.code}
    county = {u["code"] for u in _client(users["county_office"]).get("/api/v1/units").json()["items"]}
    assert tree.t2.code in county and tree.tb.code not in county and tree.county_b.code not in county


def test_residents_scoped_and_masked(users: dict[str, User], tree: Any) -> None:
    resident(tree.v12, phone="13812345678", name="王五")
    resident(tree.v21, phone="13812345679", name="赵六")
    resident(tree.vb, phone="13812345670", name="外县人")
    r = _client(users["township_staff"]).get("/api/v1/residents").json()
    names = {x["name"] for x in r["items"]}
    assert "王五" in names and "赵六" not in names and "外县人" not in names
    wang = next(x for x in r["items"] if x["name"] == "王五")
    assert wang["phone_masked"] == "138****5678"
    assert "id_hash" not in wang
    r = _client(users["village_committee"]).get("/api/v1/residents").json()
    assert {x["name"] for x in r["items"]} == {"居民"}  # the fixture resident of 东河村 only


def test_cadres_scoped(users: dict[str, User], tree: Any) -> None:
    dept_cadres = _client(users["department_staff"]).get("/api/v1/cadres").json()["items"]
    assert {c["name"] for c in dept_cadres} == {users["department_staff"].display_name}
    county = _client(users["county_office"]).get("/api/v1/cadres").json()["items"]
    names = {c["name"] for c in county}
    assert users["township_leader"].display_name in names
    assert users["other_township_staff"].display_name not in names


def test_cadre_list_has_no_n_plus_one(users: dict[str, User], tree: Any) -> None:
    c = _client(users["county_office"])
    c.get("/api/v1/cadres")  # warm session
    with CaptureQueriesContext(connection) as few:
        c.get("/api/v1/cadres")
    for i in range(20):
        cadre(unit=tree.t2, title=f"干部{i}")
    with CaptureQueriesContext(connection) as many:
        r = c.get("/api/v1/cadres")
    assert r.json()["count"] >= 25
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


@pytest.mark.parametrize(
    "path",
    ["/api/v1/units", "/api/v1/departments", "/api/v1/residents", "/api/v1/organizations", "/api/v1/audit"],
)
def test_list_endpoints_query_count_is_constant(path: str, users: dict[str, User], tree: Any) -> None:
    c = _client(users["admin"])
    c.get(path)
    with CaptureQueriesContext(connection) as q:
        r = c.get(path)
    assert r.status_code == 200
    assert len(q) <= 8, [x["sql"] for x in q.captured_queries]


def test_token_auth_create_and_revoke_via_api(users: dict[str, User]) -> None:
    c = _client(users["township_leader"])
    r = c.post("/api/v1/tokens", {"name": "对接"}, content_type="application/json")
    assert r.status_code == 201
    raw, tid = r.json()["token"], r.json()["id"]
    api = Client()
    assert api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    listed = c.get("/api/v1/tokens").json()["items"]
    assert listed[0]["id"] == tid and "token" not in listed[0]
    assert c.delete(f"/api/v1/tokens/{tid}").status_code == 200
    assert api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_session_post_needs_csrf(users: dict[str, User]) -> None:
    c = Client(enforce_csrf_checks=True)
    c.force_login(users["township_leader"])
    r = c.post("/api/v1/tokens", {"name": "x"}, content_type="application/json")
    assert r.status_code == 403


def test_token_post_needs_no_csrf(users: dict[str, User]) -> None:
    _, raw = token_create(user=users["township_leader"], name="sys")
    c = Client(enforce_csrf_checks=True)
    r = c.post(
        "/api/v1/tokens", {"name": "x"}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert r.status_code == 201


def test_openapi_schema_is_served(db: Any) -> None:
    r = Client().get("/api/v1/openapi.json")
    assert r.status_code == 200
    assert "/api/v1/units" in r.json()["paths"]
