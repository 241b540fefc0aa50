"""core/responses: the POST-redirect-GET and int parsing every pillar's views share."""

from __future__ import annotations

import pytest

from gongzhi.core.responses import int_or_none, see_other


def test_see_other_is_303_to_a_name_a_path_or_with_a_query() -> None:
    r = see_other("summons:detail", summons_id=7)
    assert r.status_code == 303 and r["Location"] == "/summons/7/"
    assert see_other("plans:item", 3)["Location"] == "/inspections/items/3/"
    assert see_other("/burden/", query="year=2026")["Location"] == "/burden/?year=2026"
    assert see_other("summons:settings", query="county=990102000000")["Location"].endswith(
        "?county=990102000000"
    )


@pytest.mark.parametrize(("value", "expected"), [("12", 12), (5, 5), ("", None), (None, None), ("x1", None)])
def test_int_or_none(value: object, expected: int | None) -> None:
    assert int_or_none(value) == expected
