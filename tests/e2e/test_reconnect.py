"""The server closes a live page's websocket: the page reconnects and converges.

Two ways: the server process stops and starts again on its port (its sessions are
gone: the page gets a fresh one), and the server refuses a burst of patches over its
rate limit (the session stays: the page's changes are made again once it is back).

A page keeps to the rate its server announces (``connection.sendLimits.maxPatchesPerSecond``,
tests/e2e/test_pacing.py), so it is never refused for it: to test the reconnection after
that close, the page reads a rate far above the server's in its configuration (its
JSON.parse wrapped before its scripts run), and its own patches pass the server's rate as
a page's did before it kept to it.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import BrowserContext, expect

from docsync.testing import ServerProcess

from .browser import (
    EVENT_WAIT,
    cookies_of,
    open_app,
    page_document,
    python_document,
    session_config,
    settled,
    value,
    wait_for,
)
from .conftest import SCREENSHOTS
from .test_shared import SCRIPTED_DRAG

# Two a second (two at once): a dragged slider, one patch in flight, goes over it whenever
# its round trips take less than 0.5 s (when the page does not keep to it: see
# ``announcing``); a page that was refused sends at most two patches at once when it is
# back (the one refused, then what waited).
EVENT_WAIT_MS = EVENT_WAIT * 1000

SERVER_ENV = {"DOCSYNC_MAX_PATCHES_PER_SECOND": "2"}
ANNOUNCED_RATE = 1000

# Records every state the badge shows.
RECORD_BADGE = """() => {
  const badge = document.querySelector('.ds-status');
  window.badgeStates = [badge.dataset.state];
  new MutationObserver(() => window.badgeStates.push(badge.dataset.state))
    .observe(badge, { attributes: true, attributeFilter: ['data-state'] });
}"""


# Makes ``context``'s pages read ``rate`` as the server's MAX_PATCHES_PER_SECOND in their
# configuration. (Rewriting the page's HTML on its way, with route.fulfill, had the
# page's websocket refused: closed 1006 before it opened.)
ANNOUNCE_RATE = """(rate) => {
  const parse = JSON.parse;
  JSON.parse = function (...args) {
    const value = parse.apply(this, args);
    if (value?.connection?.sendLimits) value.connection.sendLimits.maxPatchesPerSecond = rate;
    return value;
  };
}"""


def announcing(context: BrowserContext, rate: int) -> None:
    """Make ``context``'s app pages keep to ``rate`` messages a second instead of their server's."""
    context.add_init_script(f"({ANNOUNCE_RATE})({rate})")


def test_page_reconnects_after_a_server_restart_and_converges(server: ServerProcess, context: BrowserContext) -> None:
    page = open_app(context, server.url + "sliders/")
    session_id = session_config(page)["sessionId"]
    page.evaluate(RECORD_BADGE)
    badge = page.locator(".ds-status")
    expect(badge).to_have_attribute("data-state", "live")

    server.stop()  # every socket closes from the server's side
    expect(badge).to_have_attribute("data-state", "reconnecting")
    expect(badge).to_be_visible()
    expect(badge).to_contain_text("reconnecting")
    page.screenshot(path=SCREENSHOTS / "reconnecting.png")

    # A change made while disconnected waits for the connection.
    page.locator('[data-docsync-name="phase"] input').focus()
    page.keyboard.press("ArrowRight")
    assert value(page, "phase", "value") == 0.1

    server.start()  # the same port: the page's retries find it
    expect(badge).to_have_attribute("data-state", "live", timeout=EVENT_WAIT_MS)
    states = page.evaluate("window.badgeStates")
    assert states[0] == "live" and states[-1] == "live"
    assert "reconnecting" in states

    # The restarted server knows nothing of the old session: the resume finds a fresh one
    # made from the page's token, the page shows its document, and names the change made
    # while disconnected that was lost with the old session.
    expect(page.locator('[data-docsync-name="status"]')).to_have_text("Move a slider.")
    expect(page.locator(".ds-notice-info")).to_contain_text("fresh one")
    lost = re.compile(r"Your change to phase\.value was lost with the old session\.")
    expect(page.locator(".ds-notice-error")).to_have_text(lost)
    page.screenshot(path=SCREENSHOTS / "fresh-session.png")
    assert value(page, "phase", "value") == 0.0
    expect(page.locator('[data-docsync-name="phase"] output')).to_have_text("0.0")
    wait_for(lambda: settled(page), 5, "the page to settle")
    assert python_document(f"{server.url}sliders/?session_id={session_id}", cookies_of(page)) == page_document(
        page, server.url
    )
    assert page.errors == []  # type: ignore[attr-defined]


def test_server_refuses_a_burst_the_page_reconnects_and_keeps_its_change(
    server: ServerProcess, context: BrowserContext
) -> None:
    announcing(context, ANNOUNCED_RATE)
    page = open_app(context, server.url + "sliders/")
    assert session_config(page)["connection"]["sendLimits"]["maxPatchesPerSecond"] == ANNOUNCED_RATE
    session_id = session_config(page)["sessionId"]
    page.evaluate(RECORD_BADGE)
    # Dragging, a patch every round trip, goes over 2 patches a second: the server refuses
    # the patch that does and closes the socket. The page drags until that happened (its
    # notice shows), a second at a time: how fast round trips are under load is no matter.
    refused = page.locator(".ds-notice-error", has_text="too many patches")
    deadline = time.monotonic() + EVENT_WAIT
    seed = 11
    while True:
        events = page.evaluate(SCRIPTED_DRAG, ["phase", 1000, seed, 51])
        assert events > 50
        if refused.count() > 0 or "reconnecting" in page.evaluate("window.badgeStates"):
            break
        assert time.monotonic() < deadline, f"no patch refused in {EVENT_WAIT} s of dragging"
        seed += 1
    page.locator('[data-docsync-name="phase"] input').focus()
    page.keyboard.press("Home")  # the last change: phase 0, made after the burst
    expect(page.locator(".ds-notice-error")).to_contain_text("too many patches", timeout=EVENT_WAIT_MS)
    expect(page.locator(".ds-status")).to_have_attribute("data-state", "live", timeout=EVENT_WAIT_MS)
    assert "reconnecting" in page.evaluate("window.badgeStates")
    # The session stayed: the page pulled it again and made its waiting changes again.
    wait_for(lambda: settled(page), 10, "the page to settle")
    expect(page.locator('[data-docsync-name="status"]')).to_have_text(re.compile(r" to 0$"))
    expect(page.locator(".ds-notice-info")).to_have_count(0)  # the same session, not a fresh one
    shown = page_document(page, server.url)
    assert python_document(f"{server.url}sliders/?session_id={session_id}", cookies_of(page)) == shown
    assert shown["models"][page.evaluate("window.docsync.getModelByName('phase').id")]["attributes"]["value"] == 0
