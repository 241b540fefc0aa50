"""Home-page sections for joint visits: the township's visits this month with codes, the lead department's visits
waiting for findings, the county office's items not merged yet; and the navigation entries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.utils import timezone

from gongzhi.inspections.models import VisitStatus

from .factories_visits import item, run, visit


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_home_sections(users: Any, tree: Any) -> None:
    today = timezone.localdate()
    year = today.year
    r = run(tree.county, year=year)
    a = item(tree.dept, topic="危房检查", targets=[tree.t1], year=year)
    b = item(tree.dept2, topic="安全检查", targets=[tree.t1], year=year)
    later = today + dt.timedelta(days=1) if (today + dt.timedelta(days=1)).month == today.month else today
    visit(r, tree.t1, tree.dept, [a, b], day=later)
    past = visit(r, tree.t2, tree.dept, [a], day=today - dt.timedelta(days=3))
    item(tree.dept, topic="未合并", targets=[tree.t2], year=year)
    page = _client(users["township_staff"]).get("/").content.decode()
    assert "近期联合督查" in page and a.code in page and b.code in page and "牵头：县住房和城乡建设局" in page
    page = _client(users["department_staff"]).get("/").content.decode()
    assert "待记录发现问题" in page and f"/visits/{past.pk}/findings/" in page
    past.status = VisitStatus.DONE
    past.save()
    assert f"/visits/{past.pk}/findings/" not in _client(users["department_staff"]).get("/").content.decode()
    page = _client(users["county_office"]).get("/").content.decode()
    assert "1 个已批准的实地事项尚未合并安排" in page


def test_navigation_for_roles(users: Any, tree: Any) -> None:
    for role in ("township_staff", "department_staff", "county_office", "org_department"):
        page = _client(users[role]).get("/").content.decode()
        assert 'href="/catalog/"' in page and 'href="/visits/"' in page and 'href="/burden/"' in page
    for role in ("resident", "village_committee"):
        page = _client(users[role]).get("/").content.decode()
        assert 'href="/visits/"' not in page and 'href="/burden/"' not in page
