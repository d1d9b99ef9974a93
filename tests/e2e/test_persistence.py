"""A page outlives its server process: killed (SIGKILL), started again, the tab resumes its restored session.

The server saves sessions in its database (``DOCSYNC_PERSISTENCE=database``, SQLite);
the page is the sliders demo in Chromium, moved with the keyboard. Under daphne, after
the change's snapshot; under uvicorn and ``runserver``, two tabs killed right after
their changes were acknowledged, with no snapshot since the sessions were made (the
journal holds the changes).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from docsync.testing import EVENT_WAIT, ServerProcess

from .browser import cookies_of, open_app, page_document, python_document, session_config, settled, value, wait_for
from .conftest import ROOT, SCREENSHOTS, SETTINGS, new_context

SERVER_ENV = {"DOCSYNC_PERSISTENCE": "database", "DOCSYNC_SNAPSHOT_INTERVAL": "0.2"}


def _saved_seq(database: str, session_id: str) -> int:
    with sqlite3.connect(database) as db:
        row = db.execute("SELECT seq FROM docsync_sessionsnapshot WHERE session_id = ?", (session_id,)).fetchone()
    return -1 if row is None else int(row[0])


def test_a_tab_resumes_its_session_restored_after_its_server_was_killed(
    server: ServerProcess, context: BrowserContext, database: str
) -> None:
    page = open_app(context, server.url + "sliders/")
    session_id = session_config(page)["sessionId"]
    badge = page.locator(".ds-status")
    expect(badge).to_have_attribute("data-state", "live")
    page.locator('[data-docsync-name="phase"] input').focus()
    page.keyboard.press("ArrowRight")
    status = page.locator('[data-docsync-name="status"]')
    expect(status).to_have_text("phase changed from 0 to 0.1")  # the server's callback ran
    wait_for(lambda: settled(page), 5, "the page to settle")
    seq = page.evaluate("() => window.docsync.connection.lastSeq")
    assert isinstance(seq, int) and seq >= 1
    wait_for(lambda: _saved_seq(database, session_id) >= seq, 10, "the snapshot of the change")

    server.kill()
    expect(badge).to_have_attribute("data-state", "reconnecting")
    time.sleep(0.5)  # the tab retries against a port where nothing listens
    server.start()  # the same port, a new process: it restores the session from the database
    expect(badge).to_have_attribute("data-state", "live", timeout=EVENT_WAIT * 1000)

    # The same session: no "fresh one" notice, the change and the callback's text kept.
    expect(page.locator(".ds-notice-info")).to_have_count(0)
    expect(status).to_have_text("phase changed from 0 to 0.1")
    assert value(page, "phase", "value") == 0.1
    page.screenshot(path=SCREENSHOTS / "restored-session.png")
    # The restored session's callbacks run: the application was run again under it.
    page.locator('[data-docsync-name="phase"] input').focus()
    page.keyboard.press("ArrowRight")
    expect(status).to_have_text("phase changed from 0.1 to 0.2")
    wait_for(lambda: settled(page), 5, "the page to settle")
    assert python_document(f"{server.url}sliders/?session_id={session_id}", cookies_of(page)) == page_document(
        page, server.url
    )
    assert page.errors == []  # type: ignore[attr-defined]


def _changed(old: float, new: float) -> str:
    return f"phase changed from {old:g} to {new:g}"


def _nudge(page: Page, presses: int) -> None:
    page.locator('[data-docsync-name="phase"] input').focus()
    for _ in range(presses):
        page.keyboard.press("ArrowRight")


@pytest.mark.parametrize("kind", ["uvicorn", "runserver"])
def test_open_tabs_resume_their_sessions_after_a_kill_9_with_no_snapshot_since_their_changes(
    kind: str, context: BrowserContext, database: str, workdir: Path
) -> None:
    server = ServerProcess(
        server=kind,
        cwd=ROOT,
        log_path=workdir / f"persistence-{kind}.log",
        env={
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "DJANGO_DEBUG": "1",
            "DOCSYNC_SQLITE": database,
            "DOCSYNC_ADMIN_REFRESH": "0",
            "DOCSYNC_PERSISTENCE": "database",
            "DOCSYNC_SNAPSHOT_INTERVAL": "30",  # no snapshot after a session's first: the journal holds the changes
        },
    ).start()
    try:
        tabs = [open_app(context, server.url + "sliders/") for _ in range(2)]
        sessions = [session_config(tab)["sessionId"] for tab in tabs]
        assert sessions[0] != sessions[1]
        for n, tab in enumerate(tabs):
            expect(tab.locator(".ds-status")).to_have_attribute("data-state", "live")
            _nudge(tab, n + 1)
            expect(tab.locator('[data-docsync-name="status"]')).to_have_text(
                f"phase changed from {n / 10:g} to {(n + 1) / 10:g}"
            )
        for tab in tabs:
            wait_for(lambda tab=tab: settled(tab), 5, "the page's changes to be acknowledged")  # type: ignore[misc]
        assert all(_saved_seq(database, s) == 0 for s in sessions), "no snapshot after the sessions were made"

        server.kill()  # kill -9, at once
        for tab in tabs:
            expect(tab.locator(".ds-status")).to_have_attribute("data-state", "reconnecting")
        server.start()  # the same port, a new process: it restores the sessions from the database
        for n, tab in enumerate(tabs):
            expect(tab.locator(".ds-status")).to_have_attribute("data-state", "live", timeout=EVENT_WAIT * 1000)
            # Their own sessions: no "fresh one" notice, the changes and the callback's text kept.
            expect(tab.locator(".ds-notice-info")).to_have_count(0)
            assert session_config(tab)["sessionId"] == sessions[n]
            assert value(tab, "phase", "value") == (n + 1) / 10
            expect(tab.locator('[data-docsync-name="status"]')).to_have_text(
                f"phase changed from {n / 10:g} to {(n + 1) / 10:g}"
            )
        tabs[1].screenshot(path=SCREENSHOTS / f"restored-after-kill-{kind}.png")
        for n, tab in enumerate(tabs):
            _nudge(tab, 1)  # the restored sessions' callbacks run
            expect(tab.locator('[data-docsync-name="status"]')).to_have_text(_changed((n + 1) / 10, (n + 2) / 10))
            wait_for(lambda tab=tab: settled(tab), 5, "the page to settle")  # type: ignore[misc]
            url = f"{server.url}sliders/?session_id={sessions[n]}"
            assert python_document(url, cookies_of(tab)) == page_document(tab, server.url)
            assert tab.errors == []  # type: ignore[attr-defined]
    finally:
        server.stop()


@pytest.fixture
def other_context(browser: Browser) -> Iterator[BrowserContext]:
    """A second anonymous visitor: another browser context, with cookies of its own."""
    ctx = new_context(browser, viewport={"width": 1100, "height": 760})
    yield ctx
    ctx.close()


_NOT_JOINED = "The session this address names is gone or not yours to join: this is a new one."


def test_a_link_to_a_session_restores_it_after_a_kill_9_for_its_own_visitor_only(
    context: BrowserContext, other_context: BrowserContext, database: str, workdir: Path
) -> None:
    """A page reloaded with ``?session_id=`` after its server died joins the session the store holds.

    Its tab is closed before the kill, so no websocket resumes it: only the page load
    names it. Another visitor (another browser) given the same link gets a new session,
    as before the kill: the store says whose the session is.
    """
    server = ServerProcess(
        server="daphne",
        cwd=ROOT,
        log_path=workdir / "persistence-link.log",
        env={
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "DJANGO_DEBUG": "1",
            "DOCSYNC_SQLITE": database,
            "DOCSYNC_ADMIN_REFRESH": "0",
            "DOCSYNC_PERSISTENCE": "database",
            "DOCSYNC_SNAPSHOT_INTERVAL": "30",  # no snapshot after the session's first: the journal holds the change
        },
    ).start()
    try:
        tab = open_app(context, server.url + "sliders/")
        session_id = session_config(tab)["sessionId"]
        link = f"{server.url}sliders/?session_id={session_id}"
        _nudge(tab, 2)
        expect(tab.locator('[data-docsync-name="status"]')).to_have_text(_changed(0.1, 0.2))
        wait_for(lambda: settled(tab), 5, "the change to be acknowledged")
        # Before the kill, another visitor's page is not joined to it.
        theirs = open_app(other_context, link)
        assert session_config(theirs)["sessionId"] != session_id
        theirs.close()
        tab.close()  # no socket left to resume it

        server.kill()  # kill -9, at once
        server.start()  # the same port, a new process: it holds no session

        # Another visitor first: the stored session is not theirs, so not restored for them.
        theirs = open_app(other_context, link)
        assert session_config(theirs)["sessionId"] != session_id
        expect(theirs.locator(".ds-notice-info .ds-notice-text")).to_have_text(_NOT_JOINED)
        assert value(theirs, "phase", "value") == 0

        # Its own visitor's page: the session, restored from the store, with its change.
        again = open_app(context, link)
        assert session_config(again)["sessionId"] == session_id
        expect(again.locator('[data-docsync-name="status"]')).to_have_text(_changed(0.1, 0.2))
        assert value(again, "phase", "value") == 0.2
        expect(again.locator(".ds-notice")).to_have_count(0)  # joined: nothing to say
        _nudge(again, 1)  # its callbacks run: the application was run again under it
        expect(again.locator('[data-docsync-name="status"]')).to_have_text(_changed(0.2, 0.3))
        wait_for(lambda: settled(again), 5, "the page to settle")
        assert python_document(link, cookies_of(again)) == page_document(again, server.url)
        assert again.errors == theirs.errors == []  # type: ignore[attr-defined]
    finally:
        server.stop()
