"""Journal records: their binary form, and which of them a restore may use."""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest

from docsync.exceptions import SnapshotError, StoreUnavailableError
from docsync.server.persistence.journal import Record, decode_record, encode_record, last_applied, usable_records
from docsync.server.persistence.stores import SessionStore
from docsync.sync.patch_log import LogEntry
from docsync.sync.patches import EncodedEvent

from .conftest import SETTINGS

LIMIT = 1 << 20


def record(number: int, incarnation: str = "inc", seq: int | None = None) -> Record:
    seq = number if seq is None else seq
    column = np.arange(4, dtype=np.float64)
    event = EncodedEvent(
        "client-a",
        {"kind": "ModelChanged", "model": {"id": "m1"}, "attr": "x", "new": {"__buffer__": f"{seq}.0.0"}},
        [],
        [(f"{seq}.0.0", memoryview(column).cast("B"))],
        (("m1", "x"), ("m1", "cells", 3)),
        32,
    )
    return Record(
        number,
        incarnation,
        seq,
        [LogEntry(seq, [event], 32)],
        answer=["client-a", f"msg{number}", seq, 0, None, []],
        fences={"client-a": seq} if number % 2 else None,
        client_models=number,
    )


def test_a_record_round_trips_with_its_buffers_raw_and_its_conflict_keys_as_tuples() -> None:
    data = encode_record(record(7), LIMIT)
    assert np.arange(4, dtype=np.float64).tobytes() in data  # raw bytes, no base64
    back = decode_record(data)
    assert (back.number, back.incarnation, back.seq, back.client_models) == (7, "inc", 7, 7)
    assert back.answer == ["client-a", "msg7", 7, 0, None, []]
    assert back.fences == {"client-a": 7}
    (entry,) = back.entries
    (event,) = entry.events
    assert entry.seq == 7 and event.origin == "client-a"
    assert event.keys == (("m1", "x"), ("m1", "cells", 3))  # compared with live keys, so tuples again
    ((buffer_id, buffer),) = event.buffers
    assert buffer_id == "7.0.0" and bytes(buffer) == np.arange(4, dtype=np.float64).tobytes()


def test_a_damaged_record_is_refused_clearly() -> None:
    data = bytearray(encode_record(record(3), LIMIT))
    data[-3] ^= 0xFF
    with pytest.raises(SnapshotError, match="checksum mismatch"):
        decode_record(bytes(data))
    with pytest.raises(SnapshotError, match="not a docsync journal record"):
        decode_record(b"DSYNCSNAP\n" + bytes(data[10:]))
    with pytest.raises(SnapshotError, match="journal record too big"):
        encode_record(record(3), 64)


def test_a_restore_uses_its_own_records_without_a_gap_the_tail_before_the_snapshot_included() -> None:
    records = [record(n) for n in (3, 4, 5, 6, 7, 9)] + [record(6, "another"), record(1)]
    used = usable_records(records, "inc", after=5)
    # 3-5 are the tail (a run ending at the snapshot), 6-7 follow it; 9 is after a gap
    # (never acknowledged: 8 was not written), 1 is before a gap, "another" is another session's.
    assert [(r.number, r.incarnation) for r in used] == [(3, "inc"), (4, "inc"), (5, "inc"), (6, "inc"), (7, "inc")]
    assert [r.number for r in usable_records(records, "inc", after=0)] == [1]  # then 2 is missing
    assert [r.number for r in usable_records(records, "inc", after=8)] == [9]  # no tail: 8 is missing


def test_a_restored_session_numbers_its_records_after_the_last_one_applied_not_after_a_gap() -> None:
    records = [record(n) for n in (3, 4, 5, 6, 7, 9)] + [record(12, "another")]
    assert last_applied(records, "inc", after=5) == 7  # 9 lies past a gap, 12 is another incarnation's
    assert last_applied(records, "inc", after=7) == 7  # nothing follows the snapshot: its own
    assert last_applied(records, "inc", after=8) == 9
    assert last_applied([], "inc", after=4) == 4


class _MemoryStore(SessionStore):
    """A user's SessionStore that cannot drop records (no ``drop_records_after``); ``broken``: nor reach them."""

    def __init__(self, broken: bool = False) -> None:
        self.records: dict[int, bytes] = {}
        self.broken = broken

    async def save(self, session_id: str, app_path: str, seq: int, data: bytes, *, process: str) -> None:
        pass

    async def load(self, session_id: str) -> bytes | None:
        return None

    async def delete(self, session_id: str) -> None:
        pass

    async def append_records(self, records: list[tuple[str, int, bytes]], *, process: str) -> None:
        self.records.update((number, data) for _, number, data in records)

    async def load_records(self, session_id: str) -> list[bytes]:
        return [self.records[n] for n in sorted(self.records)]

    async def trim_records(self, session_id: str, upto: int) -> None:
        pass

    async def drop_records_after(self, session_id: str, number: int) -> None:
        if self.broken:
            raise ConnectionError("the store is away")
        await super().drop_records_after(session_id, number)


@pytest.mark.asyncio
async def test_records_past_a_gap_stay_in_a_store_that_cannot_drop_them_and_a_store_away_refuses_the_restore() -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
        django.setup()
    from docsync.server.persistence.keeper import SnapshotKeeper

    records = [record(n) for n in (1, 2, 5)]
    keeper = SnapshotKeeper(SimpleNamespace(process_id="p"), _MemoryStore())
    # Kept (the session then numbers its records after 5, as before), not a refusal at every restore.
    assert await keeper.drop_after_gap("s1", records, last_applied(records, "inc", after=0)) == records
    away = SnapshotKeeper(SimpleNamespace(process_id="p"), _MemoryStore(broken=True))
    with pytest.raises(StoreUnavailableError):  # 1013: tried again, the records still there
        await away.drop_after_gap("s1", records, 2)
    assert await away.drop_after_gap("s1", records[:2], 2) == records[:2]  # no gap: the store is not asked


@pytest.mark.asyncio
async def test_refused_records_stay_applied_in_a_store_that_cannot_drop_them() -> None:
    # A write reported failed that landed all the same: its records go at the restore
    # (SnapshotKeeper.without_refused). A store without drop_records_after keeps them, and
    # the restore applies them (its next records numbered after them, not among them);
    # it refused such a restore with 1013, at every try, as a store away.
    import django
    from django.conf import settings

    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
        django.setup()
    from docsync.server.persistence.keeper import SnapshotKeeper

    records = [record(n) for n in (1, 2, 3)]
    keeper = SnapshotKeeper(SimpleNamespace(process_id="p"), _MemoryStore())
    keeper.voided["s1"] = (set(), 1)  # it knew record 1 stored
    assert await keeper.without_refused("s1", "inc", records) == records
    away = SnapshotKeeper(SimpleNamespace(process_id="p"), _MemoryStore(broken=True))
    away.voided["s1"] = (set(), 1)
    with pytest.raises(StoreUnavailableError):  # 1013: tried again
        await away.without_refused("s1", "inc", records)
    assert await away.without_refused("s1", "inc", records[:1]) == records[:1]  # none refused: the store is not asked
