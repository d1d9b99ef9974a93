"""Bokeh sessions made server-side: by the app's page (as ``bokeh serve`` does) or by a view.

A page that places roots by name (``{{ embed(roots.plot) }}``) or shows the app's
``template_variables`` needs the document before it is rendered, so a Bokeh app's page
makes its session, and the websocket then joins it. A view may make one too, change its
document, and embed it with ``server_session`` — what Bokeh apps do with
``pull_session``. In a cluster the session is claimed for this process first, so a
websocket landing elsewhere is relayed here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.http import HttpRequest

from ..conf import docsync_settings
from ..server.admission import open_session
from ..server.admission.request_info import request_info
from ..server.admission.tokens import generate_session_id
from ..server.admission.visitors import page_visitor
from ..server.clients import client_key
from ..server.cluster import ensure_cluster
from ..server.registry import get_registry
from .session import BokehSession

__all__ = ["BokehSessionHandle", "amake_session", "loaded_user", "make_session", "page_request", "session_here"]

#: Query parameters docsync's pages and autoload.js read themselves (never app arguments).
RESERVED = ("target", "token", "session_id")


def request_arguments(request: HttpRequest) -> dict[str, list[str]]:
    """The query arguments a session is made with (bounded in number and size)."""
    names = [name for name in request.GET if name not in RESERVED][:50]
    return {name: request.GET.getlist(name)[:20] for name in names}


def page_request(
    request: HttpRequest,
    app_path: str,
    *,
    user: Any,
    arguments: dict[str, list[str]] | None = None,
    visitor: str | None = None,
) -> dict[str, Any]:
    """What a session made for ``request`` sees as its request (its websockets' tokens carry the same).

    ``visitor``: the anonymous visitor the session belongs to (page_visitor).
    """
    arguments = request_arguments(request) if arguments is None else arguments
    info = request_info(request, arguments)
    return {
        "arguments": arguments,
        "headers": info.get("headers", {}),
        "cookies": info.get("cookies", {}),
        "user": user,
        "visitor": visitor,
        "path": app_path,
    }


def loaded_user(request: HttpRequest) -> Any:
    """The request's user, loaded now (call from sync code: never later, on the event loop)."""
    user = getattr(request, "user", None)
    if user is not None:
        user.is_authenticated  # noqa: B018 -- evaluates the lazy user
    return user


def request_client(request: HttpRequest, user: Any) -> str | None:
    """Whom a session made for ``request`` counts against (server/clients.py): ``user``, else its address."""
    return client_key(user, request.META.get("REMOTE_ADDR"))


async def session_here(
    app_path: str, session_id: str, request: dict[str, Any], *, client: str | None = None
) -> BokehSession | None:
    """Return session ``session_id`` of ``app_path`` held by this process, making it if needed.

    None when another process of the cluster holds it. Raises the refusal
    (a ``ConnectionClosingError``) when the session cannot be made or joined; a new
    session counts against ``client`` (``MAX_SESSIONS_PER_CLIENT``).
    """
    registry = get_registry()
    cluster = await ensure_cluster(registry)
    if cluster is not None and await cluster.claim(session_id) != registry.process_id:
        return None
    opened = await open_session(
        registry,
        app_path=app_path,
        session_id=session_id,
        request=request,
        token_expired=False,
        settings=docsync_settings(),
        client=client,
    )
    return opened.session  # type: ignore[return-value]


class BokehSessionHandle:
    """A Bokeh session made by a view: its id (for ``server_session``) and locked access to its document."""

    def __init__(self, session: BokehSession) -> None:
        self._session = session
        self.id = session.id

    async def amodify(self, func: Callable[[Any], Any]) -> Any:
        """Run ``func(document)`` holding the session's lock; what it changes reaches the browsers."""
        return await self._session.with_document_locked(func)

    def modify(self, func: Callable[[Any], Any]) -> Any:
        """``amodify`` for sync views."""
        return async_to_sync(self.amodify)(func)


def _visitor(request: HttpRequest, app_path: str) -> tuple[str | None, bool]:
    # The view's response is not docsync's to set a cookie on: a new visitor is saved in
    # the Django session too, whose cookie the page's autoload.js then shows.
    return page_visitor(request, get_registry().get_context(app_path), save_in_session=True)


async def _new_session(app_path: str, session_request: dict[str, Any], client: str | None) -> BokehSessionHandle:
    session = await session_here(app_path, generate_session_id(), session_request, client=client)
    assert session is not None  # a new id is always free to claim
    return BokehSessionHandle(session)


async def amake_session(
    request: HttpRequest, app_path: str, *, arguments: dict[str, list[str]] | None = None
) -> BokehSessionHandle:
    """Make a new session of Bokeh app ``app_path`` for ``request``'s user (``arguments``: its request arguments).

    Embed it with ``docsync.embed.server_session(app_path, handle.id)`` (or
    ``{% docsync_app app_path session_id=handle.id %}``): only that user's pages join it,
    unless the app is shareable (anonymous: only pages of the same browser, whose
    visitor cookie, or else Django session, holds the visitor id saved here). Unused, it
    expires like any session.
    """
    user = await request.auser() if hasattr(request, "auser") else None
    # The session is the visitor's when anonymous: saved in the Django session now, so
    # that the view's response sets the cookie its page's autoload.js then shows.
    visitor = (await sync_to_async(_visitor)(request, app_path))[0]
    session_request = page_request(request, app_path, user=user, arguments=arguments or {}, visitor=visitor)
    return await _new_session(app_path, session_request, request_client(request, user))


def make_session(
    request: HttpRequest, app_path: str, *, arguments: dict[str, list[str]] | None = None
) -> BokehSessionHandle:
    """``amake_session`` for sync views."""
    user = loaded_user(request)
    visitor = _visitor(request, app_path)[0]
    session_request = page_request(request, app_path, user=user, arguments=arguments or {}, visitor=visitor)
    return async_to_sync(_new_session)(app_path, session_request, request_client(request, user))
