"""The ``docsync_visitor`` cookie as docs/howto/deploying.md (*Cookies*) describes it, from a real daphne.

Set on an anonymous visitor's first app page only, HttpOnly, with Django's session cookie
settings (here their defaults: two weeks, path ``/``, ``SameSite=Lax``, not Secure over
http), and not by a shareable or shared app's page nor for a logged-in user.
"""

from __future__ import annotations

import http.cookiejar
import time

from django.conf import global_settings
from django.core import signing

from .harness import SECRET_KEY, Browser, Site, token_payload

OWN, SHAREABLE, SHARED = "anon_sessions", "anon_shareable", "board"


def _cookie_signer(secret_key: str) -> signing.TimestampSigner:
    """Django's cookie signer (``get_cookie_signer``) for docsync's visitor salt, without settings."""
    return signing.TimestampSigner(key="django.http.cookies" + secret_key, salt="docsync.visitor", fallback_keys=[])


def _visitor_cookie(browser: Browser) -> http.cookiejar.Cookie | None:
    return next((c for c in browser.jar if c.name == "docsync_visitor"), None)


def test_a_first_page_sets_an_httponly_cookie_with_djangos_session_cookie_settings(site: Site) -> None:
    browser = site.browser()
    config = browser.page_config(OWN)
    cookie = _visitor_cookie(browser)
    assert cookie is not None
    assert cookie.has_nonstandard_attr("HttpOnly")  # page scripts cannot read it
    assert cookie.get_nonstandard_attr("SameSite") == global_settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert not cookie.secure  # a plain-http request, SESSION_COOKIE_SECURE off
    assert cookie.path == global_settings.SESSION_COOKIE_PATH == "/"
    assert not cookie.domain_specified  # SESSION_COOKIE_DOMAIN None: the host only
    assert cookie.expires is not None
    assert abs(cookie.expires - time.time() - global_settings.SESSION_COOKIE_AGE) < 600
    # Signed with SECRET_KEY, and the id it holds is the one the page's token is bound to.
    visitor = _cookie_signer(SECRET_KEY).unsign(cookie.value or "")
    assert visitor and token_payload(config["token"])["vis"] == visitor
    with_another_key = _cookie_signer("another-" + SECRET_KEY)
    try:
        with_another_key.unsign(cookie.value or "")
    except signing.BadSignature:
        pass
    else:
        raise AssertionError("the cookie's signature does not depend on SECRET_KEY")


def test_only_the_first_page_sets_it(site: Site) -> None:
    browser = site.browser()
    first = browser.get(f"{OWN}/")
    assert first.status == 200 and "docsync_visitor=" in first.headers.get("Set-Cookie", "")
    again = browser.get(f"{OWN}/")
    assert again.status == 200 and "docsync_visitor=" not in again.headers.get("Set-Cookie", "")


def test_shareable_and_shared_apps_and_logged_in_users_get_none(site: Site) -> None:
    for path in (f"{SHAREABLE}/", f"{SHARED}/?room=cookie-test"):
        browser = site.browser()
        answer = browser.get(path)
        assert answer.status == 200, (path, answer.status)
        assert _visitor_cookie(browser) is None, path
    user = site.browser("bob")
    assert user.get(f"{OWN}/").status == 200
    assert _visitor_cookie(user) is None
