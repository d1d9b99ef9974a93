"""Anonymous visitors told apart: a random id per browser, kept in its Django session.

Every anonymous request is Django's one ``AnonymousUser``, so the user alone cannot say
whose a session is. A page served to an anonymous visitor binds its session to the
visitor id in the browser's Django session (made and saved there on the first page, so
the session cookie is set), the way a logged-in page binds it to the user's pk: the id
travels signed in the token, and a page's ``?session_id=`` or a websocket's token joins
the session only from a browser whose Django session holds the same id.

A request that brings no visitor (its first page, a page on another site whose cookies
are not sent, a client that keeps no cookies) is given a *fresh* one: the token made for
it carries it marked fresh and is then its only credential, as a Bokeh token is (the
browser cannot prove an id it has only just been sent). Two first pages loaded at once
get two ids, and the browser keeps one cookie: the other page's session still works
through its own token, but is not rejoined by ``?session_id=``. Logging in keeps the Django
session, and so the id, but a logged-in user's sessions are the user's; logging out
flushes it (Django's ``logout``): the browser is a new visitor.
"""

from __future__ import annotations

import secrets
from typing import Any

from ..executor import run_sync
from .policy import shareable

__all__ = ["SCOPE_KEY", "VISITOR_KEY", "page_visitor", "socket_visitor", "visitor_in"]

#: The key of the visitor id in the Django session.
VISITOR_KEY = "docsync_visitor"
#: Where a websocket middleware that read the Django session already puts the id (docsync.auth).
SCOPE_KEY = "docsync_visitor"
_REQUEST_ATTRIBUTE = "_docsync_visitor"


def _anonymous(user: Any) -> bool:
    return user is None or not getattr(user, "is_authenticated", False)


def visitor_in(session: Any) -> str | None:
    """The visitor id a Django session holds (None if none); may query the session store."""
    value = session.get(VISITOR_KEY) if session is not None else None
    return value if isinstance(value, str) and value else None


def page_visitor(request: Any, context: Any) -> tuple[str | None, bool]:
    """Return ``(visitor id, fresh)`` of a page request for app ``context``; call from sync code.

    None for a logged-in user, and for a shareable app (anyone joins its sessions: no
    visitor is made, nor saved, for it). An anonymous request without an id gets a new
    one, saved in its Django session (the response sets the cookie): ``fresh`` is then
    True. Without Django's sessions (no ``SessionMiddleware``) every page is a fresh visitor.
    """
    if shareable(context) or not _anonymous(getattr(request, "user", None)):
        return None, False
    found: tuple[str | None, bool] | None = getattr(request, _REQUEST_ATTRIBUTE, None)
    if found is not None:
        return found  # asked again for the same page (its dialect's view): the same answer
    session = getattr(request, "session", None)
    known = visitor_in(session)
    if known is not None:
        found = (known, False)
    else:
        made = secrets.token_urlsafe(18)
        if session is not None:
            session[VISITOR_KEY] = made
        found = (made, True)
    setattr(request, _REQUEST_ATTRIBUTE, found)
    return found


async def socket_visitor(scope: dict[str, Any]) -> str | None:
    """The visitor id of a websocket's Django session (None if it has none or none is known)."""
    if SCOPE_KEY in scope:
        value = scope[SCOPE_KEY]
        return value if isinstance(value, str) and value else None
    session = scope.get("session")  # Channels' SessionMiddleware: lazy, may query the store
    if session is None:
        return None
    found: str | None = await run_sync(visitor_in, session)
    return found
