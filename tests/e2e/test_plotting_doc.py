"""docs/plotting.md's examples, served as apps and looked at in Chromium; its tools example used as it says."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page

from docsync.document import Document
from docsync.document.models import Plot
from docsync.testing import ServerProcess
from tests.document.test_plotting_docs import EXAMPLES

from .browser import EVENT_WAIT, open_app, wait_for
from .conftest import SCREENSHOTS
from .pixels import ink_fraction

# Each example's plots, counted from the page's own code.
PLOTS = []
for _code in EXAMPLES:
    _namespace: dict[str, object] = {}
    exec(compile(_code, "docs/plotting.md", "exec"), _namespace)
    if callable(_namespace.get("modify_doc")):
        _doc = Document()
        _namespace["modify_doc"](_doc)  # type: ignore[operator]
        PLOTS.append(sum(isinstance(m, Plot) for m in _doc.models.values()))
    else:
        PLOTS.append(sum(isinstance(v, Plot) for v in _namespace.values()))

_DRAWN = "n => [...document.querySelectorAll('*')].filter(e => e.docsyncView?.plan).length >= n"


def open_example(context: BrowserContext, server: ServerProcess, number: int) -> Page:
    page = open_app(context, server.url + f"plotting_doc/?example={number}")
    page.wait_for_function(_DRAWN, arg=PLOTS[number], timeout=EVENT_WAIT * 1000)
    return page


@pytest.mark.parametrize("number", range(len(EXAMPLES)), ids=[f"example{i}" for i in range(len(EXAMPLES))])
def test_each_example_draws_its_plots(number: int, server: ServerProcess, context: BrowserContext) -> None:
    page = open_example(context, server, number)
    canvases = page.locator(".ds-plot-canvas")
    assert canvases.count() == PLOTS[number] >= 1
    for index in range(canvases.count()):
        assert ink_fraction(canvases.nth(index).screenshot()) > 0.01, f"plot {index} of example {number} is blank"
    page.screenshot(path=str(SCREENSHOTS / f"plotting-doc-example{number}.png"), full_page=True)
    assert page.errors == []  # type: ignore[attr-defined]


def _screen(page: Page, x: float, y: float) -> tuple[float, float]:
    """The page coordinates of data point (x, y) on the page's one plot."""
    sx, sy = page.evaluate(
        """([x, y]) => { const view = [...document.querySelectorAll('*')].find(e => e.docsyncView?.plan).docsyncView;
          const { scales } = view.plan; return [scales.x.default.compute(x), scales.y.default.compute(y)]; }""",
        [x, y],
    )
    box = page.locator(".ds-plot-overlay").bounding_box()
    assert box is not None
    return box["x"] + sx, box["y"] + sy


def test_the_tools_example_reports_tap_selection_and_zoom(server: ServerProcess, context: BrowserContext) -> None:
    [number] = [i for i, code in enumerate(EXAMPLES) if "def tapped(event)" in code]
    page = open_example(context, server, number)

    def text() -> str:
        return page.inner_text("body")

    page.mouse.click(*_screen(page, 15, 1))  # an empty spot: no selection changes, the tap is heard
    wait_for(
        lambda: re.search(r"tap at \((14\.\d\d|15\.\d\d), (0\.9\d|1\.0\d)\)", text()) is not None, EVENT_WAIT, "tap"
    )
    start, end = _screen(page, 1.5, 4.5), _screen(page, 10.5, 1.2)  # around x = 2..10, sqrt(x) 1.41..3.16
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=6)
    page.mouse.up()
    wait_for(lambda: "9 points selected" in text(), EVENT_WAIT, "the box selection")
    page.mouse.move(*_screen(page, 9.5, 2))
    page.mouse.wheel(0, -300)  # the example's active_scroll: the wheel zooms in
    wait_for(lambda: re.search(r"x from (-?\d+\.\d\d) to (\d+\.\d\d)", text()) is not None, EVENT_WAIT, "the zoom")
    low, high = map(float, re.search(r"x from (-?\d+\.\d\d) to (\d+\.\d\d)", text()).groups())  # type: ignore[union-attr]
    assert 0 < high - low < 19  # narrower than the points' own span, 0 to 19, and the padding around it
    page.screenshot(path=str(SCREENSHOTS / "plotting-doc-tools.png"))
    assert page.errors == []  # type: ignore[attr-defined]
