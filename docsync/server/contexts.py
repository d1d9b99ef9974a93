"""What application code may see of the server and of its session (nothing more)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ..document import Document, SessionCallback
from ..document.callbacks import CallbackKind
from .session import ServerSession

__all__ = ["ApplicationView", "ServerContext", "SessionContext", "SessionRequest"]


class ApplicationView(Protocol):
    """What a ServerContext reaches of its ApplicationContext."""

    path: str

    @property
    def sessions(self) -> Mapping[str, ServerSession]:
        """The sessions held by this process, by id."""
        ...

    def add_callback(self, callback: Callable[[], Any], kind: CallbackKind, delay: float) -> SessionCallback:
        """Schedule an application-level callback."""
        ...

    def remove_callback(self, callback: SessionCallback) -> None:
        """Cancel an application-level callback."""
        ...

    def broadcast_from_any_thread(self, msg_type: str, msg_data: Any) -> int:
        """Queue a message for every session of the app, in every process; never wait."""
        ...


class SessionRequest(dict[str, Any]):
    """The request a session was made for, as Bokeh's ``session_context.request``.

    ``arguments``: the page's query arguments ({name: [values]}); ``headers`` and
    ``cookies``: the page request's, as ``DOCSYNC["INCLUDE_HEADERS"]`` and its siblings
    let through (credentials stay out); ``user``: the Django user; ``path``: the app's.
    The same values are its keys, for code that reads it as a dict.
    """

    @property
    def arguments(self) -> dict[str, list[str]]:
        """The page's query arguments."""
        return dict(self.get("arguments") or {})

    @property
    def headers(self) -> dict[str, str]:
        """The page request's headers the settings let through."""
        return dict(self.get("headers") or {})

    @property
    def cookies(self) -> dict[str, str]:
        """The page request's cookies the settings let through."""
        return dict(self.get("cookies") or {})

    @property
    def user(self) -> Any:
        """The Django user the session was made for (AnonymousUser when not logged in)."""
        return self.get("user")

    @property
    def path(self) -> str:
        """The application's path."""
        return str(self.get("path", ""))


class SessionContext:
    """A session as application code sees it: id, request, user, locked document access."""

    def __init__(self, session: ServerSession, server_context: ServerContext) -> None:
        self._session = session
        self.server_context = server_context

    @property
    def id(self) -> str:
        """The session id."""
        return self._session.id

    @property
    def request(self) -> SessionRequest:
        """The page request: ``.arguments``, ``.headers``, ``.cookies``, ``.user``, ``.path`` (also as keys)."""
        # The anonymous visitor's id (admission/visitors.py) is docsync's, not the page request's.
        return SessionRequest({k: v for k, v in self._session.request.items() if k != "visitor"})

    @property
    def arguments(self) -> dict[str, list[str]]:
        """The page request's query arguments."""
        return dict(self._session.request.get("arguments", {}))

    @property
    def user(self) -> Any:
        """The Django user acting now (AnonymousUser when not logged in).

        While a client's change is handled (its callbacks run), the user of the
        connection that sent it; otherwise (periodic and timeout callbacks, the
        session's creation) the user the session was made for.
        """
        acting = getattr(self._session, "acting", None)
        if acting is not None and getattr(acting, "user", None) is not None:
            return acting.user
        return self._session.request.get("user")

    @property
    def users(self) -> list[Any]:
        """The Django users of the session's connections now, each once (a shareable session may have several)."""
        seen: dict[Any, Any] = {}
        for connection in list(self._session.connections):
            user = getattr(connection, "user", None)
            if user is not None:
                seen.setdefault(getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None, user)
        return list(seen.values())

    @property
    def destroyed(self) -> bool:
        """Whether the session has been destroyed."""
        return self._session.destroyed

    async def with_locked_document(self, func: Callable[[Document], Any]) -> Any:
        """Run ``func(doc)`` holding the session lock; changes made are sent to clients."""
        return await self._session.with_document_locked(func)


class ServerContext:
    """The application's view of the server: its sessions, callbacks and broadcast."""

    def __init__(self, application_context: ApplicationView) -> None:
        self._app_context = application_context

    @property
    def app_path(self) -> str:
        """The URL path of the application."""
        return self._app_context.path

    @property
    def sessions(self) -> list[SessionContext]:
        """The sessions of this application held by this process."""
        return [s.context for s in self._app_context.sessions.values() if not s.destroyed and s.context is not None]

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
        """Send a message to every session of this application, in every process; return at once.

        Each session gets it under its own lock as soon as that lock is free, so a
        callback may broadcast (its own session gets the message once it ends).
        Returns how many sessions of this process it was queued for.
        """
        return self.broadcast_nowait(msg_type, msg_data)

    def broadcast_nowait(self, msg_type: str, msg_data: Any = None) -> int:
        """``broadcast`` for sync code: callable from a sync callback's worker thread, or the loop."""
        return self._app_context.broadcast_from_any_thread(msg_type, msg_data)
