"""Language switch and keyboard use."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

from .conftest import no_horizontal_overflow, shot

pytestmark = pytest.mark.e2e


def test_language_switch_and_back(web: Any, users: Any) -> None:
    """At phone width (the budget test switches on a desktop)."""
    viewport = "phone"
    page = web.new_page(viewport)
    page.goto("/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(f"{web.base_url}/login/")  # stays on the same page
    no_horizontal_overflow(page)
    shot(page, f"login-en-{viewport}")
    # The choice sticks across pages until switched back.
    page.goto("/login/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("button", name="English")).to_be_visible()


def test_login_with_keyboard_only(web: Any, users: Any) -> None:
    page = web.new_page()
    page.goto("/login/")
    # The username field has focus on arrival; Tab to the password, Enter to submit. No mouse.
    expect(page.get_by_label("用户名")).to_be_focused()
    page.keyboard.type("township_leader")
    page.keyboard.press("Tab")
    expect(page.get_by_label("密码", exact=True)).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=2, name="乡镇领导 · 东河镇")).to_be_visible()


def test_skip_link_is_first_and_jumps_to_main(web: Any, users: Any) -> None:
    page = web.new_page(user=users["township_leader"])
    page.goto("/")
    skip = page.get_by_role("link", name="跳到正文")
    expect(skip).to_have_attribute("href", "#main")
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    # Hidden off-screen until focused, then shown on screen.
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, box
    shot(page, "skip-link-focused")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{web.base_url}/#main")
    expect(page.locator("main#main")).to_be_focused()
    # The next Tab goes into the content, not back to the top bar.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.getElementById('main').contains(document.activeElement)")


def test_tabs_and_forms_have_labels(web: Any, users: Any) -> None:
    """Every visible input on the login page has an accessible name; the tab widget reports its state."""
    page = web.new_page()
    page.goto("/login/")
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
              .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
              .map(el => el.name)"""
    )
    assert unnamed == []
    resident_tab = page.get_by_role("tab", name="居民 / 企业")
    expect(resident_tab).to_have_attribute("aria-selected", "false")
    resident_tab.focus()
    page.keyboard.press("Enter")
    expect(resident_tab).to_have_attribute("aria-selected", "true")
    expect(page.get_by_label("手机号")).to_be_focused()
