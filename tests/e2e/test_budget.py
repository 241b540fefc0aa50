"""Burden budget of the foundation's routine actions (docs/burden-budget.md), held in a real browser."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from gongzhi.core.models import ApiToken
from tests.factories import PASSWORD, resident

from . import budget as budget_mod
from .budget import load_rows
from .conftest import no_horizontal_overflow, sms_code

pytestmark = pytest.mark.e2e


# ---- the table and the tests match -----------------------------------------------------------------------------------


def _budget_tests() -> Counter[str]:
    """Budget keys of every test in tests/e2e (all modules imported, so a partial run sees them too)."""
    import tests.e2e as pkg

    keys: Counter[str] = Counter()
    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        for name, obj in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("test_"):
                continue
            for mark in getattr(obj, "pytestmark", []):
                if mark.name == "budget":
                    keys[mark.args[0]] += 1
    return keys


def test_budget_table_and_tests_match() -> None:
    rows = load_rows()
    tests = _budget_tests()
    assert not (missing := sorted(set(rows) - set(tests))), f"budget rows without a test: {missing}"
    assert not (orphans := sorted(set(tests) - set(rows))), (
        f"budget tests without a row in the doc: {orphans}"
    )
    assert not (twice := sorted(k for k, n in tests.items() if n > 1)), (
        f"rows held by more than one test: {twice}"
    )


def test_budget_table_parser_refuses_bad_rows(tmp_path: Path) -> None:
    header = "| 动作 action | key | 起点 start | 点击 clicks | 填写 fields | 秒 seconds |\n|---|---|---|---|---|---|\n"
    good = tmp_path / "good.md"
    good.write_text(header + "| 登录 | `staff-login` | 登录页 | 1 | 2 | 13 |\n", encoding="utf-8")
    assert load_rows(good)["staff-login"] == budget_mod.Row("staff-login", "登录", "登录页", 1, 2, 13.0)
    for bad_row in (
        "| 登录 | `a` | x | one | 2 | 13 |",
        "| 登录 | Bad Key | x | 1 | 2 | 13 |",
        "| 登录 | `a` | 1 | 2 |",
    ):
        bad = tmp_path / "bad.md"
        bad.write_text(header + bad_row + "\n", encoding="utf-8")
        with pytest.raises(ValueError):
            load_rows(bad)
    dup = tmp_path / "dup.md"
    dup.write_text(header + "| a | `k` | x | 1 | 1 | 1 |\n| b | `k` | x | 1 | 1 | 1 |\n", encoding="utf-8")
    with pytest.raises(ValueError, match="duplicate"):
        load_rows(dup)


def test_budget_counts_and_fails_both_ways() -> None:
    row = budget_mod.Row("x", "x", "x", clicks=1, fields=1, seconds=10)

    class Fake:
        def click(self, **kw: Any) -> None: ...
        def fill(self, text: str) -> None: ...

    with budget_mod.measure(row) as b:
        b.click(Fake())  # type: ignore[arg-type]
        b.fill(Fake(), "王秀英")  # type: ignore[arg-type]
    assert (b.clicks, b.fields, b.keys) == (1, 1, 12)
    with pytest.raises(AssertionError, match="over budget"), budget_mod.measure(row) as b:
        b.click(Fake())  # type: ignore[arg-type]
        b.click(Fake())  # type: ignore[arg-type]
        b.fill(Fake(), "a")  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="budget is loose"), budget_mod.measure(row) as b:
        b.fill(Fake(), "a")  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="too slow"), budget_mod.measure(row) as b:
        b.click(Fake())  # type: ignore[arg-type]
        b.fill(Fake(), "x" * 60)  # type: ignore[arg-type]


# ---- the actions ------------------------------------------------------------------------------------------------------


@pytest.mark.budget("staff-login")
def test_budget_staff_login(web: Any, users: Any, budget: Any) -> None:
    page = web.new_page()
    page.goto("/login/")
    with budget(page) as b:
        b.fill(page.get_by_label("用户名"), "township_leader")
        b.fill(page.get_by_label("密码", exact=True), PASSWORD)
        b.click(page.get_by_role("button", name="登录", exact=True))
        page.get_by_role("heading", name="乡镇领导 · 东河镇").wait_for()


@pytest.mark.budget("resident-otp-login")
def test_budget_resident_otp_login(web: Any, users: Any, outbox: Any, budget: Any) -> None:
    page = web.new_page("phone")
    page.goto("/login/")
    with budget(page) as b:
        b.click(page.get_by_role("tab", name="居民 / 企业"))
        b.fill(page.get_by_label("手机号"), "13900000001")
        b.click(page.get_by_role("button", name="获取验证码"))
        code_box = page.get_by_label("短信验证码")
        code_box.wait_for()
        b.read("the SMS code")
        b.fill(code_box, sms_code(outbox, "13900000001"))
        b.click(page.get_by_role("button", name="登录", exact=True))
        page.get_by_role("heading", name="居民 · 东河村").wait_for()


@pytest.mark.budget("find-resident")
def test_budget_find_resident(web: Any, users: Any, tree: Any, budget: Any) -> None:
    resident(tree.v12, name="王秀英")
    page = web.new_page(user=users["township_staff"])
    page.goto("/")
    with budget(page) as b:
        b.click(page.locator("#mainnav").get_by_role("link", name="居民", exact=True))
        search = page.get_by_role("searchbox")
        b.fill(search, "王秀英")
        b.press(search, "Enter")
        page.get_by_role("cell", name="王秀英").wait_for()
    assert page.get_by_role("cell", name="柳湾村").is_visible()
    assert page.locator("tbody tr").count() == 1


@pytest.mark.budget("switch-language")
def test_budget_switch_language(web: Any, users: Any, budget: Any) -> None:
    page = web.new_page(user=users["township_staff"])
    page.goto("/")
    with budget(page) as b:
        b.click(page.get_by_role("button", name="English"))
        page.locator("html[lang='en']").wait_for(state="attached")
    assert page.url.endswith("/")
    page.get_by_role("button", name="中文").click()
    page.locator("html[lang='zh-hans']").wait_for(state="attached")


@pytest.mark.budget("create-api-token")
def test_budget_create_api_token(web: Any, users: Any, budget: Any) -> None:
    page = web.new_page(user=users["county_office"])
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/")
    with budget(page) as b:
        b.click(page.locator(".usermenu summary"))
        b.click(page.get_by_role("link", name="API 令牌"))
        b.fill(page.get_by_label("令牌名称"), "数据中台")
        b.click(page.get_by_role("button", name="创建令牌"))
        b.click(page.get_by_role("button", name="复制"))
        page.get_by_role("button", name="已复制").wait_for()
    token = page.locator("#new-token").inner_text().strip()
    assert page.evaluate("() => navigator.clipboard.readText()") == token
    assert (
        ApiToken.objects.filter(user=users["county_office"], name="数据中台", revoked_at__isnull=True).count()
        == 1
    )
    no_horizontal_overflow(page)


@pytest.mark.budget("revoke-api-token")
def test_budget_revoke_api_token(web: Any, users: Any, budget: Any) -> None:
    from gongzhi.core.auth import token_create

    user = users["county_office"]
    token_create(user=user, name="旧对接")
    page = web.new_page(user=user)
    page.goto("/")
    with budget(page) as b:
        b.click(page.locator(".usermenu summary"))
        b.click(page.get_by_role("link", name="API 令牌"))
        b.click(page.get_by_role("button", name="撤销"))
        page.get_by_text("令牌已撤销").wait_for()
    assert page.get_by_role("cell", name="已撤销").is_visible()
    assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()


def _cadre_sheet(path: Path) -> Path:
    """A real .xlsx with two new cadres, in the official column layout (headers from the import module)."""
    import openpyxl

    from gongzhi.core.imports import COLUMNS

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "干部"
    headers = [c.header for c in COLUMNS["cadres"]]
    ws.append(headers)
    for name, username, unit, title in (
        ("赵一", "zhao1", "990102001000", "副镇长"),
        ("钱二", "qian2", "990102002000", "干部"),
    ):
        row = dict.fromkeys(headers, "")
        row.update({"姓名": name, "用户名": username, "单位区划代码": unit, "职务": title})
        ws.append([row[h] for h in headers])
    wb.save(path)
    return path


@pytest.mark.budget("import-roster")
def test_budget_import_roster(web: Any, users: Any, budget: Any, tmp_path: Path) -> None:
    from gongzhi.core.models import Cadre

    sheet = _cadre_sheet(tmp_path / "干部名册.xlsx")
    page = web.new_page(user=users["county_office"])
    page.goto("/")
    with budget(page) as b:
        b.click(page.locator("#mainnav").get_by_role("link", name="导入导出"))
        b.select(page.get_by_label("导入内容"), "cadres")
        b.choose_file(page.get_by_label("文件（.xlsx 或 .csv）"), sheet)
        b.click(page.get_by_role("button", name="校验并导入"))
        page.get_by_text("导入成功。").wait_for()
    assert set(
        Cadre.objects.filter(user__username__in=["zhao1", "qian2"]).values_list("name", flat=True)
    ) == {
        "赵一",
        "钱二",
    }


@pytest.mark.budget("export-roster")
def test_budget_export_roster(web: Any, users: Any, budget: Any, tmp_path: Path) -> None:
    import openpyxl

    page = web.new_page(user=users["county_office"])
    page.goto("/")
    with budget(page) as b:
        b.click(page.locator("#mainnav").get_by_role("link", name="导入导出"))
        with page.expect_download() as dl:
            b.click(page.get_by_role("link", name="导出全部"))
        path = tmp_path / dl.value.suggested_filename
        dl.value.save_as(path)
    assert path.suffix == ".xlsx"
    wb = openpyxl.load_workbook(path, read_only=True)
    names = [c for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row]
    assert "东河镇" in names and "县住房和城乡建设局" in names
