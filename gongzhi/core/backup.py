"""Backup and restore of all platform data (``gongzhi backup FILE`` / ``gongzhi restore FILE``).

The file is gzip-compressed JSON Lines, written and read as a stream:

* line 1: a header ``{"format": "gongzhi-backup", "version": 1, "created": …, "migrations": {app: [names]}}``;
* one line per row, in the form of Django's serializers (``{"model": …, "pk": …, "fields": {…}}``), models in
  foreign-key order; content types and permissions are referred to by natural key, since ``migrate`` recreates them
  with ids of its own;
* a trailer ``{"end": true, "count": N, "sha256": …}`` over the row lines, so a truncated or altered file is refused.

Everything is included — the administrative tree, people, accounts (password hashes), tokens, and the audit log with
its chain head, byte for byte, so ``gongzhi audit verify`` passes on the restored database. Sessions, content types
and permissions are left out (``migrate`` and the next login recreate them).

``restore`` loads into an empty, migrated database in one transaction: a non-empty database, a corrupt or foreign
file, or a backup from a newer schema is refused with a Chinese message and nothing is written.

For large production PostgreSQL deployments, ``pg_dump`` / ``pg_restore`` (or a physical base backup with WAL
archiving) is the recommended path: it is an order of magnitude faster, consistent by construction and restores
indexes in bulk. This format is meant for the demo, small deployments and moving between SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import decimal
import gzip
import hashlib
import json
import os
import uuid
import zlib
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.core.serializers import base as ser_base
from django.core.serializers.python import Deserializer as PythonDeserializer
from django.core.serializers.python import Serializer as PythonSerializer
from django.db import DatabaseError, connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

FORMAT = "gongzhi-backup"
VERSION = 1
CHUNK = 2000
# Recreated by ``migrate`` or ephemeral: never backed up.
EXCLUDED = {"contenttypes.contenttype", "auth.permission", "sessions.session"}
# Referred to by natural key because their ids differ between databases.
_NATURAL: tuple[type[models.Model], ...] = (ContentType, Permission)


class RestoreError(Exception):
    """Restore refused or failed; nothing was written. The message is in Chinese."""


class _Encoder(json.JSONEncoder):
    """Like DjangoJSONEncoder, but keeps microseconds: the audit chain hashes ``time.isoformat()`` exactly."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime | dt.date | dt.time):
            return o.isoformat()
        if isinstance(o, dt.timedelta):
            return o.total_seconds()
        if isinstance(o, decimal.Decimal | uuid.UUID):
            return str(o)
        return super().default(o)


class _Serializer(PythonSerializer):
    """Natural keys only for content types and permissions; every other reference stays a plain pk (fast)."""

    def handle_fk_field(self, obj: Any, field: Any) -> None:
        self.use_natural_foreign_keys = field.remote_field.model in _NATURAL
        super().handle_fk_field(obj, field)

    def handle_m2m_field(self, obj: Any, field: Any) -> None:
        self.use_natural_foreign_keys = field.remote_field.model in _NATURAL
        super().handle_m2m_field(obj, field)


def backup_models() -> list[type[models.Model]]:
    """Every concrete table of the installed apps, parents before the rows that refer to them."""
    candidates = [
        m
        for m in apps.get_models()
        if m._meta.managed
        and not m._meta.proxy
        and not m._meta.swapped
        and m._meta.label_lower not in EXCLUDED
    ]
    included = set(candidates)
    deps: dict[type[models.Model], set[type[models.Model]]] = {}
    for m in candidates:
        targets: set[Any] = {
            f.remote_field.model for f in m._meta.concrete_fields if f.remote_field is not None
        }
        targets |= {f.remote_field.through for f in m._meta.local_many_to_many}
        deps[m] = {t for t in targets if t in included and t is not m}
    ordered: list[type[models.Model]] = []
    placed: set[type[models.Model]] = set()
    pending = sorted(candidates, key=lambda m: m._meta.label)
    while pending:
        ready = [m for m in pending if deps[m] <= placed] or pending[:1]  # a cycle: FKs are deferred anyway
        for m in ready:
            ordered.append(m)
            placed.add(m)
        pending = [m for m in pending if m not in placed]
    return ordered


def _applied_migrations() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for app, name in sorted(MigrationRecorder(connection).applied_migrations()):
        out.setdefault(app, []).append(name)
    return out


def _auto_through(field: Any) -> bool:
    through = getattr(field.remote_field, "through", None)
    return bool(through is not None and through._meta.auto_created)


def _rows(model: type[models.Model]) -> Iterator[dict[str, Any]]:
    qs = model._base_manager.order_by("pk")
    m2m = [f.name for f in model._meta.many_to_many if _auto_through(f)]
    if m2m:
        qs = qs.prefetch_related(*m2m)
    it = qs.iterator(chunk_size=CHUNK)
    ser = _Serializer()
    while chunk := list(islice(it, CHUNK)):
        yield from ser.serialize(chunk)


def backup(path: Path | str) -> int:
    """Write all platform data to ``path`` (gzip JSON Lines). Returns the number of rows written."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    digest = hashlib.sha256()
    count = 0
    dumps = _Encoder(ensure_ascii=False, separators=(",", ":")).encode
    outer = connection.in_atomic_block
    try:
        with transaction.atomic(), gzip.open(tmp, "wt", encoding="utf-8", compresslevel=6) as f:
            if connection.vendor == "postgresql" and not outer:
                # One snapshot for every table, so the audit head matches its events and no reference dangles.
                with connection.cursor() as cur:
                    cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            header = {
                "format": FORMAT,
                "version": VERSION,
                "created": timezone.now().isoformat(),
                "database": connection.vendor,
                "migrations": _applied_migrations(),
            }
            f.write(dumps(header) + "\n")
            for model in backup_models():
                for obj in _rows(model):
                    line = dumps(obj)
                    digest.update(line.encode("utf-8"))
                    f.write(line + "\n")
                    count += 1
            f.write(dumps({"end": True, "count": count, "sha256": digest.hexdigest()}) + "\n")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return count


# ---- restore --------------------------------------------------------------------------------------------------


def _nonempty_models() -> list[str]:
    return [str(m._meta.verbose_name) for m in backup_models() if m._base_manager.exists()]


def restore(path: Path | str) -> int:
    """Load a backup into an empty, migrated database in one transaction. Returns the number of rows restored."""
    path = Path(path)
    if not path.is_file():
        raise RestoreError(f"备份文件不存在：{path}")
    nonempty = _nonempty_models()
    if nonempty:
        shown = "、".join(nonempty[:5]) + ("等" if len(nonempty) > 5 else "")
        raise RestoreError(
            f"数据库不是空的（{shown}已有数据）。恢复只能写入新建并已迁移的空数据库，以免覆盖或混入现有数据。"
        )
    try:
        with transaction.atomic(), gzip.open(path, "rt", encoding="utf-8") as f:
            count = _load(f)
            _reset_sequences()
    except RestoreError:
        raise
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RestoreError(
            f"备份文件已损坏或不是共治备份文件（{type(e).__name__}: {e}），未写入任何数据"
        ) from e
    except (ser_base.DeserializationError, LookupError, KeyError, TypeError, ValueError) as e:
        raise RestoreError(f"备份文件内容无效（{e}），未写入任何数据") from e
    except DatabaseError as e:
        raise RestoreError(f"写入数据库失败，已全部撤销：{e}") from e
    return count


def _load(lines: Iterable[str]) -> int:
    it = iter(lines)
    first = next(it, "")
    try:
        header = json.loads(first)
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise RestoreError("不是共治备份文件（缺少文件头），未写入任何数据")
    if header.get("version") != VERSION:
        raise RestoreError(f"不支持的备份格式版本 {header.get('version')}，未写入任何数据")
    applied = _applied_migrations()
    missing = [
        f"{app}.{name}"
        for app, names in header.get("migrations", {}).items()
        for name in names
        if name not in applied.get(app, ())
    ]
    if missing:
        raise RestoreError(
            f"备份来自更新版本的共治（本库缺少迁移 {'、'.join(missing[:3])}），请先升级并执行迁移，未写入任何数据"
        )
    digest = hashlib.sha256()
    count = 0
    trailer: dict[str, Any] | None = None
    batch: list[dict[str, Any]] = []
    for line in it:
        line = line.rstrip("\n")
        if not line:
            continue
        if trailer is not None:
            raise RestoreError("备份文件在结尾标记之后还有内容，未写入任何数据")
        obj = json.loads(line)
        if obj.get("end") is True:
            trailer = obj
            continue
        digest.update(line.encode("utf-8"))
        if batch and (batch[0]["model"] != obj["model"] or len(batch) >= CHUNK):
            _insert(batch)
            batch = []
        batch.append(obj)
        count += 1
    if batch:
        _insert(batch)
    if trailer is None:
        raise RestoreError("备份文件不完整（缺少结尾标记，可能在写入时中断），未写入任何数据")
    if trailer.get("count") != count or trailer.get("sha256") != digest.hexdigest():
        raise RestoreError("备份文件校验失败（记录数或摘要不符，文件可能被改动），未写入任何数据")
    return count


def _insert(batch: list[dict[str, Any]]) -> None:
    deserialized = list(PythonDeserializer(batch))
    model = type(deserialized[0].object)
    objs = [d.object for d in deserialized]
    if model._meta.parents:
        for d in deserialized:  # multi-table inheritance: let Django write each parent row
            d.save()
        return
    fields = list(model._meta.concrete_fields)
    size = connection.ops.bulk_batch_size(fields, objs) or len(objs)
    qs = model._base_manager.using(connection.alias)
    for i in range(0, len(objs), size):
        # raw=True keeps stored values as they are (auto_now fields are not touched), like loaddata.
        qs._insert(objs[i : i + size], fields=fields, raw=True)
    for d in deserialized:
        for name, values in (d.m2m_data or {}).items():
            getattr(d.object, name).set(values)


def _reset_sequences() -> None:
    """After inserting explicit ids, move PostgreSQL sequences past them so new rows do not collide."""
    statements = connection.ops.sequence_reset_sql(no_style(), backup_models())
    if statements:
        with connection.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
