"""ApplicationContext: an application, its path, its server context and its sessions."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
from collections.abc import Callable
from typing import Any, Protocol

from ..conf import docsync_settings
from ..document import Document, SessionCallback
from ..document.callbacks import CallbackKind
from ..exceptions import (
    ApplicationLoadError,
    SessionExpiredError,
    SessionLimitError,
    SnapshotError,
    StoreUnavailableError,
)
from ..handlers import Application
from ..limits import document_limits
from ..protocol import error
from ..sync.sequencer import Sequencer
from .cluster_link import ClusterLink
from .contexts import ServerContext, SessionContext
from .executor import call_user_code, run_sync
from .failed_sessions import FailedSessions
from .persistence import SnapshotKeeper, keeper_of, restoring_request
from .serial_calls import SerialCalls
from .session import ServerSession

__all__ = ["ApplicationContext", "ClusterHolder"]

logger = logging.getLogger("docsync.server")

_EXPIRE_BATCH = 50  # sessions destroyed between two turns of the event loop
#: Broadcasts that may wait for one session's lock (or, in a cluster, for Redis); a
#: broadcast beyond them skips that session (logged): a bound, not a flow to expect.
MAX_WAITING_BROADCASTS = 1000


class ClusterHolder(Protocol):
    """Where an application context finds the cluster, once the process has joined one."""

    cluster: ClusterLink | None
    keeper: SnapshotKeeper | None


class ApplicationContext:
    """One application served at one path, with the sessions made from it."""

    kind = "docsync"  # the document kind (dialects.py)

    def __init__(self, application: Application, path: str, *, options: dict[str, Any]) -> None:
        self.application = application
        self.path = path
        self.options = options
        self.server_context = ServerContext(self)
        self.sessions: dict[str, ServerSession] = {}
        self._creating: dict[str, asyncio.Future[ServerSession]] = {}
        self._callback_tasks: dict[int, asyncio.Task[None]] = {}
        # Expired sessions destroyed in tasks of their own (see ``cleanup``), until they are.
        self._discarding: set[asyncio.Task[None]] = set()
        self.loaded = False
        self.registry: ClusterHolder | None = None  # set by the registry; reaches the cluster, if any
        self.sessions_created = 0
        self.sessions_destroyed = 0
        # Sessions whose making failed: tried again after a wait, then not at all.
        self.failed_sessions = FailedSessions(docsync_settings().SESSION_RETRY_BACKOFF)
        self._loop: asyncio.AbstractEventLoop | None = None
        # Per session, the broadcasts waiting for its lock (while any wait), and the
        # broadcasts waiting to be published to the cluster.
        self._deliveries: dict[str, SerialCalls] = {}
        self._publisher = SerialCalls(f"broadcasts of {path!r}", max_calls=MAX_WAITING_BROADCASTS)

    def client_structure(self) -> bool:
        """Whether clients may change the title and roots of its sessions and create models.

        The application's ``allow_client_structure`` decides; by default (None) a shared
        or shareable app's sessions, which other users see, refuse it: a stranger in a
        room could otherwise remove its roots and show everyone a document of its own.
        """
        setting = self.application.allow_client_structure
        if setting is not None:
            return bool(setting)
        options = self.options
        return not (getattr(self.application, "shared", False) or options.get("shared") or options.get("shareable"))

    async def load(self) -> None:
        """Run ``on_server_loaded`` once."""
        self._loop = asyncio.get_running_loop()
        if self.loaded:
            return
        self.loaded = True
        await self._hook("on_server_loaded", self.server_context)

    async def unload(self) -> None:
        """Destroy every session, stop app callbacks, run ``on_server_unloaded``."""
        if self._discarding:  # expired sessions whose callbacks still ran: destroyed before the unload
            await asyncio.gather(*list(self._discarding), return_exceptions=True)
        for session in list(self.sessions.values()):
            await self.discard_session(session)
        for task in self._callback_tasks.values():
            task.cancel()
        self._callback_tasks.clear()
        if self.loaded:
            self.loaded = False
            await self._hook("on_server_unloaded", self.server_context)

    async def _hook(self, name: str, context: Any) -> None:
        try:
            await self.application.call_hook(name, context, run_sync)
        except Exception:
            logger.exception("error in %s of application %s", name, self.path)

    # -- sessions -------------------------------------------------------------------

    def get_session(self, session_id: str) -> ServerSession | None:
        """Return the live session ``session_id``, or None."""
        session = self.sessions.get(session_id)
        return session if session is not None and not session.destroyed else None

    def making(self, session_id: str) -> bool:
        """Tell whether session ``session_id`` is being made now (its first opener awaits it)."""
        return session_id in self._creating

    async def create_session_if_needed(
        self,
        session_id: str,
        request: dict[str, Any],
        settings: Any,
        total_sessions: int,
        *,
        admit: Callable[[], None] | None = None,
    ) -> ServerSession:
        """Return session ``session_id``, creating it (once, even if asked concurrently).

        ``admit``: called when it is made new (the store holds no snapshot of it), before
        any app code runs; what it raises refuses the session (NEW_SESSIONS_PER_CLIENT_*).
        """
        session = self.get_session(session_id)
        if session is not None:
            return session
        pending = self._creating.get(session_id)
        if pending is not None:
            return await asyncio.shield(pending)
        if total_sessions >= settings.MAX_SESSIONS:
            raise SessionLimitError(f"this process holds its maximum of {settings.MAX_SESSIONS} sessions")
        future: asyncio.Future[ServerSession] = asyncio.get_running_loop().create_future()
        self._creating[session_id] = future
        try:
            session = await self._create(session_id, request, settings, admit)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: the first caller re-raises it
            raise
        finally:
            self._creating.pop(session_id, None)
        future.set_result(session)
        return session

    async def _create(
        self, session_id: str, request: dict[str, Any], settings: Any, admit: Callable[[], None] | None = None
    ) -> ServerSession:
        if self.application.failed:
            # Some failed handlers could still fill a document (a directory app whose
            # hooks file broke): no session of a failed application may run.
            raise ApplicationLoadError(f"application failed to load: {self.application.error}")
        await self.load()
        keeper = keeper_of(self.registry) if self.registry is not None else None
        # Read before anything is locked (the store is I/O): a session whose process died.
        snapshot = await keeper.load(self, session_id) if keeper is not None else None
        if snapshot is None and admit is not None:
            admit()  # a new session (a restore is not one): the client's bucket, before any app code
        if snapshot is not None:
            # The app runs with the arguments it was made with, not the restoring page's.
            request = restoring_request(request, snapshot.request)
        document = Document(max_upload_bytes=settings.MAX_UPLOAD_BYTES)
        structure = self.application.allow_client_structure
        sequencer = Sequencer(
            document,
            allow_client_structure=self.client_structure(),
            # A push comes from the client making the session, before anyone joins it.
            allow_pushed_structure=structure is not False,
            log_entries=settings.PATCH_LOG_SIZE,
            log_bytes=settings.PATCH_LOG_BYTES,
            max_answers=settings.REMEMBERED_ANSWERS,
            max_answer_clients=settings.REMEMBERED_CLIENTS,
            max_client_models=settings.MAX_CLIENT_MODELS,
            max_array_elements=settings.MAX_ARRAY_ELEMENTS,
            limits=document_limits(settings),
            filling=True,
            encodings=getattr(self.registry, "encoded_documents", None),
        )
        session = ServerSession(session_id, sequencer, app_path=self.path, request=request)
        session.context = SessionContext(session, self.server_context)
        document.session_context = session.context
        # The document is filled before anyone can see the session, so no lock is
        # contended here; it is held anyway, as the rule says.
        async with session.lock:
            await self.application.call_hook("on_session_created", session.context, run_sync)
            await self.application.initialize_document(document, run_sync)
            document.set_callback_scheduler(session)
            await session.finish_changes()
        session.sequencer.restart()  # the filled document is position 0 for every client
        if keeper is not None:
            async with session.lock:
                keeper.made(self, session, snapshot, settings.MAX_ARRAY_ELEMENTS)
            if snapshot is not None:
                await self.application.call_hook("on_session_restored", session.context, run_sync)
            else:
                try:
                    await keeper.save_first(session)
                except (StoreUnavailableError, SnapshotError):
                    # Not in the store, so not made: its client retries (1013), or, for a
                    # document over MAX_SNAPSHOT_BYTES, is refused as an application failure.
                    keeper.dropped(session)
                    await session.destroy_callbacks()
                    await self._hook("on_session_destroyed", session.context)
                    await session.destroy()
                    raise
        self.sessions[session_id] = session
        self.sessions_created += 1
        return session

    async def discard_session(self, session: ServerSession, *, told: str | None = None) -> None:
        """Destroy a session: callbacks stop first, then ``on_session_destroyed`` runs once.

        ``told``: a reason its pages are told in an ERROR before the close (the admin's
        "expire now"); without one they see only the close, "session expired".
        """
        if self.sessions.get(session.id) is not session or session.destroyed:
            return
        del self.sessions[session.id]
        cluster = self.registry.cluster if self.registry is not None else None
        if cluster is not None:
            # Its holder outlived it in the directory (as long as its claim): a page on any
            # process naming it by ?session_id= joined the ended id, where one process alone
            # hands out a new session. Forgotten before its clients hear it ended.
            try:
                await cluster.forget_holder(session.id)
            except Exception:  # Redis away: the holder expires with the claim
                logger.warning("cluster: could not forget the holder of session %s", session.id, exc_info=True)
        deliveries = self._deliveries.pop(session.id, None)
        if deliveries is not None:
            deliveries.clear()
        context = session.context
        for connection in list(session.connections):
            try:
                if told is not None:
                    connection.queue_message(error(None, told, SessionExpiredError.error_kind))
                connection.queue_close(SessionExpiredError.close_code, told or "session expired")
            except Exception:
                logger.debug("could not close %r", connection, exc_info=True)
        await session.destroy_callbacks()
        await self._hook("on_session_destroyed", context)
        await session.destroy()
        self.sessions_destroyed += 1
        keeper = keeper_of(self.registry) if self.registry is not None else None
        if keeper is not None:
            await keeper.forget(session)

    async def cleanup(self, lifetime: float) -> int:
        """Destroy sessions that have had no connection for ``lifetime`` seconds."""
        expired = [s for s in self.sessions.values() if s.expired(lifetime)]
        for done, session in enumerate(expired, 1):
            if session.lock.locked() or session.callback_tasks.running:
                # A callback of it still runs (a slow query, an unlocked coroutine), and
                # destroying it waits for that: in a task of its own, so that no other
                # session's expiry (and the client slot it gives back) waits behind it.
                self._discard_apart(session)
            else:
                await self.discard_session(session)
            if done % _EXPIRE_BATCH == 0:
                # Destroying thousands of sessions awaits nothing that yields: let the
                # connections being opened meanwhile through, batch by batch.
                await asyncio.sleep(0)
        return len(expired)

    def _discard_apart(self, session: ServerSession) -> None:
        task = asyncio.get_running_loop().create_task(self.discard_session(session))
        self._discarding.add(task)
        task.add_done_callback(self._discarded_apart)

    def _discarded_apart(self, task: asyncio.Task[None]) -> None:
        self._discarding.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("error expiring a session of %s", self.path, exc_info=task.exception())

    def broadcast_from_any_thread(self, msg_type: str, msg_data: Any) -> int:
        """``broadcast_everywhere`` from the event loop or from a worker thread (a sync callback)."""
        loop = self._loop
        if loop is None or _running_loop() is loop:
            return self.broadcast_everywhere(msg_type, msg_data)
        # A worker thread: the loop queues it (a moment's work; no session lock is awaited).
        done: concurrent.futures.Future[int] = concurrent.futures.Future()

        def queue() -> None:
            try:
                done.set_result(self.broadcast_everywhere(msg_type, msg_data))
            except BaseException as exc:
                done.set_exception(exc)

        loop.call_soon_threadsafe(queue)
        return done.result()

    def broadcast_everywhere(self, msg_type: str, msg_data: Any) -> int:
        """Send a message to every session of this app, in every process of the cluster; never wait.

        Returns the number of sessions of this process it is queued for (in a cluster,
        the sessions of this process, which it reaches through the channel layer too).
        """
        cluster = self.registry.cluster if self.registry is not None else None
        if cluster is not None:
            # Published by a task of its own, in order: the caller may hold a session lock.
            self._publisher.put(functools.partial(cluster.broadcast, self.path, msg_type, msg_data))
            return len(self.sessions)
        return self.broadcast(msg_type, msg_data)

    def broadcast(self, msg_type: str, msg_data: Any) -> int:
        """Queue a message for every session held here; return how many it was queued for.

        Each session gets it under its own lock, as soon as that lock is free (after
        the callback that broadcast, for the caller's own session), in the order sent.
        """
        deliver = self._broadcast_delivery(msg_type, msg_data)
        count = 0
        for session in list(self.sessions.values()):
            if not session.destroyed and self._session_calls(session).put(
                functools.partial(_deliver, session, deliver)
            ):
                count += 1
        return count

    def _broadcast_delivery(self, msg_type: str, msg_data: Any) -> Callable[[Any], None]:
        """What a broadcast does to each session's document (under its lock)."""

        def send(doc: Document) -> None:
            doc.send_message(msg_type, msg_data)

        return send

    def _forget_calls(self, session_id: str) -> None:
        self._deliveries.pop(session_id, None)

    def _session_calls(self, session: Any) -> SerialCalls:
        calls = self._deliveries.get(session.id)
        if calls is None:
            calls = SerialCalls(
                f"broadcasts to session {session.id}",
                max_calls=MAX_WAITING_BROADCASTS,
                on_idle=functools.partial(self._forget_calls, session.id),
            )
            self._deliveries[session.id] = calls
        return calls

    # -- application callbacks ------------------------------------------------------

    def add_callback(self, callback: Callable[[], Any], kind: CallbackKind, delay: float) -> SessionCallback:
        """Schedule an application-level callback (no session lock held)."""
        entry = SessionCallback(callback, kind, delay, locked=False)
        self._callback_tasks[entry.id] = asyncio.get_running_loop().create_task(self._run(entry))
        return entry

    def remove_callback(self, callback: SessionCallback) -> None:
        """Cancel an application-level callback."""
        task = self._callback_tasks.pop(callback.id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _run(self, entry: SessionCallback) -> None:
        while True:
            await asyncio.sleep(entry.delay)
            try:
                await call_user_code(entry.callback)
            except Exception:
                logger.exception("error in application callback %r of %s", entry.callback, self.path)
            if entry.kind != "periodic":
                self._callback_tasks.pop(entry.id, None)
                return


async def _deliver(session: Any, deliver: Callable[[Any], None]) -> None:
    if not session.destroyed:
        await session.with_document_locked(deliver)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # a worker thread
        return None
