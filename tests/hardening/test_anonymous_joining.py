"""Anonymous visitors are told apart: a session is its own browser's, as a logged-in one is its user's.

Every anonymous request is Django's one ``AnonymousUser``; docsync binds an anonymous
session to a visitor id kept in the browser's signed ``docsync_visitor`` cookie. Against the main hardening
site (a real daphne process), with one cookie jar per browser: visitor B asking for
visitor A's session by ``?session_id=`` is given a session of its own (as another user
is), B's websocket with A's token, or with a token bound to B for A's session, is
refused 1008 and A's document is unchanged; A rejoins its own session; a shareable app
lets B in; a logged-in user's session is still the user's, and logged in the browser
does not join its anonymous session (logged out, it is the same visitor again).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from docsync.client import ClientSession
from docsync.testing import EVENT_WAIT

from .harness import Database, Site, canonical, expect_refusal, find_model, open_client, pull_json, token_payload

OWN, SHAREABLE = "anon_sessions", "anon_shareable"


@pytest.fixture(scope="module")
def channels_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    """The site with Channels' AuthMiddlewareStack in front of the websockets (the visitor is read from its session)."""
    site = Site(
        tmp_path_factory.mktemp("channels-auth"), database, asgi_app="tests.hardening.channels_auth_asgi:application"
    )
    site.start()
    try:
        yield site
    finally:
        site.stop()


async def _move(session: ClientSession, value: int) -> None:
    session.document.get_model_by_name("slider").value = value
    await session.sync(EVENT_WAIT)


def _slider(doc_json: dict) -> float:  # type: ignore[type-arg]
    return float(find_model(doc_json, "slider")["attributes"]["value"])


@pytest.mark.asyncio
async def test_another_visitors_session_is_not_joined(site: Site) -> None:
    a, b = site.browser(), site.browser()  # two anonymous browsers, each its own cookie jar
    mine = a.page_config(OWN)
    session = await open_client(mine, headers=a.cookie_header())
    try:
        await _move(session, 1)
        before = canonical(await pull_json(mine, headers=a.cookie_header()))

        # B's page for A's session id gives B a session of its own, saying nothing of A's.
        asked = b.page_config(OWN, f"?session_id={mine['sessionId']}")
        assert asked["sessionId"] != mine["sessionId"]
        # Each page gave its browser a visitor cookie of its own, and no Django session (no query).
        assert a.cookie("docsync_visitor") and b.cookie("docsync_visitor")
        assert a.cookie("docsync_visitor") != b.cookie("docsync_visitor")
        assert a.session_cookie is None and b.session_cookie is None
        assert token_payload(asked["token"])["vis"] != token_payload(mine["token"])["vis"]
        # A, in another tab (the same cookie jar), is given its session back.
        again = a.page_config(OWN, f"?session_id={mine['sessionId']}")
        assert again["sessionId"] == mine["sessionId"]
        assert canonical(await pull_json(again, headers=a.cookie_header())) == before

        # A's token reused from B's browser (a leaked one) is refused as another login's.
        code, errors = await expect_refusal(mine["wsUrl"], again["token"], headers=b.cookie_header())
        assert (code, errors) == (1008, ["token belongs to another user or a closed login"])
        # ... and from a browser that shows no Django session at all.
        code, errors = await expect_refusal(mine["wsUrl"], again["token"])
        assert (code, errors) == (1008, ["token belongs to another user or a closed login"])

        assert canonical(await pull_json(again, headers=a.cookie_header())) == before
        await _move(session, 2)
        assert _slider(await pull_json(again, headers=a.cookie_header())) == 2
    finally:
        await session.close()


@pytest.mark.asyncio
async def test_a_first_page_token_stands_alone(site: Site) -> None:
    # A page that brought no visitor (a first visit, a Python client, an embedding on a
    # site whose cookies are not sent) opens its own new session with its token alone.
    fresh = site.browser().page_config(OWN)
    session = await open_client(fresh)  # no Cookie header
    try:
        await _move(session, 5)
        # Another browser's ?session_id= does not join it: it gets a new one.
        other = site.browser()
        assert other.page_config(OWN, f"?session_id={fresh['sessionId']}")["sessionId"] != fresh["sessionId"]
        assert token_payload(fresh["token"]).get("vnew") is True
        await session.reconnect()  # its token alone reattaches it (SESSION_TOKEN_REUSE)
        assert session.document.get_model_by_name("slider").value == 5
    finally:
        await session.close()


@pytest.mark.asyncio
async def test_a_shareable_app_lets_another_visitor_join(site: Site) -> None:
    a, b = site.browser(), site.browser()
    hers = a.page_config(SHAREABLE)
    assert "vis" not in token_payload(hers["token"]), "a shareable app binds no visitor"
    first = await open_client(hers, headers=a.cookie_header())
    joined = b.page_config(SHAREABLE, f"?session_id={hers['sessionId']}")
    assert joined["sessionId"] == hers["sessionId"]
    second = await open_client(joined, headers=b.cookie_header())
    try:
        await _move(second, 7)
        assert _slider(await pull_json(hers, headers=a.cookie_header())) == 7
    finally:
        await first.close()
        await second.close()


@pytest.mark.asyncio
async def test_logged_in_sessions_stay_the_users(site: Site) -> None:
    alice = site.browser("alice")
    hers = alice.page_config(OWN)
    assert "vis" not in token_payload(hers["token"]), "a logged-in page binds the user, not a visitor"
    session = await open_client(hers, headers=alice.cookie_header())
    try:
        assert alice.page_config(OWN, f"?session_id={hers['sessionId']}")["sessionId"] == hers["sessionId"]
        assert site.browser().page_config(OWN, f"?session_id={hers['sessionId']}")["sessionId"] != hers["sessionId"]
    finally:
        await session.close()


@pytest.mark.asyncio
async def test_logged_in_the_anonymous_session_is_not_joined_logged_out_it_is_again(site: Site) -> None:
    browser = site.browser()
    made = browser.page_config(OWN)
    session = await open_client(made, headers=browser.cookie_header())
    try:
        rejoin = f"?session_id={made['sessionId']}"
        assert browser.page_config(OWN, rejoin)["sessionId"] == made["sessionId"]
        # Logged in, the browser's pages are the user's: the visitor's session is not joined.
        browser.login("bob")
        assert browser.page_config(OWN, rejoin)["sessionId"] != made["sessionId"]
        # Logged out, the browser is the same visitor again (its cookie outlives the login).
        browser.logout()
        assert browser.page_config(OWN, rejoin)["sessionId"] == made["sessionId"]
    finally:
        await session.close()


@pytest.mark.asyncio
async def test_channels_auth_middleware_tells_visitors_apart_too(channels_site: Site) -> None:
    a, b = channels_site.browser(), channels_site.browser()
    a.page_config(OWN)  # A has been here before: its next page's token is bound to its browser
    mine = a.page_config(OWN)
    session = await open_client(mine, headers=a.cookie_header())
    try:
        assert a.page_config(OWN, f"?session_id={mine['sessionId']}")["sessionId"] == mine["sessionId"]
        assert b.page_config(OWN, f"?session_id={mine['sessionId']}")["sessionId"] != mine["sessionId"]
        code, errors = await expect_refusal(mine["wsUrl"], mine["token"], headers=b.cookie_header())
        assert (code, errors) == (1008, ["token belongs to another user or a closed login"])
        await _move(session, 3)
        assert _slider(await pull_json(mine, headers=a.cookie_header())) == 3
    finally:
        await session.close()
