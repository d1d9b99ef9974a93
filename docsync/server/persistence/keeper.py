"""SnapshotKeeper: writes snapshots off the hot path, restores sessions, drains the process.

- **The journal** (``journal.Journal``): every change is written to the store before
  anyone is told of it (the session holds its messages until then), so that a
  process killed at once loses nothing it acknowledged. A new session's first
  snapshot is written before its first client sees it.
- **Writing.** Every ``SNAPSHOT_INTERVAL`` seconds, each session that changed since its
  last snapshot is captured under its lock (the document's JSON and a copy of its
  buffers: the only cost under the lock) and written to the store with no lock held.
  However many changes a session takes, it costs at most one snapshot per interval.
- **Keeping.** A snapshot expires ``SNAPSHOT_LIFETIME`` after it was written, and a
  session that changes nothing is not written again: the writer pushes back the expiry
  of the snapshot (and records) of every session it holds that was written or pushed
  back more than a quarter of the lifetime ago (``refresh_held``), in batches, never
  rewriting it, with no lock held. A session that ended is no longer held: its
  snapshot is deleted, or expires as before.
- **Restoring.** A session that is not held here but has a snapshot (its process died,
  or drained) is made by running the application again, then laying the snapshot over
  it (``capture.apply_snapshot``); ``on_session_restored`` runs last.
- **Draining** (SIGTERM, or ``drain()`` from the admin): stop taking sessions, close
  every connection with 4012 (``ServerDrainingError``: connect again and resume),
  snapshot every session, then let the process exit, within ``DRAIN_TIMEOUT``.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from ...conf import docsync_settings
from ...exceptions import ServerDrainingError, SnapshotError, StoreUnavailableError
from ..session import ServerSession
from .capture import app_model_ids, app_model_names, apply_snapshot, take_snapshot
from .journal import Journal, Record, decode_record, last_applied
from .saved_request import saved_request
from .snapshot import (
    OWNER_READ_BYTES,
    Snapshot,
    StoredOwner,
    decode_snapshot,
    encode_snapshot,
    owner_from_prefix,
    stored_owner,
)
from .stores import SessionStore

__all__ = ["SavedState", "SnapshotKeeper", "anyone_joins"]

logger = logging.getLogger("docsync.persistence")

_SWEEP_EVERY = 60.0  # seconds between deletions of expired snapshots (stores that need it)
_DRAINING = "server draining: connect again"
_VOIDED_KEPT = 10_000  # sessions dropped by a store failure whose clients are remembered
_VOIDED_SHARE_TRIES = 240  # the cluster's Redis is told of them, tried twice a second for two minutes
_CLOSE_PATIENCE = 2.0  # seconds a drain waits for its closes to be written and answered (a slow reader's may not be)
_CLOSE_POLL = 0.02  # seconds between looks at whether the closed sockets are gone
#: A held session's snapshot has its expiry pushed back once it is this part of
#: SNAPSHOT_LIFETIME old (written or pushed back then); the writer looks at least every
#: _REFRESH_TICK of the lifetime, so it is pushed back at 3/8 of its lifetime at the
#: latest: killed then, its process leaves it 5/8 of a lifetime to be restored elsewhere.
_REFRESH_AFTER = 1 / 4
_REFRESH_TICK = 1 / 8
#: Sessions pushed back per round at most (the oldest first; the rest at the next round):
#: with REFRESH_BATCH 500, four round trips to the store. At one round per second that
#: keeps up with 2000 x SNAPSHOT_LIFETIME / 4 sessions (43 million at a day's lifetime).
_REFRESH_PER_ROUND = 2000

#: The kinds of application whose sessions are saved: docsync's own (here), and Bokeh's,
#: whose documents are saved by their own companion (docsync/bokeh/persistence.py).
_PERSISTED_KINDS = ("docsync", "bokeh")


class _HasNumber(Protocol):
    number: int


class _HasIncarnation(Protocol):
    number: int
    incarnation: str


_Numbered = TypeVar("_Numbered", bound=_HasNumber)
_Stored = TypeVar("_Stored", bound=_HasIncarnation)


@dataclass(slots=True)
class SavedState:
    """What the keeper knows of one session: its application's model order, its last snapshot."""

    app_ids: list[str]
    #: The names the application made its models with, by id (the restore matches by them).
    app_names: dict[str, str] = field(default_factory=dict)
    marker: tuple[int, ...] | None = None  # the session's state when last saved
    saved_at: float | None = None
    nbytes: int = 0
    seq: int = 0
    restored_from: float | None = field(default=None)
    failing: bool = False  # its last snapshot write failed (logged once until one succeeds)
    kept_at: float | None = None  # when its snapshot's expiry was last pushed back (time.time())
    #: What its snapshots save of the request it was made with (saved_request.py; None: nothing).
    request: dict[str, Any] | None = None


def anyone_joins(context: Any) -> bool:
    """Tell whether any user may join ``context``'s sessions (admission.shareable: shared rooms, ``"shareable"``)."""
    # Restated here: admission is above this package (it reaches the keeper).
    options = getattr(context, "options", None) or {}
    shared = getattr(getattr(context, "application", None), "shared", False)
    return bool(shared or options.get("shared") or options.get("shareable"))


def _marker(session: ServerSession) -> tuple[int, ...]:
    # What a snapshot holds changes only with these: a new position, a new answer
    # (a refused patch takes none), a fence, or a client model.
    sequencer = session.sequencer
    log = sequencer.log
    return (log.seq, len(log.answers), log.answers.forgotten, len(sequencer.fences), sequencer.client_models)


class SnapshotKeeper:
    """The persistence of one process: its store, its sessions' saved states, its drain."""

    def __init__(self, registry: Any, store: SessionStore) -> None:
        self.registry = registry
        self.store = store
        self.states: dict[str, SavedState] = {}
        self.draining = False
        self.signal_installed = False
        self.drained = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_sweep = time.monotonic()
        self._saving: asyncio.Lock | None = None  # one write at a time: an older one never lands last
        self.writes = 0
        self.bytes_written = 0
        self.failures = 0
        #: Sessions whose snapshot's expiry was pushed back, and the store's calls for it.
        self.refreshed = 0
        self.refresh_calls = 0
        self._refresh_refused = False  # the store cannot (a SessionStore without refresh): said once
        self._refresh_failing = False  # the last push back failed (said once until one works)
        #: When the first held session is due for a push back (time.time()); 0: look now.
        self.next_refresh = 0.0
        #: Other dialects' persistence, sharing this store and journal: each has ``sessions()``
        #: (closed by the drain), ``save_changed()`` (the writer's round) and ``drain()``
        #: (stop their callbacks and save them, once closed).
        self.companions: list[Any] = []
        #: Sessions dropped because the store did not take their changes, and the
        #: clients each had then, by session id: when it is made again from the store,
        #: those clients are reset to it (their refused changes were in their documents).
        self.reloaded = 0
        #: (The records it had stored: None when another process dropped it.)
        self.voided: dict[str, tuple[set[str], int | None]] = {}
        self._unloading: set[asyncio.Task[None]] = set()
        settings = docsync_settings()
        self.journal = Journal(
            store,
            registry.process_id,
            max_bytes=int(settings.MAX_JOURNAL_BYTES),
            max_record_bytes=int(settings.MAX_SNAPSHOT_BYTES),
        )
        self.journal.on_failure = self._journal_failed

    # -- which sessions ---------------------------------------------------------------

    def persists(self, context: Any) -> bool:
        """Tell whether sessions of ``context`` are persisted (docsync or Bokeh documents, not turned off per app)."""
        return getattr(context, "kind", None) in _PERSISTED_KINDS and context.options.get("persist", True) is not False

    def _sessions(self) -> list[ServerSession]:
        return [
            session
            for context in self.registry.contexts
            if getattr(context, "kind", None) == "docsync" and self.persists(context)
            for session in list(context.sessions.values())
            if not session.destroyed
        ]

    # -- the writer -------------------------------------------------------------------

    def start(self) -> None:
        """Run the writer on the running loop (once per loop)."""
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            self._loop = loop
            self._task = loop.create_task(self._write_forever())

    async def _write_forever(self) -> None:
        since_saved = 0.0
        while not self.draining:
            settings = docsync_settings()
            interval = float(settings.SNAPSHOT_INTERVAL)
            # Held sessions' snapshots are kept alive at a pace set by their lifetime, not
            # by the interval (which may be longer than an eighth of it).
            tick = min(interval, float(settings.SNAPSHOT_LIFETIME) * _REFRESH_TICK)
            await asyncio.sleep(tick)
            since_saved += tick
            try:
                if since_saved + tick / 2 >= interval:
                    since_saved = 0.0
                    await self.save_changed()
                await self.refresh_held()
                if time.monotonic() - self._last_sweep > _SWEEP_EVERY:
                    self._last_sweep = time.monotonic()
                    await self.store.sweep()
            except Exception:
                logger.exception("persistence: snapshot round failed")

    async def save_changed(self) -> int:
        """Snapshot every session that changed since its last snapshot; return how many were written."""
        written = 0
        for session in self._sessions():
            state = self.states.get(session.id)
            if state is None or state.marker == _marker(session):
                continue
            if await self.save(session):
                written += 1
        for companion in self.companions:
            written += await companion.save_changed()
        return written

    def due_for_refresh(self, now: float) -> list[str]:
        """The held sessions (either dialect) whose snapshot is due for a push back of its expiry, oldest first.

        At most ``_REFRESH_PER_ROUND``; only sessions with a snapshot written (or restored
        from): a new one's is written before anyone sees it.
        """
        if now < self.next_refresh:
            # None is due before then: thousands of idle sessions cost no look at each round.
            return []
        after = float(docsync_settings().SNAPSHOT_LIFETIME) * _REFRESH_AFTER
        due_before = now - after
        # A snapshot written (or pushed back) from now on is due a quarter lifetime later;
        # one restored with its old age resets this (``made``).
        next_refresh = now + after
        held: list[Any] = [*self._sessions()]
        for companion in self.companions:
            held.extend(companion.sessions())
        due: list[tuple[float, str]] = []
        for session in held:
            state = self.states.get(session.id)
            if state is None or session.store_lost is not None:
                continue
            kept = max(state.saved_at or 0.0, state.kept_at or 0.0)
            if kept <= 0.0:
                continue  # its first snapshot is being written
            if kept <= due_before:
                due.append((kept, session.id))
            elif kept + after < next_refresh:
                next_refresh = kept + after
        # A session restored but not held yet (its on_session_restored hook is awaited
        # first) counts for when to look again, or it is missed for a quarter lifetime.
        held_ids = {session.id for session in held}
        for session_id, state in self.states.items():
            kept = max(state.saved_at or 0.0, state.kept_at or 0.0)
            if kept > 0.0 and session_id not in held_ids:
                next_refresh = min(next_refresh, kept + after)
        if len(due) > _REFRESH_PER_ROUND:
            due = heapq.nsmallest(_REFRESH_PER_ROUND, due)
            next_refresh = 0.0  # the rest at the next round
        else:
            due.sort()
        self.next_refresh = next_refresh
        return [session_id for _, session_id in due]

    async def refresh_held(self) -> int:
        """Push back the expiry of the snapshots of held sessions that are due (``due_for_refresh``); return how many.

        No session lock is taken and nothing is rewritten: one store call, a round trip
        per ``REFRESH_BATCH`` sessions. A session whose snapshot is gone from the store
        (it expired meanwhile) is written again at the next round.
        """
        if self._refresh_refused or self.draining:
            return 0
        now = time.time()
        session_ids = self.due_for_refresh(now)
        if not session_ids:
            return 0
        self.refresh_calls += 1
        try:
            missing = set(await self.store.refresh(session_ids))
        except NotImplementedError as exc:
            self._refresh_refused = True
            logger.warning("persistence: %s: held sessions' snapshots expire SNAPSHOT_LIFETIME after written", exc)
            return 0
        except Exception as exc:
            # Tried again at the next round (they are still due), said once until it works.
            self.failures += 1
            if not self._refresh_failing:
                logger.error(
                    "persistence: expiry of %d snapshots not pushed back (store %s): %r; tried again",
                    len(session_ids),
                    self.store.name,
                    exc,
                )
            self._refresh_failing = True
            self.next_refresh = 0.0  # still due
            return 0
        if self._refresh_failing:
            self._refresh_failing = False
            logger.warning("persistence: expiry of held sessions' snapshots pushed back again")
        for session_id in session_ids:
            state = self.states.get(session_id)
            if state is None:
                continue  # ended meanwhile: its snapshot was deleted (a push back never brings one back)
            state.kept_at = now
            if session_id in missing:
                state.marker = None  # its snapshot expired: the next round writes it again
                logger.warning("persistence: snapshot of held session %s gone from the store: saved again", session_id)
        self.refreshed += len(session_ids) - len(missing)
        return len(session_ids) - len(missing)

    async def save(self, session: ServerSession) -> bool:
        """Snapshot ``session`` now: captured under its lock, written with no lock held."""
        state = self.states.get(session.id)
        if state is None or session.destroyed:
            return False
        if self._saving is None:
            self._saving = asyncio.Lock()
        async with self._saving:
            return await self._save(session, state)

    async def _save(self, session: ServerSession, state: SavedState, *, first: bool = False) -> bool:
        max_bytes = int(docsync_settings().MAX_SNAPSHOT_BYTES)
        async with session.lock:
            if session.destroyed or session.store_lost is not None:
                # Dropped (drained, expired) while this write waited its turn: its
                # document is gone, and an empty one must never replace its snapshot.
                return False
            marker = _marker(session)
            snapshot = take_snapshot(session, state.app_ids, state.app_names, state.request)
        # The snapshot holds its session's changes up to now: written only once they are
        # all in the journal, never when the store refused one (it would keep it).
        await self.journal.settled()
        if session.store_lost is not None:
            return False
        try:
            data = encode_snapshot(snapshot, max_bytes)
            await self.store.save(session.id, session.app_path, snapshot.seq, data, process=self.registry.process_id)
        except SnapshotError as exc:
            self.failures += 1
            logger.error("persistence: session %s of %s not saved: %s", session.id, session.app_path, exc)
            state.marker = marker  # not tried again until it changes
            if first:
                # Without a first snapshot the store could not make it again: its
                # journal's changes would be acknowledged and lost with the process.
                raise
            return False
        except Exception as exc:
            # The marker stays: the next round (SNAPSHOT_INTERVAL) tries again, said once.
            self.failures += 1
            if not state.failing:
                logger.error(
                    "persistence: session %s of %s not saved (store %s): %r; tried again",
                    session.id,
                    session.app_path,
                    self.store.name,
                    exc,
                )
            state.failing = True
            if first:
                raise StoreUnavailableError("session store unavailable; try again") from exc
            return False
        state.marker, state.saved_at, state.nbytes, state.seq = marker, snapshot.saved, len(data), snapshot.seq
        if state.failing:
            state.failing = False
            logger.warning("persistence: session %s of %s saved again", session.id, session.app_path)
        self.writes += 1
        self.bytes_written += len(data)
        await self._trim(session.id, snapshot.journal)
        return True

    async def _trim(self, session_id: str, journal: int) -> None:
        # The snapshot holds the records up to ``journal``: keep SNAPSHOT_TAIL of them
        # as the log's tail (a resume from there is a replay), forget the older ones.
        upto = journal - int(docsync_settings().SNAPSHOT_TAIL)
        if upto <= 0:
            return
        try:
            await self.store.trim_records(session_id, upto)
        except Exception:
            logger.warning("persistence: old records of %s not trimmed (they expire by themselves)", session_id)

    async def _save_all(self, sessions: list[ServerSession]) -> int:
        """Snapshot every session not saved as it is now, in one write to the store; return how many are saved."""
        if self._saving is None:
            self._saving = asyncio.Lock()
        max_bytes = int(docsync_settings().MAX_SNAPSHOT_BYTES)
        saved = 0
        batch: list[tuple[ServerSession, SavedState, tuple[int, ...], Snapshot, bytes]] = []
        async with self._saving:
            for session in sessions:
                state = self.states.get(session.id)
                if state is None:
                    continue
                async with session.lock:
                    if session.destroyed:
                        continue
                    marker = _marker(session)
                    if state.marker == marker:
                        saved += 1  # saved already, unchanged since
                        continue
                    snapshot = take_snapshot(session, state.app_ids, state.app_names, state.request)
                try:
                    batch.append((session, state, marker, snapshot, encode_snapshot(snapshot, max_bytes)))
                except SnapshotError as exc:
                    self.failures += 1
                    logger.error("persistence: session %s of %s not saved: %s", session.id, session.app_path, exc)
            await self.journal.settled()  # as in _save: no snapshot of a change the store refused
            batch = [item for item in batch if item[0].store_lost is None]
            if not batch:
                return saved
            items = [(s.id, s.app_path, snap.seq, data) for s, _, _, snap, data in batch]
            try:
                # One write for them all: a database commits once, Redis gets one pipeline.
                await self.store.save_many(items, process=self.registry.process_id)
            except Exception:
                self.failures += len(batch)
                logger.exception("persistence: %d sessions not saved (store %s)", len(batch), self.store.name)
                return saved
        for session, state, marker, snapshot, data in batch:
            state.marker, state.saved_at, state.nbytes, state.seq = marker, snapshot.saved, len(data), snapshot.seq
            self.writes += 1
            self.bytes_written += len(data)
            await self._trim(session.id, snapshot.journal)
        return saved + len(batch)

    # -- creation and restore ---------------------------------------------------------

    async def load(self, context: Any, session_id: str) -> Snapshot | None:
        """Read the snapshot of ``session_id`` and its records, if any (no lock held).

        Raises SnapshotError if the snapshot is unusable. (A Bokeh app's: docsync/bokeh/persistence.py.)
        """
        if not self.persists(context) or getattr(context, "kind", None) != "docsync":
            return None
        data = await self.read_store(self.store.load(session_id))
        if data is None:
            return None
        settings = docsync_settings()
        try:
            snapshot = decode_snapshot(
                data, app_path=context.path, session_id=session_id, max_bytes=int(settings.MAX_SNAPSHOT_BYTES)
            )
            # A damaged record is refused as a damaged snapshot is (both are written whole,
            # in one command or one transaction): skipping it would drop the acknowledged
            # changes it and the records after it hold.
            raws = await self.read_store(self.store.load_records(session_id))
            records: list[Record] = [decode_record(raw) for raw in raws]
            await self.take_shared_voided(session_id)
            records = await self.without_refused(session_id, snapshot.incarnation, records)
            last = last_applied(records, snapshot.incarnation, snapshot.journal)
            snapshot.records = await self.drop_after_gap(session_id, records, last)
            return snapshot
        except SnapshotError as exc:
            logger.error("persistence: snapshot of session %s refused (kept in the store): %s", session_id, exc)
            raise

    async def stored_owner(self, context: Any, session_id: str) -> StoredOwner | None:
        """Whom the stored snapshot of ``session_id`` belongs to; None: none stored (or the app does not persist).

        Either dialect's (no lock held). Raises StoreUnavailableError if the store cannot
        be read, SnapshotError if the snapshot is unusable (over ``MAX_SNAPSHOT_BYTES``, corrupt).
        """
        if not self.persists(context):
            return None
        # The header's first bytes alone, where both dialects write the owner: a snapshot
        # of 64 MB was read whole from the store (a row, a GET) for four small fields.
        head = await self.read_store(self.store.load_prefix(session_id, OWNER_READ_BYTES))
        if head is None:
            return None
        max_bytes = int(docsync_settings().MAX_SNAPSHOT_BYTES)
        if head.nbytes > max_bytes:
            raise SnapshotError(f"snapshot too big: {head.nbytes} bytes > {max_bytes} (MAX_SNAPSHOT_BYTES)")
        owner = owner_from_prefix(head.data, head.nbytes, app_path=context.path, session_id=session_id)
        if owner is not None:
            return owner
        data = head.data
        if len(data) < head.nbytes:  # a header written otherwise (no visitor): read whole, as before
            whole = await self.read_store(self.store.load(session_id))
            if whole is None:
                return None  # deleted meanwhile
            if len(whole) > max_bytes:
                raise SnapshotError(f"snapshot too big: {len(whole)} bytes > {max_bytes} (MAX_SNAPSHOT_BYTES)")
            data = whole
        return stored_owner(data, app_path=context.path, session_id=session_id)

    async def has_snapshot(self, context: Any, session_id: str) -> bool:
        """Tell whether the store holds a snapshot of ``session_id`` (for tokens past their creation age)."""
        # Its first byte: whether it is there, not the whole snapshot (up to MAX_SNAPSHOT_BYTES).
        return self.persists(context) and await self.read_store(self.store.load_prefix(session_id, 1)) is not None

    async def take_shared_voided(self, session_id: str) -> None:
        """Learn from the cluster which clients of ``session_id`` another process dropped it with (no lock held)."""
        directory = getattr(self.registry.cluster, "directory", None)
        if directory is None:
            return
        origins = await self.read_store(directory.take_voided(session_id))
        if origins:
            # Only the clients: which records were refused is known to the dropping
            # process alone (docs/persistence.md, When the store fails).
            known, stored = self.voided.get(session_id, (set(), None))
            self.voided[session_id] = (known | set(origins), stored)

    def _share_voided(self, session_id: str, origins: set[str]) -> None:
        # In a cluster, the process that restores the session may be another one.
        directory = getattr(self.registry.cluster, "directory", None)
        if directory is None or not origins:
            return
        task = asyncio.get_running_loop().create_task(self._write_voided(directory, session_id, sorted(origins)))
        self._unloading.add(task)
        task.add_done_callback(self._unloading.discard)

    async def _write_voided(self, directory: Any, session_id: str, origins: list[str]) -> None:
        ttl_ms = int(float(docsync_settings().SNAPSHOT_LIFETIME) * 1000)
        for _ in range(_VOIDED_SHARE_TRIES):
            if session_id not in self.voided:
                return  # restored here already: its clients are reset
            try:
                await directory.set_voided(session_id, origins, ttl_ms)
                return
            except Exception:
                await asyncio.sleep(0.5)  # the cluster's Redis is away (it may be the store)
        logger.warning("persistence: the cluster was not told which clients of session %s to reset", session_id)

    async def without_refused(self, session_id: str, incarnation: str, records: list[_Stored]) -> list[_Stored]:
        """Drop from the store, and from ``records``, those this process refused (either dialect's restore).

        A write reported failed (its reply lost) may have landed all the same: what follows
        the last record the dropped session knew stored was refused, and goes. A store
        that cannot be reached: StoreUnavailableError (1013, tried again).
        """
        voided = self.voided.get(session_id)
        if voided is None or voided[1] is None:
            return records
        stored = voided[1]
        if not any(r.incarnation == incarnation and r.number > stored for r in records):
            return records
        if not await self._drop_records_after(session_id, stored):
            # Kept and applied (its clients are reset to them, as when another process
            # restores it): left unapplied, the session's next records would take their numbers.
            logger.warning("persistence: refused records of session %s kept: the store cannot drop them", session_id)
            return records
        logger.warning("persistence: refused records of session %s found in the store: dropped", session_id)
        return [r for r in records if not (r.incarnation == incarnation and r.number > stored)]

    async def drop_after_gap(self, session_id: str, records: list[_Numbered], last: int) -> list[_Numbered]:
        """Delete the records of ``session_id`` after ``last`` (the last one a restore applies); return the rest.

        Either dialect's restore, before its session exists (no lock held). Records past a
        gap in the chain (a write reported failed that landed all the same, records that
        expired unevenly) are never applied, and the restored session numbers its records
        after ``last``: they would stand behind them, where the next restore stops too,
        and its acknowledged changes would die with the process. A store that cannot be
        reached: StoreUnavailableError (1013, tried again).
        """
        if not any(r.number > last for r in records):
            return records
        if not await self._drop_records_after(session_id, last):
            # A SessionStore of a user's own without it: the records stay, and the session
            # numbers its own after them (as before), not refused at every restore.
            logger.warning(
                "persistence: records of session %s after a gap in its journal kept: the store cannot drop them",
                session_id,
            )
            return records
        logger.warning("persistence: records of session %s after a gap in its journal: dropped", session_id)
        return [r for r in records if r.number <= last]

    async def _drop_records_after(self, session_id: str, number: int) -> bool:
        """Delete the records of ``session_id`` after ``number``; False if the store cannot (no such method).

        As every store call of a restore (``read_store``): a store that fails refuses the
        restore with StoreUnavailableError (1013), never as an application failure.
        """
        try:
            await self.store.drop_records_after(session_id, number)
        except NotImplementedError:
            return False
        except Exception as exc:
            raise self._unavailable("cannot drop records", exc) from exc
        return True

    async def read_store(self, reading: Any) -> Any:
        """Await a read of the store; StoreUnavailableError (close 1013) if it fails."""
        # A store that cannot be read is not a broken application: the client retries
        # (1013) and the session is made from the store once it is back.
        try:
            return await reading
        except Exception as exc:
            raise self._unavailable("cannot be read", exc) from exc

    def _unavailable(self, what: str, exc: Exception) -> StoreUnavailableError:
        self.failures += 1
        logger.error("persistence: the store (%s) %s: %r", self.store.name, what, exc)
        return StoreUnavailableError("session store unavailable; try again")

    def made(self, context: Any, session: ServerSession, snapshot: Snapshot | None, max_array_elements: int) -> None:
        """Record a session the application just made; lay ``snapshot`` over it first, if any (lock held)."""
        if not self.persists(context):
            return
        if snapshot is None:
            self.states[session.id] = SavedState(
                app_model_ids(session), app_model_names(session), request=self.request_to_save(session)
            )
            session.start_write_ahead(self.journal, 0)
            return
        app_ids, app_names = apply_snapshot(session, snapshot, max_array_elements, any_user=anyone_joins(context))
        self.next_refresh = 0.0  # its snapshot is as old as it was written: maybe due now
        # Numbered after the last record applied: ``load`` dropped those past a gap (a
        # store that cannot drop them keeps them, and the numbers go on after them).
        last = last_applied(snapshot.records, snapshot.incarnation, snapshot.journal)
        session.start_write_ahead(self.journal, max([last, *(record.number for record in snapshot.records)]))
        origins = self.voided.pop(session.id, (set(), 0))[0]
        if origins:
            # Its clients of then had their refused changes in their documents: a position
            # none of them has, as a fence, makes each one's resume a whole document.
            sequencer = session.sequencer
            entry = sequencer.log.skip_past(0)
            for origin in origins:
                sequencer.set_fence(origin, entry.seq)
            session.record_changes()
        # The snapshot is older than the state restored when records followed it.
        marker = None if session.records > snapshot.journal else _marker(session)
        self.states[session.id] = SavedState(
            app_ids,
            app_names,
            marker=marker,
            saved_at=snapshot.saved,
            nbytes=snapshot.nbytes,
            seq=snapshot.seq,
            restored_from=snapshot.saved,
            request=self.request_to_save(session),
        )
        # The position the session is at now, its journal's records applied: the snapshot's
        # alone (what this line said) read 0 for a session restored from its records only.
        logger.info(
            "persistence: session %s of %s restored at position %d (%d records after its snapshot at %d)",
            session.id,
            context.path,
            session.sequencer.log.seq,
            max(0, last - snapshot.journal),
            snapshot.seq,
        )

    def request_to_save(self, session: Any) -> dict[str, Any] | None:
        """What the snapshots of ``session`` (either dialect's) save of its request; None, said, when too big."""
        saved, problem = saved_request(session.request)
        if problem is not None:
            logger.warning(
                "persistence: request of session %s of %s not saved (%s): a restore runs the app with the "
                "restoring request's",
                session.id,
                session.app_path,
                problem,
            )
        return saved

    async def save_first(self, session: ServerSession) -> None:
        """Write a new session's first snapshot before anyone sees it: its records build on it.

        Raises StoreUnavailableError if the store cannot take it, SnapshotError if it is
        over ``MAX_SNAPSHOT_BYTES``: either way the session must not be made.
        """
        state = self.states.get(session.id)
        if state is not None and state.restored_from is None and state.saved_at is None:
            if self._saving is None:
                self._saving = asyncio.Lock()
            async with self._saving:
                # Not in the store, the session is not made (StoreUnavailableError): none
                # of its changes could be acknowledged.
                await self._save(session, state, first=True)

    def dropped(self, session: Any) -> None:
        """Forget a session that was not made after all (its first snapshot failed; either dialect's)."""
        self.states.pop(session.id, None)

    # -- when the store fails ---------------------------------------------------------

    def _journal_failed(self, session: ServerSession, reason: str) -> None:
        # Called by the journal's writer, no lock held. The document holds changes the
        # store does not: the session refuses them (its held OKs become ERRORs), is
        # dropped, and is made again from the store when a client comes back.
        if session.store_lost is not None or session.destroyed:
            return
        origins = {connection.origin for connection in session.connections}
        session.store_failed(reason)
        self.reloaded += 1
        logger.error(
            "persistence: session %s of %s dropped: %s; its changes since the last one stored are refused, "
            "it is made again from the store when its clients reconnect",
            session.id,
            session.app_path,
            reason,
        )
        # Out of the process at once, its clients closed after their ERRORs: a client
        # that reconnects makes it again from the store, never joins this one.
        self.voided[session.id] = (origins, session.records_durable)
        while len(self.voided) > _VOIDED_KEPT:
            self.voided.pop(next(iter(self.voided)))
        if isinstance(session, ServerSession):  # a Bokeh page pulls the whole document anyway
            self._share_voided(session.id, origins)
        for context in self.registry.contexts:
            if context.sessions.get(session.id) is session:
                context.sessions.pop(session.id, None)
        self.states.pop(session.id, None)
        refusal = StoreUnavailableError(f"{reason}; connect again")
        for connection in list(session.connections):
            _close_with(connection, refusal)
        task = asyncio.get_running_loop().create_task(self._unload(session))
        self._unloading.add(task)
        task.add_done_callback(self._unloading.discard)

    async def _unload(self, session: ServerSession) -> None:
        await session.destroy_callbacks()
        await session.destroy()  # no on_session_destroyed: it lives on in the store

    def restored(self, session: ServerSession) -> bool:
        """Tell whether ``session`` was made from a snapshot (not new to its clients)."""
        state = self.states.get(session.id)
        return state is not None and state.restored_from is not None

    async def forget(self, session: ServerSession) -> None:
        """A session was destroyed for good (expired, ended): delete its snapshot."""
        state = self.states.pop(session.id, None)
        if state is None or self.draining:
            return
        try:
            await self.journal.flush()  # its last records land first: none outlives the delete
            await self.store.delete(session.id)
        except Exception:
            logger.warning("persistence: snapshot of %s not deleted (it expires by itself)", session.id, exc_info=True)

    # -- drain ------------------------------------------------------------------------

    def refusal(self) -> ServerDrainingError | None:
        """The error a new connection gets while this process drains, or None."""
        if self.draining:
            return ServerDrainingError(_DRAINING)
        return None

    async def drain(self) -> dict[str, float]:
        """Stop taking sessions, close every connection with 4012, snapshot every session.

        Returns figures: sessions saved, connections closed, seconds taken. The sessions
        are then dropped from this process without ``on_session_destroyed`` (they live on
        in the store); ``on_server_unloaded`` runs at shutdown as usual.
        """
        started = time.monotonic()
        self.draining = True
        logger.warning("persistence: draining: new connections get 4012")
        sessions = self._sessions()
        others = [session for companion in self.companions for session in companion.sessions()]
        await self.journal.flush()  # the answers held for the store go out before the close
        closing: list[Any] = []
        for session in [*sessions, *others]:
            for connection in list(session.connections):
                closing.append(connection)
                _close_draining(connection)
        closed = len(closing)
        # This process's sockets relayed to sessions of other processes go too (it stops):
        # 4012 tells their clients to reconnect elsewhere, where they resume.
        cluster = getattr(self.registry, "cluster", None)
        if cluster is not None:
            closing.extend(cluster.relay_out.close_all(ServerDrainingError.close_code, _DRAINING))
        answered = await _closes_sent(closing)
        # Changes already under way finish under the lock before the snapshot; no new
        # one can start: every connection is closed and callbacks are stopped.
        for session in sessions:
            await session.destroy_callbacks()
        saved = await self._save_all(sessions)
        drained = len(sessions)
        for companion in self.companions:
            their_sessions, their_saved = await companion.drain()
            drained += their_sessions
            saved += their_saved
        for context in self.registry.contexts:
            if not self.persists(context):
                continue
            for session in list(context.sessions.values()):
                context.sessions.pop(session.id, None)
                await session.destroy()
        figures = {
            "sessions": float(drained),
            "saved": float(saved),
            "connections": float(closed),
            "answered": float(answered),
        }
        figures["seconds"] = time.monotonic() - started
        logger.warning(
            "persistence: drained %d sessions (%d saved, %d connections closed, %d sockets gone) in %.3f s; "
            "%d snapshots, %d bytes written since the start; journal: %d records, %d bytes in %d writes",
            drained,
            saved,
            closed,
            answered,
            figures["seconds"],
            self.writes,
            self.bytes_written,
            self.journal.written,
            self.journal.bytes_written,
            self.journal.round_trips,
        )
        await self._leave_cluster()
        self.drained.set()
        return figures

    async def _leave_cluster(self) -> None:
        # Other processes may claim the drained sessions (and restore them) only once
        # this one has left the directory: at once, not at the end of the shutdown.
        cluster = getattr(self.registry, "cluster", None)
        if cluster is None:
            return
        self.registry.cluster = None
        try:
            await cluster.stop()
        except Exception:
            logger.warning("persistence: leaving the cluster failed", exc_info=True)

    async def stop(self) -> None:
        """Stop the writer and release the store."""
        try:
            await self.journal.flush()
        except Exception:
            logger.debug("persistence: journal not flushed at the stop", exc_info=True)
        self.journal.stop()
        if self._task is not None:
            self._task.cancel()
            self._task = None
        try:
            await self.store.close()
        except Exception:
            logger.debug("persistence: store not closed", exc_info=True)


def _close_draining(connection: Any) -> None:
    _close_with(connection, ServerDrainingError(_DRAINING))


def _close_with(connection: Any, error: ServerDrainingError | StoreUnavailableError) -> None:
    try:
        refuse = getattr(connection, "refuse", None)
        if refuse is not None:
            refuse(error)  # an ERROR naming the reason, then the close, after what is queued
        else:
            connection.queue_close(error.close_code, error.reason)
    except Exception:
        logger.debug("could not close %r", connection, exc_info=True)


async def _closes_sent(connections: list[Any]) -> int:
    """Wait (``_CLOSE_PATIENCE`` s at most) until the closes are written and the sockets closed; count those closed.

    A relayed connection's close is a publish to the relaying process: it must leave
    before this process stops, or that socket would only drop (1006) when it exits.
    A local socket must see its client answer the close: a process that stops first
    closes a socket whose client may not have read the close frame yet, and a client
    writing meanwhile gets a reset that loses it (1006, not 4012).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _CLOSE_PATIENCE
    waits = [asyncio.ensure_future(c.outbox.written()) for c in connections if getattr(c, "outbox", None) is not None]
    if waits:
        _, pending = await asyncio.wait(waits, timeout=_CLOSE_PATIENCE)
        for wait in pending:
            wait.cancel()
    sockets = [c for c in connections if callable(getattr(c, "socket_closed", None))]
    unanswered = sum(1 for c in sockets if not c.socket_closed())
    if unanswered:
        logger.warning(
            "persistence: drain: %d of %d closes written, not answered yet: waiting %.1f s at most",
            unanswered,
            len(sockets),
            max(0.0, deadline - loop.time()),
        )
    # No event says when a socket closes under every ASGI server: polled, for 2 s at most.
    while loop.time() < deadline and not all(c.socket_closed() for c in sockets):
        await asyncio.sleep(_CLOSE_POLL)
    return sum(1 for c in sockets if c.socket_closed())
