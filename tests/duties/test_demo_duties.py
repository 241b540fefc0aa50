"""The demo county ships P1 worked examples: every township's list, one task per gate outcome, a grant, an objection,
a 动态调整 history and summonses in each state."""

from __future__ import annotations

from typing import Any

import pytest

from gongzhi.core.models import User
from gongzhi.duties import catalog
from gongzhi.duties.models import (
    DutyAdjustment,
    DutyItem,
    DutyList,
    ResourceGrant,
    Summons,
    Task,
    TaskContest,
)

from ..demo_snapshot import demo_county

pytestmark = pytest.mark.django_db


def test_demo_county_has_p1_examples() -> None:
    demo_county(0.005)
    leader = User.objects.get(username="leader")
    home = leader.cadre.positions.get().unit
    assert DutyList.objects.filter(status="published").count() == 13  # 12 townships + the county template
    current = DutyList.objects.get(owner=home, status="published")
    assert current.version == 2 and DutyList.objects.filter(owner=home, status="superseded").count() == 1
    assert DutyItem.objects.filter(duty_list=current).count() == len(catalog.TEMPLATE_ITEMS)
    assert DutyAdjustment.objects.filter(status="pending").count() == 1

    outcomes = set(Task.objects.filter(township=home).values_list("outcome", flat=True))
    assert outcomes == {"admitted", "assistance", "refused", "held"}
    for task in Task.objects.all():
        assert task.explanation["explanation"]
    approved = Task.objects.get(status="approved")
    assert ResourceGrant.objects.get(task=approved).funds > 0
    assert Task.objects.filter(status="held").exists()  # one waits for the county office
    assert TaskContest.objects.filter(status="open").count() == 1
    assert set(Summons.objects.values_list("status", flat=True)) == {"open", "closed"}
    closed = Summons.objects.get(status="closed")
    assert all(t.score is not None for t in closed.targets.all())


def test_demo_staffing_office_login_sees_the_pending_adjustment(client: Any) -> None:
    demo_county(0.005)
    client.force_login(User.objects.get(username="bianban"))
    page = client.get("/").content.decode()
    assert "待审批的动态调整申请" in page
