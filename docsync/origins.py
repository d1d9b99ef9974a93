"""Which web origins may open docsync's websockets and read its embedding scripts.

The rule follows Django's CSRF origin check: a browser's ``Origin`` (scheme, host and
port) must be the request's own origin, on a host ``ALLOWED_HOSTS`` accepts, or be
listed, exactly or as ``scheme://*.domain``, in ``DOCSYNC["ALLOWED_ORIGINS"]`` or
``CSRF_TRUSTED_ORIGINS``. ``'*'`` in ``ALLOWED_HOSTS`` accepts any Host header, never
any origin: only ``'*'`` in ``ALLOWED_ORIGINS`` does. ``Origin: null`` (sandboxed frames,
``file:`` pages) is refused unless ``ALLOWED_ORIGINS`` lists ``'null'``. A request
without ``Origin`` is not a browser's: its token still guards the session.

autoload.js is held to the same rule (:func:`page_origin_allowed`): its script hands the
page that runs it the session's token, and with it what the token carries (the user's
pk, the visitor id, the request's headers and cookies the site lets through).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

from .conf import docsync_settings

__all__ = [
    "legacy_entries",
    "origin_allowed",
    "origin_listed",
    "page_origin",
    "page_origin_allowed",
    "parse_origin",
    "scope_origin_allowed",
]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
#: Hosts Django accepts when DEBUG is on and ALLOWED_HOSTS is empty.
_DEBUG_HOSTS = [".localhost", "127.0.0.1", "[::1]"]

Origin = tuple[str, str, int]


def parse_origin(text: str) -> Origin | None:
    """Return ``(scheme, host, port)`` of an origin, default port filled in; None if invalid."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        return None
    if parts.query or parts.fragment or parts.username is not None:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def _host_origin(scheme: str, host: str) -> Origin | None:
    return parse_origin(f"{scheme}://{host}")


def _listed(origin: str, parsed: Origin, entries: Iterable[str]) -> bool:
    for entry in entries:
        entry = entry.strip()
        if "://" not in entry:
            # The old form, "host:port" without a scheme: either scheme (see legacy_entries).
            if entry.lower() == urlsplit(origin).netloc.lower():
                return True
            continue
        scheme, _, rest = entry.partition("://")
        if rest.startswith("*."):
            # As in CSRF_TRUSTED_ORIGINS: a domain and its subdomains, port as written.
            netloc = urlsplit(origin).netloc.lower()
            if parsed[0] == scheme.lower() and is_same_domain(netloc, rest[1:].lower()):
                return True
        elif parse_origin(entry) == parsed:
            return True
    return False


def origin_allowed(
    origin: str | None,
    *,
    host: str | None,
    secure: bool,
    allowed_hosts: list[str],
    allowed_origins: list[str],
    trusted_origins: list[str],
) -> bool:
    """Tell whether a websocket from ``origin`` may connect to a server reached as ``host``."""
    if not origin:
        return True
    if origin.strip().lower() == "null":
        return "null" in allowed_origins
    if "*" in allowed_origins:
        return True
    parsed = parse_origin(origin)
    if parsed is None:
        return False
    if host:
        domain = split_domain_port(host)[0]
        same = parsed == _host_origin("https" if secure else "http", host)
        if same and domain and validate_host(domain, allowed_hosts):
            return True
    return _listed(origin, parsed, [*allowed_origins, *trusted_origins])


def origin_listed(origin: str) -> bool:
    """Tell whether ``origin`` is listed as trusted (for CORS on the embedding scripts)."""
    allowed = list(docsync_settings().ALLOWED_ORIGINS)
    if origin.strip().lower() == "null":
        return "null" in allowed
    parsed = parse_origin(origin)
    if "*" in allowed:
        return True
    return parsed is not None and _listed(origin, parsed, [*allowed, *django_settings.CSRF_TRUSTED_ORIGINS])


def _header(scope: dict[str, Any], name: str) -> str | None:
    raw = name.encode("latin-1")
    for key, value in scope.get("headers", []):
        if key == raw:
            return str(value.decode("latin-1"))
    return None


def _secure(scope: dict[str, Any]) -> bool:
    if scope.get("scheme") in ("wss", "https"):
        return True
    # As Django's request.is_secure(): a TLS-terminating proxy says so in a header.
    proxy = getattr(django_settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        name, value = proxy
        header = name.removeprefix("HTTP_").lower().replace("_", "-")
        return bool((_header(scope, header) or "").split(",")[0].strip() == value)
    return False


def _allowed_hosts() -> list[str]:
    hosts = list(django_settings.ALLOWED_HOSTS)
    return hosts or (_DEBUG_HOSTS if django_settings.DEBUG else [])


def scope_origin_allowed(scope: dict[str, Any]) -> bool:
    """Tell whether the websocket of ASGI ``scope`` comes from an allowed origin."""
    host = _header(scope, "host")
    if getattr(django_settings, "USE_X_FORWARDED_HOST", False):
        host = _header(scope, "x-forwarded-host") or host
    return origin_allowed(
        _header(scope, "origin"),
        host=host,
        secure=_secure(scope),
        allowed_hosts=_allowed_hosts(),
        allowed_origins=list(docsync_settings().ALLOWED_ORIGINS),
        trusted_origins=list(getattr(django_settings, "CSRF_TRUSTED_ORIGINS", [])),
    )


#: ``Sec-Fetch-Site`` of a request a page of another origin made (``same-site``: another
#: port or subdomain of the same site, whose requests carry ``SameSite=Lax`` cookies).
_OTHER_ORIGIN_FETCH = frozenset({"same-site", "cross-site"})


def page_origin(headers: Any) -> str | None:
    """The origin of the page a request came from: its ``Origin`` header, else its ``Referer``'s (None: neither)."""
    origin = headers.get("Origin")
    if origin:
        return str(origin)
    referer = headers.get("Referer") or ""
    try:
        parts = urlsplit(referer)
        parts.port  # noqa: B018 -- raises ValueError for a port that is no number
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def page_origin_allowed(request: Any) -> bool:
    """Tell whether the page asking for ``request`` may read what it answers: as a websocket from it would be let in.

    A browser says where a request comes from: ``Sec-Fetch-Site`` (``same-origin`` is
    the server's own page), the page's origin in ``Origin`` or (a ``<script src>``
    sends no ``Origin``) ``Referer``. A request that names no page and does not say it
    comes from another origin is let through (not a browser's, or an old browser's, as
    for a websocket without ``Origin``); one from another origin that hides its page
    (``referrerpolicy="no-referrer"``) is refused unless ``ALLOWED_ORIGINS`` lists ``'*'``.
    """
    headers = request.headers
    fetch_site = str(headers.get("Sec-Fetch-Site", "")).strip().lower()
    if fetch_site in ("same-origin", "none"):  # the browser's word: no page of another origin can say it
        return True
    origin = page_origin(headers)
    allowed_origins = list(docsync_settings().ALLOWED_ORIGINS)
    if origin is None:
        return fetch_site not in _OTHER_ORIGIN_FETCH or "*" in allowed_origins
    return origin_allowed(
        origin,
        host=request.get_host(),  # ALLOWED_HOSTS checked; X-Forwarded-Host when USE_X_FORWARDED_HOST
        secure=request.is_secure(),
        allowed_hosts=_allowed_hosts(),
        allowed_origins=allowed_origins,
        trusted_origins=list(getattr(django_settings, "CSRF_TRUSTED_ORIGINS", [])),
    )


def legacy_entries(entries: Iterable[str]) -> list[str]:
    """Return the entries of ``ALLOWED_ORIGINS`` in the old ``host:port`` form (no scheme)."""
    return [e for e in entries if e not in ("*", "null") and "://" not in e]
