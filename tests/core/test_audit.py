from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from django.db import connection, transaction

from gongzhi.core.audit import audit_record, audit_verify
from gongzhi.core.models import AuditEvent, AuditHead, User
from gongzhi.core.services import resident_create


def _events(n: int, actor: Any = None) -> None:
    for i in range(n):
        with transaction.atomic():
            audit_record(
                actor=actor, action="test.event", object_type="thing", object_id=i, data={"i": i, "名": "值"}
            )


def test_service_write_appends_event_in_same_transaction(users: dict[str, User], tree: Any) -> None:
    before = AuditEvent.objects.count()
    resident_create(
        actor=users["township_staff"], village=tree.v11, name="李四", id_number="11010519491231002X"
    )
    ev = AuditEvent.objects.order_by("-seq").first()
    assert AuditEvent.objects.count() == before + 1
    assert ev is not None and ev.action == "resident.create" and ev.actor_label == "township_staff"
    assert "11010519491231002X" not in str(ev.data)


def test_rolled_back_write_leaves_no_event(db: Any) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=None, action="x", object_type="y")
        raise RuntimeError("boom")
    assert AuditEvent.objects.count() == 0
    assert audit_verify() is None


def test_record_outside_transaction_is_refused(db: Any) -> None:
    # pytest-django wraps each test in a transaction; emulate the no-transaction case with a fresh check.
    from unittest import mock

    with mock.patch("gongzhi.core.audit.transaction.get_connection") as gc:
        gc.return_value.in_atomic_block = False
        with pytest.raises(RuntimeError):
            audit_record(actor=None, action="x", object_type="y")


def test_chain_verifies_and_seq_is_contiguous(db: Any) -> None:
    _events(5)
    assert audit_verify() is None
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == [1, 2, 3, 4, 5]
    assert AuditHead.objects.get(pk=1).seq == 5


def _sql(sql: str, params: list[Any]) -> None:
    with connection.cursor() as c:
        c.execute(sql, params)


def test_altered_row_is_named(db: Any) -> None:
    _events(5)
    target = AuditEvent.objects.get(seq=3)
    _sql("UPDATE core_auditevent SET action = %s WHERE id = %s", ["forged", target.pk])
    p = audit_verify()
    assert p is not None and p.seq == 3 and p.row_id == target.pk and p.kind == "altered"


def test_altered_data_is_named(db: Any) -> None:
    _events(4)
    target = AuditEvent.objects.get(seq=2)
    _sql("UPDATE core_auditevent SET data = %s WHERE id = %s", ['{"i": 99}', target.pk])
    p = audit_verify()
    assert p is not None and p.seq == 2 and p.row_id == target.pk


def test_deleted_row_is_named(db: Any) -> None:
    _events(5)
    _sql("DELETE FROM core_auditevent WHERE seq = %s", [2])
    p = audit_verify()
    assert p is not None and p.seq == 2 and p.kind == "deleted"


def test_deleted_last_row_is_caught(db: Any) -> None:
    _events(3)
    _sql("DELETE FROM core_auditevent WHERE seq = %s", [3])
    p = audit_verify()
    assert p is not None and p.seq == 3


def test_inserted_row_is_named(db: Any) -> None:
    _events(3)
    second = AuditEvent.objects.get(seq=2)
    # Shift later events and insert a forged one at seq 2 that copies the old neighbour's hashes.
    _sql("UPDATE core_auditevent SET seq = seq + 100 WHERE seq >= %s", [2])
    _sql("UPDATE core_auditevent SET seq = seq - 99 WHERE seq >= %s", [100])
    AuditEvent.objects.create(
        seq=2,
        action="forged",
        object_type="x",
        digest=second.digest,
        prev_hash=second.prev_hash,
        hash=second.hash,
        time=second.time,
    )
    p = audit_verify()
    assert p is not None and p.seq == 2


@pytest.mark.django_db(transaction=True)
def test_cli_audit_verify_reports_ok_then_names_row(tmp_path: Any) -> None:
    """End to end: `gongzhi audit verify` on a real SQLite file, before and after tampering with SQL."""
    import os
    import sqlite3

    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    run = [sys.executable, "-m", "gongzhi.cli"]
    subprocess.run([*run, "manage", "migrate", "-v", "0"], env=env, check=True)
    code = (
        "import django; django.setup();"
        "from django.db import transaction; from gongzhi.core.audit import audit_record\n"
        "for i in range(4):\n"
        "    with transaction.atomic(): audit_record(actor=None, action='t', object_type='x', object_id=i)"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    ok = subprocess.run([*run, "audit", "verify"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0 and "OK" in ok.stdout and "4" in ok.stdout
    db = sqlite3.connect(tmp_path / "db.sqlite3")
    row_id = db.execute("SELECT id FROM core_auditevent WHERE seq = 3").fetchone()[0]
    db.execute("UPDATE core_auditevent SET object_id = 'tampered' WHERE id = ?", (row_id,))
    db.commit()
    bad = subprocess.run([*run, "audit", "verify"], env=env, capture_output=True, text=True)
    assert bad.returncode == 2
    assert "seq=3" in bad.stderr and f"id={row_id}" in bad.stderr


def test_changed_actor_foreign_key_is_named(users: dict[str, User]) -> None:
    _events(2, actor=users["township_staff"])
    target = AuditEvent.objects.get(seq=2)
    _sql("UPDATE core_auditevent SET actor_id = %s WHERE id = %s", [users["admin"].pk, target.pk])
    p = audit_verify()
    assert p is not None and p.seq == 2


def test_chain_needs_its_key(db: Any, settings: Any) -> None:
    _events(3)
    assert audit_verify() is None
    settings.AUDIT_CHAIN_KEY = "a-different-key"
    p = audit_verify()
    assert p is not None and p.seq == 1


def test_users_who_acted_cannot_be_deleted(users: dict[str, User]) -> None:
    from django.db.models import ProtectedError

    _events(1, actor=users["admin"])  # the admin holds no cadre post, so only the audit log protects it
    with pytest.raises(ProtectedError):
        users["admin"].delete()


def test_django_admin_edits_are_audited(users: dict[str, User], tree: Any) -> None:
    from django.test import Client

    from gongzhi.core.models import Resident

    from ..factories import resident

    r = resident(tree.v11, name="王五")
    c = Client()
    c.force_login(users["admin"])
    url = f"/admin/core/resident/{r.pk}/change/"
    form = {
        "village": tree.v12.pk,
        "name": "王五五",
        "household_no": r.household_no,
        "phone": r.phone,
        "verified": "on",
        "user": "",
    }
    resp = c.post(url, form)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    assert Resident.objects.get(pk=r.pk).name == "王五五"
    ev = AuditEvent.objects.order_by("-seq").first()
    assert ev is not None and ev.action == "admin.change" and ev.object_type == "resident"
    assert set(ev.data["fields"]) == {"name", "village"}
    assert audit_verify() is None
