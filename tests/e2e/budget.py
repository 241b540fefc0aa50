"""The burden budget: docs/burden-budget.md is the single source of truth, browser tests hold it.

A test marked ``@pytest.mark.budget("<key>")`` drives one routine action through a :class:`Budget`, which wraps the
page actions a person would do (click, fill, select, choose a file, press a key), counts them and times the run.
Leaving the ``with`` block checks the count against the table row: more clicks or fields than the row allows fails
the test, and so do fewer (the row must then be lowered, so the table stays the honest, tight figure).

Seconds are the time a practised user needs, estimated with the Keystroke-Level Model (Card, Moran & Newell 1980)
from the steps counted and the characters actually typed, plus the time the browser really waited for the server
(each page, htmx and fetch request, from sending it to the last byte of the answer, as the browser timed it). The
block's wall-clock time is logged too, but not judged: on a shared test machine it mostly measures the test driver.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, Request

DOC = Path(__file__).resolve().parents[2] / "docs" / "burden-budget.md"

# Keystroke-Level Model operators, seconds (Card, Moran & Newell; Kieras' "Using the KLM" for the values).
K = 0.20  # one keystroke, practised typist ("good typist" 0.12, "average skilled" 0.20)
POINT_CLICK = 1.1 + 0.2  # P (point with the mouse or finger) + B (press and release)
HOME = 0.4  # H: move a hand between mouse and keyboard
MENTAL = 1.35  # M: decide what to type, or read something (an SMS code) off a screen
KEYS_PER_HANZI = 4  # pinyin input: about three letters plus choosing the candidate


@dataclass(frozen=True)
class Row:
    key: str
    action: str
    start: str
    clicks: int
    fields: int
    seconds: float


_HEADER = ("动作 action", "key", "起点 start", "点击 clicks", "填写 fields", "秒 seconds")


def load_rows(path: Path = DOC) -> dict[str, Row]:
    """Rows of the budget table (the markdown table whose header is ``_HEADER``). Raises on a malformed table."""
    lines = path.read_text(encoding="utf-8").splitlines()
    rows: dict[str, Row] = {}
    in_table = False
    for n, line in enumerate(lines, 1):
        if not line.startswith("|"):
            in_table = False
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if tuple(c.lower() for c in cells) == tuple(h.lower() for h in _HEADER):
            in_table = True
            continue
        if not in_table or set("".join(cells)) <= set("-: "):
            continue
        if len(cells) != len(_HEADER):
            raise ValueError(f"{path.name}:{n}: expected {len(_HEADER)} cells, got {len(cells)}")
        action, key, start, clicks, fields, seconds = cells
        key = key.strip("`")
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", key):
            raise ValueError(f"{path.name}:{n}: key {key!r} must be lower-case words joined by '-'")
        if key in rows:
            raise ValueError(f"{path.name}:{n}: duplicate key {key!r}")
        try:
            rows[key] = Row(key, action, start, int(clicks), int(fields), float(seconds))
        except ValueError as e:
            raise ValueError(
                f"{path.name}:{n}: clicks and fields must be integers, seconds a number ({e})"
            ) from e
    if not rows:
        raise ValueError(f"{path.name}: no budget table found (header {' | '.join(_HEADER)})")
    return rows


def keystrokes(text: str) -> int:
    """Keys pressed to type ``text``: one per Latin character or digit, ``KEYS_PER_HANZI`` per Chinese character."""
    return sum(KEYS_PER_HANZI if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _name(target: Locator) -> str:
    """The selector part of a locator's repr, for readable step lists."""
    m = re.search(r"selector='(.*)'>$", str(target))
    return m.group(1).replace("internal:", "") if m else str(target)


@dataclass
class Budget:
    """Counts one run of an action. Use only its methods for the steps a person does; setup goes around it."""

    row: Row
    clicks: int = 0
    fields: int = 0
    keys: int = 0
    human_seconds: float = 0.0
    wait_seconds: float = 0.0  # the browser waiting for answers (judged)
    wall_seconds: float = 0.0  # the whole block, driver overhead included (logged only)
    steps: list[str] = field(default_factory=list)

    # -- the steps a person does ----------------------------------------------------------------------------------
    def click(self, target: Locator, **kw: Any) -> None:
        self._step(f"click {_name(target)}", clicks=1, seconds=POINT_CLICK)
        target.click(**kw)

    def press(self, target: Locator, key: str) -> None:
        """A key that acts (Enter submits, Tab moves on) counts as a click: it is one deliberate action."""
        self._step(f"press {key}", clicks=1, seconds=K)
        target.press(key)

    def fill(self, target: Locator, text: str) -> None:
        n = keystrokes(text)
        self.keys += n
        self._step(f"fill {_name(target)} ({n} keys)", fields=1, seconds=MENTAL + HOME + n * K)
        target.fill(text)

    def select(self, target: Locator, value: str) -> None:
        """Open the list, pick the option: two clicks."""
        self._step(f"select {value}", clicks=2, seconds=2 * POINT_CLICK)
        target.select_option(value)

    def choose_file(self, target: Locator, path: str | Path) -> None:
        """Open the file chooser, pick the file (finding it counts one mental step): two clicks."""
        self._step(f"choose file {Path(path).name}", clicks=2, seconds=2 * POINT_CLICK + MENTAL)
        target.set_input_files(str(path))

    def read(self, what: str) -> None:
        """Read something off a screen (an SMS code): one mental operator, no click."""
        self._step(f"read {what}", seconds=MENTAL)

    # -- accounting ---------------------------------------------------------------------------------------------------
    def _step(self, text: str, *, clicks: int = 0, fields: int = 0, seconds: float = 0.0) -> None:
        self.clicks += clicks
        self.fields += fields
        self.human_seconds += seconds
        self.steps.append(text)

    @property
    def seconds(self) -> float:
        return self.human_seconds + self.wait_seconds

    def summary(self) -> str:
        return (
            f"{self.row.key} ({self.row.action}): {self.clicks} clicks + {self.fields} fields "
            f"[budget {self.row.clicks} + {self.row.fields}], {self.seconds:.1f} s = {self.human_seconds:.1f} s human "
            f"+ {self.wait_seconds:.2f} s waiting [budget {self.row.seconds:g} s] (block {self.wall_seconds:.2f} s); "
            f"steps: {'; '.join(self.steps)}"
        )

    def problems(self) -> list[str]:
        r = self.row
        out = []
        if self.clicks > r.clicks or self.fields > r.fields:
            out.append("over budget")
        elif self.clicks < r.clicks or self.fields < r.fields:
            out.append(f"budget is loose: lower the row to {self.clicks} clicks + {self.fields} fields")
        if self.seconds > r.seconds:
            out.append("too slow")
        return out


_WAITED_FOR = {"document", "xhr", "fetch"}


@contextmanager
def measure(row: Row, page: Page | None = None, log: Path | None = None) -> Iterator[Budget]:
    """Run the block as one action; on leaving, fail if it broke (or no longer matches) its budget row."""
    b = Budget(row)

    def on_finished(request: Request) -> None:
        end = request.timing.get("responseEnd", -1)
        if request.resource_type in _WAITED_FOR and end > 0:
            b.wait_seconds += end / 1000

    if page is not None:
        page.context.on("requestfinished", on_finished)
    t0 = time.perf_counter()
    try:
        yield b
    finally:
        b.wall_seconds = time.perf_counter() - t0
        if page is not None:
            page.context.remove_listener("requestfinished", on_finished)
    if log is not None:
        with log.open("a", encoding="utf-8") as f:
            f.write(b.summary() + "\n")
    problems = b.problems()
    assert not problems, f"{', '.join(problems)}: {b.summary()}"
