"""What a Bokeh app sees of docsync's server and of its session: Bokeh's own context API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bokeh.application.application import ServerContext, SessionContext

__all__ = ["BokehRequest", "BokehServerContext", "BokehSessionContext"]


class BokehRequest:
    """``session_context.request`` as Bokeh apps read it: arguments (bytes), cookies, headers.

    Arguments, cookies and headers are the page request's (signed into the session's
    token; ``DOCSYNC["INCLUDE_HEADERS"]`` and its siblings choose which headers and
    cookies, credentials stay out). ``user`` is the Django user.
    """

    def __init__(self, request: dict[str, Any]) -> None:
        self._request = request
        arguments = request.get("arguments") or {}
        self.arguments: dict[str, list[bytes]] = {
            name: [v.encode() if isinstance(v, str) else v for v in values] for name, values in arguments.items()
        }
        self.cookies: dict[str, str] = dict(request.get("cookies") or {})
        self.headers: dict[str, str] = dict(request.get("headers") or {})
        self.path: str = "/" + str(request.get("path", "")).strip("/")

    @property
    def user(self) -> Any:
        """The Django user of the websocket (AnonymousUser when not logged in)."""
        return self._request.get("user")


class BokehServerContext(ServerContext):
    """Bokeh's ServerContext over a docsync application context (callbacks, sessions)."""

    def __init__(self, application_context: Any) -> None:
        self._app_context = application_context

    @property
    def application_context(self) -> Any:
        """The docsync application context (as in Bokeh: for advanced use only)."""
        return self._app_context

    @property
    def sessions(self) -> list[Any]:
        """The session contexts of this application held by this process."""
        return [s.context for s in self._app_context.sessions.values() if not s.destroyed]

    def add_next_tick_callback(self, callback: Callable[[], Any]) -> Any:
        """Run ``callback`` once, soon (no session lock is held)."""
        return self._app_context.add_app_callback(callback, "next_tick", 0.0)

    def add_timeout_callback(self, callback: Callable[[], Any], timeout_milliseconds: float) -> Any:
        """Run ``callback`` once after the timeout."""
        return self._app_context.add_app_callback(callback, "timeout", timeout_milliseconds / 1000)

    def add_periodic_callback(self, callback: Callable[[], Any], period_milliseconds: float) -> Any:
        """Run ``callback`` every period until removed or the application unloads."""
        return self._app_context.add_app_callback(callback, "periodic", period_milliseconds / 1000)

    def remove_next_tick_callback(self, callback: Any) -> None:
        """Remove a callback added here."""
        self._app_context.remove_app_callback(callback)

    remove_timeout_callback = remove_periodic_callback = remove_next_tick_callback

    async def broadcast(self, msg_type: str, msg_data: Any = None) -> int:
        """Send a message to every session of this app in every process, returning at once (docsync's addition).

        Each session gets it under its own lock as soon as that lock is free, so a
        callback may broadcast. Returns how many sessions of this process it was queued for.
        """
        return self.broadcast_nowait(msg_type, msg_data)

    def broadcast_nowait(self, msg_type: str, msg_data: Any = None) -> int:
        """``broadcast`` for sync code: callable from a sync callback's thread, or the loop."""
        return int(self._app_context.broadcast_from_any_thread(msg_type, msg_data))


class BokehSessionContext(SessionContext):
    """Bokeh's SessionContext over a docsync session: id, request, locked document access."""

    def __init__(self, session_id: str, server_context: BokehServerContext, document: Any, request: dict[str, Any]):
        super().__init__(server_context, session_id)  # type: ignore[arg-type]
        self._document = document
        self._session: Any = None
        self._request = BokehRequest(request)
        self._token_payload = {
            "arguments": self._request.arguments,
            "cookies": self._request.cookies,
            "headers": self._request.headers,
        }

    def _set_session(self, session: Any) -> None:
        self._session = session

    @property
    def destroyed(self) -> bool:
        """Whether the session has been destroyed."""
        return bool(self._session is not None and self._session.destroyed)

    @property
    def request(self) -> BokehRequest:
        """The request that opened the session (arguments, cookies, headers, user)."""
        return self._request

    @property
    def token_payload(self) -> dict[str, Any]:
        """What Bokeh apps read from their token's payload: arguments, cookies and headers."""
        return dict(self._token_payload)

    @property
    def logout_url(self) -> str | None:
        """Django's logout URL is the site's business: None, as ``bokeh serve`` without auth."""
        return None

    @property
    def session(self) -> Any:
        """The docsync session (advanced use)."""
        return self._session

    @property
    def user(self) -> Any:
        """The Django user of the session (docsync's addition)."""
        return self._request.user

    async def with_locked_document(self, func: Callable[[Any], Any]) -> Any:
        """Run ``func(doc)`` holding the session lock; changes made are sent to clients."""
        if self._session is None:
            result = func(self._document)
            if hasattr(result, "__await__"):
                result = await result
            return result
        return await self._session.with_document_locked(func)
