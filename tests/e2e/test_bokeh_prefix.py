"""Bokeh apps on a site that mounts docsync under ``/dash/``: the page, autoload.js and their websockets keep it.

BokehJS opens the websocket its page or autoload.js names; a site (or a proxy in front
of it) may route only ``/dash/`` to Django, so every websocket must go there too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, WebSocket

from docsync.testing import ServerProcess

from .bokeh_page import BokehPage, session_of
from .conftest import SCREENSHOTS, start_server

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")


@pytest.fixture(scope="module")
def server(workdir: Path, database: str) -> Iterator[ServerProcess]:
    """The Bokeh test site with docsync's URLs under /dash/ (tests/bokeh/prefix_urls.py)."""
    process = start_server(workdir, database, "bokeh_prefix", DJANGO_SETTINGS_MODULE="tests.bokeh.prefix_settings")
    yield process
    process.stop()


def _websockets(page: Page) -> list[str]:
    opened: list[str] = []

    def seen(socket: WebSocket) -> None:
        opened.append(socket.url)

    page.on("websocket", seen)
    return opened


def _move_offset(page: BokehPage, handle: str, steps: int) -> None:
    slider = page.page.locator(handle).first
    slider.focus()
    for _ in range(steps):
        slider.press("ArrowRight")


def test_app_page_under_the_prefix(context: BrowserContext, server: ServerProcess) -> None:
    assert server.get("bk_sliders/")[0] == 404  # docsync is only under /dash/
    page = context.new_page()
    sockets = _websockets(page)
    response = page.goto(f"{server.url}dash/bk_sliders/")
    assert response is not None and response.ok
    # BokehJS comes from under the prefix too.
    assert f"{server.url}dash/docsync-bokeh/static/js/bokeh" in response.text()
    bokeh = BokehPage(page, server, "bk_sliders", session_of(response.text()))
    bokeh.wait_drawn()
    _move_offset(bokeh, ".noUi-handle", 3)
    bokeh.until(lambda: bokeh.python("offset", "value") == pytest.approx(0.3), "offset = 0.3 in Python")
    assert sockets and all(url.startswith(f"ws://127.0.0.1:{server.port}/dash/bk_sliders/ws") for url in sockets)


def test_autoload_js_under_the_prefix(context: BrowserContext, server: ServerProcess) -> None:
    # The test view embeds bk_sliders (a session it made) and bk_request_info with the template tag.
    page = context.new_page()
    sockets = _websockets(page)
    response = page.goto(f"{server.url}_test/bokeh/embedded/")
    assert response is not None and response.ok
    made_by_view = re.search(r'src="/dash/bk_sliders/autoload\.js\?[^"]*session_id=([\w-]+)', response.text())
    assert made_by_view, "the template tag names autoload.js under the prefix"
    embedded = BokehPage(page, server, "bk_sliders", made_by_view.group(1))
    embedded.wait_drawn(documents=2)
    assert embedded.python("plot", "title.text") == "made by the view"
    _move_offset(embedded, "#by-session .noUi-handle", 4)
    embedded.until(lambda: embedded.python("offset", "value") == pytest.approx(0.4), "the embedded session moved")
    base = f"ws://127.0.0.1:{server.port}/dash/"
    assert {url.removeprefix(base).split("?")[0] for url in sockets} == {"bk_request_info/ws", "bk_sliders/ws"}
    page.screenshot(path=str(SCREENSHOTS / "bokeh-prefix-embedded.png"))
