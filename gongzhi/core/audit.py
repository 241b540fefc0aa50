"""Append-only audit log in a SHA-256 hash chain.

``audit_record`` must run inside the transaction of the write it records, so a rolled-back write leaves no event
and a committed write always has one. Cadres never type a trace: this is the platform's own record.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from gongzhi.engines import auditchain

from .models import AuditEvent, AuditHead

# Fields never copied into the audit log, whatever the caller passes.
REDACTED = {"password", "id_number", "id_hash", "code", "token", "key", "secret"}


def _clean(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if k in REDACTED:
            out[k] = "***"
        elif isinstance(v, Mapping):
            out[k] = _clean(v)
        else:
            out[k] = v
    return out


def audit_record(
    *, actor: Any, action: str, object_type: str, object_id: Any = "", data: Mapping[str, Any] | None = None
) -> AuditEvent:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside the write's transaction")
    clean = auditchain.canonical(_clean(data or {}))
    payload = _json_roundtrip(clean)
    head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
    actor_obj = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    ev = AuditEvent(
        seq=head.seq + 1,
        time=timezone.now(),
        actor=actor_obj,
        actor_label=actor_obj.get_username() if actor_obj else "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        data=payload,
        digest=auditchain.digest(payload),
        prev_hash=head.hash,
    )
    ev.hash = auditchain.event_hash(ev.seq, ev.prev_hash, ev.content(), _chain_key())
    ev.save(force_insert=True)
    head.seq, head.hash = ev.seq, ev.hash
    head.save(update_fields=["seq", "hash"])
    return ev


def _chain_key() -> bytes:
    from django.conf import settings

    return str(settings.AUDIT_CHAIN_KEY).encode()


def _json_roundtrip(text: str) -> Any:
    import json

    return json.loads(text)


def _chain_events(batch: int = 5000) -> Iterator[auditchain.ChainEvent]:
    qs = AuditEvent.objects.order_by("seq", "id")
    for ev in qs.iterator(chunk_size=batch):
        content = ev.content()
        if auditchain.digest(ev.data) != ev.digest:
            # The stored change itself was edited: make the content disagree with the hash.
            content = {**content, "digest": auditchain.digest(ev.data)}
        yield auditchain.ChainEvent(ev.pk, ev.seq, ev.prev_hash, ev.hash, content)


def audit_verify() -> auditchain.ChainProblem | None:
    head = AuditHead.objects.filter(pk=1).first()
    return auditchain.verify(
        _chain_events(),
        head_seq=head.seq if head else 0,
        head_hash=head.hash if head else auditchain.GENESIS,
        key=_chain_key(),
    )
