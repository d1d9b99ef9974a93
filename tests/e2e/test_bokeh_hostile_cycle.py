"""A model made its own descendant by a client would hang every BokehJS tab that opens the session.

Bokeh's Python side encodes a cycle (as references) and its pull succeeds, but BokehJS
3.9, loading a document where two Columns are each other's child, never finishes: before
docsync refused such patches, a client (speaking Bokeh's protocol on a raw websocket,
with the page's own token) made one, and the next tab of the session never drew.
Now the patch is answered ERROR ``patch-refused`` and a new tab of the session draws.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext

from docsync.protocol import ERROR
from docsync.testing import ServerProcess
from tests.hardening.test_hostile_bokeh import Tab

from .bokeh_page import BokehPage
from .conftest import start_server

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")


@pytest.fixture(scope="module")
def server(workdir: Path, database: str) -> Iterator[ServerProcess]:
    process = start_server(workdir, database, "bokeh_cycle", DJANGO_SETTINGS_MODULE="tests.bokeh.settings")
    yield process
    process.stop()


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    # Playwright's sync API holds this thread's event loop: the raw socket gets its own.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=60)


def test_a_cycle_is_refused_and_the_next_tab_draws(context: BrowserContext, server: ServerProcess) -> None:
    first = BokehPage.open(context, server, "bk_sliders")
    token = re.search(r'"token":\s*"([^"]+)"', first.page.content())
    assert token, "no Bokeh token in the page"
    tab = Tab(server.url.replace("http", "ws", 1) + "bk_sliders/ws", token.group(1))
    pair: dict[str, Any] = {"type": "object", "name": "Column", "id": "cyc-a", "attributes": {}}
    pair["attributes"]["children"] = [
        {"type": "object", "name": "Column", "id": "cyc-b", "attributes": {"children": [{"id": "cyc-a"}]}}
    ]
    reply = _run(tab.send([{"kind": "RootAdded", "model": pair}]))
    # The next tab of the session first: it is what a cycle broke (it never drew).
    second = BokehPage.open(context, server, "bk_sliders", f"?session_id={first.session}")
    assert second.session == first.session
    assert reply.msgtype == ERROR and reply.content["code"] == "patch-refused", reply.content
    assert "would be among its own descendants" in reply.content["text"], reply.content
    roots = "() => Bokeh.documents[0].roots().map((r) => r.id)"
    assert second.page.evaluate(roots) == first.page.evaluate(roots)  # the cycle is in neither
