"""BokehJS in Chromium: a change that crossed another tab's removal of the model it names ends as the server's.

The page moves the Div ``b`` into a Row (and then the slider), while another connection
(speaking Bokeh's protocol with the page's token) has just removed ``b``: the page's
websocket is routed, and what the server sends it is held until the server answered
the page's patch, so that the page sends its change before it hears of the removal.
Bokeh's server drops such a patch whole and answers OK; BokehJS then kept ``b`` in
the Row, shown, where the server's Row was empty. docsync sends the page the server's values
of what its patch touched, which BokehJS takes (tests/hardening/test_bokeh_crossed_removals.py
holds the same cases against Bokeh's Python reader).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import re
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, WebSocketRoute

from docsync.protocol import new_message
from docsync.testing import ServerProcess
from tests.hardening.test_hostile_bokeh import Tab

from .bokeh_page import BokehPage
from .conftest import start_server

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")


@pytest.fixture(scope="module")
def server(workdir: Path, database: str) -> Iterator[ServerProcess]:
    settings = "tests.hardening.bokeh_settings"  # its bk_crossed app
    process = start_server(workdir, database, "bokeh_crossed", DJANGO_SETTINGS_MODULE=settings)
    yield process
    process.stop()


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    # Playwright's sync API holds this thread's event loop: the raw socket gets its own.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=60)


class HeldSocket:
    """The page's websocket, relayed: what the server sends waits while ``holding``."""

    def __init__(self) -> None:
        self.holding = False
        self.held: list[str | bytes] = []
        self.page_side: WebSocketRoute | None = None

    def route(self, route: WebSocketRoute) -> None:
        server = route.connect_to_server()
        route.on_message(server.send)
        server.on_message(self._from_server)
        self.page_side = route

    def _from_server(self, frame: str | bytes) -> None:
        if self.holding:
            self.held.append(frame)
        elif self.page_side is not None:
            self.page_side.send(frame)

    def held_types(self) -> list[str]:
        """The types of the messages held (their header frames)."""
        types = []
        for frame in self.held:
            if isinstance(frame, str) and '"msgtype"' in frame:
                header = json.loads(frame)
                if isinstance(header, dict) and "msgid" in header:
                    types.append(str(header["msgtype"]))
        return types

    def release(self) -> None:
        self.holding = False
        assert self.page_side is not None
        for frame in self.held:
            self.page_side.send(frame)
        self.held.clear()


def test_bokehjs_ends_with_the_servers_values_after_its_change_crossed_a_removal(
    context: BrowserContext, server: ServerProcess
) -> None:
    socket = HeldSocket()
    page = context.new_page()
    page.route_web_socket(re.compile(r".*/bk_crossed/ws$"), socket.route)
    bokeh = BokehPage.open(page, server, "bk_crossed")
    token = re.search(r'"token":\s*"([^"]+)"', page.content())
    assert token, "no Bokeh token in the page"
    remover = Tab(server.url.replace("http", "ws", 1) + "bk_crossed/ws", token.group(1))
    ids = {name: bokeh.js(name, "m.id") for name in ("root", "slider", "a", "b", "side")}

    async def remove_b() -> str:
        sock = await remover.connect()
        try:
            kept = [{"id": ids[n]} for n in ("slider", "a", "side")]
            change = {"kind": "ModelChanged", "model": {"id": ids["root"]}, "attr": "children", "new": kept}
            return (await sock.request(new_message("PATCH-DOC", {"events": [change]}))).msgtype
        finally:
            await sock.close()

    socket.holding = True
    assert _run(remove_b()) == "OK"
    # The page has not heard of it: it moves b into the Row, and the slider, in one patch.
    page.evaluate(
        """([b, side, slider]) => {
      const doc = Bokeh.documents[0];
      doc.get_model_by_id(side).children = [doc.get_model_by_id(b)];
      doc.get_model_by_id(slider).value = 3;
    }""",
        [ids["b"], ids["side"], ids["slider"]],
    )
    bokeh.until(lambda: "OK" in socket.held_types(), "the server to answer the page's patch")
    socket.release()

    bokeh.until(lambda: bokeh.js("side", "m.children.length") == 0, "the Row to be emptied again")
    # (BokehJS sent the slider's change in a PATCH-DOC of its own, which the server took.)
    assert bokeh.js("slider", "m.value") == bokeh.python("slider", "value") == 3
    assert bokeh.python("side", "children") == []
    assert bokeh.js("root", "m.children.map((c) => c.name)") == ["slider", "a", "side"]
    # (BokehJS drops b from its index 30 s later: its models are recomputed on a timer.)
    assert bokeh.errors == []
