"""Anonymous visitors told apart: a random id per browser, kept in a signed cookie.

Every anonymous request is Django's one ``AnonymousUser``, so the user alone cannot say
whose a session is. A page served to an anonymous visitor binds its session to the
visitor id of the browser's ``docsync_visitor`` cookie (set by the first of docsync's
pages that finds none), the way a logged-in page binds it to the user's pk: the id
travels signed in the token, and a page's ``?session_id=`` or a websocket's token joins
the session only from a browser that shows the same id.

The cookie is signed with ``SECRET_KEY`` (Django's cookie signer): a browser cannot
choose another visitor's id, and telling one apart costs an HMAC, no query. (Kept in the
Django session alone, it cost every anonymous page a session write or read and every
anonymous websocket a query: the app page's server CPU doubled.) A session a site's own
view makes (``make_session``) answers with the view's response, which docsync does not
write: there a new visitor is also saved in the Django session, and the browser shows
it through its session cookie; a visitor is read from the cookie first, then from the
Django session.

A request that brings no visitor (its first page, a page on another site whose cookies
are not sent, a client that keeps no cookies) is given a *fresh* one: the token made for
it carries it marked fresh and is then its only credential, as a Bokeh token is (the
browser cannot prove an id it has only just been sent). Two first pages loaded at once
get two ids, and the browser keeps one cookie: the other page's session still works
through its own token, but is not rejoined by ``?session_id=``. A logged-in user's
sessions are the user's, whatever the cookie says; the cookie outlives a login and a
logout (the browser stays the same visitor; a site that wants otherwise deletes the
``docsync_visitor`` cookie at logout).
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core import signing
from django.http.cookie import parse_cookie

from ..executor import run_sync
from .policy import shareable
from .signers import cookie_signer

__all__ = [
    "COOKIE_NAME",
    "SCOPE_KEY",
    "VISITOR_KEY",
    "page_visitor",
    "remember_visitor",
    "socket_visitor",
    "visitor_in",
    "visitor_of_cookie",
]

#: The cookie that holds a browser's visitor id, signed.
COOKIE_NAME = "docsync_visitor"
#: The key of a visitor id saved in the Django session (by ``make_session``, see above).
VISITOR_KEY = "docsync_visitor"
#: Where a websocket middleware that read the Django session puts its visitor id (docsync.auth).
SCOPE_KEY = "docsync_visitor"
_SALT = "docsync.visitor"
_REQUEST_ATTRIBUTE = "_docsync_visitor"
#: A visitor id is 24 characters (``token_urlsafe(18)``); anything longer is not one.
_MAX_ID = 64


def _anonymous(user: Any) -> bool:
    return user is None or not getattr(user, "is_authenticated", False)


def _signer() -> signing.Signer:
    return cookie_signer(_SALT)


def visitor_in(session: Any) -> str | None:
    """The visitor id a Django session holds (None if none); may query the session store."""
    value = session.get(VISITOR_KEY) if session is not None else None
    return value if isinstance(value, str) and value else None


def visitor_of_cookie(value: str | None) -> str | None:
    """The visitor id a ``docsync_visitor`` cookie's value holds, if its signature is good (else None)."""
    if not value or len(value) > 256:
        return None
    try:
        found = _signer().unsign(value)  # SECRET_KEY, then SECRET_KEY_FALLBACKS
    except signing.BadSignature:
        return None
    return found if 0 < len(found) <= _MAX_ID else None


def page_visitor(request: Any, context: Any, *, save_in_session: bool = False) -> tuple[str | None, bool]:
    """Return ``(visitor id, fresh)`` of a page request for app ``context``; call from sync code.

    None for a logged-in user, and for a shareable app (anyone joins its sessions: no
    visitor is made for it). An anonymous request that shows none (cookie, then Django
    session: without a session cookie that reads nothing) gets a new id, which
    :func:`remember_visitor` sets on docsync's response: ``fresh`` is then True. With
    ``save_in_session`` (a response docsync does not write) it is saved in the Django
    session too.
    """
    if shareable(context) or not _anonymous(getattr(request, "user", None)):
        return None, False
    found: tuple[str | None, bool] | None = getattr(request, _REQUEST_ATTRIBUTE, None)
    if found is None:
        known = visitor_of_cookie(getattr(request, "COOKIES", {}).get(COOKIE_NAME))
        if known is None:
            known = visitor_in(getattr(request, "session", None))
        found = (known, False) if known is not None else (secrets.token_urlsafe(18), True)
        setattr(request, _REQUEST_ATTRIBUTE, found)
    session = getattr(request, "session", None)
    if save_in_session and found[1] and session is not None:
        session[VISITOR_KEY] = found[0]
    return found


def remember_visitor(request: Any, response: Any) -> Any:
    """Set the cookie of a visitor made for ``request`` (a fresh one) on ``response``; return the response."""
    found: tuple[str | None, bool] | None = getattr(request, _REQUEST_ATTRIBUTE, None)
    if found is not None and found[1] and found[0] is not None:
        response.set_cookie(
            COOKIE_NAME,
            _signer().sign(found[0]),
            max_age=settings.SESSION_COOKIE_AGE,
            domain=settings.SESSION_COOKIE_DOMAIN,
            path=settings.SESSION_COOKIE_PATH,
            secure=settings.SESSION_COOKIE_SECURE or request.is_secure(),
            httponly=True,
            samesite=settings.SESSION_COOKIE_SAMESITE,
        )
    return response


def _cookie_header(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            return str(value.decode("latin-1"))
    return ""


async def socket_visitor(scope: dict[str, Any]) -> str | None:
    """The visitor id of a websocket's browser: its signed cookie's, else its Django session's (None if none)."""
    found = visitor_of_cookie(parse_cookie(_cookie_header(scope)).get(COOKIE_NAME))
    if found is not None:
        return found
    if SCOPE_KEY in scope:  # docsync.auth read the Django session already
        value = scope[SCOPE_KEY]
        return value if isinstance(value, str) and value else None
    session = scope.get("session")  # Channels' SessionMiddleware: lazy, may query the store
    if session is None:
        return None
    in_session: str | None = await run_sync(visitor_in, session)
    return in_session
