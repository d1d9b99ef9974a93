"""The sliders app in Chromium: drag a slider, see the plot change; the server's reactions; errors and notices."""

from __future__ import annotations

import math
import re

from playwright.sync_api import Browser, BrowserContext, Page, expect

from docsync.testing import ServerProcess

from .browser import column, open_admin_live, open_app, value, wait_for
from .conftest import ADMIN, SCREENSHOTS, new_context
from .pixels import changed_fraction, ink_fraction


def expected_y(page: Page) -> list[float]:
    """The curve the server computes from the sliders the page shows."""
    f, a, p, o = (value(page, name, "value") for name in ("frequency", "amplitude", "phase", "offset"))
    return [o + a * math.sin(f * x + p) for x in column(page, "source", "x")]


def drag(page: Page, name: str, to: float) -> None:
    """Drag the thumb of slider ``name`` with the mouse to ``to`` (0..1 of its width), in small steps."""
    box = page.locator(f'[data-docsync-name="{name}"] input[type="range"]').bounding_box()
    assert box is not None
    start = float(
        page.locator(f'[data-docsync-name="{name}"] input[type="range"]').evaluate(
            "(input) => (input.value - input.min) / (input.max - input.min)"
        )
    )
    y = box["y"] + box["height"] / 2
    thumb = 9  # half the thumb: its centre travels over the width less one thumb
    at = lambda share: box["x"] + thumb + share * (box["width"] - 2 * thumb)  # noqa: E731
    page.mouse.move(at(start), y)
    page.mouse.down()
    page.mouse.move(at(to), y, steps=25)
    page.mouse.up()


def test_drag_a_slider_and_see_the_plot_change(server: ServerProcess, context: BrowserContext) -> None:
    page = open_app(context, server.url + "sliders/")
    canvas = page.locator('[data-docsync-name="plot"] canvas.ds-plot-canvas')
    page.wait_for_function("document.querySelector('[data-docsync-name=plot]').docsyncView.drawCount > 0")
    before_png = canvas.screenshot()
    assert ink_fraction(before_png) > 0.01, "the plot draws something"
    y_before = column(page, "source", "y")

    drag(page, "frequency", 0.7)

    # The slider's value went to the server, whose callback sent back a new curve.
    wait_for(lambda: value(page, "frequency", "value") > 3.0, 5, "the frequency to follow the drag")
    wait_for(
        lambda: max(abs(a - b) for a, b in zip(column(page, "source", "y"), expected_y(page), strict=True)) < 1e-9,
        5,
        "the server's new curve for the dragged frequency",
    )
    assert column(page, "source", "y") != y_before
    expect(page.locator('[data-docsync-name="status"]')).to_contain_text(
        re.compile(r"^frequency changed from [\d.]+ to [\d.]+$")
    )
    page.wait_for_timeout(100)  # the next animation frame draws it
    after_png = canvas.screenshot()
    assert changed_fraction(before_png, after_png) > 0.005, "the canvas pixels change with the data"

    # The keyboard moves a slider too, one step per key.
    page.locator('[data-docsync-name="amplitude"] input').focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    wait_for(lambda: abs(value(page, "amplitude", "value") - 1.5) < 1e-9, 5, "amplitude 1.5 from the keyboard")
    expect(page.locator('[data-docsync-name="amplitude"] output')).to_have_text("1.5")
    wait_for(
        lambda: max(abs(a - b) for a, b in zip(column(page, "source", "y"), expected_y(page), strict=True)) < 1e-9,
        5,
        "the curve for amplitude 1.5",
    )
    assert page.errors == []  # type: ignore[attr-defined]


def test_button_click_and_the_servers_reaction(server: ServerProcess, context: BrowserContext) -> None:
    page = open_app(context, server.url + "sliders/")
    drag(page, "offset", 0.9)
    wait_for(lambda: value(page, "offset", "value") > 2.0, 5, "the offset to follow the drag")
    page.get_by_role("button", name="Reset", exact=True).click()
    expect(page.locator('[data-docsync-name="status"]')).to_have_text("Reset by the server.")
    # The server's values reach the model and the widgets showing it.
    wait_for(lambda: value(page, "offset", "value") == 0.0, 5, "the reset offset")
    expect(page.locator('[data-docsync-name="offset"] output')).to_have_text("0.0")
    assert page.locator('[data-docsync-name="offset"] input').input_value() == "0"
    page.screenshot(path=SCREENSHOTS / "sliders.png", full_page=True)


def test_an_error_reply_is_shown_and_the_document_restored(server: ServerProcess, context: BrowserContext) -> None:
    page = open_app(context, server.url + "sliders/")
    height = value(page, "plot", "height")
    # A plot's height is not user-editable: the server refuses it with an ERROR.
    page.evaluate("window.docsync.set('plot', 'height', 123)")
    notice = page.locator(".ds-notice-error")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("height")
    wait_for(lambda: value(page, "plot", "height") == height, 5, "the refused height to be restored")


def test_phone_width(server: ServerProcess, browser: Browser) -> None:
    context = new_context(browser, viewport={"width": 390, "height": 844}, device_scale_factor=2)
    try:
        page = open_app(context, server.url + "sliders/")
        page.wait_for_function("document.querySelector('[data-docsync-name=plot]').docsyncView.drawCount > 0")
        # Nothing sticks out sideways; the plot fills the width and draws at 2 device pixels per pixel.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        canvas = page.locator('[data-docsync-name="plot"] canvas.ds-plot-canvas')
        css_width, pixel_width = canvas.evaluate("(c) => [c.clientWidth, c.width]")
        assert css_width > 300
        assert pixel_width == 2 * css_width
        page.screenshot(path=SCREENSHOTS / "sliders-phone.png", full_page=True)
    finally:
        context.close()


def test_admin_notice_is_shown_in_the_page(server: ServerProcess, context: BrowserContext) -> None:
    page = open_app(context, server.url + "sliders/")
    session_id = page.evaluate("JSON.parse(document.getElementById('docsync-config').textContent).sessionId")
    admin = context.new_page()
    open_admin_live(admin, server.url, session_id, ADMIN)
    admin.fill("#action-notice input[name=text]", "Maintenance at noon.")
    admin.click("#action-notice [type=submit]")
    notice = page.locator(".ds-notice")
    expect(notice).to_contain_text("Maintenance at noon.")
    expect(notice).to_be_visible()
