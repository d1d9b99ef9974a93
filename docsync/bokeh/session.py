"""BokehSession: a real Bokeh Document served under docsync's session rules.

The same rules as docsync's ServerSession: nothing touches the document without the
session's lock; sync user code (callbacks, the app's own code) runs in docsync's worker
threads, still under the lock; async callbacks run on the loop. The changes a
transaction makes are encoded as they happen and sent when it ends, to every
connection but the one that caused them. BokehJS sends no positions, so concurrent
edits apply in the order the server receives them (docs/bokeh.md).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from bokeh.server.callbacks import NextTickCallback, PeriodicCallback, SessionCallback, TimeoutCallback

from ..document import DocumentShare
from ..exceptions import PatchError
from ..protocol import Message, error, ok
from ..protocol.msgtypes import OK, PULL_DOC_REPLY
from ..protocol.wire_json import dumps
from ..server.clients import Slot
from ..server.session.callback_tasks import CallbackTasks
from ..server.session.notices import KeptNotices
from ..server.session.session import STORE_UNAVAILABLE
from ..server.session.traffic import Traffic
from ..sync.byte_bucket import ByteBucket
from ..sync.encoded_documents import DOC, EncodedDocument, EncodedDocuments, KeptEncodings
from ..sync.sequencer import CORRECTION_BURST, MAX_CORRECTION_BYTES
from .attachments import Reattachments
from .compat import destroy_document, patch_calls_python
from .crossed import crossed_corrections, message_bytes
from .datetime_columns import datetime_columns
from .footprint import ClientModels, DocumentFootprint
from .runner import UserCodeRunner
from .wire import EncodedBokehEvent, apply_client_patch, encode_event, patch_message, pull_reply

__all__ = ["BokehSession"]

logger = logging.getLogger("docsync.bokeh")


class BokehSession:
    """One Bokeh document, its lock, its connections and its scheduled callbacks."""

    #: Its count against the client that made it (MAX_SESSIONS_PER_CLIENT), given back by destroy().
    client_slot: Slot | None = None
    #: Its document's part of what that client may hold (MAX_DOCUMENT_BYTES_PER_CLIENT), given back by destroy().
    document_share: DocumentShare | None = None

    def __init__(
        self,
        session_id: str,
        document: Any,
        *,
        app_path: str,
        request: dict[str, Any],
        runner: UserCodeRunner,
        max_document_bytes: int | None = None,
        max_client_models: int = 1000,
        client_html: bool = True,
        client_offers: bool | None = None,
        encodings: EncodedDocuments | None = None,
    ) -> None:
        self.id = session_id
        # The pull replies of the unchanged document (by ``inline``), kept until it changes
        # (``_document_patched``) within the process's bound (None: not kept): each pull
        # serialized it again, and connections are cheap to open.
        self._encoded = KeptEncodings(encodings)
        self.runner = runner
        self.incarnation = secrets.token_hex(8)
        self.document = document
        self.lock = asyncio.Lock()
        self.app_path = app_path
        self.request = request
        self.connections: set[Any] = set()
        self.created = time.time()
        self.last_activity = self.created
        self.last_detached = time.monotonic()
        self.keep_alive = False
        self.destroyed = False
        self.stats = Traffic()
        self.notices = KeptNotices()
        self.model_count = len(document.models)
        #: The document's size, which no client's patch may take over ``max_document_bytes``.
        self.footprint = DocumentFootprint(max_document_bytes)
        self.client_models = ClientModels(max_client_models)
        #: What browsers' put-backs made the session define again for the other tabs (attachments.py).
        self.reattachments = Reattachments()
        #: What the corrections of refused and dropped patches send their senders (crossed.py):
        #: while it owes, none is sent (a patch of a few bytes may touch the whole document).
        self.corrections = ByteBucket(MAX_CORRECTION_BYTES, CORRECTION_BURST * MAX_CORRECTION_BYTES)
        #: Whether browsers may write HTML and code (False where other users see the session: client_html.py).
        self.client_html = client_html
        #: Whether browsers may change what a widget offers (None: where the app's code names it: offered.py).
        self.client_offers = client_offers
        #: With persistence, the type the application built under each of its ids: a restore
        #: finds its models by them, so no client may define a model of another type there.
        self.app_types: dict[str, str] = {}
        self.seq = 0  # transactions that changed the document (the admin shows it)
        self.context: Any = None
        self._outbox: list[EncodedBokehEvent] = []
        # Where in ``_outbox`` a new PATCH-DOC starts, and the ids of the models the events
        # since then defined: one PATCH-DOC defines a model once. BokehJS reads every
        # definition of a patch before its first event (a model defined twice took its later
        # values, then the events between changed it again); Bokeh's Python reader (a
        # journal's replay) keeps the first and warns.
        self._cuts: list[int] = []
        self._defined: set[str] = set()
        self._changed = False  # a change nobody was sent (see _document_patched)
        # Persistence (docsync/bokeh/persistence.py): each transaction's events are a
        # journal record; what the session would send waits until that record is stored.
        self.write_ahead: Any = None
        self.restored = False  # made again from a snapshot: every pull may be a reconnection's
        self.connections_seen = 0
        self.records = 0
        self.records_durable = 0
        #: Why the store did not take this session's changes (it refuses every change since).
        self.store_lost: str | None = None
        # (None until a message is held: an empty deque is 760 bytes per session.)
        self._held: deque[tuple[int, Any, Message]] | None = None
        self.callback_tasks = CallbackTasks()
        document.callbacks.on_change_dispatch_to(self)
        # Callbacks the app added while filling the document, before this session existed.
        for callback in document.session_callbacks:
            self._schedule(callback)

    # -- connections ----------------------------------------------------------------

    def count_document(self, share: DocumentShare) -> None:
        """Count the document against the client that made the session: its changes check ``share``."""
        self.document_share = self.footprint.share = share

    def attach(self, connection: Any) -> None:
        """Attach a connection."""
        self.connections.add(connection)
        self.connections_seen += 1
        self.touch()

    def detach(self, connection: Any) -> None:
        """Detach a connection; with none left the expiry clock starts."""
        self.connections.discard(connection)
        self.last_detached = time.monotonic()
        self.touch()

    def touch(self) -> None:
        """Record activity now."""
        self.last_activity = time.time()

    def expired(self, lifetime: float) -> bool:
        """Tell whether the session has had no connection for ``lifetime`` seconds."""
        if self.connections or self.keep_alive or self.destroyed:
            return False
        return time.monotonic() - self.last_detached >= lifetime

    def _send(self, connection: Any, message: Message) -> None:
        if self.records_durable < self.records:
            # A change is not in the store yet: nobody hears of it (nor of anything
            # after it, so each connection's order is kept) until it is.
            if self._held is None:
                self._held = deque()
            self._held.append((self.records, connection, message))
            return
        self._queue(connection, message)

    def _queue(self, connection: Any, message: Message) -> None:
        # Queued, never awaited: the lock waits for no socket (docsync/server/outbox.py).
        try:
            connection.queue_message(message)
        except Exception:  # a dead socket must not stop the others from being served
            logger.debug("send to %r failed", connection, exc_info=True)

    # -- write-ahead (persistence) ----------------------------------------------------

    def start_write_ahead(self, journal: Any, records: int) -> None:
        """Make every transaction durable through ``journal`` from now on; ``records`` were numbered before."""
        self.write_ahead = journal
        self.records = self.records_durable = records

    def store_failed(self, reason: str) -> None:
        """The store did not take this session's changes: what waited is never sent, its OKs become ERRORs."""
        self.store_lost = reason
        held, self._held = self._held, None
        for _, connection, message in held or ():
            # BokehJS logs an ERROR reply ("Unhandled ERROR reply to <msgid>"); the PATCH-DOCs
            # that would show the refused change to the other browsers are never sent.
            if message.msgtype == OK and message.reqid is not None:
                self._queue(connection, self._refusal(message.reqid))

    def _refusal(self, msgid: str) -> Message:
        return error(msgid, f"change not saved: {self.store_lost}", STORE_UNAVAILABLE)

    def durable(self, number: int) -> None:
        """Record ``number`` is in the store: send what waited for it."""
        self.records_durable = max(self.records_durable, number)
        held = self._held
        while held and held[0][0] <= self.records_durable:
            _, connection, message = held.popleft()
            self._queue(connection, message)

    # -- Bokeh's document notifications (Document.callbacks.on_change_dispatch_to) ----

    def _document_patched(self, event: Any) -> None:
        if self._encoded.kept:
            self._encoded.forget()
        self.footprint.changed(event)
        origin = event.setter
        connections = self.connections
        if origin is not None and self.write_ahead is None and len(connections) == 1 and origin in connections:
            # A client's own change with no one else to hear of it, and no journal: not
            # encoded (as bokeh serve, which encodes per receiver). A connection
            # attaching meanwhile pulls the whole document after this transaction.
            self._changed = True
            return
        # Encoded now, under the lock: a later change in the same transaction must not
        # leak into this event's values, and new models travel with their first use.
        encoded = encode_event(self.document, event, origin, track=self.write_ahead is not None)
        if encoded.defines:  # (most events define no model)
            defined = self._defined
            if not defined.isdisjoint(encoded.defines):
                self._cuts.append(len(self._outbox))
                defined.clear()
            defined.update(encoded.defines)
        self._outbox.append(encoded)

    def _session_callback_added(self, event: Any) -> None:
        self._schedule(event.callback)

    def _session_callback_removed(self, event: Any) -> None:
        self._unschedule(event.callback)

    # -- transactions ---------------------------------------------------------------

    def _flush(self) -> None:
        """Send what the transaction changed (call with the lock held)."""
        self.model_count = len(self.document.models)
        changed, self._changed = self._changed, False
        if not self._outbox:
            self.seq += changed
            return
        cuts, self._cuts = self._cuts, []
        self._defined.clear()
        if self.store_lost is not None:
            # Dropped from the process (its document is no longer the stored one): what a
            # transaction still changed goes nowhere, neither to the journal nor to a browser.
            self._outbox.clear()
            return
        encoded, self._outbox[:] = list(self._outbox), []
        if not cuts:  # nearly every transaction: one PATCH-DOC
            self._send_changes(encoded)
            return
        # A model defined again after the events that detached it: from there on, another
        # PATCH-DOC (and journal record), which BokehJS reads once it dropped its own.
        bounds = [0, *cuts, len(encoded)]
        for start, end in itertools.pairwise(bounds):
            self._send_changes(encoded[start:end])

    def _send_changes(self, encoded: list[EncodedBokehEvent]) -> None:
        """Journal ``encoded`` as one record, then send it to every connection but its own origin's."""
        self.seq += 1
        if self.write_ahead is not None:
            from .persistence import BokehRecord  # persistence.py builds on this module

            self.records += 1
            # The code models clients wrote meanwhile: a restore from this record on must
            # not take them for the app's (offered.py).
            code, created = self.client_models.journaled()
            nbytes = sum(e.nbytes for e in encoded) + 200 + sum(len(i) + 3 for i in code)
            # A restore gives their datetime64 columns back their dtype (datetime_columns.py).
            datetimes = datetime_columns({id(s): s for e in encoded for s in e.sources}.values(), with_none=True)
            record = BokehRecord(self.records, self.incarnation, self.seq, encoded, nbytes, code, created, datetimes)
            self.write_ahead.append(self, record)
        else:
            self.client_models.journaled()  # no journal: nothing to keep
        by_origin: dict[int, Message | None] = {}
        for connection in tuple(self.connections):
            key = id(connection)
            if key not in by_origin:
                subset = [e for e in encoded if e.origin is not connection]
                by_origin[key] = patch_message(subset) if subset else None
            message = by_origin[key]
            if message is not None:
                self._send(connection, message)

    async def pull(self, connection: Any, request: Message) -> None:
        """Answer PULL-DOC-REQ with the whole document."""
        # BokehJS (3.9) reads a reconnection's pull with ``replace_with_json(doc)``,
        # which drops the reply's binary buffers ("buffer for id=... not found"): a pull
        # that may be a reconnection's (a restored session's, or one after the first
        # connection) carries its arrays inline (base64), which both of its paths read.
        inline = self.restored or self.connections_seen > 1
        async with self.lock:
            self._send(connection, self._pull_reply(request.msgid, inline))

    def _pull_reply(self, reqid: str, inline: bool) -> Message:
        """The PULL-DOC-REPLY, its document serialized once while it is unchanged (call with the lock held)."""
        encoded = self._encoded.get(inline)
        if encoded is None:
            made = pull_reply(self.document, reqid, inline=inline)
            doc = made.content["doc"]
            encoded = EncodedDocument(dumps(doc), made.buffers)
            self._encoded.keep(encoded, inline)
        reply = encoded.message(PULL_DOC_REPLY, {"doc": DOC})
        reply.header["reqid"] = reqid
        return reply

    async def patch(self, connection: Any, request: Message) -> None:
        """Apply a client's PATCH-DOC under the lock (its callbacks in a worker thread)."""
        if self.write_ahead is not None:
            await self.write_ahead.room()  # no lock held: records waiting for the store are bounded
        async with self.lock:
            self.touch()
            if self.store_lost is not None:
                # The store refused an earlier change: this one is refused unapplied.
                self._queue(connection, self._refusal(request.msgid))
                return
            refusal: str | None = None
            refused = False  # by a check: nothing of it applied, yet its sender applied it all
            content = request.content
            events = content.get("events") if isinstance(content, dict) else None
            applied = True
            left_out: list[Any] = []  # its events naming a model a callback of an earlier one took out
            start = len(self._outbox)  # what the patch and its callbacks change is encoded from here
            try:
                args: tuple[Any, ...] = (self.document, request, connection, self.footprint, self.client_models)
                args += (self.client_html, self.client_offers, self.app_types, left_out, self.reattachments)
                if patch_calls_python(self.document, events, self):
                    # It may run the app's sync callbacks: off the loop (runner.py).
                    applied = await self.runner.run(apply_client_patch, *args)
                else:
                    # It surely runs no Python code of the app (a range panned, a JS-only
                    # widget): applied here, with no hop to a thread and back.
                    applied = apply_client_patch(*args)
            except PatchError as exc:
                refusal, refused = str(exc), True
            except Exception as exc:  # the app's callback failed; what it changed is sent
                logger.exception("error in a callback of session %s", self.id)
                refusal = f"callback error: {type(exc).__name__}"
            # (Refused before it was applied, it defined nothing: nothing is taken.)
            self.reattachments.charge(self._outbox[start:], connection)
            self._flush()
            if refused or not applied or left_out:
                # Refused whole by a check, or dropped whole, as Bokeh does, for naming a model
                # another change removed, or some events left out for naming one the app's
                # callback took out meanwhile (withdrawn.py): the sender holds what it sent
                # (BokehJS applies a change before it sends it and only logs an ERROR), so it
                # is told the server's values (crossed.py), before the ERROR or OK.
                owed = self.corrections.owed_seconds()
                if owed > 0:
                    # A small patch may touch a large value: while the session's corrections
                    # owe, none is encoded (each was up to the whole document, 200 a second).
                    if refusal is not None and refused:
                        refusal += f"; not corrected: this session's corrections owe {owed:.1f} s"
                else:
                    correction = crossed_corrections(self.document, left_out if applied and not refused else events)
                    if correction is not None:
                        self.corrections.owe(message_bytes(correction))
                        self._send(connection, correction)
            if refusal is not None:
                self._send(connection, error(request.msgid, refusal, "patch-refused"))
            else:
                self._send(connection, ok(request.msgid))

    async def with_document_locked(self, func: Callable[[Any], Any]) -> Any:
        """Run ``func(document)`` with the lock held, then send the changes it made."""
        async with self.lock:
            try:
                return await self.runner.call(func, self.document)
            finally:
                self._flush()

    async def send_notice(self, text: str) -> None:
        """Record an admin's notice (BokehJS has no place to show one; docs/bokeh.md)."""
        self.notices.append(text)
        logger.info("notice for bokeh session %s: %s", self.id, text)

    # -- callbacks ------------------------------------------------------------------

    def _schedule(self, callback: SessionCallback) -> None:
        self.callback_tasks.schedule(callback.id, self._run_callback, callback)

    def _unschedule(self, callback: SessionCallback) -> None:
        self.callback_tasks.unschedule(callback.id)

    async def _run_callback(self, callback: SessionCallback) -> None:
        tasks = self.callback_tasks
        if isinstance(callback, PeriodicCallback):
            while not tasks.stopped:
                await asyncio.sleep(callback.period / 1000)
                await tasks.invoke(self._invoke_now, callback)
            return
        delay = callback.timeout / 1000 if isinstance(callback, TimeoutCallback) else 0.0
        await asyncio.sleep(delay)
        # One-shot: Bokeh's wrapper removes it from the document when it runs.
        tasks.fired(callback.id)
        if isinstance(callback, TimeoutCallback | NextTickCallback):
            await tasks.invoke(self._invoke_now, callback)

    async def _invoke_now(self, callback: SessionCallback) -> None:
        func = callback.callback  # Bokeh's wrapper: sets curdoc() around the user's function
        if getattr(func, "nolock", False):  # @without_document_lock
            await self._call_logged(func)
            return
        async with self.lock:
            if self.callback_tasks.stopped:
                return
            await self._call_logged(func)
            self._flush()

    async def _call_logged(self, func: Callable[[], Any]) -> None:
        try:
            await self.runner.call(func)
        except Exception:
            logger.exception("error in callback %r of session %s", func, self.id)

    def scheduled_callbacks(self) -> list[str]:
        """Describe the callbacks scheduled now (for the admin)."""
        return [_describe_callback(cb) for cb in self.document.session_callbacks]

    def describe(self, page: int = 1, model: str | None = None) -> dict[str, Any]:
        """What the admin's detail page shows: a ``page`` of models, or ``model`` alone (call holding the lock)."""
        from .inspect import describe_bokeh_session

        return describe_bokeh_session(self, page, model)

    # -- teardown -------------------------------------------------------------------

    async def destroy_callbacks(self) -> None:
        """Stop every callback for good (before ``on_session_destroyed`` runs)."""
        await self.callback_tasks.stop()

    async def destroy(self) -> None:
        """Stop every callback, then free the document."""
        if self.destroyed:
            return
        if self.client_slot is not None:  # out of its context already: its client may make another
            self.client_slot.release()
        if self.document_share is not None:
            self.document_share.release()
        await self.destroy_callbacks()
        self.destroyed = True
        async with self.lock:
            destroy_document(self.document, self)
            self._encoded.forget()
            self._outbox.clear()
            self._cuts.clear()
            self._defined.clear()
            self._held = None
            self.connections.clear()


def _describe_callback(callback: SessionCallback) -> str:
    name = getattr(callback.callback, "__qualname__", repr(callback.callback))
    if isinstance(callback, PeriodicCallback):
        return f"periodic every {callback.period} ms: {name}"
    if isinstance(callback, TimeoutCallback):
        return f"timeout after {callback.timeout} ms: {name}"
    return f"next tick: {name}"
