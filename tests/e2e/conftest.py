"""Browser fixtures: one Debian chromium per test session, a fresh context (cookies, storage) per test.

Never a downloaded browser: Playwright drives /usr/bin/chromium. The Django live server runs in a thread of this
process, so tests can read the in-memory SMS outbox and share the (transactional) test database.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from tests.factories import PASSWORD

from .budget import Budget, load_rows, measure

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 812}}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Generous enough for a loaded 2-core CI box, short enough that a hung page fails fast.
TIMEOUT_MS = 10_000


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "budget(key): browser test that holds one row of docs/burden-budget.md"
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk (never `playwright install`)"
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Console:
    """Console errors and uncaught page errors seen during one test."""

    errors: list[str] = field(default_factory=list)

    def csp_violations(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e]


@dataclass
class Browsing:
    """What a test gets: a page factory bound to the live server, plus helpers."""

    browser: Browser
    base_url: str
    console: Console
    contexts: list[BrowserContext] = field(default_factory=list)

    def new_page(self, viewport: str = "desktop", *, user: Any = None) -> Page:
        context = self.browser.new_context(
            viewport=VIEWPORTS[viewport],
            base_url=self.base_url,
            locale="zh-CN",
            is_mobile=viewport == "phone",
            has_touch=viewport == "phone",
        )
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        if user is not None:
            _login_cookie(context, self.base_url, user)
        page = context.new_page()
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.console.errors.append(f"pageerror: {exc}"))
        return page

    def _on_console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.console.errors.append(msg.text)


def _login_cookie(context: BrowserContext, base_url: str, user: Any) -> None:
    """Log in without the UI (for tests about something else): a session made by Django's test client."""
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    context.add_cookies([{"name": name, "value": client.cookies[name].value, "url": base_url}])


@pytest.fixture
def web(browser: Browser, live_server: Any) -> Iterator[Browsing]:
    """Fresh browser contexts for one test; fails the test on any CSP violation or uncaught script error."""
    b = Browsing(browser=browser, base_url=live_server.url, console=Console())
    yield b
    for ctx in b.contexts:
        ctx.close()
    bad = b.console.csp_violations() + [e for e in b.console.errors if e.startswith("pageerror:")]
    assert not bad, f"browser console errors: {bad}"


@pytest.fixture
def outbox() -> list[tuple[str, str]]:
    from gongzhi.core.sms import MemorySender

    MemorySender.outbox.clear()
    return MemorySender.outbox


def sms_code(outbox: list[tuple[str, str]], phone: str) -> str:
    texts = [text for to, text in outbox if to == phone]
    assert texts, f"no SMS sent to {phone}"
    m = re.search(r"\b(\d{6})\b", texts[-1])
    assert m, texts[-1]
    return m.group(1)


def no_horizontal_overflow(page: Page) -> None:
    # clientWidth, not innerWidth: on an emulated phone innerWidth grows with the overflow, so it could never fail.
    width = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    if width[0] > width[1]:
        culprits = page.evaluate(
            """(w) => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > w + 1)
                .filter(e => !e.closest('.table-wrap') || e.classList.contains('table-wrap')).slice(0, 8).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className + ':' + Math.round(e.getBoundingClientRect().right))""",
            width[1],
        )
        raise AssertionError(
            f"page is wider than the viewport: scrollWidth {width[0]} > {width[1]}: {culprits}"
        )


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    # caret="initial": hiding the caret would inject a style the page CSP (rightly) refuses.
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, caret="initial")


def staff_login(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()


# ---- burden budget ---------------------------------------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"_report_{report.when}", report)


@pytest.fixture(scope="session")
def budget_log() -> Path:
    """test-artifacts/budget.txt: one line per measured action in this session (the numbers behind the table)."""
    ARTIFACTS.mkdir(exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # one file per xdist worker, so none truncates another's
    log = ARTIFACTS / (f"budget-{worker}.txt" if worker else "budget.txt")
    log.write_text("", encoding="utf-8")
    return log


@pytest.fixture
def budget(
    request: pytest.FixtureRequest, budget_log: Path
) -> Iterator[Callable[[Page], AbstractContextManager[Budget]]]:
    """``with budget(page) as b:`` runs the test's action once against its row of docs/burden-budget.md."""
    marker = request.node.get_closest_marker("budget")
    assert marker is not None, "the budget fixture is for tests marked @pytest.mark.budget('<key>')"
    key = marker.args[0]
    rows = load_rows()
    assert key in rows, f"{key!r} has no row in docs/burden-budget.md"
    runs: list[Budget] = []

    @contextmanager
    def run(page: Page) -> Iterator[Budget]:
        assert not runs, "a budget test measures its action exactly once"
        with measure(rows[key], page=page, log=budget_log) as b:
            runs.append(b)
            yield b
        # Every routine action asks the server something; zero would mean the timing hook saw nothing.
        assert b.wait_seconds > 0, f"no server answer was timed: {b.summary()}"

    yield run
    call = getattr(request.node, "_report_call", None)
    if call is not None and call.passed:
        assert runs, f"test {request.node.name} never measured its action (use `with budget(page) as b:`)"
