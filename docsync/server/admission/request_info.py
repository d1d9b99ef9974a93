"""The page request's headers and cookies a session sees (``session_context.request``), as Bokeh's do.

They are read when the page (or autoload.js) issues the session's token, and travel
signed in it, so that every process the websocket lands on sees the same. A token is
readable by the page: credentials never go into it. Left out unless named:
``Cookie``, ``Authorization`` and ``Proxy-Authorization`` headers (``EXCLUDE_HEADERS``),
Django's session and CSRF cookies, and docsync's visitor cookie (``docsync_visitor``: an
anonymous visitor's proof, as the session cookie is a login's); what ``INCLUDE_*``/``EXCLUDE_*``
say is applied after. The first that fit are kept (in the request's order), measured as
the token's JSON holds them: at most ``MAX_REQUEST_INFO_BYTES``, and no more than the page's
query arguments leave of ``MAX_TOKEN_REQUEST_BYTES``, so that a token always fits the
handshake's header line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings as django_settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.http.request import HttpHeaders

from ...conf import docsync_settings
from . import visitors

__all__ = [
    "MAX_ARGUMENT_BYTES",
    "MAX_REQUEST_INFO_BYTES",
    "MAX_TOKEN_REQUEST_BYTES",
    "RequestInfo",
    "oversized_arguments",
    "request_info",
]

#: The most bytes of headers and cookies a token carries, as its JSON holds them (it
#: travels in a websocket header on every connection).
MAX_REQUEST_INFO_BYTES = 4096
#: The most bytes of query arguments a token carries, as its JSON holds them (a non-ASCII
#: character is escaped, up to 12 bytes): a page asked with more answers 400, rather than
#: hand its client a token too long for the websocket handshake's header.
MAX_ARGUMENT_BYTES = 4096
#: The most bytes of arguments, headers and cookies together, as the token's JSON holds
#: them: the token (that JSON in base64, 4/3 of it, with the rest of its payload, about
#: 1 KB at most, a timestamp and a signature) then fits the 8 KB header line uvicorn
#: reads in a handshake. With both near their own limits it made an 11 KB token: 431.
MAX_TOKEN_REQUEST_BYTES = 4900

RequestInfo = dict[str, dict[str, str]]


def _chosen(items: Iterable[tuple[str, str]], include: Any, exclude: Iterable[str]) -> dict[str, str]:
    wanted = None if include is None else {name.lower() for name in include}
    unwanted = {name.lower() for name in exclude}
    return {
        name: value
        for name, value in items
        if (wanted is None or name.lower() in wanted) and name.lower() not in unwanted
    }


def _json_size(value: Any) -> int:
    """Bytes of ``value`` as a token's JSON holds it (Django's signer: ``json.dumps``, compact, ASCII)."""
    if type(value) is str and value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return len(value) + 2  # nothing to escape (the common header): its quotes only
    return len(json.dumps(value, separators=(",", ":")))


def _bounded(parts: Mapping[str, dict[str, str]], budget: int) -> RequestInfo:
    kept: RequestInfo = {}
    for part, entries in parts.items():
        kept[part] = {}
        for name, value in entries.items():
            budget -= _json_size(name) + _json_size(value) + 2  # and its ":" and ","
            if budget < 0:
                break
            kept[part][name] = value
    return kept


_UNPREFIXED_HEADERS = HttpHeaders.UNPREFIXED_HEADERS


def _header_items(request: HttpRequest) -> Iterable[tuple[str, str]]:
    """``request.headers.items()``: the same names, values and order, without making ``request.headers``.

    Django's HttpHeaders is made from ``request.META`` on first use (``parse_header_name``
    per key) and read through a case-insensitive mapping (a call per key, another per
    value): about 70 Python calls a page, where the token is its only reader. A request
    whose ``headers`` were made already is read from them.
    """
    made = request.__dict__.get("headers")
    if made is not None:
        return made.items()  # type: ignore[no-any-return]
    # What HttpHeaders keeps: by lower-cased name, the last value under the first name's place.
    headers: dict[str, tuple[str, str]] = {}
    for key, value in request.META.items():
        if key.startswith("HTTP_"):
            key = key[5:]
        elif key not in _UNPREFIXED_HEADERS:
            continue
        if key:
            name = key.replace("_", "-").title()
            headers[name.lower()] = (name, value)
    return headers.values()


def request_info(request: HttpRequest, arguments: Mapping[str, list[str]]) -> RequestInfo:
    """Return ``{"headers": {...}, "cookies": {...}}`` of ``request`` that a session may see.

    ``arguments``: the query arguments its token carries (they come first in the token's budget).
    """
    settings = docsync_settings()
    credentials = {django_settings.SESSION_COOKIE_NAME, django_settings.CSRF_COOKIE_NAME, visitors.COOKIE_NAME}
    include_cookies = settings.INCLUDE_COOKIES
    secret_cookies = credentials - {name.lower() for name in include_cookies or ()}
    headers = _chosen(_header_items(request), settings.INCLUDE_HEADERS, settings.EXCLUDE_HEADERS)
    cookies = _chosen(request.COOKIES.items(), include_cookies, [*settings.EXCLUDE_COOKIES, *secret_cookies])
    budget = min(MAX_REQUEST_INFO_BYTES, MAX_TOKEN_REQUEST_BYTES - _json_size(arguments))
    return _bounded({"headers": headers, "cookies": cookies}, budget)


def oversized_arguments(arguments: Mapping[str, list[str]]) -> HttpResponse | None:
    """A 400 answer naming the limit if ``arguments`` (a token's) exceed ``MAX_ARGUMENT_BYTES``; else None."""
    size = _json_size(arguments)
    if size <= MAX_ARGUMENT_BYTES:
        return None
    return HttpResponseBadRequest(
        f"The query arguments are too long: {size} bytes as the session token holds them (JSON), "
        f"over the limit of {MAX_ARGUMENT_BYTES} bytes.",
        content_type="text/plain; charset=utf-8",
    )
