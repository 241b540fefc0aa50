"""P1 "Done when", walked in a real browser in the demo county, at desktop and phone width.

A department sends one task per gate outcome and reads each decision with its explanation; the county office tries to
approve the off-list task without resources (refused: 费随事转), then approves it with funds and staff; the township
inbox shows what was admitted and not what was refused; the township leader summons a department, the department
reports in with one click and sees the minutes it took, the township closes the summons and rates the response.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from gongzhi.core.models import AdminUnit, User
from gongzhi.duties import catalog

from .conftest import no_horizontal_overflow, shot, staff_login

pytestmark = pytest.mark.e2e

# Demo scale: the administrative tree, departments, cadres and P1 lists stay whole; residents shrink to a handful.
DEMO_SCALE = 0.005
DEPARTMENT = "县住房和城乡建设局"  # the demo's department login `zhujian` works here

# One sample task per gate outcome (texts from the catalog the gate is tested against), none of them among the tasks
# the demo already sent, so each title is unique in the township's boxes.
SAMPLES = {
    "admitted": "汛前防汛责任人落实和转移避险预案",
    "assistance": "生态环境保护督察反馈问题整改",
    "refused": "建筑工地安全生产检查专班",
    "held": "推广政务APP下载注册",
}
OUTCOME_LABEL = {
    "admitted": "准入",
    "assistance": "准入（配合）",
    "refused": "退回",
    "held": "待县级准入审核",
}
# Words of the rule each explanation must state.
RULE = {
    "admitted": "基本履职事项",
    "assistance": "配合履职事项",
    "refused": "收回",
    "held": "清单之外无事项",
}
STATUS_LABEL = {
    "admitted": "已准入",
    "assistance": "已准入（配合）",
    "refused": "已退回",
    "held": "待县级审核",
}


def sample(title: str) -> catalog.SampleTask:
    return next(s for s in catalog.SAMPLE_TASKS if s.title == title)


@dataclass
class Demo:
    township: AdminUnit
    password: str

    def user(self, username: str) -> User:
        return User.objects.get(username=username)


def build_demo() -> Demo:
    """The demo county as `gongzhi demo` builds it (small scale), and the demo township of the printed logins."""
    from gongzhi.core.demo import DEMO_PASSWORD

    from ..demo_snapshot import demo_county

    assert demo_county(DEMO_SCALE)
    township = User.objects.get(username="leader").cadre.positions.get().unit
    assert township is not None
    return Demo(township=township, password=DEMO_PASSWORD)


@pytest.fixture
def demo(transactional_db: Any) -> Demo:
    return build_demo()


def deadline(days: int = 20) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


def fits(page: Page) -> None:
    """No sideways scrolling. On an emulated phone Chromium widens the layout viewport to fit wide content, so
    ``window.innerWidth`` grows with the overflow; the configured viewport width is the honest bound."""
    no_horizontal_overflow(page)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert page.viewport_size is not None
    assert width <= page.viewport_size["width"], f"page is {width}px wide at {page.viewport_size['width']}px"


def login(page: Page, demo: Demo, username: str) -> None:
    page.context.clear_cookies()
    staff_login(page, username, demo.password)
    expect(page.get_by_role("heading", level=1)).to_contain_text("您好")


def send_task(page: Page, demo: Demo, title: str) -> None:
    """Fill the send form for one township, wait for the live gate preview, submit; lands on the task's page."""
    s = sample(title)
    page.goto("/tasks/new/")
    page.get_by_role("checkbox", name=demo.township.name).check()
    page.get_by_label("任务名称").fill(s.title)
    page.get_by_label("任务内容").fill(s.content)
    page.get_by_label("完成时限").fill(deadline())
    # The preview (htmx) shows the decision before anything is sent.
    expect(page.locator("#gate-preview .status")).to_have_text(OUTCOME_LABEL[s.expected])
    page.get_by_role("button", name="提交准入判定").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(s.title)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_p1_done_when(web: Any, demo: Demo, viewport: str) -> None:
    from gongzhi.duties.models import ResourceGrant, Summons, Task

    page = web.new_page(viewport)

    # ---- 1. the department sends one task per outcome and reads each decision -------------------------------------
    login(page, demo, "zhujian")
    urls: dict[str, str] = {}
    for outcome, title in SAMPLES.items():
        s = sample(title)
        assert s.expected == outcome
        send_task(page, demo, title)
        urls[outcome] = page.url
        expect(page.locator(".messages")).to_contain_text("已提交")
        expect(page.locator(".status").first).to_have_text(STATUS_LABEL[outcome])
        verdict = page.locator("section.card", has=page.get_by_role("heading", name="准入判定"))
        expect(verdict.locator("strong").first).to_have_text(OUTCOME_LABEL[outcome])
        # The explanation names the rule and the matched item (the off-list task has none to name).
        expect(verdict).to_contain_text(RULE[outcome])
        if s.expect_item:
            expect(verdict).to_contain_text(f"「{s.expect_item}」")
        fits(page)
        if outcome in ("refused", "held"):
            shot(page, f"duties-task-{outcome}-{viewport}")
    tasks = {o: Task.objects.get(title=t, township=demo.township) for o, t in SAMPLES.items()}
    assert {o: t.outcome for o, t in tasks.items()} == {o: o for o in SAMPLES}

    # ---- 2. the county office: no approval without resources, then approval with a grant ---------------------------
    login(page, demo, "county")
    page.goto(urls["held"])
    decide = page.locator("section.card", has=page.get_by_role("heading", name="职责准入审核"))
    decide.get_by_role("button", name="批准准入").click()
    expect(page.get_by_role("alert")).to_contain_text("费随事转")
    # The refusal sits in the form that caused it, and the page opens there (the form is a screen down on a phone).
    expect(decide.get_by_role("alert")).to_be_in_viewport()
    fits(page)
    shot(page, f"duties-grant-required-{viewport}")
    assert not ResourceGrant.objects.filter(task=tasks["held"]).exists()
    page.get_by_label("经费（万元）").fill("12.5")
    page.get_by_label("人员（人）").fill("2")
    page.get_by_role("button", name="批准准入").click()
    expect(page.locator(".status").first).to_have_text("县级批准准入")
    grant = page.locator("dl", has=page.get_by_text("经费", exact=True))
    expect(grant).to_contain_text("12.50 万元")
    expect(grant).to_contain_text("2 人")
    fits(page)
    shot(page, f"duties-grant-{viewport}")
    g = ResourceGrant.objects.get(task=tasks["held"])
    assert (str(g.funds), g.staff) == ("12.50", 2)
    # The county's report counts the township's tasks by outcome, the approved one among them.
    page.goto("/duties/reports/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("任务准入与吹哨报到统计")
    expect(page.get_by_role("row", name=demo.township.name).first).to_be_visible()
    fits(page)
    shot(page, f"duties-report-{viewport}")

    # ---- 3. the township inbox: admitted, assistance, approved — never the refused one -----------------------------
    login(page, demo, "staff")
    page.goto("/tasks/?box=inbox")
    rows = page.locator("tbody")
    for outcome in ("admitted", "assistance", "held"):
        expect(rows.get_by_role("link", name=SAMPLES[outcome], exact=True)).to_be_visible()
    expect(rows.get_by_role("link", name=SAMPLES["refused"], exact=True)).to_have_count(0)
    expect(rows.get_by_role("row", name=SAMPLES["held"])).to_contain_text("县级批准准入")
    fits(page)
    shot(page, f"duties-inbox-{viewport}")

    # ---- 4. the township leader summons the department --------------------------------------------------------------
    login(page, demo, "leader")
    page.goto("/summons/new/")
    page.get_by_role("radio", name="综合执法").check()
    page.get_by_label("事项", exact=True).fill("河道沿线违规搭建联合执法")
    page.get_by_label("情况说明").fill("河道沿线出现违规搭建，乡镇无执法权，需住建部门到场认定并处置。")
    page.get_by_role("checkbox", name=DEPARTMENT).check()
    fits(page)
    shot(page, f"duties-summons-new-{viewport}")
    page.get_by_role("button", name="吹哨", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("河道沿线违规搭建联合执法")
    target = page.locator("article.sm-target", has=page.get_by_role("heading", name=DEPARTMENT))
    expect(target).to_contain_text("待报到，剩余")
    summons = Summons.objects.get(title="河道沿线违规搭建联合执法")
    assert summons.status == "open" and summons.ack_minutes == 30

    # The clock runs: twelve minutes pass before the department reports in.
    earlier = dt.timedelta(minutes=12)
    issued_at, ack_due = summons.issued_at, summons.targets.get().ack_due
    assert issued_at is not None and ack_due is not None
    Summons.objects.filter(pk=summons.pk).update(issued_at=issued_at - earlier)
    summons.targets.update(ack_due=ack_due - earlier)
    page.reload()
    expect(target).to_contain_text("剩余 18")
    shot(page, f"duties-summons-open-{viewport}")

    # ---- 5. the department reports in with one click: on the phone from its home page, at the desk on the summons ---
    login(page, demo, "zhujian")
    waiting = page.locator("main li", has=page.get_by_role("link", name="河道沿线违规搭建联合执法"))
    target = page.locator("article.sm-target", has=page.get_by_role("heading", name=DEPARTMENT))
    expect(waiting).to_contain_text("剩余 18 分钟")
    fits(page)
    shot(page, f"duties-home-department-{viewport}")
    if viewport == "phone":
        waiting.get_by_role("button", name="报到", exact=True).click()
    else:
        waiting.get_by_role("link").click()
        target.get_by_role("button", name="报到", exact=True).click()  # htmx: the page updates in place
    expect(target).to_contain_text("已报到")
    expect(target).to_contain_text("用时 12")
    fits(page)
    shot(page, f"duties-summons-ack-{viewport}")
    t = summons.targets.get()
    assert t.acknowledged_at is not None and t.acknowledged_by == demo.user("zhujian")

    # ---- 6. the township closes it and rates the department's response ---------------------------------------------
    login(page, demo, "leader")
    page.goto(f"/summons/{summons.pk}/")
    page.get_by_label("办结说明").fill("违规搭建已拆除，河道恢复畅通")
    page.get_by_role("button", name="办结", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("已办结")
    target = page.locator("article.sm-target", has=page.get_by_role("heading", name=DEPARTMENT))
    # The detailed scale (the one-click 满意/基本满意/不满意 sits above it).
    target.get_by_text("按指标评分").click()
    for indicator, score in (("响应速度", "5"), ("协同配合", "4"), ("办理成效", "4")):
        target.get_by_role("group", name=indicator).get_by_role("radio", name=score, exact=True).check()
    target.get_by_role("button", name="提交评价").click()
    expect(target).to_contain_text("评价")
    expect(target).to_contain_text("响应速度 5/5")
    fits(page)
    shot(page, f"duties-summons-rated-{viewport}")
    t.refresh_from_db()
    assert t.rated_at is not None and t.scores["response_speed"]["score"] == 5
