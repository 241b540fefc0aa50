"""Every P2 service takes the same years: four digits from 2000 to next year (plans.check_year), one message."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from gongzhi.core.services import ServiceError
from gongzhi.inspections import ledger, plans, visits

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("year", ["abc", None, 1999, "timezone+2"])
def test_merge_and_ledger_refuse_the_years_plans_refuse(users: Any, tree: Any, year: Any) -> None:
    if year == "timezone+2":
        year = timezone.localdate().year + 2
    with pytest.raises(ServiceError) as planned:
        plans.check_year(year)
    with pytest.raises(ServiceError) as merged:
        visits.merge_run(actor=users["county_office"], county=tree.county, year=year, exact_reference=False)
    with pytest.raises(ServiceError) as counted:
        ledger.build_ledger(user=users["county_office"], county=tree.county, year=year)
    assert str(merged.value) == str(counted.value) == str(planned.value)
    assert merged.value.code == counted.value.code == "invalid"


def test_next_year_is_allowed_everywhere(users: Any, tree: Any) -> None:
    nxt = timezone.localdate().year + 1
    assert plans.check_year(str(nxt)) == nxt
    assert ledger.build_ledger(user=users["county_office"], county=tree.county, year=nxt).year == nxt
