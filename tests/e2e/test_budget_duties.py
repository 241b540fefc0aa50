"""Burden budget of P1's routine actions (docs/burden-budget.md): the task gate, 吹哨报到 and 动态调整, each done
once in a real browser in the demo county, from the home page of the person who does it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from gongzhi.core.models import User

from .test_duties_flow import DEPARTMENT, Demo, build_demo, deadline, fits

pytestmark = pytest.mark.e2e


@pytest.fixture
def demo(transactional_db: Any) -> Demo:
    return build_demo()


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _open_summons() -> Any:
    """The demo's summons that waits for 县住房和城乡建设局 to report in."""
    from gongzhi.duties.models import Summons

    return Summons.objects.get(status="open", title="老旧小区外墙脱落隐患处置")


# ---- the task gate ---------------------------------------------------------------------------------------------------


@pytest.mark.budget("send-task")
def test_budget_send_task(web: Any, demo: Demo, budget: Any) -> None:
    from gongzhi.duties.models import Task

    page = web.new_page(user=_user("zhujian"))
    page.goto("/")
    with budget(page) as b:
        b.click(page.locator("main").get_by_role("link", name="交办新任务"))
        b.click(page.get_by_role("checkbox", name=demo.township.name))
        b.fill(page.get_by_label("任务名称"), "汛前防汛责任人落实")
        b.fill(page.get_by_label("任务内容"), "明确村组防汛责任人，修订转移避险预案。")
        b.fill(page.get_by_label("完成时限"), deadline())
        b.click(page.get_by_role("button", name="提交准入判定"))
        expect(page.get_by_role("heading", level=1)).to_have_text("汛前防汛责任人落实")
    task = Task.objects.get(title="汛前防汛责任人落实")
    assert (task.township, task.department.name, task.outcome) == (demo.township, DEPARTMENT, "admitted")
    expect(page.locator("section.card", has=page.get_by_role("heading", name="准入判定"))).to_contain_text(
        "「防汛抗旱责任落实与人员转移避险」"
    )


@pytest.mark.budget("approve-held-task")
def test_budget_approve_held_task(web: Any, demo: Demo, budget: Any) -> None:
    from gongzhi.duties.models import ResourceGrant, Task

    held = Task.objects.get(township=demo.township, status="held")
    page = web.new_page(user=_user("county"))
    page.goto("/")
    with budget(page) as b:
        b.click(page.locator("main").get_by_role("link", name=held.title))
        b.fill(page.get_by_label("经费（万元）"), "15")
        b.fill(page.get_by_label("人员（人）"), "1")
        b.click(page.get_by_role("button", name="批准准入"))
        expect(page.locator(".messages")).to_contain_text("随事资源已记录")
    held.refresh_from_db()
    grant = ResourceGrant.objects.get(task=held)
    assert held.status == "approved" and (grant.funds, grant.staff) == (15, 1)


@pytest.mark.budget("contest-task")
def test_budget_contest_task(web: Any, demo: Demo, budget: Any) -> None:
    from gongzhi.duties import gate
    from gongzhi.duties.models import TaskContest

    zhujian = _user("zhujian")
    (task,) = gate.task_send(
        actor=zhujian,
        township_ids=[demo.township.pk],
        title="反诈宣传进村入户",
        content="组织村（社区）开展反诈宣传进村入户，对易受骗老人上门劝阻。",
        # The soonest deadline in the township, so it comes first on the township's home page.
        deadline=timezone.localdate() + dt.timedelta(days=5),
        expected_hours=4,
    )
    assert task.status == "admitted"
    page = web.new_page(user=_user("leader"))
    page.goto("/")
    with budget(page) as b:
        b.click(page.locator("main").get_by_role("link", name="反诈宣传进村入户"))
        b.fill(page.get_by_label("异议理由"), "派出所已包村宣传，重复交办")
        b.click(page.get_by_role("button", name="提交异议"))
        expect(page.locator(".messages")).to_contain_text("异议已提交")
    assert TaskContest.objects.get(task=task).status == "open"


# ---- 吹哨报到 ---------------------------------------------------------------------------------------------------------


@pytest.mark.budget("raise-summons")
def test_budget_raise_summons(web: Any, demo: Demo, budget: Any) -> None:
    from gongzhi.duties.models import Summons

    page = web.new_page(user=_user("leader"))
    page.goto("/")
    with budget(page) as b:
        b.click(page.locator("main").get_by_role("link", name="发起吹哨"))
        b.click(page.get_by_role("radio", name="应急处置"))
        b.fill(page.get_by_label("事项", exact=True), "危房墙体开裂")
        b.fill(page.get_by_label("情况说明"), "村民危房墙体开裂，需住建部门鉴定")
        b.click(page.get_by_role("checkbox", name=DEPARTMENT))
        b.click(page.get_by_role("button", name="吹哨", exact=True))
        expect(page.locator(".messages")).to_contain_text("已吹哨")
    s = Summons.objects.get(title="危房墙体开裂")
    assert s.status == "open" and s.ack_minutes == 15  # 应急处置: 15 minutes by default
    assert [t.department.name for t in s.targets.all()] == [DEPARTMENT]


@pytest.mark.budget("acknowledge-summons")
def test_budget_acknowledge_summons(web: Any, demo: Demo, budget: Any) -> None:
    s = _open_summons()
    page = web.new_page("phone", user=_user("zhujian"))  # reported in from the field: a phone
    page.goto("/")
    with budget(page) as b:
        item = page.locator("main li", has=page.get_by_role("link", name=s.title))
        b.click(item.get_by_role("button", name="报到", exact=True))
        expect(page.locator("article.sm-target")).to_contain_text("已报到")
    fits(page)
    target = s.targets.get()
    assert target.acknowledged_at is not None and target.acknowledged_by == _user("zhujian")


@pytest.mark.budget("close-and-rate-summons")
def test_budget_close_and_rate_summons(web: Any, demo: Demo, budget: Any) -> None:
    from gongzhi.duties import summons as svc

    s = _open_summons()
    target = s.targets.get()
    svc.summons_acknowledge(actor=_user("zhujian"), summons_id=s.pk, target_id=target.pk)
    page = web.new_page(user=_user("leader"))
    page.goto("/")
    with budget(page) as b:
        b.click(page.locator("main").get_by_role("link", name=s.title))
        b.fill(page.get_by_label("办结说明"), "外墙已修复")
        b.click(page.get_by_role("button", name="办结", exact=True))
        card = page.locator("article.sm-target")
        b.click(card.get_by_role("button", name="满意", exact=True))  # one click rates every indicator
        expect(page.locator(".messages")).to_contain_text("评价已保存")
    target.refresh_from_db()
    s.refresh_from_db()
    assert s.status == "closed" and target.score is not None
    assert {d["score"] for d in target.scores.values()} == {5}


# ---- 动态调整 ---------------------------------------------------------------------------------------------------------


@pytest.mark.budget("apply-adjustment")
def test_budget_apply_adjustment(web: Any, demo: Demo, budget: Any) -> None:
    from gongzhi.duties.gate import current_list
    from gongzhi.duties.models import DutyAdjustment

    current = current_list(demo.township)
    assert current is not None
    pending = set(DutyAdjustment.objects.filter(status="pending").values_list("item_lineage", flat=True))
    item = (
        current.items.filter(category="basic", power_department__isnull=False)
        .exclude(lineage__in=pending)
        .order_by("position")
        .first()
    )
    assert item is not None
    page = web.new_page(user=_user("staff"))
    page.goto("/")
    with budget(page) as b:
        b.click(page.locator("main").get_by_role("link", name="本乡镇履职清单"))
        b.fill(page.get_by_label("搜索事项"), item.name[:4])
        b.press(page.get_by_label("搜索事项"), "Enter")
        row = page.locator("tr", has_text=item.name)
        b.click(row.get_by_role("link", name="删除", exact=True))
        b.fill(page.get_by_label("调整理由"), "所需权限在县直部门，申请调出")
        b.click(page.get_by_role("button", name="提交县委编办"))
        expect(page.locator(".messages")).to_contain_text("调整申请已提交")
    adj = DutyAdjustment.objects.get(item_lineage=item.lineage)
    assert (adj.action, adj.status, adj.township) == ("remove", "pending", demo.township)


@pytest.mark.budget("decide-adjustment")
def test_budget_decide_adjustment(web: Any, demo: Demo, budget: Any) -> None:
    from gongzhi.duties.gate import current_list
    from gongzhi.duties.models import DutyAdjustment

    adj = DutyAdjustment.objects.get(status="pending")
    before = current_list(demo.township)
    assert before is not None
    page = web.new_page(user=_user("bianban"))
    page.goto("/")
    with budget(page) as b:
        b.click(page.locator("main").get_by_role("link", name=adj.item_label))
        b.click(page.get_by_role("button", name="批准并发布新版本"))
        expect(page.locator(".messages")).to_contain_text("新版本清单已发布")
    after = current_list(demo.township)
    assert after is not None and after.version == before.version + 1
    assert not after.items.filter(lineage=adj.item_lineage).exists()
