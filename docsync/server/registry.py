"""SessionRegistry: the one process-wide global, holding every ApplicationContext."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from ..conf import docsync_settings
from ..document import DocumentShares
from ..exceptions import NoSuchApplicationError, SessionLimitError
from ..sync.encoded_documents import EncodedDocuments
from .admin_support.live_table import LiveTableWriter
from .app_loader import AppSpec, app_specs
from .application_context import ApplicationContext
from .clients import ClientTally, NewSessionRate
from .cluster_link import ClusterLink
from .dialects import Dialect, get_dialect
from .incomplete import IncompleteBytes
from .message_rates import ClientRates
from .persistence import SnapshotKeeper, start_persistence
from .queued_shares import QueuedShares
from .session import ServerSession

__all__ = ["SessionRegistry", "get_registry", "set_registry"]

logger = logging.getLogger("docsync.server")


class SessionRegistry:
    """Every application of this process, by path, and the expiry of their sessions."""

    def __init__(self) -> None:
        self.process_id = f"{socket.gethostname()}:{os.getpid()}"
        self._contexts: dict[str, ApplicationContext] = {}
        self._specs: dict[str, AppSpec] | None = None
        self._cleanup_task: asyncio.Task[None] | None = None
        self._sweep: asyncio.Task[int] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.live_table = LiveTableWriter(self)
        self.cluster: ClusterLink | None = None
        self._cluster_lock: asyncio.Lock | None = None
        #: Bytes every websocket of this process holds in incomplete messages (their cap).
        self.incomplete_bytes = IncompleteBytes()
        #: The whole documents its sessions keep encoded for pulls, full resumes and resets (a byte bound).
        self.encoded_documents = EncodedDocuments()
        #: What each client holds of this process (MAX_SESSIONS_PER_CLIENT, MAX_CONNECTIONS_PER_CLIENT).
        self.clients = ClientTally()
        #: How fast each client makes sessions (NEW_SESSIONS_PER_CLIENT_BURST, _PER_SECOND).
        self.new_session_rate = NewSessionRate()
        #: How fast each client's websockets send, together and across reconnects (MAX_PATCHES_PER_SECOND_PER_CLIENT).
        self.client_rates = ClientRates()
        #: What each client's websockets hold of outgoing messages (MAX_QUEUED_BYTES_PER_CLIENT).
        self.queued_shares = QueuedShares()
        #: The documents of each client's sessions (MAX_DOCUMENT_BYTES_PER_CLIENT).
        self.document_shares = DocumentShares()
        #: Sessions refused because the process held MAX_SESSIONS (``/docsync-metrics``).
        self.session_limit_refusals = 0
        #: Websockets a session refused (4008), per limit: counted by the session's owner.
        self.connection_refusals = {"MAX_CONNECTIONS_PER_SESSION": 0, "MAX_CONNECTIONS_PER_SESSION_PER_CLIENT": 0}
        #: Times a websocket's reading paused: what it sent waited for its session past its bound.
        self.reads_paused = 0
        #: Snapshots, restore and drain (persistence/), made on first use when DOCSYNC["PERSISTENCE"] is set.
        self.keeper: SnapshotKeeper | None = None

    def count_read_pause(self) -> None:
        """Count a websocket whose reading paused (``/docsync-metrics`` shows the total)."""
        self.reads_paused += 1

    # -- applications ---------------------------------------------------------------

    def specs(self) -> dict[str, AppSpec]:
        """The configured applications by path (read from the settings once)."""
        if self._specs is None:
            self._specs = {spec.path: spec for spec in app_specs(docsync_settings().APPS)}
        return self._specs

    def app_paths(self) -> list[str]:
        """The paths of every configured application."""
        return list(self.specs())

    def get_context(self, path: str) -> ApplicationContext | None:
        """Return the context of the application at ``path`` (building it on first use)."""
        context = self._contexts.get(path)
        if context is None:
            spec = self.specs().get(path)
            if spec is None:
                return None
            context = get_dialect(spec.kind).make_context(spec)
            context.registry = self
            self._contexts[path] = context
        return context

    def dialect(self, path: str) -> Dialect:
        """The dialect (document kind) of the application at ``path`` (docsync's if unknown)."""
        spec = self.specs().get(path)
        return get_dialect(spec.kind if spec is not None else None)

    @property
    def contexts(self) -> list[ApplicationContext]:
        """The contexts built so far."""
        return list(self._contexts.values())

    def sessions(self) -> list[ServerSession]:
        """Every live session of this process."""
        return [s for c in self._contexts.values() for s in c.sessions.values() if not s.destroyed]

    def session_count(self) -> int:
        """How many sessions this process holds (without listing them)."""
        return sum(len(context.sessions) for context in self._contexts.values())

    def find_session(self, session_id: str) -> ServerSession | None:
        """Return the live session with ``session_id`` from any application, or None."""
        for context in self._contexts.values():
            session = context.get_session(session_id)
            if session is not None:
                return session
        return None

    async def open_session(
        self, path: str, session_id: str, request: dict[str, Any], *, client: str | None = None
    ) -> ServerSession:
        """Return session ``session_id`` of app ``path``, creating it if needed.

        ``client``: whom a new session counts against (clients.client_key; None: no one):
        its live sessions (``MAX_SESSIONS_PER_CLIENT``) and how fast it makes them
        (``NEW_SESSIONS_PER_CLIENT_PER_SECOND``); joining a live session counts in neither,
        and restoring one from the store counts in the first only.
        """
        context = self.get_context(path)
        if context is None:
            raise NoSuchApplicationError(f"no application at {path!r}")
        self.ensure_cleanup()
        settings = docsync_settings()
        per_client = settings.MAX_SESSIONS_PER_CLIENT
        if context.get_session(session_id) is None and (
            self.session_count() >= settings.MAX_SESSIONS or self.clients.full("sessions", client, per_client)
        ):
            await self._sweep_expired()  # at a cap, expired sessions make room before anyone is refused
        slot = None
        admit: Callable[[], None] | None = None
        maker = context.get_session(session_id) is None and not context.making(session_id)
        if maker:
            # Taken with no await before the session is being made: a client opening many
            # at once cannot slip past its limit.
            slot = self.clients.take("sessions", client, per_client)

            def admit() -> None:
                # Each new session runs the app's code: a client opening and dropping them
                # cannot make it run faster than its bucket allows (refused: nothing made).
                # Called by the context once the store holds no snapshot of the session, before
                # any app code: a restore takes no token (docs/persistence.md, Restore).
                rate = settings.NEW_SESSIONS_PER_CLIENT_PER_SECOND
                self.new_session_rate.take(client, settings.NEW_SESSIONS_PER_CLIENT_BURST, rate)

        try:
            session = await context.create_session_if_needed(
                session_id, request, settings, self.session_count(), admit=admit
            )
        except BaseException as exc:
            if slot is not None:
                slot.release()
            if isinstance(exc, SessionLimitError):
                self.session_limit_refusals += 1
            raise
        if slot is not None:
            if session.client_slot is None and not session.destroyed:
                session.client_slot = slot
            else:
                slot.release()
        if maker and session.document_share is None and not session.destroyed:
            # Its maker's, whoever changes it (as its count of sessions): no await since it was made.
            share = self.document_shares.join(client, settings.MAX_DOCUMENT_BYTES_PER_CLIENT)
            if share is not None:
                session.count_document(share)
        return session

    async def _sweep_expired(self) -> None:
        # One sweep for every opener that reaches the cap at once.
        if self._sweep is None or self._sweep.done():
            self._sweep = asyncio.get_running_loop().create_task(self.cleanup_now())
        await asyncio.shield(self._sweep)

    # -- cluster ----------------------------------------------------------------------

    async def join_cluster(self, join: Callable[[SessionRegistry], Awaitable[ClusterLink]]) -> ClusterLink:
        """Join the cluster once with ``join(self)`` (concurrent callers wait for the first)."""
        if self.cluster is not None:
            return self.cluster
        if self._cluster_lock is None:
            self._cluster_lock = asyncio.Lock()
        async with self._cluster_lock:
            if self.cluster is None:
                self.cluster = await join(self)
        return self.cluster

    # -- expiry and shutdown --------------------------------------------------------

    def ensure_cleanup(self) -> None:
        """Start the periodic expiry of unused sessions on the running loop."""
        loop = asyncio.get_running_loop()
        if self._cleanup_task is None or self._cleanup_task.done() or self._loop is not loop:
            self._loop = loop
            self._cleanup_task = loop.create_task(self._cleanup_forever())
        if float(docsync_settings().ADMIN_REFRESH) > 0:
            self.live_table.ensure_started()
        start_persistence(self)

    async def _cleanup_forever(self) -> None:
        while True:
            settings = docsync_settings()
            await asyncio.sleep(float(settings.CHECK_UNUSED_SESSIONS))
            await self.cleanup_now()

    async def cleanup_now(self) -> int:
        """Destroy every expired session now; return how many."""
        lifetime = float(docsync_settings().UNUSED_SESSION_LIFETIME)
        destroyed = 0
        for context in list(self._contexts.values()):
            try:
                destroyed += await context.cleanup(lifetime)
            except Exception:
                logger.exception("error expiring sessions of %s", context.path)
        return destroyed

    async def shutdown(self) -> None:
        """Destroy every session and run ``on_server_unloaded`` of every loaded app."""
        if self._cleanup_task is not None:
            self._cleanup_task.cancel()
            self._cleanup_task = None
        if self.keeper is not None and not self.keeper.draining:
            await self.keeper.drain()  # a clean stop without SIGTERM (lifespan, exit): sessions are kept too
        for context in list(self._contexts.values()):
            await context.unload()
        if self.keeper is not None:
            await self.keeper.stop()
        await self.live_table.stop()
        if self.cluster is not None:
            await self.cluster.stop()
            self.cluster = None


_registry: SessionRegistry | None = None


def get_registry() -> SessionRegistry:
    """Return the process-wide registry."""
    global _registry
    if _registry is None:
        _registry = SessionRegistry()
    return _registry


def set_registry(registry: SessionRegistry | None) -> None:
    """Replace the process-wide registry (tests)."""
    global _registry
    _registry = registry
