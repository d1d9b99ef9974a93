"""An app entry's ``"allow_join"`` and ``"title"`` do what the README's ``APPS`` row says.

Against real daphne processes (the main hardening site and the hostile Bokeh one), one
cookie jar per browser: with ``"allow_join": False`` a page naming a live session by
``?session_id=`` gets a new session, even in the browser that owns it and in a shareable
app, while the session's own connection still reconnects with its token; ``"title"`` is
the title of each new session's document and of its page, for docsync and Bokeh apps.
"""

from __future__ import annotations

import html
import re

import pytest

from docsync.client import ClientSession
from docsync.testing import EVENT_WAIT

from .harness import Browser, Site, find_model, open_client, pull_json, token_payload

_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def _page_title(browser: Browser, app: str) -> str:
    answer = browser.get(f"{app}/")
    assert answer.status == 200, answer.status
    found = _TITLE.search(answer.body)
    assert found, "no <title> in the page"
    return html.unescape(found.group(1).strip())


async def _move(session: ClientSession, value: int) -> None:
    session.document.get_model_by_name("slider").value = value
    await session.sync(EVENT_WAIT)


@pytest.mark.asyncio
async def test_without_allow_join_a_page_naming_a_session_gets_a_new_one(site: Site) -> None:
    browser = site.browser()
    for app, rejoins in (("anon_sessions", True), ("no_joining", False)):  # the default, then False
        mine = browser.page_config(app)
        session = await open_client(mine, headers=browser.cookie_header())
        try:
            await _move(session, 3)
            again = browser.page_config(app, f"?session_id={mine['sessionId']}")
            assert (again["sessionId"] == mine["sessionId"]) is rejoins, app
            value = find_model(await pull_json(again, headers=browser.cookie_header()), "slider")
            assert value["attributes"]["value"] == (3 if rejoins else 0), app
            await session.reconnect()  # the session's own token still reattaches it
            assert session.document.get_model_by_name("slider").value == 3
        finally:
            await session.close()


@pytest.mark.asyncio
async def test_without_allow_join_a_shareable_session_is_not_joined_by_id(site: Site) -> None:
    a, b = site.browser(), site.browser()
    hers = a.page_config("no_joining_shareable")
    session = await open_client(hers, headers=a.cookie_header())
    try:
        asked = b.page_config("no_joining_shareable", f"?session_id={hers['sessionId']}")
        assert asked["sessionId"] != hers["sessionId"]
        assert token_payload(asked["token"])["sid"] == asked["sessionId"]
    finally:
        await session.close()


@pytest.mark.asyncio
async def test_title_names_the_document_and_its_page(site: Site) -> None:
    browser = site.browser()
    assert _page_title(browser, "titled") == "Ledger <of> limits"  # escaped in the HTML, read back
    titles = [
        (await pull_json(browser.page_config(app), headers=browser.cookie_header()))["title"]
        for app in ("titled", "limits")  # the same app without the key
    ]
    assert titles[0] == "Ledger <of> limits" != titles[1]


def _bokeh_session(browser: Browser, app: str, query: str = "") -> str:
    answer = browser.get(f"{app}/{query}")
    assert answer.status == 200, answer.status
    found = re.search(r'"token":\s*"([^"]+)"', answer.body)
    assert found, "no Bokeh token in the page"
    return str(token_payload(found.group(1))["session_id"])


def test_bokeh_allow_join_and_title(shared_bokeh_site: Site) -> None:
    pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
    browser = shared_bokeh_site.browser()
    for app, rejoins in (("bk_grow", True), ("bk_no_joining", False)):  # the default, then False
        session = _bokeh_session(browser, app)  # a Bokeh page makes its session before it answers
        assert (_bokeh_session(browser, app, f"?session_id={session}") == session) is rejoins, app
    assert _page_title(browser, "bk_titled") == "Grown <here>"
    assert _page_title(browser, "bk_grow") != "Grown <here>"
