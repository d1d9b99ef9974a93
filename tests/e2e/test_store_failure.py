"""A tab whose change the session store refused: told so, reset to what the store holds, editing on after.

uvicorn with its sessions in SQLite (``DOCSYNC_PERSISTENCE=database``); another writer
holds the database (an exclusive transaction of the test's own) while the tab moves a
slider: the change is answered ERROR `store-unavailable`, the page says so and
reconnects (close 1013) until the database is free, then shows the stored state
again (the refused value gone) and its next change is kept.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from playwright.sync_api import BrowserContext, expect

from docsync.testing import EVENT_WAIT, ServerProcess

from .browser import cookies_of, open_app, page_document, python_document, session_config, settled, value, wait_for
from .conftest import ROOT, SCREENSHOTS, SETTINGS


def test_a_refused_change_is_shown_undone_and_the_tab_edits_on_once_the_store_is_back(
    context: BrowserContext, database: str, workdir: Path
) -> None:
    own = workdir / "store-failure.sqlite3"
    shutil.copy(database, own)  # a database of its own: the lock below holds no other test's
    server = ServerProcess(
        server="uvicorn",
        cwd=ROOT,
        log_path=workdir / "store-failure.log",
        env={
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "DJANGO_DEBUG": "1",
            "DOCSYNC_SQLITE": str(own),
            "DOCSYNC_ADMIN_REFRESH": "0",
            "DOCSYNC_PERSISTENCE": "database",
        },
    ).start()
    holder: sqlite3.Connection | None = None
    try:
        page = open_app(context, server.url + "sliders/")
        session_id = session_config(page)["sessionId"]
        badge = page.locator(".ds-status")
        status = page.locator('[data-docsync-name="status"]')
        phase = page.locator('[data-docsync-name="phase"] input')
        phase.focus()
        page.keyboard.press("ArrowRight")
        expect(status).to_have_text("phase changed from 0 to 0.1")
        wait_for(lambda: settled(page), 5, "the first change to be acknowledged")

        holder = sqlite3.connect(own, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        phase.focus()
        page.keyboard.press("ArrowRight")
        notice = page.locator(".ds-notice", has_text="change not saved")
        expect(notice.first).to_be_visible(timeout=EVENT_WAIT * 1000)
        expect(badge).not_to_have_attribute("data-state", "live", timeout=EVENT_WAIT * 1000)
        page.screenshot(path=SCREENSHOTS / "store-refused-change.png")
        holder.execute("ROLLBACK")
        holder.close()
        holder = None

        expect(badge).to_have_attribute("data-state", "live", timeout=EVENT_WAIT * 1000)
        # Reset to the stored state: the refused 0.2 is gone, the callback's text is the stored one.
        wait_for(lambda: value(page, "phase", "value") == 0.1, 10, "the refused value to be undone")
        expect(status).to_have_text("phase changed from 0 to 0.1")
        assert session_config(page)["sessionId"] == session_id
        phase.focus()
        page.keyboard.press("ArrowRight")
        expect(status).to_have_text("phase changed from 0.1 to 0.2")
        wait_for(lambda: settled(page), 5, "the page to settle")
        assert python_document(f"{server.url}sliders/?session_id={session_id}", cookies_of(page)) == page_document(
            page, server.url
        )
        assert "changes not written to the store (database): refused" in (workdir / "store-failure.log").read_text()
    finally:
        if holder is not None:
            holder.close()
        server.stop()
