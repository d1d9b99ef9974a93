"""Every access rule, on every way into an app: page, metadata, autoload.js, websocket.

Also the tokens' bindings (app, user, age), a logout ending the token's use, and the
Django session cookie kept out of pages and tokens.
"""

from __future__ import annotations

import asyncio
import time
from unittest import mock

import pytest

from docsync.server.admission.tokens import generate_session_id

from .harness import (
    Browser,
    Site,
    expect_accepted,
    expect_refusal,
    mint_token,
    page_config_of,
    token_payload,
)

POLICY = 1008
ANONYMOUS = None
USERS = (ANONYMOUS, "alice", "bob", "staffer")

#: app -> the users its rule lets in (see ``settings.ACCESS_APPS``).
ALLOWED = {
    "rule_public": {ANONYMOUS, "alice", "bob", "staffer"},
    "rule_login": {"alice", "bob", "staffer"},
    "rule_staff": {"staffer"},
    "rule_perm": {"alice"},
    "rule_perm_dict": {"alice"},
    "rule_dotted": {"alice"},
    "rule_callable": {"staffer"},
}


@pytest.fixture(scope="module")
def browsers(site: Site) -> dict[str | None, Browser]:
    """One browser per user, logged in (the anonymous one is not)."""
    return {user: site.browser(user) for user in USERS}


def _check_http(site: Site, browser: Browser, app: str, allowed: bool) -> None:
    who = browser.username or "anonymous"
    page = browser.get(f"{app}/")
    metadata = browser.get(f"{app}/metadata")
    autoload = browser.get(f"{app}/autoload.js?target=here")
    if allowed:
        assert page.status == 200, f"{who} refused the page of {app}"
        assert page_config_of(page.body)["app"] == app
        assert metadata.status == 200 and '"url"' in metadata.body, f"{who} refused metadata of {app}"
        assert autoload.status == 200 and '"token"' in autoload.body, f"{who} refused autoload.js of {app}"
        return
    if browser.username is None:
        # Not logged in: the page and metadata send the browser to the login page.
        for answer, path in ((page, f"/{app}/"), (metadata, f"/{app}/metadata")):
            assert answer.status == 302, f"anonymous got {answer.status} for {path}"
            assert answer.location == f"/accounts/login/?next={path}"
    else:
        assert page.status == 403, f"{who} got {page.status} for the page of {app}"
        assert metadata.status == 403, f"{who} got {metadata.status} for the metadata of {app}"
        assert "token" not in page.body
    assert autoload.status == 403, f"{who} got {autoload.status} for autoload.js of {app}"
    assert "token" not in autoload.body


async def _check_websocket(site: Site, browser: Browser, app: str, allowed: bool) -> None:
    headers = browser.cookie_header()
    if allowed:
        config = browser.page_config(app)
        doc = await expect_accepted(site.ws_url(app), config["token"], headers=headers)
        assert doc["models"], "an accepted websocket pulls the document"
        return
    # A page would not issue a token to this user: one is signed as the server would.
    uid = None if browser.username is None else site.user_ids[browser.username]
    token = mint_token(generate_session_id(), app, uid)
    code, errors = await expect_refusal(site.ws_url(app), token, headers=headers)
    assert code == POLICY and errors == ["access denied"], (browser.username, app, code, errors)


@pytest.mark.parametrize("app", sorted(ALLOWED))
def test_access_rule_governs_page_metadata_autoload_and_websocket(
    site: Site, browsers: dict[str | None, Browser], app: str
) -> None:
    for user in USERS:
        allowed = user in ALLOWED[app]
        _check_http(site, browsers[user], app, allowed)
        asyncio.run(_check_websocket(site, browsers[user], app, allowed))


def test_autoload_without_target_is_a_bad_request(site: Site) -> None:
    answer = site.browser().get("rule_public/autoload.js")
    assert answer.status == 400 and "target" in answer.body


def test_token_is_bound_to_its_app_its_user_and_a_short_expiry(site: Site, browsers: dict[str | None, Browser]) -> None:
    alice, bob = browsers["alice"], browsers["bob"]
    config = alice.page_config("rule_login")
    token = config["token"]

    async def check() -> None:
        # Another app: alice may open rule_perm, but not with rule_login's token.
        code, errors = await expect_refusal(site.ws_url("rule_perm"), token, headers=alice.cookie_header())
        assert (code, errors) == (POLICY, ["token is for another application"])
        # Another user, or nobody, presenting alice's token.
        for headers in (bob.cookie_header(), {}):
            code, errors = await expect_refusal(site.ws_url("rule_login"), token, headers=headers)
            assert (code, errors) == (POLICY, ["token belongs to another user or a closed login"])
        # A forged token: alice's, with its signature changed.
        forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        code, errors = await expect_refusal(site.ws_url("rule_login"), forged, headers=alice.cookie_header())
        assert (code, errors) == (POLICY, ["invalid token"])
        # A token older than SESSION_TOKEN_EXPIRATION (300 s) may not create a session.
        with mock.patch("time.time", return_value=time.time() - 400):
            old = mint_token(generate_session_id(), "rule_login", site.user_ids["alice"])
        code, errors = await expect_refusal(site.ws_url("rule_login"), old, headers=alice.cookie_header())
        assert (code, errors) == (POLICY, ["token expired"])
        # And the genuine article still works.
        await expect_accepted(site.ws_url("rule_login"), token, headers=alice.cookie_header())

    asyncio.run(check())


def test_logout_ends_the_tokens_of_its_login(site: Site) -> None:
    browser = site.browser("alice")
    config = browser.page_config("rule_login")
    old_cookie = browser.cookie_header()

    async def before() -> None:
        await expect_accepted(config["wsUrl"], config["token"], headers=old_cookie)

    asyncio.run(before())
    browser.logout()

    async def after() -> None:
        # The old cookie names a Django session that no longer exists: the websocket's
        # user is anonymous, so the token (bound to alice) opens nothing.
        for headers in (old_cookie, browser.cookie_header()):
            code, errors = await expect_refusal(config["wsUrl"], config["token"], headers=headers)
            assert (code, errors) == (POLICY, ["token belongs to another user or a closed login"])

    asyncio.run(after())
    assert browser.get("rule_login/").status == 302


def test_session_cookie_never_enters_the_page_or_the_token(site: Site) -> None:
    browser = site.browser("alice")
    cookie = browser.session_cookie
    assert cookie
    session_cookie = next(c for c in browser.jar if c.name == "sessionid")
    # The page's JavaScript cannot read it either.
    assert session_cookie.has_nonstandard_attr("HttpOnly")
    for app in ("rule_login", "rule_public", "rule_perm"):
        page = browser.get(f"{app}/")
        assert page.status == 200
        assert cookie not in page.body
        config = page_config_of(page.body)
        payload = token_payload(config["token"])
        assert payload["uid"] == str(site.user_ids["alice"]) and payload["app"] == app
        assert cookie not in config["token"] and cookie not in str(payload)
        script = browser.get(f"{app}/autoload.js?target=here")
        assert script.status == 200 and cookie not in script.body
