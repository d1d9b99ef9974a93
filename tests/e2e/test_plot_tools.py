"""Every plot tool driven with the mouse in Chromium; Python sees the selections, ranges and events."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

from docsync.testing import ServerProcess

from .browser import open_app, value, wait_for
from .conftest import SCREENSHOTS
from .pixels import changed_fraction


def heard(page: Page) -> list[dict[str, Any]]:
    """The plot events Python's callbacks recorded (a Div the server writes)."""
    return list(json.loads(value(page, "heard", "text")))


def heard_kinds(page: Page) -> list[str]:
    return [entry["event"] for entry in heard(page)]


def selected(page: Page) -> list[int]:
    """The selection as Python's callback saw it."""
    return list(json.loads(value(page, "selected", "text")))


def python_ranges(page: Page) -> list[float]:
    text = value(page, "ranges", "text")
    return list(json.loads(text)) if text else []


def at(page: Page, plot: str, x: float, y: float) -> tuple[float, float]:
    """Return the page coordinates of data point (x, y) on ``plot``."""
    sx, sy = page.evaluate(
        """([name, x, y]) => { const view = document.querySelector(`[data-docsync-name=${name}]`).docsyncView;
          const { scales } = view.plan; return [scales.x.default.compute(x), scales.y.default.compute(y)]; }""",
        [plot, x, y],
    )
    box = page.locator(f'[data-docsync-name="{plot}"] .ds-plot-overlay').bounding_box()
    assert box is not None
    return box["x"] + sx, box["y"] + sy


def drag(page: Page, path: list[tuple[float, float]], steps: int = 4) -> None:
    page.mouse.move(*path[0])
    page.mouse.down()
    for point in path[1:]:
        page.mouse.move(*point, steps=steps)
    page.mouse.up()


def use(page: Page, plot: str, tool: str) -> None:
    button = page.locator(f'[data-docsync-name="{plot}"] .ds-tool-{tool}')
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")


def open_tools(context: BrowserContext, server: ServerProcess) -> Page:
    page = open_app(context, server.url + "plot_tools/")
    page.wait_for_function("document.querySelector('[data-docsync-name=linked]')?.docsyncView.plan")
    page.wait_for_function("document.querySelector('[data-docsync-name=main]')?.docsyncView.plan")
    return page


def test_hover_tap_box_and_lasso_selection_reach_python(server: ServerProcess, context: BrowserContext) -> None:
    page = open_tools(context, server)
    # Hover: the tooltip's templates, formatted, for the point under the pointer.
    page.mouse.move(*at(page, "main", 3, 4))
    tooltip = page.locator('[data-docsync-name="main"] .ds-plot-tooltip')
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text("point: (3, 4)")
    expect(tooltip).to_contain_text("v: 64.5")
    page.screenshot(path=SCREENSHOTS / "plot-tools-hover.png")
    linked = page.locator('[data-docsync-name="linked"] .ds-plot-canvas')
    before = linked.screenshot()

    # The client writes a selection's indices before it sends the gesture's event (tap, the final
    # geometry): each event is waited for, not read once when the indices arrive.
    # Tap (active by default): selects the row under the pointer; Python gets a tap in data space.
    page.mouse.click(*at(page, "main", 3, 4))
    wait_for(lambda: selected(page) == [43], 5, "Python to see the tapped row")
    wait_for(lambda: "tap" in heard_kinds(page), 5, "the tap event")
    tap = next(entry for entry in heard(page) if entry["event"] == "tap")
    assert abs(tap["x"] - 3) < 0.1 and abs(tap["y"] - 4) < 0.1
    # The linked plot draws the same source: its selection shows there too.
    wait_for(lambda: changed_fraction(before, linked.screenshot()) > 0.001, 5, "the linked plot to show the selection")

    use(page, "main", "BoxSelectTool")
    drag(page, [at(page, "main", 1.5, 1.5), at(page, "main", 4.5, 3.5)])
    wait_for(lambda: selected(page) == [22, 23, 24, 32, 33, 34], 5, "Python to see the box selection")
    wait_for(
        lambda: any(e["event"] == "selectiongeometry" and e["geometry"] == "rect" for e in heard(page)),
        5,
        "the rect selection's geometry event",
    )

    use(page, "main", "LassoSelectTool")
    loop = [(5.5, 5.5), (8.5, 5.5), (8.5, 8.5), (5.5, 8.5), (5.5, 5.6)]
    drag(page, [at(page, "main", x, y) for x, y in loop], steps=6)
    wait_for(lambda: selected(page) == [66, 67, 68, 76, 77, 78, 86, 87, 88], 5, "Python to see the lasso selection")
    wait_for(
        lambda: any(e["event"] == "selectiongeometry" and e["geometry"] == "poly" for e in heard(page)),
        5,
        "the poly selection's geometry event",
    )
    page.screenshot(path=SCREENSHOTS / "plot-tools-selection.png")

    # A selection made on the linked plot selects in the same source.
    use(page, "linked", "BoxSelectTool")
    drag(page, [at(page, "linked", -0.5, -5), at(page, "linked", 0.5, 20)])
    wait_for(lambda: selected(page) == [0, 10], 5, "the linked plot's selection")
    assert page.errors == []  # type: ignore[attr-defined]


def test_pan_zoom_and_reset_write_the_ranges_python_sees(server: ServerProcess, context: BrowserContext) -> None:
    page = open_tools(context, server)
    # Pan (the active drag tool by default): the shared x range moves in both plots.
    drag(page, [at(page, "main", 5, 5), at(page, "main", 3, 5)])
    wait_for(
        lambda: len(python_ranges(page)) == 4 and abs(python_ranges(page)[0] - 1) < 0.2, 5, "Python to see the pan"
    )
    assert abs(python_ranges(page)[1] - 12) < 0.2 and python_ranges(page)[2:] == [-1, 10]
    linked_x = page.evaluate(
        "document.querySelector('[data-docsync-name=linked]').docsyncView.plan.scales.x.default.start"
    )
    assert abs(linked_x - python_ranges(page)[0]) < 1e-9, "the linked plot shares the x range"
    # The ranges move during the drag: the gesture's end events may arrive after them.
    wanted = {"panstart", "pan", "panend", "rangesupdate"}
    wait_for(lambda: wanted <= set(heard_kinds(page)), 5, f"Python to hear {sorted(wanted)}")

    use(page, "main", "WheelZoomTool")
    span = python_ranges(page)[1] - python_ranges(page)[0]
    page.mouse.move(*at(page, "main", 6, 5))
    for _ in range(3):
        page.mouse.wheel(0, -200)
    wait_for(lambda: python_ranges(page)[1] - python_ranges(page)[0] < span * 0.8, 5, "Python to see the zoom")
    wait_for(lambda: "wheel" in heard_kinds(page), 5, "one wheel event at the gesture's end")
    assert heard_kinds(page).count("wheel") == 1

    use(page, "main", "BoxZoomTool")
    drag(page, [at(page, "main", 5, 4.5), at(page, "main", 6.5, 6)])
    wait_for(lambda: abs(python_ranges(page)[0] - 5) < 0.1 and abs(python_ranges(page)[3] - 6) < 0.1, 5, "box zoom")

    page.locator('[data-docsync-name="main"] .ds-tool-ResetTool').click()
    wait_for(lambda: python_ranges(page) == [-1, 10, -1, 10], 5, "Python to see the reset ranges")
    wait_for(lambda: "reset" in heard_kinds(page), 5, "the reset event")

    page.mouse.dblclick(*at(page, "main", 2, 2))
    wait_for(lambda: "doubletap" in heard_kinds(page), 5, "the double tap")
    assert page.errors == []  # type: ignore[attr-defined]


def test_legend_crosshair_and_save(server: ServerProcess, context: BrowserContext) -> None:
    page = open_tools(context, server)
    # The crosshair draws on the overlay while the pointer is over the frame.
    page.mouse.move(*at(page, "main", 2.5, 2.5))
    ink = page.evaluate(
        """() => { const c = document.querySelector('[data-docsync-name=main] .ds-plot-overlay');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }"""
    )
    assert ink > 300, "the crosshair's lines are on the overlay"

    with page.expect_download() as download:
        page.locator('[data-docsync-name="main"] .ds-tool-SaveTool').click()
    saved = download.value
    assert saved.suggested_filename == "plot.png"
    assert saved.path().read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    box = page.evaluate("document.querySelector('[data-docsync-name=main]').docsyncView.plan.legendBoxes[0]")
    frame = page.evaluate("document.querySelector('[data-docsync-name=main]').docsyncView.plan.frame")
    assert box["left"] > frame["right"], "the legend is beside the frame, over no point"
    canvas = page.locator('[data-docsync-name="main"] .ds-plot-overlay').bounding_box()
    assert canvas is not None
    page.mouse.click(canvas["x"] + (box["left"] + box["right"]) / 2, canvas["y"] + (box["top"] + box["bottom"]) / 2)
    wait_for(lambda: value(page, "shown", "text") == "grid hidden", 5, "Python to see the hidden renderer")
    page.screenshot(path=SCREENSHOTS / "plot-tools-legend-hidden.png")
    assert page.errors == []  # type: ignore[attr-defined]


def test_legend_mute(server: ServerProcess, context: BrowserContext) -> None:
    page = open_tools(context, server)
    linked = page.locator('[data-docsync-name="linked"] .ds-plot-canvas')
    before = linked.screenshot()
    box = page.evaluate("document.querySelector('[data-docsync-name=linked]').docsyncView.plan.legendBoxes[0]")
    canvas = page.locator('[data-docsync-name="linked"] .ds-plot-overlay').bounding_box()
    assert canvas is not None
    entry = (canvas["x"] + (box["left"] + box["right"]) / 2, canvas["y"] + (box["top"] + box["bottom"]) / 2)
    # click_policy "mute": the renderer stays, drawn in its muted look; Python sees muted.
    page.mouse.click(*entry)
    wait_for(lambda: value(page, "muted", "text") == "values muted", 5, "Python to see the muted renderer")
    visible = page.evaluate(
        "(() => { const view = document.querySelector('[data-docsync-name=linked]').docsyncView;"
        " return view.prop('visible', view.glyphRenderers()[0]); })()"
    )
    assert visible is True
    muted = linked.screenshot()
    assert changed_fraction(before, muted) > 0.002, "the muted points are drawn fainter"
    page.screenshot(path=SCREENSHOTS / "plot-tools-legend-muted.png")
    page.mouse.click(*entry)
    wait_for(lambda: value(page, "muted", "text") == "values heard", 5, "Python to see it heard again")
    wait_for(lambda: changed_fraction(before, linked.screenshot()) < 0.0005, 5, "the plot to look as before")
    assert page.errors == []  # type: ignore[attr-defined]


TITLE_OF = """() => { const title = document.querySelector('[data-docsync-name=linked]').docsyncView.model.get('title');
  return title && typeof title === 'object' ? [title.type, title.get('text'), title.document !== null] : title; }"""


def test_a_refused_title_change_is_corrected_with_its_model(server: ServerProcess, context: BrowserContext) -> None:
    page = open_tools(context, server)
    assert page.evaluate(TITLE_OF) == ["Title", "linked", True]
    # A string for Plot.title, as BokehJS takes one: drawn at once, sent, refused (the
    # property is not client-writable). The correction names the Title model this page
    # no longer holds and defines it in its references: the Title comes back.
    page.evaluate("document.querySelector('[data-docsync-name=linked]').docsyncView.model.set('title', 'mine')")
    wait_for(lambda: page.evaluate(TITLE_OF) == ["Title", "linked", True], 10, "the correction to bring the Title back")
    canvas = page.locator('[data-docsync-name="linked"] .ds-plot-canvas')
    expect(canvas).to_have_attribute("aria-label", "linked")
    expect(page.locator(".ds-notice")).to_contain_text("Plot.title is not writable from the client")
    # The session is still live and in step: a pan from this page reaches Python.
    drag(page, [at(page, "main", 5, 5), at(page, "main", 3, 5)])
    wait_for(lambda: len(python_ranges(page)) == 4 and abs(python_ranges(page)[0] - 1) < 0.2, 10, "the pan")
    page.screenshot(path=SCREENSHOTS / "plot-title-corrected.png")
    assert page.errors == []  # type: ignore[attr-defined]
