"""12-digit statistical division codes (统计用区划代码): PP CC DD TTT VVV.

The code itself encodes the tree, so subtree queries become prefix queries.
"""

from __future__ import annotations

import re

LEVELS = ("province", "city", "county", "township", "village")
# Number of significant leading digits per level.
PREFIX_LEN = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12}
_CODE_RE = re.compile(r"^\d{12}$")


class DivisionCodeError(ValueError):
    pass


def is_valid_code(code: str) -> bool:
    return bool(_CODE_RE.match(code))


def level_of(code: str) -> str:
    """The level a code denotes, from where its trailing zeros begin."""
    if not is_valid_code(code):
        raise DivisionCodeError(f"区划代码必须是 12 位数字：{code!r}")
    if code[2:] == "0" * 10:
        return "province"
    if code[4:] == "0" * 8:
        return "city"
    if code[6:] == "0" * 6:
        return "county"
    if code[9:] == "000":
        return "township"
    return "village"


def prefix(code: str, level: str | None = None) -> str:
    """The significant prefix of a code: every descendant's code starts with it."""
    lvl = level or level_of(code)
    return code[: PREFIX_LEN[lvl]]


def parent_code(code: str) -> str | None:
    lvl = level_of(code)
    idx = LEVELS.index(lvl)
    if idx == 0:
        return None
    parent_len = PREFIX_LEN[LEVELS[idx - 1]]
    return code[:parent_len].ljust(12, "0")


def check_child(parent: str, child: str, child_level: str) -> None:
    """Raise DivisionCodeError unless ``child`` is a valid code one level below ``parent``."""
    actual = level_of(child)
    if actual != child_level:
        raise DivisionCodeError(
            f"区划代码 {child} 表示{LEVEL_ZH[actual]}级，与层级「{LEVEL_ZH[child_level]}」不符"
        )
    expected_parent = parent_code(child)
    if expected_parent != parent:
        raise DivisionCodeError(f"区划代码 {child} 的上级应为 {expected_parent}，而不是 {parent}")


LEVEL_ZH = {
    "province": "省",
    "city": "市",
    "county": "县",
    "township": "乡镇（街道）",
    "village": "村（社区）",
}
