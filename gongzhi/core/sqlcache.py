"""ORM querysets compiled to SQL once per process, then run with new values through a plain cursor.

On the pages every request hits (home sections, API lists) Django's SQL compilation cost more CPU than the query in
PostgreSQL — about 1 ms a query here (bench/http.py). ``Compiled`` builds the queryset once with stand-in values,
keeps the SQL and where each stand-in went among the parameters, and afterwards only swaps the values in and
applies the ORM's value converters to the rows. The query stays written with the ORM (readable, portable between
PostgreSQL and SQLite); only its compilation is cached.

Rules: the SQL must not depend on the values (no ``None`` — it compiles to ``IS NULL`` —, and a fixed number of
values in ``__in``), so ``None`` is refused and parameters must be ints, strings, dates or datetimes. The first calls
of each query are checked against a real compilation with the real values: on a difference the query raises when
``STRICT`` (DEBUG, and the tests), and otherwise logs it and goes through the ORM from then on — slower, never
wrong. (A repeated value in ``__in`` is such a difference: the ORM drops duplicates.)

    _visits = Compiled(lambda p: Visit.objects.filter(township_id=p.int("town"), day__gte=p.date("day"))
                       .values_list("id", "day")[:5])
    rows = _visits(town=3, day=today)          # list of tuples, as values_list gives
"""

from __future__ import annotations

import builtins
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

log = logging.getLogger(__name__)
STRICT = settings.DEBUG  # raise when a query turns out to depend on its values (tests set it)
_TYPES = (int, str, dt.date)  # datetime is a date
_INT_BASE = 1_987_650_000  # stand-in ints: large, fit in a 32-bit column, never a real id here
_DAY0 = dt.date(1901, 1, 1)
_VERIFY_CALLS = 3


class _Placeholders:
    def __init__(self) -> None:
        self.kinds: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def _add(self, name: str, kind: str, value: Any) -> Any:
        if name in self.kinds:
            if self.kinds[name] != kind:
                raise ValueError(f"parameter {name!r} used as {self.kinds[name]} and as {kind}")
            return self.values[name]
        self.kinds[name] = kind
        self.values[name] = value
        return value

    def int(self, name: builtins.str) -> builtins.int:
        return int(self._add(name, "int", _INT_BASE + len(self.kinds)))

    def str(self, name: builtins.str) -> builtins.str:
        return str(self._add(name, "str", f"\x1e{name}\x1f"))

    def date(self, name: builtins.str) -> dt.date:
        value: dt.date = self._add(name, "date", _DAY0 + dt.timedelta(days=len(self.kinds)))
        return value

    def datetime(self, name: builtins.str) -> dt.datetime:
        value: dt.datetime = self._add(
            name, "datetime", dt.datetime(1901, 1, 1, 0, len(self.kinds), tzinfo=dt.UTC)
        )
        return value


class _Real:
    """Hands the real values to the builder (for the check against a real compilation)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def int(self, name: str) -> Any:
        return self._values[name]

    str = date = datetime = int


def _adapt(kind: str, value: Any) -> list[tuple[Any, str]]:
    """The forms a value of this kind can take among the ORM's parameters, with how to make each form."""
    ops = connection.ops
    if kind == "date":
        return [(value, "raw"), (ops.adapt_datefield_value(value), "date")]
    if kind == "datetime":
        return [(value, "raw"), (ops.adapt_datetimefield_value(value), "datetime")]
    return [(value, "raw")]


class Compiled:
    def __init__(self, build: Callable[[Any], QuerySet[Any]]) -> None:
        self.build = build
        self._plans: dict[str, tuple[str, list[tuple[str, Any]], Any, list[Any]]] = {}
        self._checked: dict[str, int] = {}
        self._orm_only = False

    def _plan(self) -> tuple[str, list[tuple[str, Any]], Any, list[Any]]:
        key = connection.vendor
        plan = self._plans.get(key)
        if plan is None:
            p = _Placeholders()
            qs = self.build(p)
            compiler = qs.query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
            slots: list[
                tuple[str, Any]
            ] = []  # (how, what): ("const", value) | ("raw"/"date"/…, name) | ("like", …)
            forms = {
                name: _adapt(kind, value) for name, kind in p.kinds.items() for value in [p.values[name]]
            }
            for param in params:
                slots.append(self._slot(param, p, forms))
            fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
            converters = compiler.get_converters(fields)
            plan = self._plans[key] = (sql, slots, compiler, [converters])
        return plan

    @staticmethod
    def _slot(param: Any, p: _Placeholders, forms: dict[str, list[tuple[Any, str]]]) -> tuple[str, Any]:
        for name, variants in forms.items():
            for form, how in variants:
                if type(param) is type(form) and param == form:
                    return (how, name)
            if p.kinds[name] == "str" and isinstance(param, str) and p.values[name] in param:
                return ("like", (name, param))  # a LIKE pattern built around the value
        if isinstance(param, str) and "\x1e" in param:
            raise ValueError(f"stand-in not recognised in parameter {param!r}")
        return ("const", param)

    def __call__(self, **values: Any) -> list[tuple[Any, ...]]:
        for name, v in values.items():
            if v is None:
                raise ValueError(
                    f"{name}: Compiled queries take no None (it changes the SQL); filter it out first"
                )
            if not isinstance(v, _TYPES) or isinstance(v, bool):
                raise TypeError(
                    f"{name}: Compiled queries take ints, strings, dates and datetimes, not {type(v)}"
                )
        if self._orm_only:
            return [tuple(r) for r in self.build(_Real(values))]
        sql, slots, compiler, (converters,) = self._plan()
        ops = connection.ops
        params: list[Any] = []
        for how, what in slots:
            if how == "const":
                params.append(what)
            elif how == "raw":
                params.append(values[what])
            elif how == "date":
                params.append(ops.adapt_datefield_value(values[what]))
            elif how == "datetime":
                params.append(ops.adapt_datetimefield_value(values[what]))
            else:  # like
                name, pattern = what
                marker = f"\x1e{name}\x1f"
                params.append(pattern.replace(marker, ops.prep_for_like_query(values[name])))
        n = self._checked.get(connection.vendor, 0)
        if n < _VERIFY_CALLS:
            self._checked[connection.vendor] = n + 1
            if not self._verify(sql, params, values):
                self._orm_only = True
                return [tuple(r) for r in self.build(_Real(values))]
        with connection.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        if converters:
            rows = list(compiler.apply_converters(rows, converters))
        return [tuple(r) for r in rows]

    def _verify(self, sql: str, params: list[Any], values: dict[str, Any]) -> bool:
        real_sql, real_params = self.build(_Real(values)).query.get_compiler(connection=connection).as_sql()
        if real_sql == sql and list(real_params) == params:
            return True
        problem = f"Compiled query depends on its values: cached {sql!r} {params!r}, real {real_sql!r} {real_params!r}"
        if STRICT:
            raise AssertionError(problem)
        log.warning("%s; using the ORM for it from now on", problem)
        return False
