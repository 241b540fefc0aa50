"""一事一码: shape, check character, tolerant reading and uniqueness of issued codes."""

from __future__ import annotations

import re

import pytest

from gongzhi.inspections import codes

SHAPE = re.compile(r"^JC\d\d-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


def test_shape_and_year() -> None:
    for _ in range(200):
        c = codes.make_code(2026)
        assert SHAPE.match(c), c
        assert c.startswith("JC26-")
        assert codes.normalize(c) == c


def test_codes_do_not_repeat() -> None:
    seen = {codes.make_code(2026) for _ in range(20000)}
    assert len(seen) == 20000


@pytest.mark.parametrize(
    "typed",
    [
        "{c}",
        "{lower}",
        "{bare}",
        "  {spaced}  ",
        "https://example.org/v/{c}/",
        "{fullwidth}",
    ],
)
def test_tolerant_reading(typed: str) -> None:
    c = codes.make_code(2027)
    bare = c.replace("-", "")
    text = typed.format(
        c=c,
        lower=c.lower(),
        bare=bare,
        spaced=" ".join(bare),
        fullwidth="".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in c),
    )
    assert codes.normalize(text) == c


def test_crockford_confusions() -> None:
    # Find a code containing 0 and 1, then type them as O and I/L.
    for _ in range(5000):
        c = codes.make_code(2026)
        body = c[5:]
        if "0" in body and "1" in body:
            break
    else:
        pytest.skip("no code with both 0 and 1 drawn")
    typed = c[:5] + body.replace("0", "O").replace("1", "l")
    assert codes.normalize(typed) == c


def test_every_single_character_error_is_caught() -> None:
    c = codes.make_code(2026)
    bare = c.replace("-", "")
    for pos in range(2, len(bare)):
        for ch in codes.ALPHABET:
            if ch == bare[pos]:
                continue
            typo = bare[:pos] + ch + bare[pos + 1 :]
            assert codes.normalize(typo) is None, typo


def test_adjacent_swaps_are_caught() -> None:
    misses = 0
    for _ in range(300):
        bare = codes.make_code(2026).replace("-", "")
        for pos in range(4, len(bare) - 1):
            if bare[pos] == bare[pos + 1]:
                continue
            swapped = bare[:pos] + bare[pos + 1] + bare[pos] + bare[pos + 2 :]
            if codes.normalize(swapped) is not None:
                misses += 1
    # Luhn mod N misses only swaps of the pair 0 and V (values 0 and N-1): about 0.2% of swaps.
    assert misses <= 0.01 * 300 * 8


@pytest.mark.parametrize(
    "junk",
    ["", "   ", "JC26", "hello", "JC26-7KQ4-M9X", "JC26-7KQ4-M9XDD", "XX26-7KQ4-M9XD", "JC26-7KQ4-M9XU"],
)
def test_not_a_code(junk: str) -> None:
    assert codes.normalize(junk) is None


def test_looks_like_code_tells_typos_from_junk() -> None:
    c = codes.make_code(2026)
    typo = c[:-1] + ("0" if c[-1] != "0" else "1")
    assert codes.normalize(typo) is None
    assert codes.looks_like_code(typo)
    assert not codes.looks_like_code("hello")
