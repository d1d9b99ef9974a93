"""What application code may see of the server and of its session (nothing more)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..document import Document, SessionCallback

__all__ = ["ServerContext", "SessionContext"]


class SessionContext:
    """A session as application code sees it: id, request, user, locked document access."""

    def __init__(self, session: Any, server_context: ServerContext) -> None:
        self._session = session
        self.server_context = server_context

    @property
    def id(self) -> str:
        """The session id."""
        return str(self._session.id)

    @property
    def request(self) -> dict[str, Any]:
        """The page request's arguments (``{"arguments": {name: [values]}}``) and path."""
        return dict(self._session.request)

    @property
    def arguments(self) -> dict[str, list[str]]:
        """The page request's query arguments."""
        return dict(self._session.request.get("arguments", {}))

    @property
    def user(self) -> Any:
        """The Django user of the page request (AnonymousUser when not logged in)."""
        return self._session.request.get("user")

    @property
    def destroyed(self) -> bool:
        """Whether the session has been destroyed."""
        return bool(self._session.destroyed)

    async def with_locked_document(self, func: Callable[[Document], Any]) -> Any:
        """Run ``func(doc)`` holding the session lock; changes made are sent to clients."""
        return await self._session.with_document_locked(func)


class ServerContext:
    """The application's view of the server: its sessions, callbacks and broadcast."""

    def __init__(self, application_context: Any) -> None:
        self._app_context = application_context

    @property
    def app_path(self) -> str:
        """The URL path of the application."""
        return str(self._app_context.path)

    @property
    def sessions(self) -> list[SessionContext]:
        """The sessions of this application held by this process."""
        return [s.context for s in self._app_context.sessions.values() if not s.destroyed]

    def add_next_tick_callback(self, callback: Callable[[], Any]) -> SessionCallback:
        """Run ``callback`` once, soon (no session lock is held)."""
        return self._app_context.add_callback(callback, "next_tick", 0.0)

    def add_timeout_callback(self, callback: Callable[[], Any], timeout_milliseconds: float) -> SessionCallback:
        """Run ``callback`` once after the timeout."""
        return self._app_context.add_callback(callback, "timeout", timeout_milliseconds / 1000)

    def add_periodic_callback(self, callback: Callable[[], Any], period_milliseconds: float) -> SessionCallback:
        """Run ``callback`` every period, until removed or the application unloads."""
        return self._app_context.add_callback(callback, "periodic", period_milliseconds / 1000)

    def remove_callback(self, callback: SessionCallback) -> None:
        """Remove a callback added here."""
        self._app_context.remove_callback(callback)

    remove_next_tick_callback = remove_timeout_callback = remove_periodic_callback = remove_callback

    async def broadcast(self, msg_type: str, msg_data: Any = None) -> int:
        """Send a message to every session of this application; return how many got it."""
        return int(await self._app_context.broadcast_everywhere(msg_type, msg_data))
