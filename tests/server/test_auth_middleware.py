"""WebsocketAuthMiddleware: a websocket's Django user, from its session cookie, against the test database."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore

from docsync.auth import WebsocketAuthMiddleware, user_of_session

pytestmark = pytest.mark.asyncio


def _logged_in_session() -> tuple[str, str]:
    """A user and a saved session in which they are logged in: (username, session key)."""
    name = f"carol-{secrets.token_hex(4)}"
    user = get_user_model().objects.create_user(name, password="pw-for-tests")
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return name, str(session.session_key)


async def _user_seen(cookie: str | None, scope_type: str = "websocket") -> Any:
    seen: dict[str, Any] = {}

    async def inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen["user"] = scope.get("user")

    headers = [(b"cookie", cookie.encode())] if cookie is not None else []
    await WebsocketAuthMiddleware(inner)({"type": scope_type, "headers": headers}, None, None)
    return seen["user"]


async def test_the_session_cookie_names_the_user(database: str) -> None:
    name, key = await sync_to_async(_logged_in_session)()
    user = await _user_seen(f"theme=dark; {settings.SESSION_COOKIE_NAME}={key}")
    assert user.is_authenticated and user.username == name


async def test_no_cookie_a_forged_one_or_another_scope_is_anonymous(database: str) -> None:
    assert not (await _user_seen(None)).is_authenticated
    assert not (await _user_seen(f"{settings.SESSION_COOKIE_NAME}=not-a-session")).is_authenticated
    assert await _user_seen("x=1", scope_type="http") is None  # only websockets are its business


async def test_without_a_cookie_the_user_is_django_s_anonymous_user(database: str) -> None:
    # Loaded without a worker thread: the same user Django's get_user gives an empty session.
    seen = await _user_seen(f"theme=dark; not{settings.SESSION_COOKIE_NAME}=x")
    expected = await sync_to_async(user_of_session)(None)
    assert type(seen) is type(expected) and seen == expected and not seen.is_authenticated
    empty = await _user_seen(f"{settings.SESSION_COOKIE_NAME}=")  # a cookie, empty: the session's path
    assert type(empty) is type(expected) and not empty.is_authenticated
