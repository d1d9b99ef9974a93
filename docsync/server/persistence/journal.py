"""The write-ahead journal: each change in the store before anyone is told of it.

A session hands every change it orders (its new patch-log entries, the answer it gave,
its fences) to the ``Journal`` as a numbered *record*, under its lock and without
waiting; the session then holds back every message it would send. One task per
process writes what is queued, in order, in one round trip to the store for all the
sessions that have something (a Redis pipeline, a database transaction), then lets
each session send what waited. An OK therefore leaves only once its change is in the
store: a process killed at any moment (SIGKILL) loses no change it acknowledged.

The records also are the session's patch-log tail: the store keeps those after its
last snapshot, and ``SNAPSHOT_TAIL`` before it, so that a client resuming against the
restored session is sent what it missed (a replay), not the whole document.

A record's binary form is a snapshot's (``snapshot.pack``) under its own magic.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from ...exceptions import SnapshotError
from ...serialization import Buffer
from ...sync.answers import Answer
from ...sync.patch_log import LogEntry
from ...sync.patches import EncodedEvent
from ..session import ServerSession
from .snapshot import pack, unpack

__all__ = [
    "RECORD_MAGIC",
    "Journal",
    "QueuedRecord",
    "Record",
    "decode_record",
    "encode_record",
    "last_applied",
    "usable_records",
]

logger = logging.getLogger("docsync.persistence")

RECORD_MAGIC = b"DSYNCJRNL\n"
_WRITE_ATTEMPTS = 4  # a store that fails is tried again (50, 100, 200 ms apart) before giving up


@dataclass(slots=True)
class Record:
    """One change of a session's order, as the store keeps it."""

    number: int
    incarnation: str
    seq: int
    entries: list[LogEntry]
    #: The answer given to the patch this record holds: [origin, msgid, seq, rejected, error, lost].
    answer: list[Any] | None = None
    fences: dict[str, int] | None = None
    client_models: int = 0
    nbytes: int = 0
    buffers: list[tuple[str, Buffer]] = field(default_factory=list)

    def encode(self, max_bytes: int) -> bytes:
        """The record's binary form (``encode_record``)."""
        return encode_record(self, max_bytes)


class QueuedRecord(Protocol):
    """What the journal writes: a numbered change that encodes itself (a ``Record``, or a dialect's own)."""

    number: int
    nbytes: int

    def encode(self, max_bytes: int) -> bytes:
        """The bytes the store keeps (raise SnapshotError past ``max_bytes``)."""


def encode_record(record: Record, max_bytes: int) -> bytes:
    """Return the binary form of ``record`` (raise SnapshotError past ``max_bytes``)."""
    buffers: list[Buffer] = []
    entries = []
    for entry in record.entries:
        events = []
        for event in entry.events:
            events.append([event.origin, event.json, event.references, [i for i, _ in event.buffers], event.keys])
            buffers.extend(b for _, b in event.buffers)
        entries.append([entry.seq, events])
    header = {
        "number": record.number,
        "incarnation": record.incarnation,
        "seq": record.seq,
        "entries": entries,
        "answer": record.answer,
        "fences": record.fences,
        "client_models": record.client_models,
    }
    return pack(RECORD_MAGIC, orjson.dumps(header), buffers, max_bytes, "journal record")


def _keys(value: Any) -> Any:
    # Conflict keys are tuples (JSON made them lists): compared with the live ones.
    return tuple(_keys(v) for v in value) if isinstance(value, list) else value


def decode_record(data: bytes) -> Record:
    """Read a record the journal wrote; raise SnapshotError if it is not one."""
    header, views = unpack(data, RECORD_MAGIC, "journal record")
    try:
        buffers = iter(views)
        entries: list[LogEntry] = []
        for seq, events in header["entries"]:
            decoded = []
            for origin, body, references, buffer_ids, keys in events:
                own: list[tuple[str, Buffer]] = [(str(buffer_id), next(buffers)) for buffer_id in buffer_ids]
                nbytes = sum(len(b) for _, b in own) + len(orjson.dumps(body)) + 200
                decoded.append(EncodedEvent(origin, body, references, own, _keys(keys), nbytes))
            entries.append(LogEntry(int(seq), decoded, sum(e.nbytes for e in decoded)))
        record = Record(
            number=int(header["number"]),
            incarnation=str(header["incarnation"]),
            seq=int(header["seq"]),
            entries=entries,
            answer=header["answer"],
            fences=header["fences"],
            client_models=int(header["client_models"]),
            nbytes=len(data),
        )
    except (KeyError, TypeError, ValueError, StopIteration, orjson.JSONEncodeError) as exc:
        raise SnapshotError(f"corrupt journal record: {exc!r:.80}") from None
    if record.answer is not None and not (type(record.answer) is list and len(record.answer) == 6):
        raise SnapshotError("corrupt journal record: bad answer")
    return record


def usable_records(records: list[Record], incarnation: str, after: int) -> list[Record]:
    """The records a restore may use: the session's own, numbered without a gap up to the last.

    ``after``: the number of the last record the snapshot holds; those after it must
    all be there (they are written in order), those before it are the tail.
    """
    own = sorted((r for r in records if r.incarnation == incarnation), key=lambda r: r.number)
    # What follows the snapshot, from after+1 on, up to the first gap.
    later: list[Record] = []
    for record in (r for r in own if r.number > after):
        if record.number != after + 1 + len(later):
            break
        later.append(record)
    # The tail before it: a run ending right at the snapshot.
    earlier: list[Record] = []
    for record in reversed([r for r in own if r.number <= after]):
        if record.number != after - len(earlier):
            break
        earlier.append(record)
    return [*reversed(earlier), *later]


def last_applied(records: list[Record], incarnation: str, after: int) -> int:
    """The number of the last record a restore applies: the end of the chain that follows record ``after``.

    Records of the session numbered after it lie past a gap (or are another
    incarnation's): no restore applies them.
    """
    return after + sum(1 for r in usable_records(records, incarnation, after) if r.number > after)


def _lost(session: Any) -> str | None:
    # Why the store did not take the session's changes (a docsync or Bokeh session's ``store_lost``).
    return getattr(session, "store_lost", None)


class Journal:
    """Writes the records of one process's sessions in order, then lets them send what waited.

    ``store``: the process's SessionStore; at most ``max_bytes`` of changes wait for it
    (``room`` holds new patches back beyond that).
    """

    def __init__(self, store: Any, process_id: str, *, max_bytes: int, max_record_bytes: int) -> None:
        self.store = store
        self.process_id = process_id
        self.max_bytes = max_bytes
        self.max_record_bytes = max_record_bytes
        # (session, record): the session has ``id``, ``durable``, ``store_lost`` and ``store_failed``.
        self._queue: list[tuple[Any, QueuedRecord]] = []
        self.waiting_bytes = 0
        self._wake: asyncio.Event | None = None
        self._room: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        #: Told each session whose records the store did not take (after every attempt),
        #: once; none of its records is written after that.
        self.on_failure: Callable[[ServerSession, str], None] | None = None
        self._queued = 0  # records queued since the start, and those written or given up
        self._done = 0
        self._batch_done: asyncio.Event | None = None
        self.written = 0  # records written
        self.bytes_written = 0
        self.round_trips = 0
        self.failures = 0

    # -- the session's side (WriteAhead) ---------------------------------------------

    def record(
        self,
        session: ServerSession,
        number: int,
        entries: list[LogEntry],
        answer: tuple[str, str, Answer] | None,
        fences: dict[str, int] | None,
    ) -> None:
        """Queue record ``number`` of ``session`` (its lock held; never waits)."""
        given = None
        if answer is not None:
            origin, msgid, a = answer
            given = [origin, msgid, a.seq, a.rejected, list(a.error) if a.error else None, list(a.lost)]
        sequencer = session.sequencer
        size = sum(entry.nbytes for entry in entries) + 200
        record = Record(
            number, sequencer.incarnation, sequencer.log.seq, entries, given, fences, sequencer.client_models, size
        )
        self.append(session, record)

    def append(self, session: Any, record: QueuedRecord) -> None:
        """Queue a record that encodes itself (the Bokeh dialect's); ``session.durable(number)`` follows its write."""
        self._queue.append((session, record))
        self._queued += 1
        self.waiting_bytes += record.nbytes
        self._start()

    async def room(self) -> None:
        """Wait while more than ``max_bytes`` of changes wait for the store (no lock held)."""
        while self.waiting_bytes > self.max_bytes:
            if self._room is None:
                self._room = asyncio.Event()
            self._room.clear()
            await self._room.wait()

    # -- the writer ------------------------------------------------------------------

    def _start(self) -> None:
        if self._wake is None:
            self._wake, self._idle = asyncio.Event(), asyncio.Event()
        self._idle.clear()  # type: ignore[union-attr]
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._write_forever())

    async def _write_forever(self) -> None:
        assert self._wake is not None and self._idle is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    await self._write(batch)
                finally:
                    self._done += len(batch)
                    if self._batch_done is not None:
                        self._batch_done.set()
            self._idle.set()

    async def _write(self, batch: list[tuple[Any, QueuedRecord]]) -> None:
        writes: list[tuple[str, int, bytes]] = []
        size = sum(record.nbytes for _, record in batch)
        failed: dict[Any, str] = {}
        for session, record in batch:
            if _lost(session) is not None or session in failed:
                continue  # it builds on a change the store did not take: never written
            try:
                writes.append((session.id, record.number, record.encode(self.max_record_bytes)))
            except (SnapshotError, TypeError, ValueError) as exc:
                self.failures += 1
                logger.error("persistence: a change of session %s not written: %s", session.id, exc)
                failed[session] = f"the change cannot be saved ({exc})"
        if failed:
            writes = [write for write in writes if all(write[0] != s.id for s in failed)]
        if writes:
            for attempt in range(_WRITE_ATTEMPTS):
                try:
                    await self.store.append_records(writes, process=self.process_id)
                    self.round_trips += 1
                    self.written += len(writes)
                    self.bytes_written += sum(len(data) for _, _, data in writes)
                    break
                except Exception as exc:
                    if attempt < _WRITE_ATTEMPTS - 1:
                        await asyncio.sleep(0.05 * 2**attempt)
                        continue
                    # Never an OK for a change the store does not hold: each of these
                    # sessions refuses its changes (ERROR) and is made again from the
                    # store, as it was after its last change that the store took.
                    self.failures += len(writes)
                    logger.error(
                        "persistence: %d changes not written to the store (%s): refused: %r",
                        len(writes),
                        self.store.name,
                        exc,
                    )
                    reason = f"the session store ({self.store.name}) is unavailable"
                    for session, _ in batch:
                        failed.setdefault(session, reason)
        for session, record in batch:
            if _lost(session) is None and session not in failed:
                session.durable(record.number)
        for session, reason in failed.items():
            if _lost(session) is None and self.on_failure is not None:
                try:
                    self.on_failure(session, reason)
                except Exception:  # the writer must go on for the other sessions
                    logger.exception("persistence: session %s not dropped after a refused change", session.id)
        self.waiting_bytes -= size
        if self._room is not None and self.waiting_bytes <= self.max_bytes:
            self._room.set()

    async def settled(self) -> None:
        """Wait until every record queued so far is written or given up (no lock held)."""
        target = self._queued
        task = self._task
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            return
        while self._done < target and self._task is task and not task.done():
            if self._batch_done is None:
                self._batch_done = asyncio.Event()
            self._batch_done.clear()
            await self._batch_done.wait()

    async def flush(self) -> None:
        """Wait until every record queued so far is written (or given up)."""
        task = self._task
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            return  # no writer on this loop (a shutdown's own loop): nothing of it to wait for
        if self._idle is not None and (self._queue or not self._idle.is_set()):
            await self._idle.wait()

    def stop(self) -> None:
        """Stop the writer (what is queued is not written)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._batch_done is not None:
            self._batch_done.set()  # nobody waits for a writer that is gone
