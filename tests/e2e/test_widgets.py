"""Every built-in widget and glyph in Chromium: what the user does reaches the server, whose reply is shown."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, expect

from docsync.testing import ServerProcess

from .browser import open_app, value, wait_for
from .conftest import SCREENSHOTS
from .pixels import ink_fraction

# Counts the PATCH-DOC messages the page sends (their header frames).
COUNT_PATCHES = """() => {
  window.patchesSent = 0;
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (frame) {
    if (typeof frame === 'string' && frame.includes('"msgtype":"PATCH-DOC"')) window.patchesSent += 1;
    return send.call(this, frame);
  };
}"""


def test_widgets_reach_the_server(server: ServerProcess, context: BrowserContext) -> None:
    page = open_app(context, server.url + "widgets/")
    echo = page.locator('[data-docsync-name="echo"]')

    # Paragraph: text stays text.
    expect(page.locator('[data-docsync-name="note"]')).to_have_text("A Paragraph: <b>markup stays text</b>.")
    assert page.locator('[data-docsync-name="note"] b').count() == 0

    page.get_by_label("Show the bars").uncheck()
    expect(echo).to_have_text("bars shown: False")
    wait_for(lambda: value(page, "check", "active") is False, 5, "the checkbox's value")

    page.get_by_role("button", name="Bold").click()
    expect(echo).to_have_text("active is now True")
    expect(page.get_by_role("button", name="Bold")).to_have_attribute("aria-pressed", "true")

    # RangeSlider: each thumb moves an end; a thumb moved past the other becomes the low end.
    page.locator('[data-docsync-name="window"] .ds-range-low').focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(echo).to_have_text("value is now (3.5, 6.0)")
    page.locator('[data-docsync-name="window"] .ds-range-high').focus()
    page.keyboard.press("Home")
    wait_for(lambda: value(page, "window", "value") == [0.0, 3.5], 5, "the thumbs to trade ends")
    expect(page.locator('[data-docsync-name="window"] output')).to_have_text("0.0 \u2013 3.5")
    expect(echo).to_have_text("value is now (0.0, 3.5)")

    page.locator('[data-docsync-name="day"] input').fill("2024-05-03")
    expect(echo).to_have_text("value is now 2024-05-03")
    assert page.evaluate("window.docsync.getModelByName('day').get('value').iso") == "2024-05-03"
    assert page.locator('[data-docsync-name="day"] input').get_attribute("min") == "2024-01-01"

    page.locator('[data-docsync-name="kind"] select').select_option("bars")
    expect(echo).to_have_text("value is now bars")

    # The bar plot (categorical x) and the line plot draw; the legend and labels too.
    for name in ("bar_plot", "line_plot"):
        page.wait_for_function(f"document.querySelector('[data-docsync-name={name}]').docsyncView.drawCount > 0")
        assert ink_fraction(page.locator(f'[data-docsync-name="{name}"] canvas.ds-plot-canvas').screenshot()) > 0.01
    categories = page.evaluate(
        "document.querySelector('[data-docsync-name=bar_plot]').docsyncView.ranges().x.default.get('factors')"
    )
    assert categories == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    page.screenshot(path=SCREENSHOTS / "widgets.png", full_page=True)
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_burst_of_changes_is_coalesced(server: ServerProcess, context: BrowserContext) -> None:
    page = open_app(context, server.url + "widgets/")
    page.evaluate(COUNT_PATCHES)
    # 200 input events in one task, as a fast drag delivers them: one patch, the last value.
    page.evaluate(
        """() => {
        const input = document.querySelector('[data-docsync-name=window] .ds-range-high');
        for (let i = 0; i < 200; i++) {
          input.value = String(6 + (i % 9) / 2);
          input.dispatchEvent(new Event('input', { bubbles: true }));
        }
        input.value = '9.5';
        input.dispatchEvent(new Event('input', { bubbles: true }));
        }"""
    )
    expect(page.locator('[data-docsync-name="echo"]')).to_have_text("value is now (2.0, 9.5)")
    assert page.evaluate("window.patchesSent") == 1


def test_plots_follow_their_container(server: ServerProcess, context: BrowserContext) -> None:
    page = open_app(context, server.url + "widgets/")
    canvas = page.locator('[data-docsync-name="line_plot"] canvas.ds-plot-canvas')
    page.wait_for_function("document.querySelector('[data-docsync-name=line_plot]').docsyncView.drawCount > 0")
    wide = canvas.evaluate("(c) => [c.clientWidth, c.width]")
    page.set_viewport_size({"width": 700, "height": 760})
    page.wait_for_function(
        f"document.querySelector('[data-docsync-name=line_plot] canvas.ds-plot-canvas').width < {wide[1]}"
    )
    narrow = canvas.evaluate("(c) => [c.clientWidth, c.width, devicePixelRatio]")
    assert narrow[0] < wide[0]
    assert narrow[1] == round(narrow[0] * narrow[2])


def test_an_int_stepped_slider_hands_python_ints(server: ServerProcess, context: BrowserContext) -> None:
    page = open_app(context, server.url + "stepped/")
    seen = page.locator('[data-docsync-name="seen"]')
    count = page.locator('[data-docsync-name="count"] input[type="range"]')
    box = count.bounding_box()
    assert box is not None
    # Drag the thumb with the mouse from 3 to the far right: every value on the way is whole.
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 9 + 0.3 * (box["width"] - 18), y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 9, y, steps=20)
    page.mouse.up()
    expect(seen).to_have_text("int 10")
    expect(page.locator('[data-docsync-name="count"] output')).to_have_text("10")
    page.screenshot(path=SCREENSHOTS / "stepped-slider.png")

    # A float-stepped slider at a whole number still hands a float (the JSON number is 1).
    page.locator('[data-docsync-name="level"] input').focus()
    page.keyboard.press("End")
    expect(seen).to_have_text("float 1.0")
    assert page.errors == []  # type: ignore[attr-defined]
