"""Backup to a gzip JSON Lines file and restore into an empty database."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management.color import no_style
from django.db import connection, transaction

from gongzhi.core import backup, demo
from gongzhi.core.audit import audit_record, audit_verify
from gongzhi.core.models import AdminUnit, AuditEvent, AuditHead, Resident, User

from ..demo_snapshot import demo_county

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {m._meta.label: m._base_manager.count() for m in backup.backup_models()}


def _wipe() -> None:
    """Make the test database empty again, as a freshly migrated one: no rows, id counters back at the start."""
    qn = connection.ops.quote_name
    tables = []
    for model in reversed(backup.backup_models()):
        tables += [qn(f.remote_field.through._meta.db_table) for f in model._meta.local_many_to_many]
        tables.append(qn(model._meta.db_table))
    with connection.cursor() as cur:
        for table in tables:
            cur.execute(f"DELETE FROM {table}")
        for sql in connection.ops.sequence_reset_by_name_sql(
            no_style(), connection.introspection.sequence_list()
        ):
            cur.execute(sql)
    assert sum(_counts().values()) == 0


def _build() -> None:
    demo_county(0.005)
    admin = User.objects.get(username="admin")
    # A row with a microsecond timestamp, an m2m with natural keys, and one more audit event.
    group = Group.objects.create(name="审核员")
    group.permissions.add(Permission.objects.get(codename="view_adminunit"))
    admin.groups.add(group)
    with transaction.atomic():
        audit_record(
            actor=admin, action="test.event", object_type="user", object_id=admin.pk, data={"n": 1.5}
        )


def test_round_trip_keeps_everything_and_the_audit_chain(tmp_path: Path) -> None:
    _build()
    before = _counts()
    resident_rows = list(Resident.objects.order_by("id").values())
    events = list(AuditEvent.objects.order_by("seq").values("seq", "time", "hash", "data"))
    head = AuditHead.objects.get()
    path = tmp_path / "gongzhi.json.gz"
    written = backup.backup(path)
    assert written == sum(before.values())
    assert not (tmp_path / "gongzhi.json.gz.part").exists()
    with gzip.open(path, "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert json.loads(lines[0])["format"] == "gongzhi-backup"
    assert json.loads(lines[-1])["count"] == written
    assert not any('"contenttypes.contenttype"' in line or '"sessions.session"' in line for line in lines)

    _wipe()
    assert backup.restore(path) == written
    assert _counts() == before
    assert list(Resident.objects.order_by("id").values()) == resident_rows
    assert list(AuditEvent.objects.order_by("seq").values("seq", "time", "hash", "data")) == events
    assert AuditHead.objects.get().hash == head.hash
    assert audit_verify() is None
    admin = User.objects.get(username="admin")
    assert admin.check_password(demo.DEMO_PASSWORD)
    assert admin.has_perm("core.view_adminunit")  # the group and its permission came back by natural key
    # New rows get fresh ids after restore (sequences moved past the restored ones on PostgreSQL).
    AdminUnit.objects.create(code="990199000000", name="新县", level="county", kind="县")
    User.objects.create(username="new-after-restore")


def test_restore_refuses_a_non_empty_database_and_writes_nothing(tmp_path: Path) -> None:
    _build()
    path = tmp_path / "b.json.gz"
    backup.backup(path)
    before = _counts()
    with pytest.raises(backup.RestoreError, match="数据库不是空的"):
        backup.restore(path)
    assert _counts() == before
    assert audit_verify() is None


def _write(path: Path, lines: list[str]) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    "damage, message",
    [
        ("not gzip", "已损坏"),
        ("truncated gzip", "已损坏"),
        ("no header", "不是共治备份文件"),
        ("no trailer", "不完整"),
        ("altered row", "校验失败"),
        ("unknown model", "内容无效"),
        ("newer schema", "更新版本"),
        ("missing file", "不存在"),
    ],
)
def test_restore_refuses_a_corrupt_file_and_writes_nothing(tmp_path: Path, damage: str, message: str) -> None:
    _build()
    good = tmp_path / "good.json.gz"
    backup.backup(good)
    with gzip.open(good, "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    _wipe()
    bad = tmp_path / "bad.json.gz"
    if damage == "not gzip":
        bad.write_text("hello")
    elif damage == "truncated gzip":
        data = good.read_bytes()
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "no header":
        _write(bad, lines[1:])
    elif damage == "no trailer":
        _write(bad, lines[:-1])
    elif damage == "altered row":
        i = next(i for i, line in enumerate(lines) if '"core.resident"' in line)
        row = json.loads(lines[i])
        row["fields"]["name"] = "篡改"
        _write(bad, [*lines[:i], json.dumps(row, ensure_ascii=False, separators=(",", ":")), *lines[i + 1 :]])
    elif damage == "unknown model":
        trailer = json.loads(lines[-1])
        extra = json.dumps({"model": "core.nosuchmodel", "pk": 1, "fields": {}})
        digest = hashlib.sha256("".join([*lines[1:-1], extra]).encode()).hexdigest()
        trailer.update(count=trailer["count"] + 1, sha256=digest)
        _write(bad, [*lines[:-1], extra, json.dumps(trailer)])
    elif damage == "newer schema":
        header = json.loads(lines[0])
        header["migrations"]["core"].append("9999_from_the_future")
        _write(bad, [json.dumps(header), *lines[1:]])
    with pytest.raises(backup.RestoreError, match=message):
        backup.restore(bad)
    assert sum(_counts().values()) == 0  # nothing partial written


def test_backup_order_puts_parents_first() -> None:
    order = backup.backup_models()
    labels = [m._meta.label for m in order]
    assert labels.index("core.User") < labels.index("core.Cadre") < labels.index("core.Position")
    assert labels.index("core.AdminUnit") < labels.index("core.Resident")
    assert "contenttypes.ContentType" not in labels and "auth.Permission" not in labels


def test_restore_cli_reports_chinese_error(tmp_path: Path, capsys: Any) -> None:
    from gongzhi.cli import main

    bad = tmp_path / "x.json.gz"
    bad.write_bytes(b"garbage")
    _build()
    assert main(["restore", str(bad)]) == 1
    assert "恢复失败" in capsys.readouterr().err
