"""P2 "Done when" (issue 4), walked in a real browser in the demo county, at desktop and phone width.

The county office (减负办) reads the review: duplicates, split items, over-quota items and trace demands, each with its
reason sentence; it opens one flag and follows it to the other item; approves the clean items in one step, approves one
flagged item (its trace demands struck), returns another with a reason and revokes one code; then merges the approved
items into joint visits and reads visits before and after and the gap to the exact optimum. A township leader sees the
joint visits with their codes on the calendar and checks a code at the public page (valid: by whom, for what, when); a
fake code and the revoked code say so plainly. The burden page shows the cut against the 50% goal. The lead department
records findings once for all of a visit's items, and another department taking part sees only its own.

Every number the test expects is read from the database the demo wrote, not from the page.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import FloatRect, Locator, Page, expect

from gongzhi.core.models import AdminUnit, Department, Position, User

from .conftest import shot
from .test_duties_flow import Demo, build_demo, fits, login

pytestmark = pytest.mark.e2e

DEPARTMENT = "县住房和城乡建设局"  # the printed department login `zhujian`
MERGE_TIMEOUT_MS = (
    90_000  # the merge with its CP-SAT reference: seconds on a quiet machine, more on a busy one
)
# Screenshots also go here when set (GZ_SHOTS=/tmp/gz/shots), for people to look at; test-artifacts/ always gets them.
SHOTS = os.environ.get("GZ_SHOTS", "")


@pytest.fixture
def demo(transactional_db: Any) -> Demo:
    return build_demo()


class Bugs:
    """Product bugs found on the way: recorded, the walk goes on, and the test fails at the end listing them all."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def has_text(self, what: str, locator: Locator, text: str) -> None:
        try:
            expect(locator).to_have_text(text, timeout=1000)
        except AssertionError as e:
            self.found.append(f"{what}: {str(e).splitlines()[0]}")


BUGS = Bugs()


def snap(page: Page, name: str) -> None:
    shot(page, name)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True, caret="initial")
        # The top of a long page, at a size a person (or an image viewer) can read.
        assert page.viewport_size is not None
        width = page.viewport_size["width"]
        height = min(
            page.evaluate("() => document.documentElement.scrollHeight"), 2 * width if width > 800 else 1400
        )
        clip: FloatRect = {"x": 0, "y": 0, "width": width, "height": height}
        page.screenshot(path=str(Path(SHOTS) / f"{name}-top.png"), full_page=True, clip=clip, caret="initial")


def home_card(page: Page, title: str) -> Locator:
    """A section of the home page, by its title."""
    return page.locator("article.card", has=page.get_by_role("heading", name=title, exact=True))


def h1(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def year(county: AdminUnit) -> int:
    """The year the demo planned (read from its plans, not a constant): the one the pages open on."""
    from django.db.models import Max

    from gongzhi.inspections.models import InspectionPlan

    planned = InspectionPlan.objects.filter(county=county).aggregate(y=Max("year"))["y"]
    this = timezone.localdate().year
    assert planned == this, f"the demo plans {planned}; pages open on {this}"
    return this


def pct(before: int, after: int) -> str:
    return f"{(before - after) / before * 100:.1f}"


def township_names(codes: list[str]) -> list[str]:
    names = dict(AdminUnit.objects.filter(code__in=codes).values_list("code", "name"))
    return [names[c] for c in codes]


def office_name(user: User) -> str:
    """The county office the approver works in (what the public check names as the approver)."""
    return (
        Position.objects.filter(cadre__user=user, department__kind="county_office")
        .values_list("department__name", flat=True)
        .get()
    )


# ---- the county office ----------------------------------------------------------------------------------------------


def _latest_run(county: AdminUnit, y: int) -> Any:
    from gongzhi.inspections.models import ReviewRun

    run = ReviewRun.objects.filter(county=county, year=y).order_by("-id").first()
    assert run is not None, "the demo's filings ran the review"
    return run


def _pending(county: AdminUnit, y: int) -> Any:
    from gongzhi.inspections.models import InspectionItem

    return InspectionItem.objects.filter(
        plan__county=county, plan__year=y, plan__status="filed", status="pending"
    ).select_related("plan__department")


def _flag_item(page: Page, topic: str, marker: str) -> Locator:
    """The flag (list entry) that names ``topic`` as its item and says ``marker``."""
    return page.locator("ul.items > li", has=page.get_by_role("link", name=topic, exact=True)).filter(
        has_text=marker
    )


def review_walk(page: Page, county: AdminUnit, y: int, viewport: str) -> None:
    """The review page: four kinds of flag, each with the reason sentence, and one flag followed to the other item."""
    from gongzhi.inspections.models import InspectionItem, ReviewFlag
    from gongzhi.inspections.review import rule_label

    n_pending = _pending(county, y).count()
    card = home_card(page, "督查检查考核计划审核")
    expect(card).to_contain_text(f"{y} 年度 {n_pending} 个事项待审核")
    fits(page)
    snap(page, f"p2-home-county-{viewport}")
    card.get_by_role("link", name="审查结果").click()
    expect(h1(page)).to_have_text(f"{county.name} {y} 年度计划审查")

    run = _latest_run(county, y)
    counts = Counter(ReviewFlag.objects.filter(run=run).values_list("rule", flat=True))
    flagged = ReviewFlag.objects.filter(run=run).values("item_id").distinct().count()
    expect(page.locator("main")).to_contain_text(f"共审查 {run.stats['items']} 个事项，{flagged} 个有提示")
    summary = page.locator("section.card").first
    for rule in ("duplicate", "split", "over_quota", "trace_demand"):
        assert counts[rule] > 0, f"the demo county's plans should raise {rule} flags: {counts}"
        label = rule_label(rule)
        entry = summary.locator("li").filter(has_text=re.compile(rf"^{label}："))
        expect(entry).to_have_text(f"{label}：{counts[rule]}")
    fits(page)
    snap(page, f"p2-review-{viewport}")

    for rule in ("duplicate", "split", "over_quota", "trace_demand"):
        label = rule_label(rule)
        summary.get_by_role("link", name=label, exact=True).click()
        group = page.get_by_role("heading", level=2, name=re.compile(rf"^{label} \d+$"))
        expect(group).to_be_visible()
        # The group's count is the rule's total, as in the summary above (not the flags on this page).
        BUGS.has_text(f"review page ?rule={rule}: group heading count", group, f"{label} {counts[rule]}")
        f = ReviewFlag.objects.filter(run=run, rule=rule).select_related("item").order_by("item_id", "id")[0]
        others = list(InspectionItem.objects.filter(pk__in=f.others).select_related("plan__department"))
        if rule == "duplicate":
            marks = ["相似度", "重叠", *(f"{o.plan.department.name}「{o.topic}」" for o in others)]
        elif rule == "split":
            marks = ["拆包分包", *(f"「{o.topic}」" for o in others)]
        elif rule == "over_quota":
            period = "每季度" if f.code.endswith("quarter") else "每年"
            marks = [f"超过{period} {f.params['cap']} 项的上限", *township_names(f.townships)[:3]]
        else:
            marks = ["留痕", *(f"「{m['material']}」" for m in f.params["materials"])]
        flag = _flag_item(page, f.item.topic, marks[0]).first
        for text in marks:
            expect(flag).to_contain_text(text)
        if rule == "split":
            fits(page)
            snap(page, f"p2-review-split-{viewport}")

    # Open one duplicate and follow it to the other item, whose page names this one back.
    summary.get_by_role("link", name=rule_label("duplicate"), exact=True).click()
    dup = (
        ReviewFlag.objects.filter(run=run, rule="duplicate")
        .select_related("item")
        .order_by("item_id", "id")[0]
    )
    other = InspectionItem.objects.get(pk=dup.others[0])
    _flag_item(page, dup.item.topic, "相似度").first.get_by_role("link", name=dup.item.topic).click()
    expect(h1(page)).to_have_text(dup.item.topic)
    flags = page.locator("section.card", has=page.get_by_role("heading", name="审查提示"))
    expect(flags).to_contain_text(f"「{other.topic}」")
    fits(page)
    snap(page, f"p2-flag-{viewport}")
    flags.get_by_role("link", name=other.topic, exact=True).click()
    expect(h1(page)).to_have_text(other.topic)
    expect(page.locator("section.card", has=page.get_by_role("heading", name="审查提示"))).to_contain_text(
        f"「{dup.item.topic}」"
    )


def decide_walk(page: Page, county: AdminUnit, y: int, viewport: str) -> dict[str, Any]:
    """Bulk-approve the clean items, approve one flagged item, return another with a reason, revoke one code."""
    from gongzhi.inspections.models import InspectionItem, ReviewFlag

    run = _latest_run(county, y)
    pending = list(_pending(county, y))
    flagged_ids = set(ReviewFlag.objects.filter(run=run, item__in=pending).values_list("item_id", flat=True))
    # Clean: in the plan and without a flag. Out-of-plan items are decided one by one (一事一报).
    clean = [i for i in pending if i.pk not in flagged_ids and not i.out_of_plan]
    assert clean and flagged_ids, "the demo leaves clean and flagged items waiting (the late plans)"

    page.goto("/")
    home_card(page, "督查检查考核计划审核").get_by_role(
        "link", name=f"{y} 年度 {len(pending)} 个事项待审核"
    ).click()
    expect(h1(page)).to_have_text(f"{county.name} {y} 年度事项审核")
    expect(page.locator("main")).to_contain_text(f"待审核 {len(pending)} 项")
    fits(page)
    snap(page, f"p2-decisions-{viewport}")
    page.get_by_role("button", name=f"批准全部 {len(clean)} 个无提示事项").click()
    expect(page.locator(".messages")).to_contain_text(f"已批准 {len(clean)} 个无审查提示的事项并生成事项码")
    approved = InspectionItem.objects.filter(pk__in=[i.pk for i in clean])
    assert all(i.status == "approved" and i.code for i in approved), [(i.status, i.code) for i in approved]
    expect(page.get_by_role("button", name=re.compile("个无提示事项"))).to_have_count(0)

    # One flagged item approved: its trace demands are struck from what it may ask for.
    trace = (
        ReviewFlag.objects.filter(run=run, rule="trace_demand", item_id__in=flagged_ids)
        .select_related("item")
        .order_by("item_id")[0]
    )
    struck = [m["material"] for m in trace.params["materials"]]
    page.get_by_role("link", name=trace.item.topic, exact=True).click()
    expect(h1(page)).to_have_text(trace.item.topic)
    page.get_by_role("button", name="批准并生成事项码").click()
    expect(page.locator(".messages")).to_contain_text("已批准，事项码已生成")
    trace.item.refresh_from_db()
    assert trace.item.status == "approved" and trace.item.code
    expect(page.locator("p", has=page.locator(".status")).first).to_contain_text("已批准")
    removed = page.locator("dd", has=page.locator("del"))
    for m in struck:
        expect(removed).to_contain_text(m)
    expect(page.locator("#code")).to_contain_text(trace.item.code)
    fits(page)
    snap(page, f"p2-item-approved-{viewport}")

    # One split item returned with the reason the department will read.
    split = (
        ReviewFlag.objects.filter(run=run, rule="split", item_id__in=flagged_ids - {trace.item_id})
        .select_related("item")
        .order_by("item_id")[0]
    )
    reason = "与本部门同主题事项合并为一次检查后重新报送"
    page.goto("/inspections/decisions/")
    page.get_by_role("link", name=split.item.topic, exact=True).click()
    page.get_by_label("审核意见（退回或不予批准时必填）").fill(reason)
    page.get_by_role("button", name="退回修改").click()
    expect(page.locator(".messages")).to_contain_text("已退回修改")
    expect(page.locator("main")).to_contain_text(reason)
    split.item.refresh_from_db()
    assert (split.item.status, split.item.decision_note) == ("returned", reason)

    # One code revoked (the inspection was called off): the township's check will say so.
    revoked = (
        InspectionItem.objects.filter(plan__county=county, plan__year=y, status="approved", out_of_plan=True)
        .exclude(code="")
        .order_by("pk")[0]
    )
    page.goto(f"/inspections/items/{revoked.pk}/")
    page.get_by_label("撤销原因（乡镇核验时可见）").fill("检查已取消")
    page.get_by_role("button", name="撤销", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("事项码已撤销")
    revoked.refresh_from_db()
    assert revoked.code_revoked_at is not None
    return {"approved": trace.item, "revoked": revoked}


def merge_walk(page: Page, county: AdminUnit, y: int, viewport: str) -> None:
    """The items just approved are not merged yet; the office merges and reads visits before/after and the gap."""
    from gongzhi.inspections.models import JointVisitItem, MergeRun

    unmerged = (
        _approved_onsite(county, y)
        .exclude(
            pk__in=JointVisitItem.objects.filter(visit__run__active=True, visit__run__county=county).values(
                "item_id"
            )
        )
        .count()
    )
    assert unmerged > 0
    page.goto("/")
    card = home_card(page, "联合督查合并")
    card.get_by_role("link", name=f"{unmerged} 个已批准的实地事项尚未合并安排").click()
    expect(h1(page)).to_have_text(f"{county.name} {y} 年联合督查合并")
    expect(page.locator(".info")).to_contain_text(f"{unmerged} 个已批准的实地事项尚未合并安排")
    before_run = MergeRun.objects.get(county=county, year=y, active=True)
    page.get_by_role("button", name="重新合并").click()
    expect(page.locator(".messages")).to_contain_text("已合并：实地督查由", timeout=MERGE_TIMEOUT_MS)
    run = MergeRun.objects.get(county=county, year=y, active=True)
    assert run.pk != before_run.pk, "the merge made a new arrangement"
    assert 0 < run.visits_after < run.visits_before
    figure = page.locator(".headline-figure")
    expect(figure).to_contain_text(f"实地督查 {run.visits_before} 次 → {run.visits_after} 次")
    expect(figure).to_contain_text(f"减少 {pct(run.visits_before, run.visits_after)}%")
    expect(page.locator("main")).to_contain_text(f"乡镇工时 {run.hours_before} 小时 → {run.hours_after} 小时")
    # The gap to the exact optimum on the townships CP-SAT solved in its budget.
    exact = run.stats.get("exact") or {}
    assert exact, f"the merge ran with the CP-SAT reference: {sorted(run.stats)}"
    if exact.get("optimal"):
        expect(page.locator("main")).to_contain_text(
            f"CP-SAT 在 {exact['optimal']} / {exact['of']} 个乡镇上证明了最优：这些乡镇快速算法安排 "
            f"{exact['heuristic_visits']} 次，最优为 {exact['exact_visits']} 次，"
        )
        assert run.gap is not None
        gap = f"差距 {run.gap * 100:.1f}%" if run.gap else "快速算法已达最优"
        expect(page.locator("main")).to_contain_text(gap)
    else:
        expect(page.locator("main")).to_contain_text(
            f"CP-SAT 未能在限定时间内证明任何乡镇的最优（共 {exact['of']}"
        )
    expect(page.locator(".info")).to_have_count(0)
    per = run.stats["per_township"]
    table = page.locator("table", has=page.get_by_role("columnheader", name="合并前（次）"))
    for p in list(per.values())[:4]:
        row = table.get_by_role("row", name=p["name"], exact=False).first
        expect(row.locator("td").nth(0)).to_have_text(str(p["before"]))
        expect(row.locator("td").nth(1)).to_have_text(str(p["after"]))
    fits(page)
    snap(page, f"p2-merge-{viewport}")


def _approved_onsite(county: AdminUnit, y: int) -> Any:
    from gongzhi.inspections.models import InspectionItem

    return InspectionItem.objects.filter(
        plan__county=county, plan__year=y, status="approved", mode="onsite", code_revoked_at__isnull=True
    )


def ledger_walk(page: Page, county: AdminUnit, y: int, viewport: str, *, township: AdminUnit | None) -> None:
    """The burden page: as filed → after merging, the cut, and whether it meets the 50% goal."""
    from gongzhi.inspections import ledger as lg
    from gongzhi.inspections.models import JointVisit, MergeRun

    page.goto("/burden/")
    expect(h1(page)).to_have_text(f"{county.name} {y} 年基层负担账本")
    run = MergeRun.objects.get(county=county, year=y, active=True)
    previous = MergeRun.objects.get(county=county, year=y - 1, active=True)
    if township is None:
        heading, merged, before = "全县实地督查检查压减", run.visits_after, previous.visits_after
    else:
        heading = "本乡镇实地督查检查压减"
        merged = JointVisit.objects.filter(run=run, township=township).exclude(status="cancelled").count()
        before = JointVisit.objects.filter(run=previous, township=township).count()
    # What was filed is the ledger's own count (every on-site item at every target township, as filed).
    user_scope = "county" if township is None else "leader"
    head = lg.build_ledger(user=User.objects.get(username=user_scope), county=county, year=y).headline()
    # Items still awaiting the county office are left out of both sides of the cut and shown apart.
    decided, pending = head["visits_decided"], head["visits_pending"]
    assert decided + pending == head["visits_filed"] and head["visits_merged"] == merged, (head, merged)
    card = page.locator("section.card", has=page.get_by_role("heading", name=heading))
    cut = (decided - merged) / decided * 100
    expect(card).to_contain_text(f"按申报 {decided} 次 → 合并后 {merged} 次，压减 {cut:.1f}%")
    if pending:
        expect(card).to_contain_text(f"另有 {pending} 次实地督查检查")
    assert cut >= 50, f"the demo county should show the policy cut: {cut:.1f}%"
    expect(card.locator(".status")).to_have_text("达标（目标 ≥ 50%）")
    expect(card).to_contain_text(f"上年（合并后）：{before} 次")
    fits(page)
    snap(page, f"p2-burden-{'county' if township is None else 'township'}-{viewport}")


# ---- the township ---------------------------------------------------------------------------------------------------


def calendar_walk(page: Page, demo: Demo, viewport: str) -> Any:
    """The township's calendar: this month's joint visits (or the next ones) with every item's code."""
    from gongzhi.inspections.models import JointVisit

    def month_visits(first: Any) -> list[Any]:
        nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return list(
            JointVisit.objects.filter(run__active=True, township=demo.township, day__gte=first, day__lt=nxt)
            .exclude(status="cancelled")
            .prefetch_related("items")
            .order_by("day", "pk")
        )

    home_card(page, "近期联合督查").get_by_role("link", name="联合督查日历").click()
    expect(h1(page)).to_have_text("联合督查日历")
    first = timezone.localdate().replace(day=1)
    shown: list[Any] = []
    for step in range(2):  # this month, then the next
        visits = month_visits(first)
        expect(page.get_by_role("heading", level=2, name=re.compile("联合督查$"))).to_have_text(
            f"本月 {len(visits)} 次联合督查"
        )
        expect(page.locator("nav.pager strong")).to_have_text(f"{first.year} 年 {first.month} 月")
        for v in visits[:6]:
            card = page.locator(f"article#v{v.pk}")
            expect(card).to_contain_text(f"{v.day:%Y-%m-%d} · {demo.township.name}")
            for item in v.items.all():
                expect(card.get_by_role("link", name=item.code, exact=True)).to_be_visible()
        if not visits:
            expect(page.locator(".empty")).to_contain_text("本月没有安排联合督查。")
        fits(page)
        snap(page, f"p2-calendar-{step}-{viewport}")
        shown += visits
        if step == 0:
            page.get_by_role("link", name="下个月").click()
            first = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    joint = [v for v in shown if v.items.count() > 1]
    assert joint, "the township's calendar shows joint visits (several items in one visit)"
    return joint[-1]


def verify_walk(page: Page, anon: Page, visit: Any, revoked: Any, viewport: str) -> None:
    """A code from the calendar verifies (by whom, for what, when); a fake, an unknown and a revoked code do not."""
    from gongzhi.inspections import codes
    from gongzhi.inspections.models import InspectionItem

    page.locator(f"article#v{visit.pk}").get_by_role("link", name=re.compile(r"·")).first.click()
    expect(h1(page)).to_have_text(f"{visit.township.name} · {visit.day:%Y-%m-%d}")
    item = visit.items.select_related("plan__department").order_by("code")[0]
    fits(page)
    snap(page, f"p2-visit-township-{viewport}")
    page.get_by_role("link", name=item.code, exact=True).click()
    result = page.locator("section[role=status]")
    expect(result).to_contain_text("有效：该事项已经批准")
    facts = result.locator("dl")
    assert item.decided_by is not None and item.decided_at is not None
    for label, value in (
        ("部门", item.plan.department.name),
        ("事项", item.topic),
        ("批准", f"{office_name(item.decided_by)} · {timezone.localtime(item.decided_at):%Y-%m-%d}"),
        ("时间", f"{item.window_start:%Y-%m-%d} ～ {item.window_end:%Y-%m-%d}"),
    ):
        dd = facts.locator("dt", has_text=re.compile(rf"^{label}$")).locator("xpath=following-sibling::dd[1]")
        expect(dd).to_contain_text(value)
    fits(page)
    snap(page, f"p2-verify-valid-{viewport}")

    # The same page, public (no login): a made-up code, a well-formed code nobody issued, the revoked code.
    anon.goto("/v/")
    unknown = codes.make_code(visit.day.year)
    while InspectionItem.objects.filter(code=unknown).exists():
        unknown = codes.make_code(visit.day.year)
    for typed, says in (
        ("JC26-ABCD-1234", "事项码格式不正确"),
        (unknown, "查无此码，请拒绝并向县减负办反映"),
        (revoked.code, "已撤销：该事项码已失效"),
    ):
        anon.get_by_label("事项码").fill(typed)
        anon.get_by_role("button", name="核验", exact=True).click()
        result = anon.locator("section[role=status]")
        expect(result).to_contain_text(says)
        expect(result).not_to_contain_text("有效")
        fits(anon)
        snap(anon, f"p2-verify-{says[:3]}-{viewport}")
    expect(anon.locator("section[role=status]")).to_contain_text("检查已取消")
    expect(anon.locator("section[role=status]")).to_contain_text(revoked.topic)


# ---- findings: the lead department writes once, each department reads its own --------------------------------------


def findings_walk(web: Any, page: Page, demo: Demo, viewport: str) -> None:
    from gongzhi.inspections.models import Finding, JointVisit

    dept = Department.objects.get(name=DEPARTMENT, county=demo.township.parent)
    visit = next(
        v
        for v in JointVisit.objects.filter(
            run__active=True, lead_department=dept, status="planned", day__lte=timezone.localdate()
        )
        .prefetch_related("items__plan__department")
        .order_by("day", "pk")
        if len({i.plan.department_id for i in v.items.all()}) > 1
        and any(i.plan.department_id == dept.pk for i in v.items.all())
    )
    own = next(i for i in visit.items.all() if i.plan.department_id == dept.pk)
    theirs = next(i for i in visit.items.all() if i.plan.department_id != dept.pk)
    own_text, their_text = "1处燃气管道穿越卧室，未设置切断阀", "2所学校食堂未落实食品留样制度"

    login(page, demo, "zhujian")
    card = home_card(page, "本部门牵头的联合督查：待记录发现问题")
    fits(page)
    snap(page, f"p2-home-department-{viewport}")
    link = card.get_by_role("link", name=f"{visit.township.name} {visit.day:%Y-%m-%d}")
    if link.count():
        link.click()
    else:  # the home page lists the oldest five
        page.goto(f"/visits/{visit.pk}/findings/")
    expect(h1(page)).to_have_text(f"记录发现问题：{visit.township.name} {visit.day:%Y-%m-%d}")
    for item, text in ((own, own_text), (theirs, their_text)):
        box = page.locator("fieldset", has_text=item.topic)
        box.get_by_label("发现问题").fill(text)
        box.get_by_label("整改要求（选填）").fill("限期整改")
    fits(page)
    snap(page, f"p2-findings-form-{viewport}")
    page.get_by_label("督查已完成（完成后不能再修改）").check()
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".messages")).to_contain_text("已记录并标记为完成")
    expect(page.locator("main")).to_contain_text(own_text)
    expect(page.locator("main")).to_contain_text(their_text)  # the lead wrote both and reads both
    assert Finding.objects.filter(visit=visit).count() == 2

    # The other department reads its own item's finding, not the lead's.
    other_user = (
        Position.objects.filter(department=theirs.plan.department, active=True, cadre__user__isnull=False)
        .select_related("cadre__user")
        .order_by("id")[0]
        .cadre.user
    )
    assert other_user is not None
    other = web.new_page(viewport, user=other_user)
    other.goto(f"/visits/{visit.pk}/")
    expect(other.locator("main")).to_contain_text("您只能看到本部门事项的发现问题。")
    expect(other.locator("main")).to_contain_text(their_text)
    expect(other.locator("main")).not_to_contain_text(own_text)
    fits(other)
    snap(other, f"p2-visit-other-department-{viewport}")


# ---- the walk -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_p2_done_when(web: Any, demo: Demo, viewport: str) -> None:
    BUGS.found.clear()
    county = demo.township.parent
    assert county is not None
    y = year(county)
    page = web.new_page(viewport)

    # 1. the county office: review, decisions, merge, burden
    login(page, demo, "county")
    review_walk(page, county, y, viewport)
    decided = decide_walk(page, county, y, viewport)
    merge_walk(page, county, y, viewport)
    ledger_walk(page, county, y, viewport, township=None)

    # 2. the township leader: calendar, the code check, the township's ledger
    login(page, demo, "leader")
    fits(page)
    snap(page, f"p2-home-township-{viewport}")
    visit = calendar_walk(page, demo, viewport)
    verify_walk(page, web.new_page(viewport), visit, decided["revoked"], viewport)
    ledger_walk(page, county, y, viewport, township=demo.township)

    # 3. findings: written once by the lead, read per department
    findings_walk(web, page, demo, viewport)

    assert not BUGS.found, "product bugs on the walk:\n" + "\n".join(BUGS.found)
