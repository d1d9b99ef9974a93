"""ServerSession: one document, its lock, its connections and callbacks; the I/O adapter of its Sequencer."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections import deque
from collections.abc import Callable
from types import FunctionType
from typing import Any, Protocol

from django.conf import settings as django_settings

from ...document import Document, DocumentEvent, DocumentShare, SessionCallback
from ...document import events as ev
from ...protocol import Message, error
from ...protocol.msgtypes import ERROR, OK
from ...sync.answers import Answer
from ...sync.patch_log import LogEntry, PatchLog
from ...sync.sequencer import Changes, Sequencer, client_id_in
from ..clients import Slot
from ..executor import call_user_code, run_sync
from .callback_tasks import CallbackTasks
from .notices import NOTICE, KeptNotices, callback_error_detail, callback_error_text
from .traffic import Traffic

__all__ = ["STORE_UNAVAILABLE", "Connection", "ServerSession", "WriteAhead"]

logger = logging.getLogger("docsync.server")

#: The ``code`` of the ERROR answering a patch whose change the session store did not take.
STORE_UNAVAILABLE = "store-unavailable"


class Connection(Protocol):
    """What a session needs of an attached connection (a consumer, or a relay)."""

    origin: str
    #: Whom the connection counts against (server/clients.py's client_key; None: no one):
    #: a client's share of a session's connections is counted from these.
    client: str | None
    #: Patches based on a position before this are refused: the connection's
    #: document was reset (PUSH-DOC) after they were made.
    fence: int

    def queue_message(self, message: Message) -> None:
        """Queue ``message`` for the connection's writer; never waits (see ``server/outbox.py``)."""

    def queue_close(self, code: int, reason: str = "") -> None:
        """Close with ``code`` once every message queued before is written."""

    def may_reset(self) -> bool:
        """Take a reset from the connection's document requests; past them refuse the connection (4029), False."""


class WriteAhead(Protocol):
    """Where a session's changes are made durable before anyone is told of them (persistence).

    ``record`` is called under the session's lock, never waits, and later calls
    ``session.durable(number)`` once record ``number`` is in the store; until then
    the session holds back every message it would send (``ServerSession._send``).
    """

    def record(
        self,
        session: ServerSession,
        number: int,
        entries: list[LogEntry],
        answer: tuple[str, str, Answer] | None,
        fences: dict[str, int] | None,
    ) -> None:
        """Queue record ``number``: new log ``entries``, the ``answer`` given and ``fences`` if they changed."""

    async def room(self) -> None:
        """Wait (no lock held) while the records not yet written are over their bound."""


class ServerSession:
    """A session: the document, the lock that guards it, and everything attached.

    The rule: nothing touches ``document`` without holding ``lock``.
    """

    # Slots: with 30 attributes its __dict__ outgrows the shared-key form (1,584 bytes
    # per session under tracemalloc, bench/budget.py --detail).
    __slots__ = (
        "_held",
        "_recorded_fences",
        "_recorded_seq",
        "acting",
        "app_path",
        "callback_tasks",
        "client_slot",
        "connections",
        "context",
        "created",
        "creating",
        "destroyed",
        "document",
        "document_share",
        "id",
        "keep_alive",
        "last_activity",
        "last_detached",
        "lock",
        "model_count",
        "notices",
        "records",
        "records_durable",
        "request",
        "sequencer",
        "stats",
        "store_lost",
        "write_ahead",
    )

    def __init__(self, session_id: str, sequencer: Sequencer, *, app_path: str, request: dict[str, Any]) -> None:
        self.id = session_id
        #: The order of changes and the conflict rule, sans I/O: this class adds the
        #: lock, the connections, the callbacks and the sending.
        self.sequencer = sequencer
        self.document = sequencer.document
        self.lock = asyncio.Lock()
        self.app_path = app_path
        self.model_count = 0
        self.request = request
        self.connections: set[Connection] = set()
        #: The connection whose change is being applied (its user is session_context.user).
        self.acting: Connection | None = None
        #: Still being made by its first connection: no other connection came, no client
        #: change was applied. Only then may that connection push a document (dispatch).
        self.creating = True
        self.created = time.time()
        self.last_activity = self.created
        self.last_detached = time.monotonic()
        self.keep_alive = False
        self.destroyed = False
        #: Its count against the client that made it (MAX_SESSIONS_PER_CLIENT), given back by destroy().
        self.client_slot: Slot | None = None
        #: Its document's part of what that client may hold (MAX_DOCUMENT_BYTES_PER_CLIENT), given back by destroy().
        self.document_share: DocumentShare | None = None
        self.stats = Traffic()
        self.notices = KeptNotices()
        self.callback_tasks = CallbackTasks()
        self.context: Any = None  # the SessionContext, set by the application context
        #: Persistence's write-ahead (None: off); see ``record_changes`` and ``_send``.
        self.write_ahead: WriteAhead | None = None
        #: Records handed to the write-ahead, and how many of them are in the store.
        self.records = 0
        self.records_durable = 0
        self._recorded_seq = 0
        self._recorded_fences = 0
        # Messages held until the record made before them is durable, in sending order:
        # (records made when it was sent, connection, message).
        # (None until a message is held: an empty deque is 760 bytes per session.)
        self._held: deque[tuple[int, Connection, Message]] | None = None
        #: Why the store did not take this session's changes (persistence), or None. From
        #: then on nothing is sent of its document: the answers to its patches become ERRORs.
        self.store_lost: str | None = None

    # -- connections ----------------------------------------------------------------

    def attach(self, connection: Connection) -> None:
        """Attach a connection."""
        if self.connections:
            self.creating = False
        self.connections.add(connection)
        self.touch()

    def detach(self, connection: Connection) -> None:
        """Detach a connection; with none left the expiry clock starts."""
        self.connections.discard(connection)
        self.last_detached = time.monotonic()
        self.touch()

    @property
    def log(self) -> PatchLog:
        """The session's order of changes (its position is ``log.seq``)."""
        return self.sequencer.log

    @property
    def incarnation(self) -> str:
        """Which making of the session this is (a resuming client compares it with the one it knew)."""
        return self.sequencer.incarnation

    def count_document(self, share: DocumentShare) -> None:
        """Count the document against the client that made the session: its changes check ``share``."""
        self.document_share = share
        self.document.upload_share = share  # its uploads in progress count too
        limits = self.sequencer.limits
        if limits is not None:
            self.sequencer.limits = limits.shared(share)

    def touch(self) -> None:
        """Record activity now."""
        self.last_activity = time.time()

    def expired(self, lifetime: float) -> bool:
        """Tell whether the session has had no connection for ``lifetime`` seconds."""
        if self.connections or self.keep_alive or self.destroyed:
            return False
        return time.monotonic() - self.last_detached >= lifetime

    def _send(self, connection: Connection, message: Message) -> None:
        # Queued, never awaited: under the lock a session waits for no socket, and a
        # client that reads slowly holds up no one else (its outbox is bounded).
        if self.store_lost is not None:
            self._refuse_unstored(connection, message)
            return
        if self.records_durable < self.records:
            # A change is not in the store yet: nobody hears of it (nor of anything
            # after it, so each connection's order is kept) until it is.
            if self._held is None:
                self._held = deque()
            self._held.append((self.records, connection, message))
            return
        try:  # (``_queue``, inline: twice per patch)
            connection.queue_message(message)
        except Exception:  # a dead socket must not stop the others from being served
            logger.debug("send to %r failed", connection, exc_info=True)

    def _queue(self, connection: Connection, message: Message) -> None:
        try:
            connection.queue_message(message)
        except Exception:  # a dead socket must not stop the others from being served
            logger.debug("send to %r failed", connection, exc_info=True)

    # -- write-ahead (persistence) --------------------------------------------------

    def store_failed(self, reason: str) -> None:
        """The store did not take this session's changes: what waited is never sent, its OKs become ERRORs."""
        self.store_lost = reason
        held, self._held = self._held or (), None
        for _, connection, message in held:
            self._refuse_unstored(connection, message)

    def _refuse_unstored(self, connection: Connection, message: Message) -> None:
        # An OK would acknowledge a change the store does not hold, and any other message
        # may show one: only the answers go, as ERRORs (the change was not kept).
        if message.msgtype == OK and message.reqid is not None:
            self._queue(connection, error(message.reqid, f"change not saved: {self.store_lost}", STORE_UNAVAILABLE))

    def start_write_ahead(self, write_ahead: WriteAhead, records: int) -> None:
        """Make every change durable through ``write_ahead`` from now on; ``records`` were made before (lock held)."""
        self.write_ahead = write_ahead
        self.records = self.records_durable = records
        self._recorded_seq = self.sequencer.log.seq
        self._recorded_fences = self.sequencer.fence_changes

    def record_changes(self, answer: tuple[str, str] | None = None) -> None:
        """Hand the changes made since the last record to the write-ahead (lock held).

        ``answer``: the (client id, msgid) of the patch just answered, whose answer is
        remembered with the record.
        """
        write_ahead = self.write_ahead
        if write_ahead is None or self.store_lost is not None:
            return
        sequencer = self.sequencer
        log = sequencer.log
        fences = sequencer.fence_changes != self._recorded_fences
        if log.seq == self._recorded_seq and answer is None and not fences:
            return
        entries = list(log.since(self._recorded_seq)) if log.seq > self._recorded_seq else []
        self.records += 1
        self._recorded_seq, self._recorded_fences = log.seq, sequencer.fence_changes
        given = log.answer(*answer) if answer is not None else None
        write_ahead.record(
            self,
            self.records,
            entries,
            (*answer, given) if answer is not None and given is not None else None,
            dict(sequencer.fences) if fences else None,
        )

    def durable(self, number: int) -> None:
        """Record ``number`` is in the store: send what waited for it."""
        self.records_durable = max(self.records_durable, number)
        held = self._held
        while held and held[0][0] <= self.records_durable:
            _, connection, message = held.popleft()
            self._queue(connection, message)
        if held is not None and not held and self._held is held:
            self._held = None

    # -- transactions ---------------------------------------------------------------

    async def _settle(self) -> None:
        """Await coroutines left by async callbacks; tell the page about callbacks that failed.

        Must be called with the lock held, before the changes made are flushed.
        """
        while self.document.pending_coroutines:
            pending, self.document.pending_coroutines[:] = list(self.document.pending_coroutines), []
            for coroutine in pending:
                try:
                    await coroutine
                except Exception as exc:
                    logger.exception("error in async callback of session %s", self.id)
                    self.document.callback_failed(exc)
        if self.document.callback_errors:
            # The page is told, so that a user is not left wondering why nothing happened.
            errors, self.document.callback_errors[:] = list(self.document.callback_errors), []
            debug = bool(django_settings.DEBUG)
            notice = {"text": callback_error_text(errors, debug), "kind": "error"}
            detail = callback_error_detail(errors, debug)
            if detail is not None:
                notice["detail"] = detail
            self.document.send_message(NOTICE, notice)
        # Read here, under the lock, so that reporters never touch the document.
        self.model_count = len(self.document.models)

    async def finish_changes(self) -> None:
        """Await what async callbacks left and send the changes made (the lock held)."""
        await self._finish()

    async def _finish(self) -> None:
        """Await what async callbacks left, then send the changes made (with the lock held)."""
        await self._settle()
        changes = self.sequencer.flush()
        self.record_changes()
        self._broadcast(changes)

    def _broadcast(self, changes: Changes | None, keep_for: Connection | None = None) -> list[Message]:
        """Send ``changes`` to every connection, each without its own changes.

        What ``keep_for`` would receive is returned instead of sent: the answer to its
        patch goes first (see ``patch``).
        """
        if changes is None:
            return []
        kept: list[Message] = []
        for connection in tuple(self.connections):
            messages = changes.messages_for(connection.origin)
            for message in messages:
                # Encoded here, once, before any socket has it: a change the wire cannot
                # carry fails the whole broadcast, not each send quietly.
                message.to_frames()
            if connection is keep_for:
                kept = messages
            else:
                for message in messages:
                    self._send(connection, message)
        return kept

    # -- requests from connections --------------------------------------------------

    async def pull(self, connection: Connection, request: Message) -> None:
        """Answer PULL-DOC-REQ with the whole document and the current position."""
        async with self.lock:
            self._send(connection, self.sequencer.pull(request))

    async def push(self, connection: Connection, request: Message) -> None:
        """Replace the document with a client's PUSH-DOC (a refused one changes nothing: the client may push again)."""
        async with self.lock:
            refusal = self.sequencer.push(request, connection.origin)
            if refusal is not None:
                self._send(connection, refusal)
                return
            self.creating = False
            await self._finish()
            self._send(connection, self.sequencer.push_answer(request))

    async def patch(self, connection: Connection, request: Message) -> None:
        """Apply a client's PATCH-DOC under the lock; answer OK or ERROR (the rule: ``Sequencer``)."""
        if self.write_ahead is not None:
            await self.write_ahead.room()  # no lock held: records waiting for the store are bounded
        async with self.lock:
            self.last_activity = time.time()  # (``touch``, inline: per patch)
            sequencer, document = self.sequencer, self.document
            step = sequencer.receive_patch(connection.origin, connection.fence, request)
            if step.answer is not None:
                self._send(connection, step.answer)
                return
            self.acting = connection
            try:
                # Sync callbacks may block or use the ORM: when the patch will trigger
                # any, the whole application runs in a worker thread, still under the lock.
                decoded = step.decoded
                if decoded is not None and step.refusal is None and _triggers_callbacks(document, decoded.events):
                    await run_sync(sequencer.apply, step)
                else:
                    sequencer.apply(step)
                # Async callbacks the patch ran are awaited here: their session_context.user
                # is still this connection's (the lock keeps every other change out meanwhile).
                if document.pending_coroutines or document.callback_errors:
                    await self._settle()
                else:  # nearly every patch: nothing to await, no coroutine made for it
                    self.model_count = len(document.models)
            finally:
                self.acting = None
            outcome = sequencer.answer_patch(step)
            # In the store before the OK leaves: an acknowledged change outlives a SIGKILL.
            if self.write_ahead is not None:
                self.record_changes((step.origin, step.msgid))
            kept = self._broadcast(outcome.changes, keep_for=connection)
            self._send(connection, outcome.answer)
            for message in kept:
                self._send(connection, message)
            if outcome.reset is not None:
                self._reset(connection, outcome.reset, outcome.fence)

    def _reset(self, connection: Connection, reset: Message, fence: int | None) -> None:
        if fence is not None:
            connection.fence = fence
        # A reset is the whole document, as a pull's reply: it counts with the connection's
        # document requests (protocol.md §11). Before, each stale patch of a client made one,
        # at the patches' rate (200 a second of a 7 MB document, 7.5 ms of the event loop
        # each, for 113-byte patches). Refused, the client resumes, as after any 4029.
        if not connection.may_reset():
            return
        # Every connection of the client: the one this patch came on may be a socket
        # that died while its messages were still being handled, the client resumed.
        for other in tuple(self.connections):
            if other is connection or other.origin == connection.origin:
                self._send(other, reset)

    async def resume(self, connection: Connection, request: Message, created_session: bool) -> None:
        """Answer RESUME-REQ with what the client missed, or the whole document."""
        async with self.lock:
            # The client id it names is the connection's only once the resume is answered:
            # after a refused one the connection's changes are still its own origin's.
            origin = client_id_in(request) or connection.origin
            resumed = self.sequencer.resume(origin, request, created_session=created_session)
            if resumed.reply.msgtype != ERROR:
                connection.origin = origin
            self.record_changes()
            if resumed.fence is not None:
                connection.fence = resumed.fence
            self._send(connection, resumed.reply)

    async def with_document_locked(self, func: Callable[[Document], Any]) -> Any:
        """Run ``func(document)`` with the lock held, then send the changes it made."""
        async with self.lock:
            result = await call_user_code(func, self.document)
            await self._finish()
            return result

    async def send_notice(self, text: str) -> None:
        """Send a notice to every connection (shown in the page)."""
        async with self.lock:
            self.notices.append(text)
            self.document.send_message(NOTICE, {"text": text})
            await self._finish()

    # -- callbacks (the document's CallbackScheduler) -------------------------------

    def callback_added(self, callback: SessionCallback) -> None:
        """Schedule a callback the document registered."""
        self.callback_tasks.schedule(callback.id, self._run_callback, callback)

    def callback_removed(self, callback: SessionCallback) -> None:
        """Unschedule a callback the document dropped."""
        self.callback_tasks.unschedule(callback.id)

    async def _run_callback(self, callback: SessionCallback) -> None:
        tasks = self.callback_tasks
        if callback.kind == "periodic":
            while not tasks.stopped:
                await asyncio.sleep(callback.delay)
                await tasks.invoke(self._invoke_now, callback)
            return
        await asyncio.sleep(callback.delay)  # 0: the next tick
        tasks.fired(callback.id)
        if not tasks.stopped:
            self.document.callback_done(callback)
            await tasks.invoke(self._invoke_now, callback)

    async def _invoke_now(self, callback: SessionCallback) -> None:
        if not callback.locked:
            await self._call_logged(callback.callback)
            return
        async with self.lock:
            if self.callback_tasks.stopped:
                return
            await self._call_logged(callback.callback)
            await self._finish()

    async def _call_logged(self, func: Callable[..., Any], *args: Any) -> None:
        try:
            await call_user_code(func, *args)
        except Exception as exc:
            logger.exception("error in callback %r of session %s", func, self.id)
            self.document.callback_failed(exc)  # told to the page when the changes are sent

    def scheduled_callbacks(self) -> list[str]:
        """Describe the callbacks scheduled now (for the admin)."""
        return [cb.describe() for cb in self.document.callbacks]

    # -- teardown -------------------------------------------------------------------

    async def destroy_callbacks(self) -> None:
        """Stop every callback for good (before ``on_session_destroyed`` runs)."""
        # Callbacks already running finish first, so that none runs after this returns.
        await self.callback_tasks.stop()

    async def destroy(self) -> None:
        """Stop every callback, then drop the document so its memory is freed."""
        if self.destroyed:
            return
        if self.client_slot is not None:  # out of its context already: its client may make another
            self.client_slot.release()
        if self.document_share is not None:
            self.document_share.release()
        await self.destroy_callbacks()
        self.destroyed = True
        async with self.lock:
            self.document.set_callback_scheduler(None)
            self.document.destroy()
            self.sequencer.discard()
            self.connections.clear()


def _is_sync(callbacks: Any) -> bool:
    for callback in callbacks or ():
        # A plain ``async def`` (the usual callback) is told by its code flags alone;
        # anything else (methods, partials, markers) by inspect, as before.
        if type(callback) is FunctionType:
            if callback.__code__.co_flags & inspect.CO_COROUTINE:
                continue
            # A plain def: sync, unless marked as a coroutine function (an attribute, so
            # in its __dict__); the usual one has none and needs no more of inspect.
            if not callback.__dict__:
                return True
        if not inspect.iscoroutinefunction(callback):
            return True
    return False


def _triggers_callbacks(document: Document, events: list[DocumentEvent]) -> bool:
    """Tell whether applying ``events`` calls sync user code (which needs a thread).

    Coroutine callbacks are only created here and awaited on the loop afterwards, so a
    patch that triggers nothing but those is applied without a thread hop.
    """
    for event in events:
        if type(event) is ev.ModelChangedEvent:  # nearly every client event: its model's callbacks alone
            if _is_sync(event.model.change_callbacks(event.attr)):
                return True
            continue
        model = getattr(event, "model", None)
        if model is not None:
            attr = getattr(event, "attr", None)
            if attr is not None and _is_sync(model.change_callbacks(attr)):
                return True
            if isinstance(event, ev.MessageSentEvent) and _is_sync(model.event_callbacks(event.msg_type)):
                return True
        if isinstance(event, ev.MessageSentEvent) and _is_sync(document.message_callbacks(event.msg_type)):
            return True
    return False
