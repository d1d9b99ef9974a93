"""Session ids and the signed tokens that let a websocket open or join a session."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core import signing

from ...exceptions import TokenError
from .signers import timestamp_signer

__all__ = ["SessionToken", "generate_session_id", "issue_token", "read_token"]

_SALT = "docsync.session-token"


def _signer() -> signing.TimestampSigner:
    # "." instead of ":" so that the token is a valid Sec-WebSocket-Protocol value.
    return timestamp_signer(_SALT, ".")


def generate_session_id() -> str:
    """Return a new cryptographically random session id."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True, slots=True)
class SessionToken:
    """What a token grants: a session of one app, for one user, with request arguments."""

    session_id: str
    app_path: str
    user_id: str | None
    arguments: dict[str, list[str]]
    age: float
    #: The page request's headers and cookies the session may see (request_info.py).
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    #: The anonymous visitor the token is for (visitors.py); None for a logged-in user.
    visitor: str | None = None
    #: The visitor id was made for the page that got this token: the browser could not
    #: show it yet, so the token alone stands for it (no cookie is asked for).
    visitor_fresh: bool = False


def issue_token(
    session_id: str,
    app_path: str,
    user_id: Any,
    arguments: dict[str, list[str]] | None = None,
    *,
    request_info: dict[str, dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
    visitor: str | None = None,
    visitor_fresh: bool = False,
) -> str:
    """Sign a token binding ``session_id`` to ``app_path`` and the user (never the cookie).

    ``request_info``: the page request's headers and cookies for the session (already
    filtered: the payload is readable). ``extra`` adds fields a client reads from the
    (readable, signed) payload, such as the ``session_id`` BokehJS takes from its token.
    ``visitor``: the anonymous visitor's id (``visitor_fresh``: just made, see visitors.py).
    """
    payload = {
        **(extra or {}),
        "sid": session_id,
        "app": app_path,
        "uid": None if user_id is None else str(user_id),
        "args": arguments or {},
    }
    if request_info:
        payload["hdr"] = request_info.get("headers") or {}
        payload["ck"] = request_info.get("cookies") or {}
    if visitor is not None:
        payload["vis"] = str(visitor)
        if visitor_fresh:
            payload["vnew"] = True
    return _signer().sign_object(payload)


def read_token(token: str, *, max_age: float) -> SessionToken:
    """Return the token's grant, or raise TokenError if it is forged or older than ``max_age``."""
    try:
        payload = _signer().unsign_object(token, max_age=timedelta(seconds=max_age))
    except signing.SignatureExpired as exc:
        raise TokenError("token expired") from exc
    except signing.BadSignature as exc:
        raise TokenError("invalid token") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("sid"), str):
        raise TokenError("invalid token")
    arguments = payload.get("args") or {}
    return SessionToken(
        payload["sid"],
        str(payload.get("app")),
        payload.get("uid"),
        arguments,
        _age(token),
        headers=dict(payload.get("hdr") or {}),
        cookies=dict(payload.get("ck") or {}),
        visitor=str(payload["vis"]) if payload.get("vis") else None,
        visitor_fresh=bool(payload.get("vnew")),
    )


def _age(token: str) -> float:
    # The token is "payload.timestamp.signature"; the signature was checked above.
    try:
        timestamp = signing.b62_decode(token.rsplit(".", 2)[1])
    except (IndexError, ValueError):
        return 0.0
    return max(0.0, time.time() - timestamp)
