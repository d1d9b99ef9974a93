"""ServerSession: one document, its lock, its connections, callbacks and change order."""

from __future__ import annotations

import asyncio
import inspect
import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from django.conf import settings as django_settings

from ...document import DecodedPatch, Document, DocumentEvent, DocumentLimits, SessionCallback
from ...document import events as ev
from ...exceptions import DeserializationError, PatchError
from ...protocol import Message, error, new_message
from ...protocol.msgtypes import OK, PULL_DOC_REPLY, PUSH_DOC
from ...sync.bridge import Shift, SpliceBridge
from ...sync.splices import Splice
from ..executor import call_user_code, run_sync
from .notices import NOTICE, callback_error_text
from .patch_log import Answer, PatchLog
from .patches import (
    EncodedEvent,
    Key,
    conflict_keys,
    correction,
    decode_client_patch,
    encode_event,
    keys_overlap,
    patch_message,
)
from .strays import stray_events

__all__ = ["Connection", "ServerSession"]

logger = logging.getLogger("docsync.server")


class Connection(Protocol):
    """What a session needs of an attached connection (a consumer, or a relay)."""

    origin: str
    #: Patches based on a position before this are refused: the connection's
    #: document was reset (PUSH-DOC) after they were made.
    fence: int

    async def send_message(self, message: Message) -> None: ...

    async def close(self, code: int = 1000, reason: str = "") -> None: ...


class ServerSession:
    """A session: the document, the lock that guards it, and everything attached.

    The rule: nothing touches ``document`` without holding ``lock``.
    """

    def __init__(
        self,
        session_id: str,
        document: Document,
        *,
        app_path: str,
        request: dict[str, Any],
        allow_client_structure: bool,
        log_entries: int,
        log_bytes: int,
        max_answers: int = 1000,
        max_answer_clients: int = 256,
        max_client_models: int,
        max_array_elements: int,
        limits: DocumentLimits | None = None,
    ) -> None:
        self.id = session_id
        # Tells a resuming client whether this is the session it knew, or a new one
        # made under the same id (after expiry, or after its process died).
        self.incarnation = secrets.token_hex(8)
        self.document = document
        self.lock = asyncio.Lock()
        self.app_path = app_path
        self.allow_client_structure = allow_client_structure
        self.client_models = 0
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
        self.callbacks_stopped = False
        self.stats = {"messages_in": 0, "messages_out": 0, "bytes_in": 0, "bytes_out": 0}
        self.notices: list[str] = []
        self.log = PatchLog(
            max_entries=log_entries, max_bytes=log_bytes, max_answers=max_answers, max_answer_clients=max_answer_clients
        )
        # Per origin (client id), the position its document was last reset to: patches
        # it based on an older position were made on a document that no longer exists.
        # Kept per origin, not per socket, because a client resends them after resuming.
        self.fences: dict[str, int] = {}
        #: Per origin, the other origins' list splices it has not seen (the splice rule).
        self.splices = SpliceBridge()
        self._max_client_models = max_client_models
        self._max_array_elements = max_array_elements
        #: What clients may make of the document (None: only the wire limits bound it).
        self.limits = limits
        # Changes not sent yet, encoded as they happen: a model definition or a list
        # read later would already hold the later changes of the batch, applied twice.
        self._outbox: list[EncodedEvent] = []
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._running: set[asyncio.Task[None]] = set()  # invocations in progress
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self.context: Any = None  # the SessionContext, set by the application context
        document.on_change(self._record)

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

    def touch(self) -> None:
        """Record activity now."""
        self.last_activity = time.time()

    def expired(self, lifetime: float) -> bool:
        """Tell whether the session has had no connection for ``lifetime`` seconds."""
        if self.connections or self.keep_alive or self.destroyed:
            return False
        return time.monotonic() - self.last_detached >= lifetime

    async def _send(self, connection: Connection, message: Message) -> None:
        try:
            await connection.send_message(message)
        except Exception:  # a dead socket must not stop the others from being served
            logger.debug("send to %r failed", connection, exc_info=True)

    # -- transactions ---------------------------------------------------------------

    async def finish_changes(self) -> None:
        """Await what async callbacks left and send the changes made (the lock held)."""
        await self._finish()

    async def _finish(self, keep_for: Connection | None = None) -> Message | None:
        """Await coroutines left by async callbacks, then send the changes made.

        Must be called with the lock held. What ``keep_for`` would receive is returned
        instead of sent: the answer to its patch goes first (see ``patch``).
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
            text = callback_error_text(errors, bool(django_settings.DEBUG))
            self.document.send_message(NOTICE, {"text": text, "kind": "error"})
        # Read here, under the lock, so that reporters never touch the document.
        self.model_count = len(self.document.models)
        return await self._flush(keep_for)

    def _record(self, event: DocumentEvent) -> None:
        # Buffer ids are unique per position: these events are sent at the next one.
        prefix = f"{self.log.seq + 1}.{len(self._outbox)}."
        self._outbox.append(encode_event(event, prefix, self.document.models))

    async def _flush(self, keep_for: Connection | None = None) -> Message | None:
        if not self._outbox:
            return None
        encoded, self._outbox[:] = list(self._outbox), []
        entry = self.log.append(encoded)
        return await self._broadcast(encoded, entry.seq, keep_for)

    async def _broadcast(
        self, encoded: list[EncodedEvent], seq: int, keep_for: Connection | None = None
    ) -> Message | None:
        # Each connection gets every change but its own; most batches have one origin,
        # so one message per distinct origin is built.
        by_origin: dict[str | None, Message | None] = {}
        kept: Message | None = None
        for connection in tuple(self.connections):
            origin = connection.origin
            if origin not in by_origin:
                subset = [e for e in encoded if e.origin is None or e.origin != origin]
                by_origin[origin] = patch_message(subset, seq) if subset else None
            message = by_origin[origin]
            if connection is keep_for:
                kept = message
            elif message is not None:
                await self._send(connection, message)
        return kept

    # -- requests from connections --------------------------------------------------

    async def pull(self, connection: Connection, request: Message) -> None:
        """Answer PULL-DOC-REQ with the whole document and the current position."""
        async with self.lock:
            doc_json, buffers = self.document.to_json()
            content = {"doc": doc_json, "seq": self.log.seq, "incarnation": self.incarnation}
            reply = new_message(PULL_DOC_REPLY, content, reqid=request.msgid, buffers=buffers)
            await self._send(connection, reply)

    async def push(self, connection: Connection, request: Message) -> None:
        """Replace the document with a client's PUSH-DOC."""
        async with self.lock:
            try:
                content = request.content.get("doc")
                self.document.replace_with_json(
                    content,
                    dict(request.buffers),
                    from_client=True,
                    allow_structure=self.allow_client_structure,
                    max_models=self._max_client_models,
                    max_array_elements=self._max_array_elements,
                    limits=self.limits,
                )
                self.client_models = len(self.document.models)  # every model came from the client
            except (DeserializationError, PatchError, ValueError, TypeError) as exc:
                await self._send(connection, error(request.msgid, f"push refused: {exc}", "bad-document"))
                return
            await self._finish()
            await self._send(connection, new_message(OK, {"seq": self.log.seq}, reqid=request.msgid))

    async def patch(self, connection: Connection, request: Message) -> None:
        """Apply a client's PATCH-DOC under the lock; answer OK or ERROR.

        The rule: a change based on position ``base`` that touches something another
        origin changed after ``base`` loses; the winning value is then sent to all.
        Refused changes are corrected the same way, so every document converges.
        """
        origin = connection.origin
        async with self.lock:
            self.touch()
            answer = self.log.answer(origin, request.msgid)
            if answer is not None:
                # Resent after a reconnect: applied once, never twice, answered the same.
                await self._answer_again(connection, request, answer)
                return
            base = request.content.get("base")
            if base is not None and type(base) is not int:
                await self._send(connection, error(request.msgid, "base must be an integer", "bad-patch"))
                return
            try:
                decoded = decode_client_patch(
                    self.document, request, origin, max_array_elements=self._max_array_elements
                )
            except (PatchError, DeserializationError) as exc:
                await self._refuse(connection, request, str(exc))
                return
            shifts: list[Shift] = []
            if base is not None and (base < self.fence(connection) or not self.log.reaches_back_to(base)):
                accepted, rejected = list[DocumentEvent](), decoded.events
            else:
                accepted, rejected, shifts = self._split_conflicts(decoded.events, base, origin)
            # Events naming a model that is gone (removed by a change that won) lose too;
            # there is nothing to correct, the sender receives (or received) the removal.
            # So do those on a model of the patch that no accepted event attaches.
            strays = stray_events(accepted, decoded.new_models)
            accepted = [e for e in accepted if all(e is not stray for stray in strays)]
            gone = decoded.skipped + len(strays)
            lost = _lost_indices(decoded, rejected + strays)
            decoded.events = accepted
            refusal: str | None = None
            before = self.log.seq
            self.acting = connection
            try:
                await self._apply(decoded, origin)
                self.splices.commit(origin, shifts)
            except PatchError as exc:
                refusal, rejected = str(exc), decoded.events + rejected
            finally:
                self.acting = None
            reset = self._correct(rejected)
            # The answer comes before anything this patch caused at its position (the
            # server's corrections, its callbacks' changes): the client knows, when they
            # arrive, that they come after its own changes.
            kept = await self._finish(keep_for=connection)
            applied_seq = self.log.seq
            if refusal is not None:
                await self._refuse(connection, request, refusal)
            else:
                count = len(rejected) + gone
                self.log.remember_applied(origin, request.msgid, applied_seq, rejected=count, lost=lost)
                reply: dict[str, Any] = {"seq": before if kept is not None else applied_seq, "rejected": count}
                reply.update(applied_seq=applied_seq, **({"lost": list(lost)} if count else {}))
                await self._send(connection, new_message(OK, reply, reqid=request.msgid))
            if kept is not None:
                await self._send(connection, kept)
            if reset:
                await self._reset(connection)

    async def _refuse(self, connection: Connection, request: Message, text: str) -> None:
        self.log.remember_applied(connection.origin, request.msgid, self.log.seq, error=(text, "patch-refused"))
        await self._send(connection, error(request.msgid, text, "patch-refused"))

    async def _answer_again(self, connection: Connection, request: Message, answer: Answer) -> None:
        if answer.error is not None:
            await self._send(connection, error(request.msgid, *answer.error))
            return
        # "seq" is the position now, as in every OK (all the changes up to it were sent
        # before this reply); "applied_seq" is where the patch took its place.
        reply: dict[str, Any] = {"seq": self.log.seq, "rejected": answer.rejected, "applied_seq": answer.seq}
        if answer.rejected:
            reply["lost"] = list(answer.lost)
        await self._send(connection, new_message(OK, reply, reqid=request.msgid))

    def fence(self, connection: Connection) -> int:
        """Return the position before which ``connection``'s patches lose (see ``fences``)."""
        return max(connection.fence, self.fences.get(connection.origin, 0))

    def set_fence(self, connection: Connection, seq: int) -> None:
        """Make ``connection``'s client lose every patch based before ``seq`` (its document was reset)."""
        connection.fence = seq
        self.fences.pop(connection.origin, None)
        self.fences[connection.origin] = seq
        while len(self.fences) > self.log.answers.max_clients:  # client ids are the client's choice
            forgotten = self.fences.pop(next(iter(self.fences)))
            self.log.answers.forget_before(forgotten)

    def _split_conflicts(
        self, events: list[DocumentEvent], base: int | None, origin: str
    ) -> tuple[list[DocumentEvent], list[DocumentEvent], list[Shift]]:
        if base is None:  # a client that does not track positions: last writer wins
            return events, [], []
        self.splices.catch_up(origin, base, self.log.list_changes(self.splices.upto(origin)), self.log.seq)
        accepted, rejected, shifts = [], [], []
        lost: list[Key] = []
        pending: dict[tuple[str, str], Shift] = {}
        for event in events:
            keys = conflict_keys(event)
            splice = isinstance(event, ev.ListSplicedEvent)
            # A later event of the same patch that overlaps one that lost was made on
            # top of it (a cell of rows just streamed, say): it loses too. A splice
            # loses to another origin's whole value of its list, not to its splices.
            clash = self.log.conflicts(keys, base, origin, splices=not splice)
            clash = clash or any(keys_overlap(k, x) for k in keys for x in lost)
            if splice and not clash:
                shift = self._shift(origin, event, pending)  # type: ignore[arg-type]
                clash = shift is None
                if shift is not None:
                    pending[shift.key] = shift
                    shifts.append(shift)
            if clash:
                rejected.append(event)
                lost.extend(keys)
            else:
                accepted.append(event)
        return accepted, rejected, shifts

    def _shift(self, origin: str, event: ev.ListSplicedEvent, pending: dict[tuple[str, str], Shift]) -> Shift | None:
        """Shift a client's splice past the other origins' splices it had not seen."""
        key = (event.model.id, event.attr)
        shift = self.splices.shift(origin, key, Splice(event.index, event.delete, len(event.items)), pending.get(key))
        if shift is not None:
            event.index, event.delete = shift.splice.index, shift.splice.delete
        return shift

    def _correct(self, rejected: list[DocumentEvent]) -> bool:
        """Queue the current value of every property a refused change touched.

        Returns True when a refused change was structural (roots), which is corrected
        by resetting the sender's whole document instead.
        """
        done: set[tuple[str, str]] = set()
        reset = False
        for event in rejected:
            if isinstance(event, ev.TitleChangedEvent):
                self._record(ev.TitleChangedEvent(self.document.title))
                continue
            if isinstance(event, ev.RootAddedEvent | ev.RootRemovedEvent):
                reset = True
                continue
            key = event.property_key()
            if key is None or key in done:
                continue
            done.add(key)
            model = self.document.get_model_by_id(key[0])
            if model is not None and model.has_property(key[1]):
                self._record(correction(model, key[1]))
        return reset

    async def _reset(self, connection: Connection) -> None:
        # The reset takes a position of its own (an empty entry, sent to no one): a
        # client whose last position is before it has not received it, and a resume
        # from there must reset it again (see resume.py).
        self.log.append([])
        doc_json, buffers = self.document.to_json()
        self.set_fence(connection, self.log.seq)
        message = new_message(PUSH_DOC, {"doc": doc_json, "seq": self.log.seq}, buffers=buffers)
        # Every connection of the client: the one this patch came on may be a socket
        # that died while its messages were still being handled, the client resumed.
        for other in tuple(self.connections):
            if other is connection or other.origin == connection.origin:
                await self._send(other, message)

    async def _apply(self, decoded: DecodedPatch, origin: str) -> None:
        document = self.document
        if self.client_models + len(decoded.new_models) > self._max_client_models:
            raise PatchError(f"too many models created by clients: at most {self._max_client_models}")

        def apply() -> None:
            # The changes carry their origin, so that they are not echoed to it.
            document.apply_patch(
                decoded,
                setter=origin,
                from_client=True,
                allow_structure=self.allow_client_structure,
                limits=self.limits,
            )

        # Sync callbacks may block or use the ORM: when the patch will trigger any,
        # the whole application runs in a worker thread, still under the lock.
        if _triggers_callbacks(document, decoded.events):
            await run_sync(apply)
        else:
            apply()
        self.client_models += len(decoded.new_models)

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
        if threading.get_ident() != self._loop_thread:
            self._loop.call_soon_threadsafe(self.callback_added, callback)
            return
        if self.callbacks_stopped or callback.id in self._tasks:
            return
        self._tasks[callback.id] = self._loop.create_task(self._run_callback(callback))

    def callback_removed(self, callback: SessionCallback) -> None:
        """Unschedule a callback the document dropped."""
        if threading.get_ident() != self._loop_thread:
            self._loop.call_soon_threadsafe(self.callback_removed, callback)
            return
        task = self._tasks.pop(callback.id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _run_callback(self, callback: SessionCallback) -> None:
        try:
            if callback.kind == "periodic":
                while not self.callbacks_stopped:
                    await asyncio.sleep(callback.delay)
                    await self._invoke(callback)
                return
            if callback.delay:
                await asyncio.sleep(callback.delay)
            else:
                await asyncio.sleep(0)
            self._tasks.pop(callback.id, None)
            if not self.callbacks_stopped:
                self.document.callback_done(callback)
                await self._invoke(callback)
        except asyncio.CancelledError:
            raise

    async def _invoke(self, callback: SessionCallback) -> None:
        if self.callbacks_stopped:
            return
        # An invocation, once started, runs to its end: a sync callback cannot be
        # stopped in its worker thread, and cancelling the task awaiting it would
        # release the lock while the callback still runs.
        invocation = self._loop.create_task(self._invoke_now(callback))
        self._running.add(invocation)
        invocation.add_done_callback(self._running.discard)
        await asyncio.shield(invocation)

    async def _invoke_now(self, callback: SessionCallback) -> None:
        if not callback.locked:
            await self._call_logged(callback.callback)
            return
        async with self.lock:
            if self.callbacks_stopped:
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
        self.callbacks_stopped = True
        for task in list(self._tasks.values()):
            if task is not asyncio.current_task():
                task.cancel()
        self._tasks.clear()
        # Callbacks already running finish first, so that none runs after this returns.
        running = [task for task in self._running if task is not asyncio.current_task()]
        if running:
            await asyncio.gather(*running, return_exceptions=True)

    async def destroy(self) -> None:
        """Stop every callback, then drop the document so its memory is freed."""
        if self.destroyed:
            return
        await self.destroy_callbacks()
        self.destroyed = True
        async with self.lock:
            self.document.set_callback_scheduler(None)
            self.document.destroy()
            self._outbox.clear()
            self.connections.clear()


def _lost_indices(decoded: DecodedPatch, rejected: list[DocumentEvent]) -> tuple[int, ...]:
    """The places, in the patch as sent, of its events that lost (rejected or gone)."""
    kept = set(decoded.indices)
    gone = [i for i in range(len(decoded.indices) + decoded.skipped) if i not in kept]
    lost = {id(e) for e in rejected}
    return tuple(sorted(gone + [i for e, i in zip(decoded.events, decoded.indices, strict=True) if id(e) in lost]))


def _is_sync(callbacks: Any) -> bool:
    return any(not inspect.iscoroutinefunction(cb) for cb in callbacks or ())


def _triggers_callbacks(document: Document, events: list[DocumentEvent]) -> bool:
    """Tell whether applying ``events`` calls sync user code (which needs a thread).

    Coroutine callbacks are only created here and awaited on the loop afterwards, so a
    patch that triggers nothing but those is applied without a thread hop.
    """
    for event in events:
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
