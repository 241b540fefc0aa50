"""htmx partial updates work under the content security policy (script-src 'self', no inline anything)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import no_horizontal_overflow, shot, sms_code

pytestmark = pytest.mark.e2e
PHONE = "13900000001"


def test_csp_header_sent_and_violations_are_caught(web: Any, users: Any) -> None:
    """The detector the other tests rely on: an inline script is refused and reported on the console."""
    page = web.new_page()
    response = page.goto("/login/")
    assert response is not None
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, csp
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.x = 1'; document.body.append(s); }"
    )
    page.wait_for_timeout(50)
    assert page.evaluate("() => window.x") is None
    assert web.console.csp_violations(), web.console.errors
    web.console.errors.clear()  # expected here; every other test fails on one


def test_resident_code_form_swaps_in_place(web: Any, users: Any, outbox: Any) -> None:
    viewport = "desktop"  # the phone flow is held by the resident login and budget tests
    page = web.new_page(viewport)
    page.goto("/login/")
    page.evaluate("() => { window.__sameDocument = true; }")  # survives an htmx swap, not a page load
    page.get_by_role("tab", name="居民 / 企业").click()
    page.get_by_label("手机号").fill("123")
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#otp-box").get_by_role("alert")).to_contain_text("手机号")
    page.get_by_label("手机号").fill(PHONE)
    with page.expect_response(
        lambda r: r.url.endswith("/login/code/") and r.request.method == "POST"
    ) as resp:
        page.get_by_role("button", name="获取验证码").click()
    assert resp.value.status == 200 and resp.value.request.headers.get("hx-request") == "true"
    code_box = page.get_by_label("短信验证码")
    expect(code_box).to_be_visible()
    expect(code_box).to_be_focused()
    expect(page.get_by_role("status")).to_contain_text("验证码")
    assert page.evaluate("() => window.__sameDocument") is True
    no_horizontal_overflow(page)
    shot(page, f"login-code-sent-{viewport}")

    code_box.fill("000000" if sms_code(outbox, PHONE) != "000000" else "111111")
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.locator("#otp-box").get_by_role("alert")).to_have_text("验证码不正确")
    assert page.evaluate("() => window.__sameDocument") is True
    page.get_by_label("短信验证码").fill(sms_code(outbox, PHONE))
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("heading", level=2, name="居民 · 东河村")).to_be_visible()  # HX-Redirect to home


def test_unit_tree_expands_with_htmx(web: Any, users: Any) -> None:
    page = web.new_page(user=users["county_office"])
    page.goto("/units/")
    county = page.locator("main details").filter(has_text="共治县").first
    with page.expect_response("**/units/990102000000/children/") as resp:
        county.locator("summary").first.click()
    assert resp.value.status == 200
    township = page.locator("main details details").filter(has_text="东河镇").first
    expect(township).to_be_visible()
    with page.expect_response("**/units/990102001000/children/"):
        township.locator("summary").click()
    expect(township.get_by_text("东河村")).to_be_visible()
    expect(township.get_by_text("柳湾村")).to_be_visible()
    # Collapsing and re-opening does not fetch again (hx-trigger "toggle once").
    township.locator("summary").click()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    township.locator("summary").click()
    expect(township.get_by_text("东河村")).to_be_visible()
    assert not [u for u in requests if "/children/" in u]
    no_horizontal_overflow(page)
    shot(page, "units-tree-desktop")


def test_unit_tree_on_phone(web: Any, users: Any) -> None:
    page = web.new_page("phone", user=users["township_leader"])
    page.goto("/units/")
    township = page.locator("main details").filter(has_text="东河镇").first
    township.locator("summary").first.click()
    expect(township.get_by_text("柳湾村")).to_be_visible()
    no_horizontal_overflow(page)
    shot(page, "units-tree-phone")


def test_bad_roster_upload_lists_errors_in_place(web: Any, users: Any, tmp_path: Any) -> None:
    """A roster with a bad row is refused in place (htmx multipart upload): sheet, row and column named.

    At phone width; the desktop upload is held by the import-roster budget test."""
    viewport = "phone"
    import openpyxl

    from gongzhi.core.imports import COLUMNS
    from gongzhi.core.models import Cadre

    headers = [c.header for c in COLUMNS["cadres"]]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "干部"
    ws.append(headers)
    good = dict.fromkeys(headers, "") | {
        "姓名": "赵一",
        "用户名": "zhao1",
        "单位区划代码": "990102001000",
        "职务": "干部",
    }
    bad = good | {"姓名": "钱二", "用户名": "qian2", "单位区划代码": "990102999000"}  # no such unit
    for row in (good, bad):
        ws.append([row[h] for h in headers])
    path = tmp_path / "干部.xlsx"
    wb.save(path)

    page = web.new_page(viewport, user=users["county_office"])
    page.goto("/roster/")
    page.evaluate("() => { window.__sameDocument = true; }")
    page.get_by_label("导入内容").select_option("cadres")
    page.get_by_label("文件（.xlsx 或 .csv）").set_input_files(str(path))
    page.get_by_role("button", name="校验并导入").click()
    outcome = page.locator("#import-outcome")
    expect(outcome.get_by_role("alert")).to_contain_text("未写入任何数据")
    cells = outcome.locator("tbody tr").first.locator("td").all_inner_texts()
    assert cells[:3] == ["干部", "3", "单位区划代码"], cells
    assert page.evaluate("() => window.__sameDocument") is True
    assert not Cadre.objects.filter(user__username__in=["zhao1", "qian2"]).exists()
    no_horizontal_overflow(page)
    shot(page, f"roster-errors-{viewport}")
