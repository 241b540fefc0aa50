"""The demo county for tests: built once per test worker, then restored from a raw snapshot of its rows.

Building the demo county (tree, cadres, residents and every pillar's sample data) takes 5–10 s; about thirty tests
need it in a fresh database (browser walks and burden budgets run against a live server, so each starts from an
emptied database). Restoring the same rows takes a fraction of a second: ``COPY … FROM STDIN`` on PostgreSQL,
``executemany`` on SQLite, then the id sequences are moved past the restored ids.

The snapshot is only taken from, and only restored into, a database whose tables are empty (apart from content
types and permissions, which ``migrate`` and every flush recreate with ids of their own and which are therefore
replaced by the snapshot's), so a test gets exactly what ``build_demo_county`` would have written. The date is
part of the key: the demo's plans and visits are laid out around today.

Tests of the build itself (``tests/core/test_demo.py``) call ``build_demo_county`` directly.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

# Recreated by migrate/flush with ids of their own: replaced wholesale by the snapshot's rows.
_REPLACED = ("django_content_type", "auth_permission")


@dataclass
class _Table:
    name: str
    columns: list[str]
    data: Any  # bytes (PostgreSQL COPY text format) or a list of row tuples (SQLite)


_SNAPSHOTS: dict[tuple[str, str, float, str], list[_Table]] = {}


def _models() -> list[type[models.Model]]:
    return [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy and m._meta.db_table != "django_session"
    ]


def _tables() -> list[str]:
    existing = set(connection.introspection.table_names())
    return sorted({m._meta.db_table for m in _models()} & existing)


def _empty() -> bool:
    q = connection.ops.quote_name
    with connection.cursor() as cur:
        for table in _tables():
            if table in _REPLACED:
                continue
            cur.execute(f"SELECT 1 FROM {q(table)} LIMIT 1")
            if cur.fetchone() is not None:
                return False
    return True


def _capture() -> list[_Table]:
    q = connection.ops.quote_name
    out: list[_Table] = []
    with connection.cursor() as cur:
        for table in _tables():
            if connection.vendor == "postgresql":
                cur.execute(f"SELECT * FROM {q(table)} WHERE 1 = 0")  # the column order COPY writes
                columns = [d[0] for d in cur.description]
                buf = io.BytesIO()
                with cur.cursor.copy(f"COPY {q(table)} TO STDOUT") as copy:
                    for chunk in copy:
                        buf.write(chunk)
                data: Any = buf.getvalue()
            else:
                cur.execute(f"SELECT * FROM {q(table)}")
                data = cur.fetchall()
                columns = [d[0] for d in cur.description]
            if not data:
                continue
            out.append(_Table(table, columns, data))
    return out


def _restore(snapshot: list[_Table]) -> None:
    q = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cur:
        # Django's foreign keys are deferrable on both backends: table order does not matter inside one transaction.
        cur.execute(f"DELETE FROM {q('auth_permission')}")
        cur.execute(f"DELETE FROM {q('django_content_type')}")
        for t in snapshot:
            cols = ", ".join(q(c) for c in t.columns)
            if connection.vendor == "postgresql":
                with cur.cursor.copy(f"COPY {q(t.name)} ({cols}) FROM STDIN") as copy:
                    copy.write(t.data)
            else:
                marks = ", ".join(["%s"] * len(t.columns))
                cur.executemany(f"INSERT INTO {q(t.name)} ({cols}) VALUES ({marks})", t.data)
        # SQLite's AUTOINCREMENT follows explicit ids by itself; PostgreSQL's sequences must be moved.
        for sql in connection.ops.sequence_reset_sql(no_style(), _models()):
            cur.execute(sql)
    ContentType.objects.clear_cache()


def demo_county(scale: float) -> bool:
    """``build_demo_county(scale=scale)``, served from this worker's snapshot after the first build.

    Returns what ``build_demo_county`` returns: True when the county was (re)created, False when it already existed.
    """
    from gongzhi.core.demo import COUNTY_CODE, build_demo_county
    from gongzhi.core.models import AdminUnit

    if AdminUnit.objects.filter(code=COUNTY_CODE).exists():
        return False
    key = (connection.vendor, connection.settings_dict["NAME"], scale, timezone.localdate().isoformat())
    empty = _empty()
    snapshot = _SNAPSHOTS.get(key) if empty else None
    if snapshot is not None:
        _restore(snapshot)
        return True
    built = build_demo_county(scale=scale)
    if empty and built:
        _SNAPSHOTS[key] = _capture()
    return built
