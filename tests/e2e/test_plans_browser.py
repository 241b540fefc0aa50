"""Plans in a real browser (Debian chromium): a department files a plan at phone width, the county office approves
the clean items from its home page in two clicks, and a township cadre checks a code on a phone without signing in
(valid, then a fake one). No horizontal overflow at 375 px, no CSP violation (the ``web`` fixture fails on one)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from gongzhi.inspections import codes
from gongzhi.inspections.models import InspectionItem, ItemStatus
from tests.inspections.factories import YEAR, make_plan

from .conftest import no_horizontal_overflow, shot

pytestmark = pytest.mark.e2e


def test_department_adds_an_item_and_files_on_a_phone(web: Any, users: Any, tree: Any) -> None:
    make_plan(users["department_staff"], tree.dept, items=[])
    page = web.new_page("phone", user=users["department_staff"])
    page.goto("/inspections/")
    no_horizontal_overflow(page)
    page.get_by_role("link", name=f"{tree.dept.name}").click()
    page.get_by_role("link", name="添加事项").click()
    no_horizontal_overflow(page)
    page.get_by_label("检查").check()
    page.get_by_label("事项名称").fill("建筑工地扬尘治理检查")
    page.get_by_label("开始日期").fill(f"{YEAR}-03-01")
    page.get_by_label("结束日期").fill(f"{YEAR}-02-01")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("早于开始日期")
    page.get_by_label("结束日期").fill(f"{YEAR}-03-31")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_role("link", name="建筑工地扬尘治理检查")).to_be_visible()
    page.get_by_role("button", name="报送计划").click()
    expect(page.get_by_text("计划已报送")).to_be_visible()
    no_horizontal_overflow(page)
    shot(page, "plans-filed-phone")


def test_county_office_approves_clean_items_from_home_in_two_clicks(web: Any, users: Any, tree: Any) -> None:
    make_plan(
        users["department_staff"],
        tree.dept,
        items=[{"topic": "建筑工地扬尘治理检查"}, {"topic": "燃气安全检查", "materials": "现场照片"}],
        filed=True,
    )
    page = web.new_page("desktop", user=users["county_office"])
    page.goto("/")
    page.get_by_role("link", name=f"{YEAR} 年度 2 个事项待审核").click()  # click 1
    page.get_by_role("button", name="批准全部 1 个无提示事项").click()  # click 2
    expect(page.get_by_text("已批准 1 个无审查提示的事项")).to_be_visible()
    assert InspectionItem.objects.get(topic="建筑工地扬尘治理检查").status == ItemStatus.APPROVED
    assert InspectionItem.objects.get(topic="燃气安全检查").status == ItemStatus.PENDING
    page.get_by_role("link", name="燃气安全检查").click()
    expect(page.get_by_text("属于留痕类")).to_be_visible()
    shot(page, "plans-flagged-item")


def test_township_checks_a_code_on_a_phone_without_signing_in(web: Any, users: Any, tree: Any) -> None:
    from django.core.cache import cache

    cache.clear()
    plan = make_plan(users["department_staff"], tree.dept, filed=True)
    item = plan.items.get()
    from gongzhi.inspections import plans

    plans.item_decide(actor=users["county_office"], item_id=item.pk, action="approve")
    item.refresh_from_db()
    assert item.code
    page = web.new_page("phone")
    page.goto("/v/")
    page.get_by_label("事项码").fill(item.code.lower().replace("-", " "))
    page.get_by_role("button", name="核验").click()
    expect(page.get_by_text("有效：该事项已经批准")).to_be_visible()
    expect(page.get_by_text(tree.dept.name)).to_be_visible()
    no_horizontal_overflow(page)
    shot(page, "verify-valid-phone")
    page.get_by_label("事项码").fill(codes.make_code(YEAR))
    page.get_by_role("button", name="核验").click()
    expect(page.get_by_text("查无此码，请拒绝并向县减负办反映")).to_be_visible()
    shot(page, "verify-unknown-phone")
