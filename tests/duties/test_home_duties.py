"""P1 home-page sections: what needs each role's attention, and the one-click 报到 from the department's home."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.test import Client

from gongzhi.duties import gate, summons
from gongzhi.duties.models import SummonsTarget

from .factories import make_list, tree_departments


def test_department_acknowledges_from_home_in_one_click(users: Any, tree: Any) -> None:
    s = summons.summons_create(
        actor=users["township_leader"],
        township=tree.t1,
        ground="joint_enforcement",
        title="违法建设联合执法",
        description="需要住建部门到场",
        department_ids=[tree.dept.pk],
    )
    c = Client()
    c.force_login(users["department_staff"])
    home = c.get("/").content.decode()
    forms = re.findall(r'<form method="post" action="([^"]+/ack/)"', home)
    assert len(forms) == 1 and "违法建设联合执法" in home
    r = c.post(forms[0])
    assert r.status_code in (302, 303)
    assert SummonsTarget.objects.get(summons=s).acknowledged_at is not None
    assert "违法建设联合执法" not in c.get("/").content.decode()  # nothing left to acknowledge


def test_home_sections_for_township_department_and_county(users: Any, tree: Any) -> None:
    make_list(tree.t1, tree.county, tree_departments(tree))
    future = dt.date.today() + dt.timedelta(days=10)
    gate.task_send(
        actor=users["department_staff"],
        township_ids=[tree.t1.pk],
        title="低保入户调查",
        content="受理辖区居民最低生活保障申请，开展入户调查和初审",
        deadline=future,
        expected_hours=2,
    )
    gate.task_send(
        actor=users["department_staff"],
        township_ids=[tree.t1.pk],
        title="招商引资签约",
        content="各乡镇须引进亿元以上招商项目两个并完成签约",
        deadline=future,
        expected_hours=2,
    )
    c = Client()
    c.force_login(users["township_staff"])
    page = c.get("/").content.decode()
    assert "低保入户调查" in page and "招商引资签约" not in page  # only what was admitted
    c.force_login(users["county_office"])
    page = c.get("/").content.decode()
    assert "招商引资签约" in page and "低保入户调查" not in page  # only what waits for the county
    c.force_login(users["department_staff"])
    assert "招商引资签约" in c.get("/").content.decode()
