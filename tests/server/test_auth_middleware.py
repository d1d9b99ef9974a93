"""WebsocketAuthMiddleware: a websocket's Django user, from its session cookie, against the test database."""

from __future__ import annotations

import secrets
import sys
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.consumer import AsyncConsumer
from channels.routing import URLRouter
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.urls import re_path

from docsync.auth import WebsocketAuthMiddleware, user_of_session
from docsync.routing import websocket_urlpatterns

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


async def test_in_front_of_url_router_it_routes_into_its_own_scope_copy(database: str) -> None:
    # Channels' URLRouter would copy the scope again and await the consumer through two more
    # coroutines, for the websocket's life; the middleware routes itself: the consumer gets
    # the same scope (user, visitor, path_remaining, url_route, in the same order), from
    # one copy, with no URLRouter frame on its stack. Behind anything else, it leaves routing.
    seen: list[tuple[dict[str, Any], bool]] = []

    class Recorder(AsyncConsumer):
        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            frame: Any = sys._getframe(1)
            routers = 0
            while frame is not None:
                routers += frame.f_code is URLRouter.__call__.__code__
                frame = frame.f_back
            seen.append((scope, routers > 0))

    router = URLRouter([re_path(websocket_urlpatterns[0].pattern.regex.pattern, Recorder.as_asgi())])

    async def behind_a_function(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await router(scope, receive, send)

    name, key = await sync_to_async(_logged_in_session)()
    for cookie in (f"{settings.SESSION_COOKIE_NAME}={key}", "theme=dark"):
        scope = {"type": "websocket", "path": "/dash/bench/ws", "headers": [(b"cookie", cookie.encode())]}
        await WebsocketAuthMiddleware(router)(dict(scope), None, None)
        await WebsocketAuthMiddleware(behind_a_function)(dict(scope), None, None)
        (direct, routed_by_router), (through_router, router_ran) = seen
        seen.clear()
        assert not routed_by_router and router_ran
        assert list(direct) == list(through_router)
        assert {k: v for k, v in direct.items() if k != "user"} == {
            k: v for k, v in through_router.items() if k != "user"
        }
        assert direct["url_route"] == {"args": (), "kwargs": {"app_path": "bench"}}
        assert direct["user"] == through_router["user"] and direct["user"].is_authenticated is (key in cookie)
        assert direct["user"].username == (name if key in cookie else "")
