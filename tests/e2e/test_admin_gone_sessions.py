"""The admin in Chromium after a hard restart of runserver: a killed process's session unlisted, its page says why."""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from .browser import open_app, session_config, wait_for
from .conftest import ADMIN, SCREENSHOTS, new_context, site

CHANGELIST = "admin/docsync/livesession/"


def _admin(browser: Browser, url: str, width: int) -> Page:
    """An admin page ``width`` pixels wide, logged in."""
    page = new_context(browser, viewport={"width": width, "height": 800}).new_page()
    page.goto(url + "admin/login/")
    page.fill("#id_username", ADMIN[0])
    page.fill("#id_password", ADMIN[1])
    page.click("input[type=submit]")
    return page


def test_a_killed_process_s_session_is_not_listed_and_its_page_says_it_can_come_back(
    browser: Browser, workdir: Path, database: str
) -> None:
    db = str(workdir / "gone-sessions.sqlite3")
    shutil.copyfile(database, db)  # the dead process's rows stay in this one only
    served = site(
        workdir,
        db,
        "gone_sessions",
        servers=("runserver",),  # the demo's server, which serves the admin's CSS (daphne alone does not)
        DOCSYNC_ADMIN_REFRESH="0.2",
        DOCSYNC_PROCESS_TIMEOUT="600",  # only knowing the process is gone can take its session off
        DOCSYNC_PERSISTENCE="database",
        DOCSYNC_SNAPSHOT_INTERVAL="0.2",
    ).start()
    try:
        app = new_context(browser)
        session_id = session_config(open_app(app, served.url + "sliders/"))["sessionId"]
        admin = _admin(browser, served.url, 1280)

        def listed() -> bool:
            admin.goto(served.url + CHANGELIST)
            return admin.locator("#result_list").count() > 0 and session_id[:10] in admin.inner_text("#result_list")

        wait_for(listed, 10, "the session in the admin's list", interval=0.2)
        app.close()  # its page does not reconnect: the session stays in the store only
        served.server.kill()
        served.restart()

        narrow = _admin(browser, served.url, 400)
        # Before: listed for PROCESS_TIMEOUT after the kill (600 s here; 15 s by default).
        wait_for(lambda: not listed(), 10, "the killed process's session to leave the list", interval=0.2)
        expect(admin.locator("#content")).to_contain_text("No live sessions reported")
        # The list says what it leaves out, and leads to the page that says more.
        expect(admin.locator("#stopped-sessions")).to_contain_text("Not listed: 1 session of stopped process")
        admin.click(f"#stopped-sessions a:has-text('{session_id[:10]}')")
        expect(admin.locator("h1")).to_have_text(f"Session {session_id[:10]} is not live")
        admin.goto(served.url + CHANGELIST)
        admin.screenshot(path=SCREENSHOTS / "admin-list-after-kill-1280.png", full_page=True)
        narrow.goto(served.url + CHANGELIST)
        narrow.screenshot(path=SCREENSHOTS / "admin-list-after-kill-400.png", full_page=True)

        for page, width in ((admin, 1280), (narrow, 400)):
            response = page.goto(f"{served.url}{CHANGELIST}{session_id}/live/")
            assert response is not None and response.status == 200  # before: 200 with a failed command, then 404
            expect(page.locator("h1")).to_have_text(f"Session {session_id[:10]} is not live")
            expect(page.locator("#gone-what")).to_contain_text("has stopped")
            expect(page.locator("#gone-store")).to_contain_text("Its snapshot is in the session store")
            expect(page.locator(".breadcrumbs")).to_contain_text("Live sessions")
            # Nothing wider than the window: the 64-character id wraps on a phone.
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            page.screenshot(path=SCREENSHOTS / f"admin-gone-session-{width}.png", full_page=True)
    finally:
        served.stop()
