"""The demo site as its user sees it: a phone's plot title, the admin's live page on a phone, the embedding page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext

from docsync.testing import ServerProcess

from .browser import open_admin_live, open_app, session_config
from .conftest import ADMIN, SCREENSHOTS, new_context, site
from .pixels import decode_png

PHONE = {"width": 400, "height": 800}
# The elements that end past the window's right edge, outside any box of their own that scrolls.
WIDER = """(width) => [...document.body.querySelectorAll('*')].filter((el) =>
  el.getBoundingClientRect().right > width + 1 && !el.closest('.docsync-scroll'))
  .map((el) => `${el.tagName}#${el.id}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`)"""


@pytest.fixture(scope="module")
def server(workdir: Path, database: str) -> Iterator[ServerProcess]:
    """The demo site as scripts/demo.sh serves it: runserver, which serves the admin's CSS (daphne alone does not)."""
    process = site(workdir, database, "demo_site", servers=("runserver",), DOCSYNC_ADMIN_REFRESH="0.2").start().server
    yield process
    process.stop()


def test_a_title_longer_than_a_phones_plot_is_shortened_inside_the_canvas(
    server: ServerProcess, browser: Browser
) -> None:
    context = new_context(browser, viewport=PHONE)
    try:
        page = open_app(context, server.url + "sliders/")
        page.wait_for_function("document.querySelector('[data-docsync-name=plot]').docsyncView.drawCount > 0")
        canvas = page.locator('[data-docsync-name="plot"] canvas.ds-plot-canvas').bounding_box()
        top = page.evaluate("document.querySelector('[data-docsync-name=plot]').docsyncView.plan.frame.top")
        assert canvas is not None
        page.screenshot(path=SCREENSHOTS / "demo-title-phone.png")
        band = {"x": canvas["x"], "y": canvas["y"], "height": top - 2}
        title = decode_png(page.screenshot(clip={**band, "width": canvas["width"]}))[..., :3]
        edge = decode_png(page.screenshot(clip={**band, "x": canvas["x"] + canvas["width"] - 3, "width": 3}))[..., :3]
        # The title is drawn ("y = offset + amplitude · sin(…" is wider than the plot), and
        # its ink stops short of the canvas's right edge: before, the edge cut it mid-letter.
        assert (title.min(axis=-1) < 128).sum() > 100
        assert (edge.min(axis=-1) < 200).sum() == 0
    finally:
        context.close()


def test_the_admins_live_session_page_fits_a_phone(
    server: ServerProcess, browser: Browser, context: BrowserContext
) -> None:
    page = open_app(context, server.url + "sliders/")
    session_id = session_config(page)["sessionId"]
    admin = new_context(browser, viewport=PHONE).new_page()
    try:
        open_admin_live(admin, server.url, session_id, ADMIN)
        admin.locator("#connections td").first.wait_for()
        admin.screenshot(path=SCREENSHOTS / "admin-live-phone.png", full_page=True)
        # Nothing widens the page past the window (the connections table made it 556 px):
        # the table scrolls in its own box, every column of it still there.
        assert admin.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], admin.evaluate(
            WIDER, PHONE["width"]
        )
        assert admin.locator("#connections thead th").count() == 5
        box = admin.locator("#connections").evaluate("(t) => t.parentElement.getBoundingClientRect().right")
        assert box <= PHONE["width"]
    finally:
        admin.context.close()


def test_the_embedding_page_has_a_look_and_an_icon(server: ServerProcess, browser: Browser) -> None:
    for viewport in ({"width": 1280, "height": 800}, PHONE):
        context = new_context(browser, viewport=viewport)
        try:
            page = context.new_page()
            page.goto(server.url + "embed-demo/")
            page.wait_for_function("document.querySelectorAll('.docsync-root').length === 2")
            page.screenshot(path=SCREENSHOTS / f"embed-demo-{viewport['width']}.png", full_page=True)
            # Sans-serif text set off from the window's edges (it was the browser's serif at
            # 8 px from them), and an icon of the site's (browsers asked for /favicon.ico: a 404).
            font = page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
            assert "sans-serif" in font, font
            heading = page.locator("h1").bounding_box()
            assert heading is not None and heading["x"] >= 12
            icon = page.locator("link[rel=icon]").get_attribute("href")
            assert icon is not None
            assert page.request.get(server.url.rstrip("/") + icon).status == 200
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            # The way back to the list of apps.
            assert page.get_by_role("link", name="all apps").get_attribute("href") == "/"
        finally:
            context.close()


def test_a_field_without_a_title_lines_up_with_the_sliders_beside_it(server: ServerProcess, browser: Browser) -> None:
    context = new_context(browser, viewport={"width": 1280, "height": 800})
    try:
        page = open_app(context, server.url + "ohlc/")
        title = page.locator('[data-docsync-name="mean"] .ds-title').bounding_box()
        row = page.locator('[data-docsync-name="mean"]').bounding_box()
        select = page.locator('[data-docsync-name="mavg"] select').bounding_box()
        assert title is not None and row is not None and select is not None
        page.screenshot(path=SCREENSHOTS / "demo-ohlc-row.png", clip={"x": 0, "y": 0, "width": 1280, "height": 120})
        # Bokeh's ohlc: a Select without a title beside two sliders. It sat at the row's top,
        # beside the sliders' titles; its input starts where a titled one's would, under them.
        assert select["y"] > row["y"]
        assert abs(select["y"] - (title["y"] + title["height"] + 4)) <= 0.5, (select, title)
    finally:
        context.close()


def test_the_admin_pages_get_the_sites_icon(server: ServerProcess, browser: Browser) -> None:
    context = new_context(browser, viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        failed: list[str] = []
        page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
        page.goto(server.url + "admin/login/")
        # Django's admin names no icon, so the browser asks for /favicon.ico (a 404 in the
        # console of every admin page before); the demo site sends docsync's.
        icon = page.request.get(server.url + "favicon.ico")
        assert icon.status == 200 and icon.headers["content-type"] == "image/svg+xml"
        assert icon.body().startswith(b"<svg")
        assert failed == []
    finally:
        context.close()
