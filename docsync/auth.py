"""WebsocketAuthMiddleware: the Django user of a websocket, in ``scope["user"]``, at a small cost.

It also puts the anonymous visitor's id, from the same Django session, in
``scope["docsync_visitor"]`` (see ``docsync.server.admission.visitors``).

Channels' ``AuthMiddlewareStack`` nests three middlewares (cookies, session, auth), each
keeping its own copy of the scope and its own frame for as long as the websocket
lives, plus a lazy session and a lazy user: about 6 KB per connection. docsync's
consumer needs only the user, so this middleware loads it once, when the websocket
opens (from the session cookie, in a worker thread: it queries the database), and
keeps one scope. With Channels' ``URLRouter`` as its inner app (as in docsync's
``asgi.py``), it routes too: the router's scope copy and coroutines are not made.
"""

from __future__ import annotations

import logging
from importlib import import_module
from types import SimpleNamespace
from typing import Any

from channels.routing import URLRouter
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.models import AnonymousUser
from django.http.cookie import parse_cookie

from .server.admission.visitors import SCOPE_KEY, visitor_in
from .server.compat.channels import consumer_call
from .server.executor import run_sync

__all__ = ["WebsocketAuthMiddleware", "session_identity", "user_of_session"]

_logger = logging.getLogger(__name__)


def _cookie_header(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            return str(value.decode("latin-1"))
    return ""


def session_identity(session_key: str | None) -> tuple[Any, str | None]:
    """The user logged in to Django session ``session_key`` (AnonymousUser if none) and its visitor id."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    # get_user reads only request.session: the session is all a websocket has.
    user = get_user(SimpleNamespace(session=store))  # type: ignore[arg-type]
    return user, visitor_in(store)  # the session is loaded by now: no second query


def user_of_session(session_key: str | None) -> Any:
    """The user logged in to Django session ``session_key`` (AnonymousUser if none)."""
    return session_identity(session_key)[0]


class WebsocketAuthMiddleware:
    """Set ``scope["user"]`` from the websocket's session cookie, then run ``inner``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope.get("type") != "websocket" or "user" in scope:
            return await self.inner(scope, receive, send)
        session_key = parse_cookie(_cookie_header(scope)).get(settings.SESSION_COOKIE_NAME)
        if session_key is None:
            # No session cookie (a first visit): Django's get_user finds an empty session, so
            # the anonymous user, with no query; no worker thread is needed to say so.
            user: Any = AnonymousUser()
            visitor = None
        else:
            user, visitor = await run_sync(session_identity, session_key)
        scope = {**scope, "user": user, SCOPE_KEY: visitor}
        # Channels' URLRouter inside: routed here, in this one copy, and its consumer awaited
        # from this frame (the router's own copy and two coroutines: ~1.1 KB per websocket).
        call = consumer_call(self.inner, scope, receive, send)
        if call is not None:
            return await call
        try:
            return await self.inner(scope, receive, send)
        except ValueError as exc:
            # Channels' URLRouter raises this before anything was sent, for any path a
            # client names: the ASGI server then answered 500 and logged a traceback per
            # attempt. The handshake is refused (403) and one line logged instead.
            if not (type(self.inner) is URLRouter and str(exc).startswith("No route found for path")):
                raise
            _logger.warning("websocket refused: no route for %r", str(scope.get("path", ""))[:200])
            await send({"type": "websocket.close", "code": 1008})
            return None
