"""In Chromium: an anonymous visitor's session is its browser's, for docsync's apps and Bokeh's alike.

Two browser contexts are two anonymous visitors (each its own cookies). The second
opening the first one's session by ``?session_id=`` (a link shared, a screenshot) is
given a session of its own, and what it writes stays in it; a second tab of the first
browser rejoins its session. Before, every anonymous visitor was the same user, and
the link joined (with a Bokeh app, taking HTML from whoever opened it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from docsync.testing import ServerProcess

from .bokeh_page import BokehPage
from .browser import open_app, session_config, settled, value, wait_for
from .conftest import new_context, start_server

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

WRITTEN = "written by another visitor"


@pytest.fixture(scope="module")
def server(workdir: Path, database: str) -> Iterator[ServerProcess]:
    process = start_server(workdir, database, "anonymous_sessions", DJANGO_SETTINGS_MODULE="tests.bokeh.settings")
    yield process
    process.stop()


@pytest.fixture
def other_context(browser: Browser) -> Iterator[BrowserContext]:
    """A second anonymous visitor: another browser context, with cookies of its own."""
    ctx = new_context(browser, viewport={"width": 1100, "height": 760})
    yield ctx
    ctx.close()


def test_a_bokeh_session_is_its_browsers(
    context: BrowserContext, other_context: BrowserContext, server: ServerProcess
) -> None:
    mine = BokehPage.open(context, server, "bk_sliders")
    theirs = BokehPage.open(other_context, server, "bk_sliders", f"?session_id={mine.session}")
    assert theirs.session != mine.session
    theirs.js("title", f"(m.value = {WRITTEN!r}, m.value)")
    theirs.until(lambda: theirs.python("title", "value") == WRITTEN, "the other visitor's change, in its session")
    assert mine.python("title", "value") != WRITTEN
    again = BokehPage.open(context, server, "bk_sliders", f"?session_id={mine.session}")
    assert again.session == mine.session
    assert again.js("title", "m.value") == mine.js("title", "m.value") != WRITTEN


def test_a_docsync_session_is_its_browsers(
    context: BrowserContext, other_context: BrowserContext, server: ServerProcess
) -> None:
    mine = open_app(context, f"{server.url}sliders/")
    session_id = session_config(mine)["sessionId"]
    theirs = open_app(other_context, f"{server.url}sliders/?session_id={session_id}")
    assert session_config(theirs)["sessionId"] != session_id
    # The page says so: it had looked like the session shared, in its first state.
    expect(theirs.locator(".ds-notice-info .ds-notice-text")).to_have_text(
        "The session this address names is gone or not yours to join: this is a new one."
    )
    theirs.locator('[data-docsync-name="phase"] input').focus()
    for _ in range(3):
        theirs.keyboard.press("ArrowRight")  # as a user moves the slider
    wait_for(lambda: value(theirs, "phase", "value") == pytest.approx(0.3), 5, "the other visitor's change")
    wait_for(lambda: settled(theirs), 5, "the other visitor's change to be sent")
    again = open_app(context, f"{server.url}sliders/?session_id={session_id}")
    assert session_config(again)["sessionId"] == session_id
    expect(again.locator(".ds-notice")).to_have_count(0)  # joined: nothing to say
    assert value(again, "phase", "value") == value(mine, "phase", "value") == 0
    assert mine.errors == theirs.errors == again.errors == []  # type: ignore[attr-defined]
