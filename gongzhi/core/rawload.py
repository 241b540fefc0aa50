"""Model instances from one hand-written query through a plain cursor.

For the lookups every request makes (the logged-in user, the API token's user): the ORM's SQL compilation, and even
``RawQuerySet``'s machinery, cost several times what PostgreSQL spends on the query (bench/http.py). The row is
turned into an instance with ``Model.from_db`` after the backend's value converters, as the ORM would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)


@lru_cache(maxsize=32)
def _plan(
    model: type[Model], ops: Any, alias: str
) -> tuple[str, list[str], list[tuple[int, list[Callable[..., Any]], Any]]]:
    cols: list[str] = []
    names: list[str] = []
    convert: list[tuple[int, list[Callable[..., Any]], Any]] = []
    for i, f in enumerate(model._meta.concrete_fields):
        cols.append(f"{alias}.{ops.quote_name(f.column)}")
        names.append(f.attname)
        expr = f.get_col(alias)
        converters = ops.get_db_converters(expr) + f.get_db_converters(connection)  # type: ignore[attr-defined]
        if converters:
            convert.append((i, converters, expr))
    return ", ".join(cols), names, convert


def select_columns(model: type[Model], alias: str) -> str:
    """``alias.col1, alias.col2, …`` for every concrete field, in the order ``fetch_one`` expects."""
    return _plan(model, connection.ops, alias)[0]


def fetch_one(model: type[M], sql: str, params: Sequence[Any], alias: str) -> M | None:
    """The first row of ``sql`` (which must select ``select_columns(model, alias)``) as a ``model`` instance."""
    with connection.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
    return None if row is None else from_row(model, row, alias)


def from_row(model: type[M], row: Sequence[Any], alias: str) -> M:
    """A ``model`` instance from the values of ``select_columns(model, alias)``, converted as the ORM would."""
    _cols, names, convert = _plan(model, connection.ops, alias)
    values = list(row)
    for i, converters, expr in convert:
        for conv in converters:
            values[i] = conv(values[i], expr, connection)
    return model.from_db(connection.alias, names, values)
