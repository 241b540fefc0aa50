"""core/sqlcache.Compiled: a queryset compiled once gives the ORM's own rows for new values, and refuses queries
whose SQL depends on the values."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import Count, Q

from gongzhi.core import sqlcache
from gongzhi.core.models import AdminUnit, User
from gongzhi.core.sqlcache import Compiled


def test_same_rows_as_the_orm_for_new_values(tree: Any) -> None:
    def build(p: Any) -> Any:
        return (
            AdminUnit.objects.filter(
                Q(code__startswith=p.str("prefix")) | Q(name__contains=p.str("prefix")),
                level__in=[p.str("a"), p.str("b")],
            )
            .exclude(pk=p.int("not"))
            .annotate(n=Count("children"))
            .order_by("code")
            .values_list("code", "name", "n")[:10]
        )

    q = Compiled(build)
    for prefix, a, b, exclude in [
        (tree.t1.code[:9], "village", "township", 0),
        (tree.county.code[:6], "township", "other", tree.t2.pk),
        ("99%_", "village", "village", 0),  # LIKE metacharacters are matched literally, as by the ORM
        ("东河", "village", "township", 0),
    ]:
        orm = build(sqlcache._Real({"prefix": prefix, "a": a, "b": b, "not": exclude}))
        assert q(prefix=prefix, a=a, b=b, **{"not": exclude}) == list(orm)


def test_dates_and_datetimes_are_bound_and_converted(users: dict[str, User]) -> None:
    User.objects.filter(pk=users["admin"].pk).update(last_login=dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC))
    q = Compiled(
        lambda p: (
            User.objects.filter(last_login__gte=p.datetime("since"), date_joined__date__lte=p.date("day"))
            .order_by("pk")
            .values_list("username", "last_login")
        )
    )
    rows = q(since=dt.datetime(2026, 2, 1, tzinfo=dt.UTC), day=dt.date.today())
    assert rows == [("admin", dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC))]  # aware, as the ORM gives it
    assert q(since=dt.datetime(2026, 4, 1, tzinfo=dt.UTC), day=dt.date.today()) == []


def test_a_query_that_depends_on_its_values_is_refused(tree: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlcache, "STRICT", True)
    q = Compiled(lambda p: AdminUnit.objects.filter(parent_id=p.int("parent")).values_list("code"))
    with pytest.raises(ValueError, match="None"):
        q(parent=None)
    # A value whose SQL differs from the stand-in's: an empty string for a startswith that the ORM may drop.
    shaped = Compiled(
        lambda p: (
            AdminUnit.objects.filter(code__startswith=p.str("x")).values_list("code")
            if p.str("x") != ""
            else AdminUnit.objects.values_list("code")
        )
    )
    with pytest.raises(AssertionError, match="depends on its values"):
        shaped(x="")


def test_units_api_page_total_and_filters(users: dict[str, User], tree: Any) -> None:
    from django.test import Client

    c = Client()
    c.force_login(users["county_office"])
    every = c.get("/api/v1/units?page_size=500").json()
    total = every["count"]
    assert total == len(every["items"]) > 3
    past = c.get(f"/api/v1/units?page={total + 1}&page_size=1").json()
    assert past == {"items": [], "count": total, "page": total + 1, "page_size": 1}
    villages = c.get("/api/v1/units?level=village").json()
    assert villages["count"] == sum(u["level"] == "village" for u in every["items"]) > 0
    assert {u["level"] for u in villages["items"]} == {"village"}
    children = c.get(f"/api/v1/units?parent={tree.t1.code}").json()
    assert {u["code"] for u in children["items"]} == {tree.v11.code, tree.v12.code}
    assert all(u["parent_code"] == tree.t1.code for u in children["items"])
    named = c.get("/api/v1/units?q=" + tree.v12.name[:2]).json()
    assert tree.v12.code in {u["code"] for u in named["items"]}
    assert c.get("/api/v1/units?q=%25").json()["count"] == 0  # a literal %, not a wildcard


def test_outside_strict_mode_a_value_dependent_query_falls_back_to_the_orm(
    tree: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlcache, "STRICT", False)

    def build(p: Any) -> Any:
        return (
            AdminUnit.objects.filter(level__in=[p.str("a"), p.str("b")]).order_by("code").values_list("code")
        )

    q = Compiled(build)
    both = q(a="township", b="township")  # the ORM drops the repeated value: a different SQL
    assert both == list(build(sqlcache._Real({"a": "township", "b": "township"}))) != []
    assert q(a="village", b="county") == list(build(sqlcache._Real({"a": "village", "b": "county"})))
