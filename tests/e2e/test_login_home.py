"""Login, role home page, role navigation and logout in a real browser, at desktop and phone width."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD

from .conftest import no_horizontal_overflow, shot, sms_code, staff_login

pytestmark = pytest.mark.e2e

STAFF_NAV = ["首页", "行政区划", "部门", "干部", "企业与社会组织", "履职清单"]
P1_NAV = ["任务准入", "吹哨报到"]
# P2: departments and county organs see the plans; a township checks item codes instead.
P2_NAV = ["督查检查考核", "一表通", "联合督查", "减负账本"]
P2_TOWNSHIP_NAV = ["核验事项码", "一表通", "联合督查", "减负账本"]
# role key -> (heading of the role block on the home page, exact navigation)
ROLES: dict[str, tuple[str, list[str]]] = {
    "county_office": ("县减负办 · 县委县政府办公室", [*STAFF_NAV, *P1_NAV, *P2_NAV, "导入导出"]),
    "department_staff": ("县直部门 · 县住房和城乡建设局", [*STAFF_NAV, *P1_NAV, *P2_NAV]),
    "township_leader": ("乡镇领导 · 东河镇", [*STAFF_NAV, *P1_NAV, *P2_TOWNSHIP_NAV, "居民", "导入导出"]),
    "village_committee": ("村（社区）两委 · 东河村", [*STAFF_NAV, "居民", "导入导出"]),
    "discipline": ("纪委监委 · 县纪委监委", [*STAFF_NAV, *P1_NAV, *P2_NAV, "审计日志"]),
    "admin": ("平台管理员", [*STAFF_NAV, *P1_NAV, *P2_NAV, "居民", "导入导出", "审计日志", "系统管理"]),
    "resident": ("居民 · 东河村", ["首页"]),
}
PHONE = "13900000001"


def _login_resident(page: Page, outbox: Any) -> None:
    page.goto("/login/")
    page.get_by_role("tab", name="居民 / 企业").click()
    page.get_by_label("手机号").fill(PHONE)
    page.get_by_role("button", name="获取验证码").click()
    code_box = page.get_by_label("短信验证码")
    code_box.wait_for()
    code_box.fill(sms_code(outbox, PHONE))
    page.get_by_role("button", name="登录", exact=True).click()


def _nav_labels(page: Page) -> list[str]:
    return [t.strip() for t in page.locator("#mainnav a").all_inner_texts()]


# Every role at desktop width; at phone width the roles whose navigation differs most (none, short, long).
CASES = [(role, "desktop") for role in ROLES] + [
    (role, "phone") for role in ("resident", "department_staff", "township_leader", "admin")
]


@pytest.mark.parametrize(("role", "viewport"), CASES)
def test_login_home_nav_logout(web: Any, users: Any, outbox: Any, role: str, viewport: str) -> None:
    heading, nav = ROLES[role]
    page = web.new_page(viewport)
    page.goto("/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("登录共治平台")
    expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()
    no_horizontal_overflow(page)
    if role == "resident":
        _login_resident(page, outbox)
    else:
        staff_login(page, users[role].username)

    expect(page).to_have_url(f"{web.base_url}/")
    expect(page.get_by_role("heading", level=2, name=heading, exact=True)).to_be_visible()
    nav_box = page.locator("#mainnav")
    if viewport == "phone":
        # The navigation collapses behind 菜单 on a phone and opens on a tap.
        expect(nav_box).to_be_hidden()
        toggle = page.get_by_role("button", name="菜单")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
    else:
        expect(page.get_by_role("button", name="菜单")).to_be_hidden()
    expect(nav_box).to_be_visible()
    assert _nav_labels(page) == nav
    expect(page.get_by_role("link", name="首页", exact=True)).to_have_attribute("aria-current", "page")
    no_horizontal_overflow(page)
    shot(page, f"home-{role}-{viewport}")

    if viewport == "desktop":
        # Up to the county office's thirteen entries the navigation stays on one line at 1280 px.
        tops = {
            round(y)
            for y in nav_box.locator("a").evaluate_all("a => a.map(x => x.getBoundingClientRect().top)")
        }
        assert len(nav) > 13 or len(tops) == 1, (len(nav), tops)
        # Every link offered opens for this role: the nav never shows what the role may not use.
        for href in nav_box.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
            assert page.request.get(href, max_redirects=0).status == 200, href

    page.locator(".usermenu summary").click()
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(f"{web.base_url}/login/")
    page.goto("/")
    expect(page).to_have_url(f"{web.base_url}/login/?next=/")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_pages_fit_the_viewport(web: Any, users: Any, viewport: str) -> None:
    """The list pages (tables, search, tree) never make the whole page scroll sideways."""
    page = web.new_page(viewport, user=users["admin"])
    for path in (
        "/units/",
        "/departments/",
        "/cadres/",
        "/residents/",
        "/organizations/",
        "/account/tokens/",
        "/account/password/",
        "/audit/",
    ):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        no_horizontal_overflow(page)
    page.goto("/account/tokens/")
    page.get_by_label("令牌名称").fill("很长的令牌名称用于检查手机宽度下的布局")
    page.get_by_role("button", name="创建令牌").click()
    expect(page.locator("#new-token")).to_be_visible()
    no_horizontal_overflow(page)
    shot(page, f"tokens-{viewport}")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_wrong_password_then_lockout(web: Any, users: Any, viewport: str) -> None:
    page = web.new_page(viewport)
    staff_login(page, "township_staff", "wrong-password")
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("用户名或密码不正确")
    # The username is kept and the error is tied to the field, so a screen reader announces it.
    expect(page.get_by_label("用户名")).to_have_value("township_staff")
    expect(page.get_by_label("用户名")).to_have_attribute("aria-describedby", "login-error")
    # Focus waits in the password field: retrying is typing the password again, not a click first.
    expect(page.get_by_label("密码", exact=True)).to_be_focused()
    expect(page.get_by_label("密码", exact=True)).to_have_attribute("aria-describedby", "login-error")
    no_horizontal_overflow(page)
    shot(page, f"login-error-{viewport}")
    if viewport == "phone":
        return
    for _ in range(4):
        staff_login(page, "township_staff", "wrong-password")
    expect(alert).to_contain_text("锁定")
    # Locked: even the right password is refused until the lock ends; other accounts are not affected.
    staff_login(page, "township_staff", PASSWORD)
    expect(alert).to_contain_text("锁定")
    expect(page).to_have_url(f"{web.base_url}/login/")
    users["township_staff"].refresh_from_db()
    assert users["township_staff"].locked_until is not None
    staff_login(page, "township_leader", PASSWORD)
    expect(page.get_by_role("heading", level=2, name="乡镇领导 · 东河镇")).to_be_visible()
