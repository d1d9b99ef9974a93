"""Embed an app in any page: ``server_document`` and ``server_session``, as Bokeh names them.

Each returns the HTML of a placeholder element and the ``<script>`` that loads the app's
``autoload.js`` into it, for Django templates (the ``{% docsync_app %}`` tag calls these)
or any other page. ``url`` is an app's path as configured (``"sliders"``), the URL of its
page (``"/dash/sliders/"``), or that page on another site (``"https://host/sliders/"``,
which lists the embedding site in its ``DOCSYNC["ALLOWED_ORIGINS"]``).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from .conf import docsync_settings

__all__ = ["RESERVED_ARGUMENTS", "autoload_url", "server_document", "server_session"]

#: Query parameters autoload.js reads itself; an app never sees them as arguments.
RESERVED_ARGUMENTS = frozenset({"target"})
_APP_PATH = re.compile(r"^[\w\-]+$")

#: A value or several; a number is sent as its text, as Bokeh's ``server_document`` does.
Value = str | int | float
Arguments = Mapping[str, Value | Iterable[Value]]


def _query(arguments: Arguments | None) -> list[tuple[str, str]]:
    if arguments is not None and not isinstance(arguments, Mapping):
        # A template has no dict literal: arguments="x=1" gave AttributeError 'SafeString'
        # object has no attribute 'items'.
        raise TypeError(
            f"arguments is a dict of names to values (in a template, a dict from the view's context), "
            f"not {type(arguments).__name__} {str(arguments)[:60]!r}"
        )
    pairs = []
    for name, values in (arguments or {}).items():
        if name in RESERVED_ARGUMENTS:
            raise ValueError(f"{name!r} is reserved by autoload.js and cannot be an argument")
        # A template's context often holds numbers (a year, an id): one value, not a sequence.
        for value in values if isinstance(values, Iterable) and not isinstance(values, str) else [values]:
            pairs.append((name, str(value)))
    return pairs


def autoload_url(url: str, *, target: str, arguments: Arguments | None = None, session_id: str | None = None) -> str:
    """Return the URL of the autoload.js of app ``url`` that fills element ``target``."""
    if _APP_PATH.match(url):
        configured = dict(docsync_settings().APPS or {})
        if url not in configured:
            # The placeholder stayed empty (its autoload.js a 404) and nothing said why.
            names = ", ".join(repr(name) for name in sorted(configured)) or "none"
            raise ValueError(f"no docsync app {url!r}: DOCSYNC['APPS'] names {names}")
        base = reverse("docsync:autoload", args=[url])
    else:
        base = url.split("?", 1)[0].rstrip("/") + "/autoload.js"
    query = [("target", target), *_query(arguments)]
    if session_id is not None:
        query.append(("session_id", session_id))
    return f"{base}?{urlencode(query)}"


def _tag(url: str, element_id: str | None, arguments: Arguments | None, session_id: str | None) -> SafeString:
    name = url.rstrip("/").rsplit("/", 1)[-1] or "app"
    target = element_id or f"docsync-{name}-{secrets.token_hex(4)}"
    src = autoload_url(url, target=target, arguments=arguments, session_id=session_id)
    return format_html('<div id="{}" class="docsync-embed"></div><script src="{}"></script>', target, src)


def server_document(url: str, arguments: Arguments | None = None, *, element_id: str | None = None) -> SafeString:
    """Return HTML that embeds a new session of app ``url``; ``arguments`` reach its request arguments."""
    return _tag(url, element_id, arguments, None)


def server_session(
    url: str, session_id: str, *, arguments: Arguments | None = None, element_id: str | None = None
) -> SafeString:
    """Return HTML that embeds the live session ``session_id`` of app ``url`` (a new one if it is gone).

    Every page embedding the same id shows, and edits, one document, as tabs of a
    session joined with ``?session_id=`` do: for the user the session was made for, or
    anyone if the app's entry says ``"shareable": True``. An id the server does not hold
    (or another user's) is not taken: the page then gets a session of its own.
    """
    return _tag(url, element_id, arguments, session_id)
