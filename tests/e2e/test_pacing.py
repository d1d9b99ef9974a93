"""A page keeps to the server's MAX_PATCHES_PER_SECOND: a loop setting values as fast as it can is never closed 4029.

A real daphne process with ``MAX_PATCHES_PER_SECOND`` 20 (a bucket of 20 at once, then 20 a
second), announced to the page (``connection.sendLimits.maxPatchesPerSecond``). A page's
script setting a property in a loop, each value in a task of its own, sends a patch every
round trip (one in flight at a time), a few milliseconds on localhost: it passed the
bucket within its first tenth of a second and was closed with 4029 ``too many patches per
second`` (then reconnected and resumed). Its SERVER-INFO-REQs count in the same bucket. Now
the page's connection waits for its own bucket (pacing.js, a mirror of the server's holding
a little less) and the values set meanwhile go in one patch: the socket stays open, the
last value is the server's, and the server applied fewer values than were set.

What the page sends and every close its sockets see are recorded in the page itself (a
WebSocket wrapped before the page's scripts run).
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import BrowserContext, Page

from docsync.testing import ServerProcess

from .browser import cookies_of, open_app, python_document, session_config, settled, value, wait_for

RATE = 20
SERVER_ENV = {"DOCSYNC_MAX_PATCHES_PER_SECOND": str(RATE)}
BURST = RATE - 2  # the page's own bucket: one token less than the server's, a tenth less past 20

# Counts the messages the page sends by type and records the close code of each socket.
RECORD_SOCKETS = """(() => {
  const log = { sent: {}, closes: [] };
  window.socketLog = log;
  const Native = window.WebSocket;
  const send = Native.prototype.send;
  Native.prototype.send = function (data) {
    if (typeof data === 'string') {
      try {
        const header = JSON.parse(data);
        const type = header?.msgtype;
        if (typeof type === 'string') log.sent[type] = (log.sent[type] ?? 0) + 1;
      } catch (err) { /* a content frame that is not JSON cannot be a header */ }
    }
    return send.call(this, data);
  };
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('close', (event) => log.closes.push(event.code));
    }
  };
})()"""

# Sets the input's value in a loop, each in a task of its own (a MessageChannel message:
# setTimeout would be clamped to 4 ms), at most ``count`` times and for at most ``ms``.
SET_IN_A_LOOP = """async ([count, ms]) => {
  const input = window.docsync.getModelByName('input');
  const nextTask = () => new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
  const start = performance.now();
  let sets = 0;
  while (sets < count && performance.now() - start < ms) {
    input.set('value', `v${sets}`);
    sets += 1;
    await nextTask();
  }
  return { sets, elapsed: (performance.now() - start) / 1000 };
}"""

# Sets the value, then awaits a SERVER-INFO-REQ's reply (a barrier after it), ``rounds`` times.
SET_AND_ASK = """async ([rounds, protocolUrl]) => {
  const { serverInfoReq } = await import(protocolUrl);
  const input = window.docsync.getModelByName('input');
  const failures = [];
  for (let i = 0; i < rounds; i++) {
    input.set('value', `w${i}`);
    try {
      await window.docsync.connection.request(serverInfoReq());
    } catch (err) {
      failures.push(String(err));
    }
  }
  return failures;
}"""


def _open(context: BrowserContext, server: ServerProcess) -> Page:
    context.add_init_script(RECORD_SOCKETS)
    page = open_app(context, server.url + "typed/")
    assert session_config(page)["connection"]["sendLimits"]["maxPatchesPerSecond"] == RATE
    return page


def _server_value(page: Page, server: ServerProcess) -> Any:
    session_id = session_config(page)["sessionId"]
    doc = python_document(f"{server.url}typed/?session_id={session_id}", cookies_of(page))
    model = page.evaluate("window.docsync.getModelByName('input').id")
    return doc["models"][model]["attributes"]["value"]


def _applied(page: Page) -> int:
    return int(value(page, "applied", "text"))


def test_a_loop_setting_a_value_as_fast_as_it_can_is_never_closed(
    server: ServerProcess, context: BrowserContext
) -> None:
    page = _open(context, server)
    run = page.evaluate(SET_IN_A_LOOP, [20_000, 1500])
    last = f"v{run['sets'] - 1}"
    wait_for(lambda: settled(page), 10, "the page to settle")
    log = page.evaluate("window.socketLog")
    assert log["closes"] == [], "the server closed the page's socket (4029: too many patches per second)"
    assert page.evaluate("window.docsync.state") == "live"
    assert page.locator(".ds-notice-error").count() == 0
    # Every value arrived: the last one set is the server's.
    assert value(page, "input", "value") == last
    assert _server_value(page, server) == last
    # Merged: each patch carried the last value set before it went, and no more patches
    # went than the page's bucket allows (its burst, then the rate).
    patches = log["sent"]["PATCH-DOC"]
    assert run["sets"] > BURST + RATE * run["elapsed"] + 1, run  # the loop set values faster than the rate
    assert patches <= BURST + RATE * run["elapsed"] + 1, (patches, run)
    wait_for(lambda: _applied(page) == patches, 10, "the server to count every patch's value")
    assert patches < run["sets"]
    assert page.errors == []  # type: ignore[attr-defined]


def test_server_info_requests_after_changes_count_and_wait_too(server: ServerProcess, context: BrowserContext) -> None:
    page = _open(context, server)
    rounds = 2 * RATE  # two messages of the bucket a round: four times the server's burst
    failures = page.evaluate(SET_AND_ASK, [rounds, f"{server.url}docsync-client/protocol.js"])
    assert failures == []
    wait_for(lambda: settled(page), 10, "the page to settle")
    log = page.evaluate("window.socketLog")
    assert log["closes"] == []
    assert log["sent"]["SERVER-INFO-REQ"] == rounds
    # Each round's value went before its barrier: every one was applied, in its own patch.
    assert log["sent"]["PATCH-DOC"] == rounds
    wait_for(lambda: _applied(page) == rounds, 10, "the server to apply every value")
    assert _server_value(page, server) == f"w{rounds - 1}"
    assert page.errors == []  # type: ignore[attr-defined]
