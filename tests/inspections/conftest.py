"""Shared fixtures of the inspections tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from .factories_visits import YEAR


class _StartOfYear:
    @staticmethod
    def localdate() -> dt.date:
        return dt.date(YEAR - 1, 1, 1)


@pytest.fixture(autouse=True)
def merge_at_start_of_year(monkeypatch: Any) -> None:
    """The merge tests plan ``YEAR`` (and the year before) with fixed windows, whatever today is; a merge proposes
    days from its ``today`` on (``visits`` module docstring), so here the county office merges before those years
    begin. Only the merge's default date is pinned; tests about the past pass ``today=`` themselves."""
    from gongzhi.inspections import visits

    monkeypatch.setattr(visits, "timezone", _StartOfYear)
