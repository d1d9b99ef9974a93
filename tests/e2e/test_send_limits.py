"""The JavaScript client in Chromium keeps to itself a change the server would close its connection for.

The app page hands the client what the server takes (``connection.sendLimits``): a change
over them (here, two columns of 1,000 numbers as JSON lists, against a server taking 1,000
values a frame) is not sent, is reported lost, and the document is pulled again, so the
page's document is the server's again, on the same live connection.
"""

from __future__ import annotations

from playwright.sync_api import BrowserContext, expect

from docsync.testing import ServerProcess

from .browser import open_app, settled, value, wait_for

SERVER_ENV = {"DOCSYNC_MAX_FRAME_VALUES": "1000"}

LISTEN = """() => {
  window.lostChanges = [];
  window.states = [];
  window.docsync.connection.on("lost", (detail) => window.lostChanges.push(detail));
  window.docsync.connection.on("state", (detail) => window.states.push(detail.state));
}"""

TOO_MANY = """() => {
  const source = window.docsync.getModelByName("source");
  const numbers = Array.from({ length: 1000 }, (_, i) => i / 2);
  source.setColumns("data", { x: numbers, y: numbers });
}"""


def test_a_change_over_the_server_s_limits_is_not_sent_and_is_undone(
    server: ServerProcess, context: BrowserContext
) -> None:
    page = open_app(context, server.url + "sliders/")
    config_limits = page.evaluate("JSON.parse(document.getElementById('docsync-config').textContent).connection")
    assert config_limits["sendLimits"]["maxFrameValues"] == 1000
    points = page.evaluate("window.docsync.getModelByName('source').get('data').x.length")
    assert points != 1000
    page.evaluate(LISTEN)
    page.evaluate(TOO_MANY)
    wait_for(lambda: bool(page.evaluate("window.lostChanges.length")) and settled(page), 30, "the change reported lost")
    lost = page.evaluate("window.lostChanges")
    assert [(d["reason"], d["changes"], d["count"]) for d in lost] == [("too-large", ["source.data"], 1)]
    assert lost[0]["text"].startswith("not sent: too many values in content frame: ")
    assert lost[0]["text"].endswith(" > 1000")
    shown = "Your change to source.data was not sent: too many values"
    expect(page.locator(".ds-notice-error").filter(has_text=shown)).to_be_visible()
    # The server's document again (its columns, as arrays), and the same connection.
    wait_for(
        lambda: page.evaluate("window.docsync.getModelByName('source').get('data').x.length") == points,
        30,
        "the server's columns back",
    )
    assert page.evaluate("window.states") == []
    assert page.evaluate("window.docsync.state") == "live"
    # A change within the limits still goes, and the server answers it.
    page.evaluate("window.docsync.getModelByName('text').set('value', 'within the limits')")
    wait_for(lambda: settled(page), 30, "the change answered")
    assert value(page, "text", "value") == "within the limits"
    assert page.evaluate("window.lostChanges.length") == 1
    assert page.errors == []  # type: ignore[attr-defined]
