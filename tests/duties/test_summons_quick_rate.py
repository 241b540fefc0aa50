"""The one-click overall rating (满意 / 基本满意 / 不满意) gives every indicator the same score."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from gongzhi.duties import summons
from gongzhi.duties.models import SummonsTarget


def _closed(users: Any, tree: Any) -> Any:
    s = summons.summons_create(
        actor=users["township_leader"],
        township=tree.t1,
        ground="resident_demand",
        title="外墙脱落",
        description="需要住建部门鉴定",
        department_ids=[tree.dept.pk],
    )
    summons.summons_close(actor=users["township_leader"], summons_id=s.pk, closing_note="已处置")
    return s


@pytest.mark.parametrize(("overall", "score"), [("satisfied", 5), ("fair", 3), ("unsatisfied", 1)])
def test_overall_rating(users: Any, tree: Any, overall: str, score: int) -> None:
    s = _closed(users, tree)
    t = SummonsTarget.objects.get(summons=s)
    c = Client()
    c.force_login(users["township_staff"])
    r = c.post(f"/summons/{s.pk}/targets/{t.pk}/rate/", {"overall": overall})
    assert r.status_code == 303
    t.refresh_from_db()
    assert {d["score"] for d in t.scores.values()} == {score}
    assert float(t.score) == (score - 1) / 4 * 100


def test_overall_rating_is_refused_to_outsiders_and_unknown_values(users: Any, tree: Any) -> None:
    s = _closed(users, tree)
    t = SummonsTarget.objects.get(summons=s)
    c = Client()
    c.force_login(users["other_township_staff"])
    assert c.post(f"/summons/{s.pk}/targets/{t.pk}/rate/", {"overall": "satisfied"}).status_code == 404
    c.force_login(users["township_staff"])
    assert c.post(f"/summons/{s.pk}/targets/{t.pk}/rate/", {"overall": "great"}).status_code == 400
    t.refresh_from_db()
    assert t.rated_at is None
