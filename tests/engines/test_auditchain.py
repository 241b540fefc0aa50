from hypothesis import given
from hypothesis import strategies as st

from gongzhi.engines import auditchain as ac


def _chain(n: int) -> list[ac.ChainEvent]:
    out, prev = [], ac.GENESIS
    for i in range(1, n + 1):
        content = {"action": f"a{i}", "digest": ac.digest({"i": i})}
        h = ac.event_hash(i, prev, content)
        out.append(ac.ChainEvent(i * 10, i, prev, h, content))
        prev = h
    return out


def test_intact_chain_verifies() -> None:
    ev = _chain(5)
    assert ac.verify(ev, head_seq=5, head_hash=ev[-1].hash) is None


def test_empty_chain_verifies() -> None:
    assert ac.verify([], head_seq=0, head_hash=ac.GENESIS) is None


def test_altered_content_is_named() -> None:
    ev = _chain(5)
    ev[2] = ac.ChainEvent(ev[2].row_id, 3, ev[2].prev_hash, ev[2].hash, {**ev[2].content, "action": "x"})
    p = ac.verify(ev, head_seq=5, head_hash=ev[-1].hash)
    assert p is not None and p.seq == 3 and p.kind == "altered" and p.row_id == 30


def test_deleted_middle_event_is_named() -> None:
    ev = _chain(5)
    del ev[1]
    p = ac.verify(ev, head_seq=5, head_hash=ev[-1].hash)
    assert p is not None and p.seq == 2 and p.kind == "deleted"


def test_deleted_last_event_is_caught_by_head() -> None:
    ev = _chain(5)
    head = ev[-1].hash
    p = ac.verify(ev[:-1], head_seq=5, head_hash=head)
    assert p is not None and p.seq == 5


def test_inserted_event_is_named() -> None:
    ev = _chain(3)
    forged_content = {"action": "forged", "digest": "0" * 64}
    forged = ac.ChainEvent(99, 2, ev[0].hash, ac.event_hash(2, ev[0].hash, forged_content), forged_content)
    p = ac.verify([ev[0], forged, ev[1], ev[2]], head_seq=3, head_hash=ev[-1].hash)
    assert p is not None and p.row_id in (99, 20)


@given(st.integers(min_value=1, max_value=30), st.data())
def test_any_single_alteration_is_detected(n: int, data: st.DataObject) -> None:
    ev = _chain(n)
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    e = ev[i]
    ev[i] = ac.ChainEvent(e.row_id, e.seq, e.prev_hash, e.hash, {**e.content, "digest": "f" * 64})
    p = ac.verify(ev, head_seq=n, head_hash=ev[-1].hash)
    assert p is not None and p.seq == e.seq


def test_a_chain_rebuilt_without_the_key_is_detected() -> None:
    """Someone with database access deletes event 2 and recomputes every later hash, but has no key."""
    key = b"secret-kept-outside-the-db"
    out, prev = [], ac.GENESIS
    for i in range(1, 5):
        content = {"action": f"a{i}"}
        h = ac.event_hash(i, prev, content, key)
        out.append(ac.ChainEvent(i, i, prev, h, content))
        prev = h
    assert ac.verify(out, head_seq=4, head_hash=out[-1].hash, key=key) is None
    forged, prev = [], ac.GENESIS
    for seq, ev in enumerate([out[0], *out[2:]], start=1):
        h = ac.event_hash(seq, prev, ev.content)  # no key: plain SHA-256
        forged.append(ac.ChainEvent(ev.row_id, seq, prev, h, ev.content))
        prev = h
    p = ac.verify(forged, head_seq=3, head_hash=forged[-1].hash, key=key)
    assert p is not None and p.seq == 1
