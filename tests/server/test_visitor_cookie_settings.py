"""The ``docsync_visitor`` cookie takes Django's session cookie settings (docs/howto/deploying.md, *Cookies*).

Its default attributes, and that shareable apps and logged-in users get none, are checked
against a real daphne in ``tests/hardening/test_visitor_cookie.py``; here each setting's
effect, in-process (one site per setting would cost a server start each).
"""

from __future__ import annotations

import asyncio

import pytest
from django.test import Client, override_settings

from docsync.server.registry import SessionRegistry

APP = "/request_echo/"


def _visitor_cookie(secure: bool = False) -> dict[str, object]:
    response = Client().get(APP, secure=secure)
    assert response.status_code == 200
    morsel = response.cookies["docsync_visitor"]
    return {key: morsel[key] for key in ("max-age", "domain", "path", "secure", "httponly", "samesite")}


@pytest.mark.asyncio
@pytest.mark.usefixtures("database")
async def test_the_cookie_takes_the_session_cookie_settings(registry: SessionRegistry) -> None:
    settings = {
        "SESSION_COOKIE_AGE": 3600,
        "SESSION_COOKIE_DOMAIN": ".example.com",
        "SESSION_COOKIE_PATH": "/site/",
        "SESSION_COOKIE_SAMESITE": "Strict",
        "SESSION_COOKIE_SECURE": True,
        "ALLOWED_HOSTS": ["testserver"],
    }
    with override_settings(**settings):
        assert await asyncio.to_thread(_visitor_cookie) == {
            "max-age": 3600,
            "domain": ".example.com",
            "path": "/site/",
            "secure": True,
            "httponly": True,
            "samesite": "Strict",
        }


@pytest.mark.asyncio
@pytest.mark.usefixtures("database")
async def test_an_https_request_gets_a_secure_cookie_anyway(registry: SessionRegistry) -> None:
    with override_settings(SESSION_COOKIE_SECURE=False):
        assert (await asyncio.to_thread(_visitor_cookie, False))["secure"] == ""
        assert (await asyncio.to_thread(_visitor_cookie, True))["secure"] is True
