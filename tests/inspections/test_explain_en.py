"""explain.py in English: counts agree in number."""

from __future__ import annotations

from django.utils import translation

from gongzhi.inspections import explain


def test_township_count_without_names_is_plural_in_english() -> None:
    ctx = explain._Ctx(None, None, None)
    with translation.override("en"):
        assert explain._towns({"township_count": 3}, ctx) == "3 townships"
        assert explain._towns({"township_count": 1}, ctx) == "1 township"
    with translation.override("zh-hans"):
        assert explain._towns({"township_count": 3}, ctx) == "3 个乡镇"
