"""Burden budget of P2's routine actions (docs/burden-budget.md): annual plans, the county office's decisions and the
merge, the township's code check and 一表通 submission, and the lead department's findings — each done once in a
real browser in the demo county, from the home page of the person who does it.

Where the product offers a shorter path (a link on the home page), the test takes it; where it does not yet, the
test walks the longer path a user has today, so a failure says how many clicks the missing shortcut costs."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from gongzhi.core.models import Department, User

from .test_duties_flow import Demo, build_demo, fits

pytestmark = pytest.mark.e2e

DEPARTMENT = "县住房和城乡建设局"  # the printed department login `zhujian`


@pytest.fixture
def demo(transactional_db: Any) -> Demo:
    return build_demo()


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _card(page: Page, title: str) -> Locator:
    return page.locator("article.card", has=page.get_by_role("heading", name=title, exact=True))


def _year() -> int:
    return timezone.localdate().year


def _pending(demo: Demo) -> Any:
    from gongzhi.inspections.models import InspectionItem

    return InspectionItem.objects.filter(
        plan__county=demo.township.parent, plan__year=_year(), plan__status="filed", status="pending"
    )


# ---- the department -------------------------------------------------------------------------------------------------


def _plan_workbook(path: Path, demo: Demo, year: int) -> Path:
    """Next year's plan as the department's staff type it into the county's template in Excel (not counted)."""
    from openpyxl import load_workbook

    from gongzhi.inspections import planio

    wb = load_workbook(io.BytesIO(planio.template_workbook()))
    ws = wb[planio.SHEET_TITLE]
    rows = [
        {
            "department": DEPARTMENT,
            "year": year,
            "seq": 1,
            "kind": "检查",
            "comprehensive": "否",
            "topic": "城镇燃气安全专项检查",
            "basis": "《城镇燃气管理条例》",
            "targets": "全部乡镇",
            "window_start": f"{year}-04-01",
            "window_end": f"{year}-04-30",
            "mode": "实地",
            "hours": 2,
            "materials": "隐患排查整改清单",
            "data_fields": "",
        },
        {
            "department": DEPARTMENT,
            "year": year,
            "seq": 2,
            "kind": "考核",
            "comprehensive": "是",
            "topic": "住房城乡建设工作年度目标考核",
            "basis": "县委县政府年度目标管理办法",
            "targets": "全部乡镇",
            "window_start": f"{year}-12-01",
            "window_end": f"{year}-12-20",
            "mode": "非现场",
            "hours": 2,
            "materials": "",
            "data_fields": "",
        },
    ]
    for row in rows:
        ws.append([row.get(k) for k in planio.EXPORT_KEYS])
    out = path / f"{DEPARTMENT}{year}年度督查检查考核计划.xlsx"
    wb.save(out)
    return out


@pytest.mark.budget("file-inspection-plan")
def test_budget_file_inspection_plan(web: Any, demo: Demo, budget: Any, tmp_path: Path) -> None:
    from gongzhi.inspections.models import InspectionPlan

    year = _year() + 1
    xlsx = _plan_workbook(tmp_path, demo, year)
    page = web.new_page(user=_user("zhujian"))
    page.goto("/")
    with budget(page) as b:
        b.click(page.locator("main").get_by_role("link", name="从表格导入"))
        b.choose_file(page.get_by_label("文件（.xlsx 或 .csv）"), xlsx)
        b.click(page.get_by_role("button", name="校验并导入"))
        expect(page.locator(".messages")).to_contain_text("导入成功")
        b.click(page.get_by_role("button", name="报送计划"))
        expect(page.locator(".messages")).to_contain_text("计划已报送（2 项）")
    plan = InspectionPlan.objects.get(department__name=DEPARTMENT, year=year)
    assert plan.status == "filed" and plan.items.count() == 2


@pytest.mark.budget("add-out-of-plan-item")
def test_budget_add_out_of_plan_item(web: Any, demo: Demo, budget: Any) -> None:
    from gongzhi.inspections.models import InspectionItem

    year = _year()
    page = web.new_page(user=_user("zhujian"))
    page.goto("/")
    start = f"{year}-12-10"
    with budget(page) as b:
        direct = page.locator("main").get_by_role("link", name="报送计划外事项")
        if direct.count():
            b.click(direct.first)
        else:  # today: through the plan list and the plan
            b.click(page.locator("main").get_by_role("link", name="本部门年度计划"))
            b.click(page.locator("tbody").get_by_role("link", name=DEPARTMENT))
            b.click(page.get_by_role("link", name="报送计划外事项（一事一报）"))
        b.fill(page.get_by_label("事项名称"), "冬季燃气安全突击检查")
        b.fill(page.get_by_label("开始日期"), start)
        b.fill(page.get_by_label("结束日期"), f"{year}-12-25")
        b.fill(page.get_by_label("预计占用乡镇工时（小时/乡镇）"), "2")
        b.click(page.get_by_role("button", name="报送审核"))
        expect(page.locator(".messages")).to_contain_text("计划外事项已报送（一事一报）")
    item = InspectionItem.objects.get(topic="冬季燃气安全突击检查")
    assert (item.out_of_plan, item.status, item.plan.department.name) == (True, "pending", DEPARTMENT)
    assert item.window_start.isoformat() == start


@pytest.mark.budget("record-findings")
def test_budget_record_findings(web: Any, demo: Demo, budget: Any) -> None:
    from gongzhi.inspections.models import Finding, JointVisit

    dept = Department.objects.get(name=DEPARTMENT, county=demo.township.parent)
    waiting = JointVisit.objects.filter(
        run__active=True, lead_department=dept, status="planned", day__lte=timezone.localdate()
    ).order_by("day", "id")
    visit = waiting.first()
    assert visit is not None, "the demo leaves visits the department leads waiting for findings"
    own = next(i for i in visit.items.all() if i.plan.department_id == dept.pk)
    page = web.new_page(user=_user("zhujian"))
    page.goto("/")
    with budget(page) as b:
        card = _card(page, "本部门牵头的联合督查：待记录发现问题")
        b.click(card.get_by_role("link", name=f"{visit.township.name} {visit.day:%Y-%m-%d}"))
        box = page.locator("fieldset", has_text=own.topic)
        b.fill(box.get_by_label("发现问题"), "2户餐饮商户燃气软管老化")
        b.fill(box.get_by_label("整改要求（选填）"), "更换金属软管")
        b.click(page.get_by_label("督查已完成（完成后不能再修改）"))
        b.click(page.get_by_role("button", name="保存"))
        expect(page.locator(".messages")).to_contain_text("已记录并标记为完成")
    visit.refresh_from_db()
    assert visit.status == "done"
    f = Finding.objects.get(visit=visit)
    assert (f.item_id, f.text, f.follow_up) == (own.pk, "2户餐饮商户燃气软管老化", "更换金属软管")


# ---- the county office ----------------------------------------------------------------------------------------------


@pytest.mark.budget("approve-clean-items")
def test_budget_approve_clean_items(web: Any, demo: Demo, budget: Any) -> None:
    from gongzhi.inspections.models import ReviewFlag, ReviewRun

    pending = list(_pending(demo))
    run = ReviewRun.objects.filter(county=demo.township.parent, year=_year()).order_by("-id").first()
    flagged = set(ReviewFlag.objects.filter(run=run).values_list("item_id", flat=True))
    clean = [i.pk for i in pending if i.pk not in flagged and not i.out_of_plan]  # out of plan: one by one
    assert clean, "the demo leaves clean items waiting"
    page = web.new_page(user=_user("county"))
    page.goto("/")
    with budget(page) as b:
        card = _card(page, "督查检查考核计划审核")
        b.click(card.get_by_role("link", name=f"{_year()} 年度 {len(pending)} 个事项待审核"))
        b.click(page.get_by_role("button", name=f"批准全部 {len(clean)} 个无提示事项"))
        expect(page.locator(".messages")).to_contain_text(f"已批准 {len(clean)} 个无审查提示的事项")
    assert not _pending(demo).filter(pk__in=clean).exists()


@pytest.mark.budget("return-flagged-item")
def test_budget_return_flagged_item(web: Any, demo: Demo, budget: Any) -> None:
    from gongzhi.inspections.models import InspectionItem, ReviewFlag, ReviewRun

    pending = list(_pending(demo))
    run = ReviewRun.objects.filter(county=demo.township.parent, year=_year()).order_by("-id").first()
    split = (
        ReviewFlag.objects.filter(run=run, rule="split", item__in=pending)
        .select_related("item")
        .order_by("item_id")
        .first()
    )
    assert split is not None, "a split item waits for the office"
    reason = "与本部门同主题事项合并为一次检查后重新报送"
    page = web.new_page(user=_user("county"))
    page.goto("/")
    with budget(page) as b:
        card = _card(page, "督查检查考核计划审核")
        b.click(card.get_by_role("link", name=f"{_year()} 年度 {len(pending)} 个事项待审核"))
        b.click(page.get_by_role("link", name=split.item.topic, exact=True))
        b.fill(page.get_by_label("审核意见（退回或不予批准时必填）"), reason)
        b.click(page.get_by_role("button", name="退回修改"))
        expect(page.locator(".messages")).to_contain_text("已退回修改")
    item = InspectionItem.objects.get(pk=split.item_id)
    assert (item.status, item.decision_note) == ("returned", reason)


@pytest.mark.budget("run-merge")
def test_budget_run_merge(web: Any, demo: Demo, budget: Any) -> None:
    from gongzhi.inspections import plans
    from gongzhi.inspections.models import MergeRun

    county = demo.township.parent
    assert county is not None
    office = _user("county")
    # The office has just approved the late plans' clean items: approved, on site, not merged yet.
    assert plans.items_approve_clean(actor=office, county=county, year=_year()).approved > 0
    before = MergeRun.objects.get(county=county, year=_year(), active=True)
    page = web.new_page(user=office)
    page.goto("/")
    with budget(page) as b:
        card = _card(page, "联合督查合并")
        b.click(card.get_by_role("link", name="个已批准的实地事项尚未合并安排"))
        b.click(page.get_by_role("button", name="重新合并"))
        expect(page.locator(".messages")).to_contain_text("已合并：实地督查由", timeout=90_000)
    run = MergeRun.objects.get(county=county, year=_year(), active=True)
    assert run.pk != before.pk and 0 < run.visits_after < run.visits_before
    expect(page.locator(".headline-figure")).to_contain_text(
        f"实地督查 {run.visits_before} 次 → {run.visits_after} 次"
    )


# ---- the township ---------------------------------------------------------------------------------------------------


@pytest.mark.budget("check-code")
def test_budget_check_code(web: Any, demo: Demo, budget: Any) -> None:
    from gongzhi.inspections.models import JointVisit

    visit = (
        JointVisit.objects.filter(run__active=True, township=demo.township, day__gte=timezone.localdate())
        .order_by("day", "id")
        .first()
    )
    assert visit is not None, "a joint visit is coming to the demo township"
    item = visit.items.select_related("plan__department").order_by("code")[0]
    page = web.new_page("phone", user=_user("leader"))  # at the gate: a phone
    page.goto("/")
    with budget(page) as b:
        b.click(_card(page, "事项码核验").get_by_role("link", name="核验事项码"))
        b.fill(page.get_by_label("事项码"), item.code)
        b.click(page.get_by_role("button", name="核验", exact=True))
        result = page.locator("section[role=status]")
        expect(result).to_contain_text("有效：该事项已经批准")
    expect(result).to_contain_text(item.plan.department.name)
    expect(result).to_contain_text(item.topic)
    fits(page)


@pytest.mark.budget("submit-catalog-data")
def test_budget_submit_catalog_data(web: Any, demo: Demo, budget: Any) -> None:
    from gongzhi.inspections import datacatalog
    from gongzhi.inspections.models import CatalogEntry, DataSubmission

    entry = CatalogEntry.objects.get(county=demo.township.parent, period="quarter")
    last = DataSubmission.objects.filter(entry=entry, township=demo.township).order_by("-period").first()
    assert last is not None, "the township gave last quarter's figures"
    period = datacatalog.current_period(entry.period)
    assert last.period != period
    changed = entry.fields[0]
    label = changed["label"] + (f"（{changed['unit']}）" if changed.get("unit") else "")
    new_value = int(last.values[changed["key"]]) + 3
    page = web.new_page(user=_user("staff"))
    page.goto("/")
    with budget(page) as b:
        b.click(page.locator("#mainnav").get_by_role("link", name="一表通", exact=True))
        b.click(page.get_by_role("link", name=entry.name, exact=True))
        expect(page.locator("form .info")).to_contain_text(f"已按 {last.period} 期数据预填")
        b.fill(page.get_by_label(label, exact=True), str(new_value))
        b.click(page.get_by_role("button", name="报送", exact=True))
        expect(page.locator(".messages")).to_contain_text(f"已报送 {period} 期数据")
    sub = DataSubmission.objects.get(entry=entry, township=demo.township, period=period)
    expected = {**last.values, changed["key"]: new_value}
    assert {k: int(v) for k, v in sub.values.items()} == {k: int(v) for k, v in expected.items()}
