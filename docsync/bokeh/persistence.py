"""Bokeh sessions that outlive their process: snapshots and journal of a real Bokeh Document.

The same store, journal and drain as docsync's own sessions (docsync/server/persistence/),
with Bokeh's document format:

- **Snapshot**: Bokeh's own document JSON (what a PULL-DOC-REPLY carries) with its
  arrays as raw binary buffers, the session's position, the user it was made for, the
  ids of the models the application built, in build order (``restore.build_order``),
  and what clients wrote (``ClientModels``): the ids of the code models they defined or
  changed, and how many models they created.
- **Journal**: every transaction's document events, as BokehJS receives them (frozen
  when they happened), and the code models clients wrote in it, written to the store
  before anyone is told of them.
- **Restore**: the snapshot is read into a document of its own, the journal's events
  are applied to it in order, and the result is laid over the document the application
  builds again (``restore.restore_document``: models matched by name, then build order).
  The restored models keep their saved ids, so the restored document is the one the
  snapshot and its records describe: the session goes on in the same incarnation, its
  next record numbered after the last one applied, and is not saved again (a snapshot
  over ``MAX_SNAPSHOT_BYTES``, which the journal alone kept, is restored as often as it
  takes). The code clients wrote keeps its ids: it still lets no browser change what a
  widget offers (offered.py), as the app's own code does.

BokehJS does not resume: on a dropped socket (or close 4012) it connects again with the
same token and pulls the whole document, which is then the restored one (docs/bokeh.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from bokeh.core.serialization import Buffer, Deserializer, Serialized
from bokeh.core.types import ID
from bokeh.document import Document
from bokeh.document.events import DocumentPatchedEvent

from ..conf import docsync_settings
from ..exceptions import SnapshotError, StoreUnavailableError
from ..server.persistence import SavedState, SnapshotKeeper, keeper_of
from ..server.persistence.capture import user_id_of, visitor_of
from ..server.persistence.saved_request import checked_request
from ..server.persistence.snapshot import checked_names, pack, unpack
from .datetime_columns import DatetimeColumns, checked_datetimes, datetime_columns, restore_datetimes
from .restore import restore_document
from .session import BokehSession
from .wire import EncodedBokehEvent, document_content

__all__ = [
    "BokehKeeper",
    "BokehRecord",
    "BokehRestore",
    "BokehSnapshot",
    "bokeh_keeper",
    "decode_bokeh_record",
    "decode_bokeh_snapshot",
    "replayed_document",
    "take_bokeh_snapshot",
]

logger = logging.getLogger("docsync.persistence")

SNAPSHOT_MAGIC = b"DSYNCBOKS\n"
RECORD_MAGIC = b"DSYNCBOKJ\n"
FORMAT_VERSION = 1


@dataclass(slots=True)
class BokehSnapshot:
    """A Bokeh session's saved state (its binary form: docsync's ``pack`` under its own magic)."""

    session_id: str
    app_path: str
    incarnation: str
    seq: int
    user_id: Any
    created: float
    saved: float
    doc: Any  # Bokeh's document JSON (an orjson.Fragment when taken, a dict when read)
    buffers: list[tuple[str, Any]] = field(default_factory=list)
    app_ids: list[str] = field(default_factory=list)
    #: The names the application built its models with, by id (None: an earlier release's
    #: snapshot, matched by the names of now).
    app_names: dict[str, str] | None = None
    #: The ids of the code models clients wrote (ClientModels.code), and how many models they created.
    client_code: list[str] = field(default_factory=list)
    client_created: int = 0
    #: The number of the last journal record it holds.
    journal: int = 0
    #: The datetime64 columns of its sources (Bokeh's JSON holds them as float64 milliseconds).
    datetimes: DatetimeColumns = field(default_factory=dict)
    #: The journal records read with it (not part of its binary form).
    records: list[DecodedRecord] = field(default_factory=list)
    #: The size of its binary form, as read (0 when taken).
    nbytes: int = 0
    #: The anonymous visitor the session belongs to (None: a user's, or not saved).
    visitor: str | None = None
    #: The arguments, headers and cookies the session was made with (None: not saved).
    request: dict[str, Any] | None = None

    def encode(self, max_bytes: int) -> bytes:
        """The binary form (raise SnapshotError past ``max_bytes``)."""
        header = {
            "version": FORMAT_VERSION,
            "dialect": "bokeh",
            "session_id": self.session_id,
            "app": self.app_path,
            "incarnation": self.incarnation,
            "seq": self.seq,
            "user_id": self.user_id,
            "visitor": self.visitor,
            "request": self.request,
            "created": self.created,
            "saved": self.saved,
            "buffer_ids": [buffer_id for buffer_id, _ in self.buffers],
            "app_ids": self.app_ids,
            "client_code": self.client_code,
            "client_created": self.client_created,
            "journal": self.journal,
            "datetimes": self.datetimes,
            "doc": self.doc,
        }
        if self.app_names is not None:
            header["app_names"] = self.app_names  # an earlier release ignores it
        return pack(SNAPSHOT_MAGIC, orjson.dumps(header), [b for _, b in self.buffers], max_bytes, "snapshot")


_FIELDS: dict[str, type | tuple[type, ...]] = {
    "incarnation": str,
    "seq": int,
    "created": (int, float),
    "saved": (int, float),
    "doc": dict,
    "buffer_ids": list,
    "app_ids": list,
    "journal": int,
}


def decode_bokeh_snapshot(data: bytes, *, app_path: str, session_id: str, max_bytes: int) -> BokehSnapshot:
    """Read a Bokeh session's snapshot; raise SnapshotError if it is not one of ``session_id`` of ``app_path``."""
    if len(data) > max_bytes:
        raise SnapshotError(f"snapshot too big: {len(data)} bytes > {max_bytes} (MAX_SNAPSHOT_BYTES)")
    header, views = unpack(data, SNAPSHOT_MAGIC, "Bokeh snapshot")
    if type(header) is not dict or header.get("version") != FORMAT_VERSION:
        raise SnapshotError("corrupt Bokeh snapshot: bad header or format")
    if header.get("app") != app_path:
        raise SnapshotError(f"snapshot of another application: {header.get('app')!r:.60}, not {app_path!r}")
    if header.get("session_id") != session_id:
        raise SnapshotError(f"snapshot of another session: {header.get('session_id')!r:.60}")
    for name, kind in _FIELDS.items():
        value = header.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise SnapshotError(f"corrupt Bokeh snapshot: {name} is {type(value).__name__}")
    ids = header["buffer_ids"]
    # A snapshot written before they were saved has neither (its clients' code then counts as the app's).
    client_code, client_created = header.get("client_code", []), header.get("client_created", 0)
    if type(client_code) is not list or type(client_created) is not int or client_created < 0:
        raise SnapshotError("corrupt Bokeh snapshot: bad client_code or client_created")
    if not all(type(i) is str for i in ids + header["app_ids"] + client_code) or len(ids) != len(views):
        raise SnapshotError("corrupt Bokeh snapshot: bad ids or buffers")
    try:
        # A snapshot written before they were saved has none (its datetime columns come back as milliseconds).
        datetimes = checked_datetimes(header.get("datetimes", {}))
    except ValueError as exc:
        raise SnapshotError(f"corrupt Bokeh snapshot: {exc}") from None
    # A snapshot written before requests were saved has none (restored with the restoring one's).
    request = checked_request(header)
    return BokehSnapshot(
        session_id=session_id,
        app_path=app_path,
        incarnation=header["incarnation"],
        seq=header["seq"],
        user_id=header.get("user_id"),
        visitor=header["visitor"] if type(header.get("visitor")) is str and header["visitor"] else None,
        created=header["created"],
        saved=header["saved"],
        doc=header["doc"],
        buffers=list(zip(ids, views, strict=True)),
        app_ids=header["app_ids"],
        app_names=checked_names(header),
        client_code=client_code,
        client_created=client_created,
        journal=header["journal"],
        datetimes=datetimes,
        request=request,
    )


@dataclass(slots=True)
class BokehRecord:
    """One transaction of a Bokeh session, queued for the journal (``Journal.append``)."""

    number: int
    incarnation: str
    seq: int
    events: list[EncodedBokehEvent]
    nbytes: int
    #: The ids of the code models clients wrote in it (first written), and the models they created.
    client_code: list[str] = field(default_factory=list)
    client_created: int = 0
    #: The datetime64 columns of the sources it replaced the data of or brought in.
    datetimes: DatetimeColumns = field(default_factory=dict)

    def encode(self, max_bytes: int) -> bytes:
        """The binary form: the events' JSON in a header, their buffers after it."""
        header: dict[str, Any] = {
            "number": self.number,
            "incarnation": self.incarnation,
            "seq": self.seq,
            "events": [event.json for event in self.events],
            "buffer_ids": [buffer_id for event in self.events for buffer_id, _ in event.buffers],
        }
        if self.client_code or self.client_created:  # most transactions: neither
            header["client_code"], header["client_created"] = self.client_code, self.client_created
        if self.datetimes:
            header["datetimes"] = self.datetimes
        buffers = [data for event in self.events for _, data in event.buffers]
        return pack(RECORD_MAGIC, orjson.dumps(header), buffers, max_bytes, "journal record")


@dataclass(slots=True)
class DecodedRecord:
    """A journal record read back: its events (Bokeh's JSON) and their buffers."""

    number: int
    incarnation: str
    seq: int
    events: list[Any]
    buffers: list[tuple[str, Any]]
    client_code: list[str] = field(default_factory=list)
    client_created: int = 0
    datetimes: DatetimeColumns = field(default_factory=dict)


def decode_bokeh_record(data: bytes) -> DecodedRecord:
    """Read a record of a Bokeh session's journal; raise SnapshotError if it is not one."""
    header, views = unpack(data, RECORD_MAGIC, "Bokeh journal record")
    try:
        ids = [str(i) for i in header["buffer_ids"]]
        record = DecodedRecord(
            number=int(header["number"]),
            incarnation=str(header["incarnation"]),
            seq=int(header["seq"]),
            events=list(header["events"]),
            buffers=list(zip(ids, views, strict=True)),
            client_code=list(header.get("client_code", [])),
            client_created=int(header.get("client_created", 0)),
            datetimes=checked_datetimes(header.get("datetimes", {})),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"corrupt Bokeh journal record: {exc!s:.120}") from None
    if not all(type(e) is dict for e in record.events):
        raise SnapshotError("corrupt Bokeh journal record: an event is not an object")
    if not all(type(i) is str for i in record.client_code) or record.client_created < 0:
        raise SnapshotError("corrupt Bokeh journal record: bad client_code or client_created")
    return record


def take_bokeh_snapshot(
    session: BokehSession, app_ids: list[str], app_names: dict[str, str], request: dict[str, Any] | None
) -> BokehSnapshot:
    """Capture ``session`` now; call with its lock held (the buffers are copied here).

    ``app_names``: the names the application built its models with, by id; ``request``:
    what it saves of the session's request (``saved_request``, read once).
    """
    doc, buffers = document_content(session.document)
    return BokehSnapshot(
        session_id=session.id,
        app_path=session.app_path,
        incarnation=session.incarnation,
        seq=session.seq,
        user_id=user_id_of(session.request.get("user")),
        visitor=visitor_of(session.request),
        request=request,
        created=session.created,
        saved=time.time(),
        doc=doc,
        # Copied under the lock: a later stream or patch must not change them.
        buffers=[(buffer_id, bytes(data)) for buffer_id, data in buffers],
        app_ids=app_ids,
        app_names=app_names,
        client_code=sorted(session.client_models.code),
        client_created=session.client_models.created,
        journal=session.records,
        datetimes=datetime_columns(session.document.models, with_none=False),
    )


def _later_records(snapshot: BokehSnapshot) -> list[DecodedRecord]:
    """The records written after the snapshot, in order, up to the first gap (they are written in order)."""
    own = sorted(
        (r for r in snapshot.records if r.incarnation == snapshot.incarnation and r.number > snapshot.journal),
        key=lambda r: r.number,
    )
    later: list[DecodedRecord] = []
    for record in own:
        if record.number != snapshot.journal + 1 + len(later):
            break
        later.append(record)
    return later


def _last_applied(snapshot: BokehSnapshot) -> int:
    """The number of the last record a restore from ``snapshot`` applies (its own if none follows)."""
    return snapshot.journal + len(_later_records(snapshot))


def replayed_document(snapshot: BokehSnapshot) -> Document:
    """The snapshot's document with the journal's later events applied, in order (no callback runs).

    Raises SnapshotError if the document or an event cannot be read.
    """
    try:
        buffers = [Buffer(ID(buffer_id), bytes(data)) for buffer_id, data in snapshot.buffers]
        document = Document.from_json(Serialized(snapshot.doc, buffers))
        datetimes = dict(snapshot.datetimes)
        for record in _later_records(snapshot):
            datetimes.update(record.datetimes)  # those sources' columns as the record left them
            # A broadcast message changes no state: not replayed.
            events = [e for e in record.events if e.get("kind") != "MessageSent"]
            if not events:
                continue
            deserializer = Deserializer(list(document.models))
            patch = deserializer.deserialize(
                Serialized({"events": events}, [Buffer(ID(i), bytes(b)) for i, b in record.buffers])
            )
            for event in patch["events"]:
                DocumentPatchedEvent.handle_event(document, event, None)
            document.models.flush_synced()
        # After the records' milliseconds (what BokehJS holds and the records hold) are in.
        restore_datetimes(document, datetimes)
    except SnapshotError:
        raise
    except Exception as exc:  # Bokeh's reader raises many kinds: all mean "cannot be restored"
        raise SnapshotError(f"Bokeh snapshot or journal cannot be read: {type(exc).__name__}: {exc!s:.200}") from None
    return document


def _marker(session: BokehSession) -> tuple[int, int]:
    return (session.seq, session.records)


@dataclass(slots=True)
class BokehRestore:
    """What a restore found (``BokehKeeper.restore``)."""

    #: The ids of the code models clients wrote, and how many models they created (``ClientModels.restored``).
    code: set[str]
    created: int
    #: The restored document holds exactly the saved models (restore_document).
    exact: bool


class BokehKeeper:
    """The Bokeh dialect's part of a process's persistence (a companion of its SnapshotKeeper)."""

    def __init__(self, keeper: SnapshotKeeper) -> None:
        self.keeper = keeper
        self._saving = asyncio.Lock()  # one write at a time: an older one never lands last

    def _contexts(self) -> list[Any]:
        return [
            c for c in self.keeper.registry.contexts if getattr(c, "kind", None) == "bokeh" and self.keeper.persists(c)
        ]

    def sessions(self) -> list[BokehSession]:
        """The persisted Bokeh sessions of this process."""
        return [s for c in self._contexts() for s in list(c.sessions.values()) if not s.destroyed]

    # -- restore ----------------------------------------------------------------------

    async def load(self, context: Any, session_id: str) -> BokehSnapshot | None:
        """Read the snapshot of ``session_id`` and its journal, if any (no lock held); SnapshotError if unusable."""
        # A store that cannot be read refuses the connection with 1013 (BokehJS tries again).
        data = await self.keeper.read_store(self.keeper.store.load(session_id))
        if data is None:
            return None
        max_bytes = int(docsync_settings().MAX_SNAPSHOT_BYTES)
        try:
            snapshot = decode_bokeh_snapshot(data, app_path=context.path, session_id=session_id, max_bytes=max_bytes)
            snapshot.nbytes = len(data)
            raws = await self.keeper.read_store(self.keeper.store.load_records(session_id))
            records = [decode_bokeh_record(raw) for raw in raws]
            # What this process refused (a write reported failed that landed all the same)
            # goes, through the keeper's error handling: 1013 if the store fails.
            snapshot.records = await self.keeper.without_refused(session_id, snapshot.incarnation, records)
        except SnapshotError as exc:
            logger.error("persistence: snapshot of session %s refused (kept in the store): %s", session_id, exc)
            raise
        # Past a gap (or of another incarnation): never applied, and the restored session
        # numbers its records from the last one applied on, which they would stand among.
        snapshot.records = await self.keeper.drop_after_gap(session_id, snapshot.records, _last_applied(snapshot))
        return snapshot

    def restore(
        self, document: Any, snapshot: BokehSnapshot, request: dict[str, Any], any_user: bool = False
    ) -> BokehRestore:
        """Lay ``snapshot`` over ``document``, just built by the application (nobody sees it yet).

        ``any_user``: the app is shareable, so any user may restore its session (as join it).
        """
        try:
            if not any_user and user_id_of(request.get("user")) != snapshot.user_id:
                raise SnapshotError("snapshot of a session made for another user")
            saved = replayed_document(snapshot)
            saved_ids = {str(model.id) for model in saved.models}
            _, exact = restore_document(document, saved, snapshot.app_ids, snapshot.app_names)
        except SnapshotError as exc:
            logger.error(
                "persistence: snapshot of session %s refused (kept in the store): %s", snapshot.session_id, exc
            )
            raise
        later = _later_records(snapshot)
        code = {*snapshot.client_code, *(i for record in later for i in record.client_code)}
        # Restored models keep their ids: code a client wrote is known by them (a model
        # the saved document no longer holds is gone).
        created = snapshot.client_created + sum(record.client_created for record in later)
        return BokehRestore(code & saved_ids, created, exact)

    def made(
        self,
        session: BokehSession,
        app_ids: list[str],
        app_names: dict[str, str],
        snapshot: BokehSnapshot | None,
        restored: BokehRestore | None = None,
    ) -> bool:
        """Record a session just made (restored from ``snapshot`` if any); its changes go to the journal from now on.

        ``app_names``: the names the application built its models with, by the ids they
        carry now (``build_names``); ``restored``: what ``restore`` returned. Returns whether the session must be
        saved (``save(first=True)``) before anyone sees it: a new session, whose records
        need a snapshot to build on, or one whose restored document is not the saved one.
        """
        state = SavedState(app_ids, app_names, request=self.keeper.request_to_save(session))
        if snapshot is None:
            session.start_write_ahead(self.keeper.journal, 0)
            self.keeper.states[session.id] = state
            return True
        session.restored = True
        if restored is not None:
            session.client_models.restored(restored.code, restored.created)
        session.seq = snapshot.seq
        session.created = snapshot.created
        # The matched models carry the saved ids, those of the first build among them.
        state.app_ids = snapshot.app_ids
        exact = restored is None or restored.exact
        later = len(_later_records(snapshot))
        # Numbered after the last record applied (``load`` dropped any after it; a store
        # that cannot drop them keeps them, and the numbers go on after them).
        numbers = (record.number for record in snapshot.records)
        session.start_write_ahead(self.keeper.journal, max([_last_applied(snapshot), *numbers]))
        if exact:
            # The document the snapshot and its records describe, under the same ids: the
            # session goes on where its journal stopped, its snapshot still standing.
            session.incarnation = snapshot.incarnation
            state.saved_at, state.nbytes, state.seq = snapshot.saved, snapshot.nbytes, snapshot.seq
            self.keeper.next_refresh = 0.0  # its snapshot is as old as it was written: its expiry maybe due now
            # Saved again at the writer's next round when records followed the snapshot
            # (the next restore then reads fewer of them); else it is as saved.
            state.marker = None if later else _marker(session)
        else:
            # An application's model the snapshot does not hold stayed in it: a new
            # incarnation (its own, from the constructor), saved before anyone sees it as
            # a new session is; the snapshot's records, numbered up to it, are trimmed.
            logger.warning(
                "persistence: Bokeh session %s of %s restored with a model its snapshot does not hold: saved again",
                session.id,
                session.app_path,
            )
        state.restored_from = snapshot.saved
        logger.info(
            "persistence: Bokeh session %s of %s restored (%d records after its snapshot)",
            session.id,
            session.app_path,
            later,
        )
        self.keeper.voided.pop(session.id, None)  # BokehJS pulls the whole document: nobody to reset
        self.keeper.states[session.id] = state
        return not exact

    # -- writing ----------------------------------------------------------------------

    async def save(self, session: BokehSession, *, first: bool = False) -> bool:
        """Snapshot ``session`` now: captured under its lock, written with no lock held.

        ``first``: the snapshot a session made (or restored) now must have before anyone
        sees it, as its records build on it: raise StoreUnavailableError if the store
        cannot take it, SnapshotError if it is over ``MAX_SNAPSHOT_BYTES``.
        """
        state = self.keeper.states.get(session.id)
        if state is None:
            return False
        async with self._saving:
            async with session.lock:
                if session.destroyed or session.store_lost is not None:
                    return False  # its document is gone, or holds a refused change: never saved
                marker = _marker(session)
                snapshot = take_bokeh_snapshot(session, state.app_ids, state.app_names, state.request)
            # Written only once every change it holds is in the journal, never when the
            # store refused one (it would keep it).
            await self.keeper.journal.settled()
            if session.store_lost is not None:
                return False
            return await self._write([(session, state, marker, snapshot)], first=first) == 1

    async def _write(
        self, batch: list[tuple[BokehSession, SavedState, tuple[int, int], BokehSnapshot]], *, first: bool = False
    ) -> int:
        keeper = self.keeper
        max_bytes = int(docsync_settings().MAX_SNAPSHOT_BYTES)
        encoded = []
        for session, state, marker, snapshot in batch:
            try:
                encoded.append((session, state, marker, snapshot, snapshot.encode(max_bytes)))
            except SnapshotError as exc:
                keeper.failures += 1
                state.marker = marker  # not tried again until it changes
                logger.error("persistence: session %s of %s not saved: %s", session.id, session.app_path, exc)
                if first:
                    raise
        if not encoded:
            return 0
        items = [(s.id, s.app_path, snap.seq, data) for s, _, _, snap, data in encoded]
        try:
            await keeper.store.save_many(items, process=keeper.registry.process_id)
        except Exception as exc:
            keeper.failures += len(encoded)
            logger.exception("persistence: %d Bokeh sessions not saved (store %s)", len(encoded), keeper.store.name)
            if first:
                raise StoreUnavailableError("session store unavailable; try again") from exc
            return 0
        for session, state, marker, snapshot, data in encoded:
            state.marker, state.saved_at, state.nbytes, state.seq = marker, snapshot.saved, len(data), snapshot.seq
            keeper.writes += 1
            keeper.bytes_written += len(data)
            try:
                # Nothing replays a Bokeh session's log: the records the snapshot holds go.
                await keeper.store.trim_records(session.id, snapshot.journal)
            except Exception:
                logger.warning("persistence: old records of %s not trimmed (they expire by themselves)", session.id)
        return len(encoded)

    async def save_changed(self) -> int:
        """Snapshot every session that changed since its last snapshot (the keeper's writer calls it)."""
        written = 0
        for session in self.sessions():
            state = self.keeper.states.get(session.id)
            if state is not None and state.marker != _marker(session) and await self.save(session):
                written += 1
        return written

    # -- drain ------------------------------------------------------------------------

    async def drain(self) -> tuple[int, int]:
        """Stop every session's callbacks and snapshot it (the keeper closed their connections): (sessions, saved)."""
        sessions = self.sessions()
        for session in sessions:
            await session.destroy_callbacks()
        batch = []
        saved = 0
        async with self._saving:
            for session in sessions:
                state = self.keeper.states.get(session.id)
                if state is None:
                    continue
                async with session.lock:
                    if session.destroyed or session.store_lost is not None:
                        continue
                    marker = _marker(session)
                    if state.marker == marker:
                        saved += 1  # saved already, unchanged since
                        continue
                    snapshot = take_bokeh_snapshot(session, state.app_ids, state.app_names, state.request)
                    batch.append((session, state, marker, snapshot))
            saved += await self._write(batch)
        return len(sessions), saved


def bokeh_keeper(registry: Any, context: Any) -> BokehKeeper | None:
    """The Bokeh persistence of ``registry``'s process for ``context``; None when off (no store, ``persist`` False)."""
    keeper = keeper_of(registry) if registry is not None else None
    if keeper is None or not keeper.persists(context):
        return None
    for companion in keeper.companions:
        if isinstance(companion, BokehKeeper):
            return companion
    companion = BokehKeeper(keeper)
    keeper.companions.append(companion)
    return companion
