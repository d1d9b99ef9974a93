"""The browser resumes a dropped connection: only what it missed travels, offline edits are kept or told lost.

The page is loaded through a TCP proxy the test controls (``tests.convergence.proxy``):
``cut`` aborts the page's connections mid-stream, ``blocked`` keeps the network down
while the user edits offline. The ``resume_room`` app streams a row every 50 ms and
holds a 400 kB column, so a full pull is big and a resume of a few ticks is small.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from docsync.testing import EVENT_WAIT, ServerProcess
from tests.convergence.proxy import TcpProxy

from .browser import column, open_app, page_document, python_document, settled, value, wait_for
from .conftest import SCREENSHOTS, new_context

# Every "state" event of the page's connection, in order.
RECORD_STATES = "() => { window.states = []; window.docsync.onStateChange((d) => window.states.push(d)); }"


class ProxyThread:
    """A TcpProxy running on its own event loop, for tests driven from the main thread."""

    def __init__(self, target_port: int) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.proxy = self._call(TcpProxy(target_port).start)

    def _call(self, func: Callable[[], Any]) -> Any:
        async def run() -> Any:
            result = func()
            return await result if asyncio.iscoroutine(result) else result

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=EVENT_WAIT)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.proxy.port}/"

    def cut(self, *, block: bool) -> int:
        """Abort every connection; with ``block``, refuse new ones until ``unblock``."""

        def cut() -> int:
            self.proxy.blocked = block
            return int(self.proxy.cut())

        return int(self._call(cut))

    def unblock(self) -> int:
        """Let connections through again; return how many were accepted so far."""

        def unblock() -> int:
            self.proxy.blocked = False
            return len(self.proxy.downstream)

        return int(self._call(unblock))

    def downstream_since(self, first: int) -> int:
        """Bytes the server sent on the connections accepted after the first ``first``."""
        return int(self._call(lambda: sum(self.proxy.downstream[first:])))

    def close(self) -> None:
        self._call(self.proxy.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


@pytest.fixture
def proxy(server: ServerProcess) -> Iterator[ProxyThread]:
    """A proxy in front of this module's server."""
    thread = ProxyThread(server.port)
    yield thread
    thread.close()


def _live_after(page: Page, count: int) -> dict[str, Any]:
    """Wait for the page's next "live" state after the first ``count`` state events; return it."""
    page.wait_for_function("(n) => window.states.slice(n).some((s) => s.state === 'live')", arg=count, timeout=20_000)
    return dict(page.evaluate("(n) => window.states.slice(n).find((s) => s.state === 'live')", count))


def _drop_while(page: Page, proxy: ProxyThread, offline: Callable[[], None]) -> tuple[int, dict[str, Any], int]:
    """Cut the page's connection, run ``offline`` while the network is down, let it resume.

    Returns the page's last position before the cut, the "live" state of the resume, and
    the bytes the server sent through the proxy from the cut until then.
    """
    count = page.evaluate("window.states.length")
    assert proxy.cut(block=True) >= 1
    page.wait_for_function("window.docsync.state === 'reconnecting'", timeout=10_000)
    before = page.evaluate("window.docsync.connection.lastSeq")
    offline()
    accepted = proxy.unblock()
    live = _live_after(page, count)
    return before, live, proxy.downstream_since(accepted)


def _stop_stream(page: Page) -> None:
    page.get_by_role("button", name="Streaming").click()
    wait_for(lambda: settled(page) and value(page, "streaming", "active") is False, 10, "the stream to stop")


def test_dropped_page_resumes_with_only_the_missed_patches_and_keeps_its_offline_edit(
    server: ServerProcess, proxy: ProxyThread, context: BrowserContext
) -> None:
    room = f"r-{uuid.uuid4().hex[:8]}"
    page = open_app(context, f"{proxy.url}resume_room/?room={room}")
    page.evaluate(RECORD_STATES)
    pull_bytes = page.evaluate("window.docsync.connection.bytes.handshake")
    assert pull_bytes > 400_000  # the big column came with the first pull
    page.wait_for_function("window.docsync.connection.lastSeq >= 5", timeout=10_000)

    def edit_offline() -> None:
        slider = page.locator('[data-docsync-name="level"] input')
        slider.focus()
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        assert value(page, "level", "value") == 3
        page.screenshot(path=SCREENSHOTS / "resume-offline.png")
        missed = page.evaluate("window.docsync.connection.lastSeq")
        page.wait_for_timeout(600)  # the server streams on: about a dozen ticks are missed
        assert page.evaluate("window.docsync.connection.lastSeq") == missed

    before, live, proxied = _drop_while(page, proxy, edit_offline)
    # Only what was missed travelled: one patch per position since the cut, each a stream
    # tick of about 360 B, however many ticks a slow machine let pass (a quiet one: ~27).
    assert live["mode"] == "replay" and live["fresh"] is False
    assert live["replayed"] == live["seq"] - before > 5
    assert live["bytes"] < 600 * live["replayed"], (live["bytes"], live["replayed"])
    assert proxied < live["bytes"] + 8192, (proxied, live["bytes"])  # the handshake's few frames beside
    assert proxied < pull_bytes / 4, (proxied, pull_bytes)  # no pull of the 400 kB column
    print(f"\nresume: {live['replayed']} patches, {live['bytes']} B (proxy: {proxied} B); pull: {pull_bytes} B")

    _stop_stream(page)
    assert value(page, "level", "value") == 3  # the offline edit survived
    shown = page_document(page, proxy.url)
    assert python_document(f"{server.url}resume_room/?room={room}") == shown
    level = next(m for m in shown["models"].values() if m["attributes"].get("name") == "level")
    assert level["attributes"]["value"] == 3
    # The stream's rows are consecutive: none missing, none twice.
    t = column(page, "stream", "t")
    assert t == [float(n) for n in range(int(t[0]), int(t[0]) + len(t))]
    expect(page.locator(".ds-notice")).to_have_count(0)
    page.screenshot(path=SCREENSHOTS / "resume-replayed.png")
    assert page.errors == []  # type: ignore[attr-defined]


def test_an_offline_edit_that_lost_is_named_on_the_page(
    server: ServerProcess, proxy: ProxyThread, browser: Any
) -> None:
    room = f"r-{uuid.uuid4().hex[:8]}"
    contexts = [new_context(browser, viewport={"width": 900, "height": 700}) for _ in range(2)]
    try:
        away = open_app(contexts[0], f"{proxy.url}resume_room/?room={room}")
        here = open_app(contexts[1], f"{server.url}resume_room/?room={room}")
        away.evaluate(RECORD_STATES)
        _stop_stream(here)

        def both_edit() -> None:
            # Offline, one user changes the note and the level; meanwhile the other,
            # online, changes the note first: the offline note loses, the level stays.
            away.locator('[data-docsync-name="note"] input').fill("from the train")
            away.locator('[data-docsync-name="level"] input').focus()
            away.keyboard.press("End")
            here.locator('[data-docsync-name="note"] input').fill("from the office")
            wait_for(lambda: settled(here), 10, "the online edit to be answered")

        _, live, _ = _drop_while(away, proxy, both_edit)
        assert live["mode"] == "replay"
        notice = away.locator(".ds-notice-error")
        expect(notice).to_contain_text("Your change to note.value was lost: it had been changed meanwhile")
        wait_for(lambda: settled(away) and settled(here), 10, "both pages to settle")
        for page in (away, here):
            assert value(page, "note", "value") == "from the office"
            assert value(page, "level", "value") == 10
        expect(away.locator('[data-docsync-name="note"] input')).to_have_value("from the office")
        assert page_document(away, proxy.url) == page_document(here, server.url)
        away.screenshot(path=SCREENSHOTS / "resume-lost-edit.png")
        assert away.errors == here.errors == []  # type: ignore[attr-defined]
    finally:
        for ctx in contexts:
            ctx.close()
