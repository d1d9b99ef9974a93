"""A page outlives its server process: killed (SIGKILL), started again, the tab resumes its restored session.

The server saves sessions in its database (``DOCSYNC_PERSISTENCE=database``, SQLite);
the page is the sliders demo in Chromium, moved with the keyboard.
"""

from __future__ import annotations

import sqlite3
import time

from playwright.sync_api import BrowserContext, expect

from docsync.testing import ServerProcess

from .browser import open_app, page_document, python_document, session_config, settled, value, wait_for
from .conftest import SCREENSHOTS

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
    expect(badge).to_have_attribute("data-state", "live", timeout=20_000)

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
    assert python_document(f"{server.url}sliders/?session_id={session_id}") == page_document(page, server.url)
    assert page.errors == []  # type: ignore[attr-defined]
