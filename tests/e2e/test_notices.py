"""What the page tells its user when the server ends, cannot make, or cannot run part of their session."""

from __future__ import annotations

from playwright.sync_api import Browser, BrowserContext, Page, expect

from docsync.testing import ServerProcess

from .browser import open_app, session_config, wait_for
from .conftest import ADMIN, SCREENSHOTS, new_context


def _log_in(browser: Browser, server: ServerProcess) -> Page:
    """A page of the admin, logged in, in a context of its own (the app's page stays anonymous)."""
    admin = new_context(browser).new_page()
    admin.goto(server.url + "admin/login/")
    admin.fill("#id_username", ADMIN[0])
    admin.fill("#id_password", ADMIN[1])
    admin.click("input[type=submit]")
    return admin


def test_expire_now_says_why_a_new_session_started(
    server: ServerProcess, browser: Browser, context: BrowserContext
) -> None:
    page = open_app(context, server.url + "sliders/")
    page.locator('[data-docsync-name="offset"] input').focus()
    page.keyboard.press("End")
    wait_for(lambda: page.evaluate("window.docsync.connection.settled"), 5, "the change to be sent")
    session_id = session_config(page)["sessionId"]
    admin = _log_in(browser, server)
    live = f"{server.url}admin/docsync/livesession/{session_id}/live/"

    def listed() -> bool:
        response = admin.goto(live)
        return response is not None and response.status == 200

    wait_for(listed, 10, "the session in the admin's live-session table", interval=0.2)
    admin.click("#action-expire [type=submit]")
    expect(admin.locator(".messagelist")).to_contain_text(f"Session {session_id[:10]}")

    notices = page.locator(".ds-notice")
    expect(notices.filter(has_text="This session was ended by an administrator.")).to_be_visible()
    expect(notices.filter(has_text="this is a fresh one")).to_be_visible()
    page.wait_for_function("window.docsync.state === 'live'")
    # The new session is the application's own again: the offset is back at 0.
    wait_for(lambda: page.evaluate("window.docsync.getModelByName('offset').get('value')") == 0, 5, "a new document")
    page.screenshot(path=SCREENSHOTS / "notice-expired-by-admin.png")
    assert page.errors == []  # type: ignore[attr-defined]
    admin.context.close()


def test_a_failing_callback_is_shown(server: ServerProcess, context: BrowserContext) -> None:
    page = open_app(context, server.url + "callback_fails/")
    page.locator('[data-docsync-name="slider"] input').focus()
    page.keyboard.press("ArrowRight")
    # This server runs with DEBUG on, so the page says what the callback raised.
    notice = page.locator(".ds-notice-error")
    expect(notice).to_contain_text("A callback failed on the server: ValueError: callback fails on purpose at 1")
    # and where it failed: its traceback, folded under the text (DEBUG only).
    notice.locator("summary").click()
    expect(notice.locator(".ds-notice-detail pre")).to_contain_text('raise ValueError(f"callback fails on purpose at')
    page.screenshot(path=SCREENSHOTS / "notice-callback-failed.png")
    assert page.evaluate("window.docsync.getModelByName('slider').get('value')") == 1  # the change stands


def test_an_app_that_cannot_make_the_session_shows_its_traceback_while_debug_is_on(
    server: ServerProcess, context: BrowserContext
) -> None:
    # The server sent the traceback (DEBUG is on here) and the page showed only
    # "application error: ValueError: ...", nothing of where: the developer had to find the
    # server's console.
    page = context.new_page()
    logged: list[str] = []
    page.on("console", lambda message: logged.append(message.text) if message.type == "error" else None)
    page.goto(server.url + "never_builds/")
    notice = page.locator(".ds-notice-error", has=page.locator(".ds-notice-detail")).first
    expect(notice.locator(".ds-notice-text")).to_have_text(
        "application error: ValueError: modify_document fails on purpose"
    )
    notice.locator("summary").click()
    trace = notice.locator(".ds-notice-detail pre")
    expect(trace).to_be_visible()
    expect(trace).to_contain_text("apps_shared.py")
    expect(trace).to_contain_text('raise ValueError("modify_document fails on purpose")')
    # Opened at its end, where the app's own frame is, not at docsync's first frames.
    wait_for(lambda: trace.evaluate("e => e.scrollHeight - e.clientHeight - e.scrollTop") < 2, 5, "the trace's end")
    page.screenshot(path=SCREENSHOTS / "notice-app-traceback-1280.png")
    page.set_viewport_size({"width": 400, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the traceback widened the page to {width} px"  # it scrolls in its own box
    page.screenshot(path=SCREENSHOTS / "notice-app-traceback-400.png")
    assert any("Traceback (most recent call last)" in text and "apps_shared.py" in text for text in logged)


def test_an_error_that_comes_again_is_counted_not_stacked(server: ServerProcess, context: BrowserContext) -> None:
    # Each attempt's failure alternated with the early retry's refusal, so the same error and
    # its traceback were stacked once per attempt (four notices after two attempts).
    page = context.new_page()
    page.clock.install()
    page.goto(server.url + "never_builds/")
    failure = page.locator(
        ".ds-notice-error", has_text="application error: ValueError: modify_document fails on purpose"
    )
    expect(failure).to_have_count(1)

    def counted_twice() -> bool:
        page.clock.run_for(500)
        page.wait_for_timeout(100)  # real time for the server's answer
        return failure.first.locator(".ds-notice-count").text_content() == "\u00d72"

    wait_for(counted_twice, 60, "the second failure to be counted", interval=0)
    expect(failure).to_have_count(1)
    assert page.locator(".ds-notice-error .ds-notice-detail").count() == 1


def test_an_app_that_cannot_make_the_session_is_tried_a_few_times_then_not(
    server: ServerProcess, context: BrowserContext
) -> None:
    page = context.new_page()
    # The client's backoff (0.5 s, 1 s, 2 s, …) runs on a clock the test moves forward.
    page.clock.install()
    page.goto(server.url + "never_builds/")
    badge = page.locator(".ds-status")

    def gave_up() -> bool:
        page.clock.run_for(1_000)
        page.wait_for_timeout(150)  # real time for the server's answer
        return badge.get_attribute("data-state") == "failed"

    wait_for(gave_up, 60, "the page to stop reconnecting", interval=0)
    expect(page.locator(".ds-notice-error .ds-notice-text").last).to_have_text(
        "Disconnected: the application failed to make this session 5 times and is not tried again for it. "
        "Reload the page to start again."
    )
    page.screenshot(path=SCREENSHOTS / "notice-app-stopped.png")
    # It stays given up: no more attempts.
    states = page.evaluate("window.docsync.state")
    page.clock.run_for(60_000)
    assert page.evaluate("window.docsync.state") == states == "failed"
