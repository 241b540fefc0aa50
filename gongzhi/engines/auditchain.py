"""SHA-256 hash chain for the audit log.

Each event's hash covers its sequence number, the previous event's hash and the event's canonical content, so
changing, deleting or inserting any event breaks the chain at that point. Kept free of Django so that it can be
tested and fuzzed on plain data.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def canonical(data: Any) -> str:
    """Deterministic JSON: sorted keys, no whitespace, non-ASCII kept (names are Chinese)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest(data: Any) -> str:
    return hashlib.sha256(canonical(data).encode("utf-8")).hexdigest()


def event_hash(seq: int, prev_hash: str, content: Mapping[str, Any], key: bytes = b"") -> str:
    """HMAC-SHA256 under ``key`` (plain SHA-256 when no key): with a key kept outside the database, someone who can
    write to the database still cannot recompute a consistent chain after deleting or editing events."""
    payload = f"{seq}|{prev_hash}|{canonical(content)}".encode()
    if key:
        return hmac.new(key, payload, hashlib.sha256).hexdigest()
    return hashlib.sha256(payload).hexdigest()


@dataclass(frozen=True)
class ChainEvent:
    row_id: int
    seq: int
    prev_hash: str
    hash: str
    content: Mapping[str, Any]


@dataclass(frozen=True)
class ChainProblem:
    row_id: int | None
    seq: int
    kind: str  # "altered" | "deleted" | "inserted" | "truncated"
    message: str


def verify(
    events: Iterable[ChainEvent], head_seq: int | None = None, head_hash: str | None = None, key: bytes = b""
) -> ChainProblem | None:
    """Return the first problem in the chain, or None when it is intact.

    ``events`` must be ordered by ``seq``. ``head_seq``/``head_hash`` are the chain head kept apart from the events,
    which reveals deletion of the newest events.
    """
    expected_seq = 1
    prev = GENESIS
    for ev in events:
        if ev.seq > expected_seq:
            return ChainProblem(
                ev.row_id, expected_seq, "deleted", f"序号 {expected_seq} 的审计事件缺失（被删除）"
            )
        if ev.seq < expected_seq:
            return ChainProblem(ev.row_id, ev.seq, "inserted", f"序号 {ev.seq} 的审计事件重复（被插入）")
        if ev.prev_hash != prev:
            kind = "inserted" if event_hash(ev.seq, ev.prev_hash, ev.content, key) == ev.hash else "altered"
            return ChainProblem(
                ev.row_id, ev.seq, kind, f"序号 {ev.seq} 的审计事件与前一事件不衔接（{kind}）"
            )
        if event_hash(ev.seq, ev.prev_hash, ev.content, key) != ev.hash:
            return ChainProblem(ev.row_id, ev.seq, "altered", f"序号 {ev.seq} 的审计事件内容被篡改")
        prev = ev.hash
        expected_seq += 1
    last_seq = expected_seq - 1
    if head_seq is not None and head_seq != last_seq:
        if head_seq > last_seq:
            return ChainProblem(
                None, last_seq + 1, "truncated", f"序号 {last_seq + 1} 起的审计事件缺失（被删除）"
            )
        return ChainProblem(None, head_seq + 1, "inserted", f"序号 {head_seq + 1} 起的审计事件不在链头记录内")
    if head_hash is not None and head_seq == last_seq and head_hash != prev:
        return ChainProblem(None, last_seq, "altered", f"序号 {last_seq} 的审计事件与链头记录不符")
    return None
