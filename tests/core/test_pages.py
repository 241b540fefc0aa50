from __future__ import annotations

from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gongzhi.core.models import User

from ..factories import cadre, resident


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_login_page_is_chinese(db: Any) -> None:
    r = Client().get("/login/")
    html = r.content.decode()
    assert r.status_code == 200 and 'lang="zh-hans"' in html and "登录共治平台" in html


def test_security_headers(db: Any) -> None:
    r = Client().get("/login/")
    assert "default-src 'self'" in r["Content-Security-Policy"]
    assert r["X-Frame-Options"] == "DENY"
    assert r["X-Content-Type-Options"] == "nosniff"


def test_each_role_home_shows_its_role(users: dict[str, User]) -> None:
    expected = {
        "admin": "平台管理员",
        "county_office": "县减负办 · 县委县政府办公室",
        "department_staff": "县直部门 · 县住房和城乡建设局",
        "township_leader": "乡镇领导 · 东河镇",
        "township_staff": "乡镇干部 · 东河镇",
        "village_committee": "村（社区）两委 · 东河村",
        "org_department": "组织部 · 县委组织部",
        "discipline": "纪委监委 · 县纪委监委",
        "resident": "居民 · 东河村",
        "org_rep": "企业/社会组织代表",
    }
    for role, heading in expected.items():
        html = _client(users[role]).get("/").content.decode()
        assert heading in html, role


def test_navigation_follows_role(users: dict[str, User]) -> None:
    res = _client(users["resident"]).get("/").content.decode()
    assert 'href="/residents/"' not in res and 'href="/cadres/"' not in res
    dept = _client(users["department_staff"]).get("/").content.decode()
    assert 'href="/residents/"' not in dept and 'href="/cadres/"' in dept
    town = _client(users["township_leader"]).get("/").content.decode()
    assert 'href="/residents/"' in town and 'href="/audit/"' not in town


def test_home_query_count_is_small(users: dict[str, User]) -> None:
    c = _client(users["township_leader"])
    c.get("/")
    with CaptureQueriesContext(connection) as q:
        assert c.get("/").status_code == 200
    # The session (Redis in production), the user with grants, P1's sections, P2's sections: one query each.
    assert len(q) <= 4, [x["sql"] for x in q.captured_queries]


def test_resident_page_search_and_mask(users: dict[str, User], tree: Any) -> None:
    resident(tree.v12, phone="13812345678", name="王小明")
    resident(tree.vb, phone="13812345670", name="王外县")
    html = _client(users["township_staff"]).get("/residents/?q=王").content.decode()
    assert "王小明" in html and "138****5678" in html and "13812345678" not in html and "王外县" not in html


def test_resident_page_empty_state(users: dict[str, User]) -> None:
    html = _client(users["township_staff"]).get("/residents/?q=不存在的人").content.decode()
    assert "没有符合条件的居民" in html


def test_resident_list_paginates_with_constant_queries(users: dict[str, User], tree: Any) -> None:
    c = _client(users["township_staff"])
    for i in range(5):
        resident(tree.v11, name=f"甲{i}")
    c.get("/residents/")
    with CaptureQueriesContext(connection) as few:
        c.get("/residents/")
    for i in range(60):
        resident(tree.v12, name=f"乙{i}")
    with CaptureQueriesContext(connection) as many:
        html = c.get("/residents/").content.decode()
    assert "第 1 / 2 页" in html
    assert len(many) == len(few)


def test_unit_tree_children_partial(users: dict[str, User], tree: Any) -> None:
    c = _client(users["county_office"])
    html = c.get("/units/").content.decode()
    assert "共治县" in html
    part = c.get(f"/units/{tree.t1.code}/children/", HTTP_HX_REQUEST="true").content.decode()
    assert "东河村" in part and "<html" not in part
    assert _client(users["other_township_staff"]).get(f"/units/{tree.t1.code}/children/").status_code == 404


def test_cadre_page_lists_positions(users: dict[str, User], tree: Any) -> None:
    cadre(unit=tree.t1, title="武装部长")
    html = _client(users["township_leader"]).get("/cadres/").content.decode()
    assert "东河镇 · 武装部长" in html


def test_token_page_shows_token_once(users: dict[str, User]) -> None:
    c = _client(users["township_staff"])
    r = c.post("/account/tokens/", {"name": "对接"})
    html = r.content.decode()
    assert 'id="new-token"' in html
    again = c.get("/account/tokens/").content.decode()
    assert 'id="new-token"' not in again and "对接" in again


def test_language_switch(users: dict[str, User]) -> None:
    c = _client(users["township_leader"])
    c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert 'lang="en"' in c.get("/").content.decode()
