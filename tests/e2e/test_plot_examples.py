"""The demo's ports of Bokeh's server examples, used in Chromium as their originals are; a screenshot of each."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

from docsync.testing import ServerProcess

from .browser import open_app, value, wait_for
from .conftest import SCREENSHOTS
from .pixels import changed_fraction, ink_fraction
from .test_plot_tools import at, drag


def open_example(context: BrowserContext, server: ServerProcess, app: str, plots: tuple[str, ...]) -> Page:
    page = open_app(context, server.url + f"{app}/")
    for name in plots:
        page.wait_for_function(f"document.querySelector('[data-docsync-name={name}]')?.docsyncView?.plan")
    return page


def canvas_png(page: Page, name: str) -> bytes:
    return page.locator(f'[data-docsync-name="{name}"] .ds-plot-canvas').screenshot()


def weather_layout(page: Page) -> dict[str, Any]:
    """The weather plot's frame and legend boxes, in canvas pixels."""
    return dict(
        page.evaluate(
            """() => {
              const { frame, legendBoxes } = document.querySelector('[data-docsync-name=plot]').docsyncView.plan;
              const boxes = legendBoxes.map(({ left, top, right, bottom }) => ({ left, top, right, bottom }));
              return { frame, boxes }; }"""
        )
    )


def plot_title(page: Page, name: str) -> str:
    return str(
        page.evaluate(f"document.querySelector('[data-docsync-name={name}]').docsyncView.prop('title').get('text')")
    )


def test_sliders_crossfilter_and_movies(server: ServerProcess, context: BrowserContext) -> None:
    page = open_example(context, server, "sliders", ("plot",))
    page.locator('[data-docsync-name="text"] input').fill("my sine wave")
    page.locator('[data-docsync-name="text"] input').press("Enter")
    wait_for(lambda: plot_title(page, "plot") == "my sine wave", 5, "the server to retitle the plot")
    page.screenshot(path=SCREENSHOTS / "example-sliders.png", full_page=True)

    page = open_example(context, server, "crossfilter", ("plot",))
    # Each change makes a new figure: the colour first, so that the title waited for is
    # the last figure's (the canvas screenshotted is not replaced meanwhile).
    page.locator('[data-docsync-name="color"] select').select_option("weight")
    page.locator('[data-docsync-name="x"] select').select_option("cyl")
    wait_for(lambda: plot_title(page, "plot") == "Cyl vs Hp", 5, "a new figure for the new columns")
    page.wait_for_function("document.querySelector('[data-docsync-name=plot]')?.docsyncView?.plan")
    assert ink_fraction(canvas_png(page, "plot")) > 0.01
    page.screenshot(path=SCREENSHOTS / "example-crossfilter.png", full_page=True)

    page = open_example(context, server, "movies", ("plot",))
    before = value(page, "count", "text")
    page.locator('[data-docsync-name="genre"] select').select_option("Drama")
    wait_for(lambda: value(page, "count", "text") != before, 5, "the genre filter")
    page.mouse.move(0, 0)
    # Hover a movie: its title, year and takings.
    point = page.evaluate(
        """() => { const v = document.querySelector('[data-docsync-name=plot]').docsyncView;
          const r = v.plan.entries[0].r; return [r.s.x[0], r.s.y[0]]; }"""
    )
    box = page.locator('[data-docsync-name="plot"] .ds-plot-overlay').bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + point[0], box["y"] + point[1])
    tooltip = page.locator('[data-docsync-name="plot"] .ds-plot-tooltip')
    expect(tooltip).to_contain_text("Title: The ")
    expect(tooltip).to_contain_text("$: $")
    page.screenshot(path=SCREENSHOTS / "example-movies.png", full_page=True)
    assert page.errors == []  # type: ignore[attr-defined]


def test_stocks_and_selection_histogram(server: ServerProcess, context: BrowserContext) -> None:
    page = open_example(context, server, "stocks", ("corr", "ts1", "ts2"))
    expect(page.locator('[data-docsync-name="ticker1"]')).to_contain_text("Ticker 1")
    expect(page.locator('[data-docsync-name="ticker2"]')).to_contain_text("Ticker 2")
    page.locator('[data-docsync-name="ticker2"] select').select_option("INTC")
    wait_for(lambda: plot_title(page, "ts2") == "INTC", 5, "the second ticker")
    start, end, low, high = page.evaluate(
        "(() => { const s = document.querySelector('[data-docsync-name=ts1]').docsyncView.plan.scales;"
        " return [s.x.default.start, s.x.default.end, s.y.default.start, s.y.default.end]; })()"
    )
    # The time series' drag tool selects days (xbox_select): the stats follow the selection.
    mid = (low + high) / 2
    drag(page, [at(page, "ts1", start + (end - start) * 0.3, mid), at(page, "ts1", start + (end - start) * 0.5, mid)])
    wait_for(lambda: "selected" in value(page, "stats", "text"), 5, "the statistics of the selected days")
    page.screenshot(path=SCREENSHOTS / "example-stocks.png", full_page=True)

    page = open_example(context, server, "selection_histogram", ("main", "hist_x", "hist_y"))
    before = canvas_png(page, "hist_x")
    loop = [(0, 0), (3, 0), (3, 3), (0, 3), (0, 0.1)]
    drag(page, [at(page, "main", x, y) for x, y in loop], steps=5)
    wait_for(lambda: changed_fraction(before, canvas_png(page, "hist_x")) > 0.005, 5, "the histograms of the selection")
    page.screenshot(path=SCREENSHOTS / "example-selection_histogram.png", full_page=True)
    assert page.errors == []  # type: ignore[attr-defined]


def test_weather_ohlc_export_csv_and_histogram(server: ServerProcess, context: BrowserContext) -> None:
    page = open_example(context, server, "weather", ("plot",))
    page.locator('[data-docsync-name="city"] select').select_option("Boston")
    wait_for(lambda: plot_title(page, "plot") == "Weather data for Boston", 5, "Boston's weather")
    page.screenshot(path=SCREENSHOTS / "example-weather.png", full_page=True)
    # The legend is one row over the frame: beside it, it took a third of the plot on a phone.
    page.set_viewport_size({"width": 400, "height": 900})
    wait_for(lambda: weather_layout(page)["frame"]["right"] < 400, 5, "the plot to fit a 400 px window")
    layout = weather_layout(page)
    items, frame = layout["boxes"], layout["frame"]
    assert len(items) == 3 and len({item["top"] for item in items}) == 1
    assert all(item["bottom"] <= frame["top"] for item in items)
    page.screenshot(path=SCREENSHOTS / "example-weather-400.png", full_page=True)

    page = open_example(context, server, "ohlc", ("price", "macd"))
    rows = "() => window.docsync.getModelByName('source').get('data').time.length"
    wait_for(lambda: page.evaluate(rows) >= 25, 15, "candles streamed in")
    # The price and MACD plots share one DataRange1d: it spans both plots' data, as in
    # Bokeh, so their days line up (the candles' half widths had widened the price plot's alone).
    spans = """() => ["price", "macd"].map((name) => {
      const x = document.querySelector(`[data-docsync-name=${name}]`).docsyncView.plan.scales.x.default;
      return [x.start, x.end]; })"""
    wait_for(lambda: (lambda both: both[0] == both[1])(page.evaluate(spans)), 5, "the linked plots' x spans to agree")
    page.screenshot(path=SCREENSHOTS / "example-ohlc.png", full_page=True)

    page = open_example(context, server, "export_csv", ("plot",))
    drag(page, [at(page, "plot", 15, 90_000), at(page, "plot", 29, 130_000)])
    wait_for(lambda: len(value_indices(page)) > 0, 5, "a selection")
    chosen = len(value_indices(page))
    assert chosen > 0
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    lines = download.value.path().read_text().strip().splitlines()
    assert download.value.suggested_filename == "salaries.csv"
    assert lines[0] == "name,salary,years_experience" and len(lines) == chosen + 1
    page.screenshot(path=SCREENSHOTS / "example-export_csv.png", full_page=True)

    page = open_example(context, server, "histogram", ("hist_plot", "heat_plot"))
    before = canvas_png(page, "hist_plot")
    page.locator('[data-docsync-name="kind"] select').select_option("normal")
    wait_for(lambda: changed_fraction(before, canvas_png(page, "hist_plot")) > 0.01, 5, "the normal distribution")
    # The bars stand on the x axis: the y range starts at 0, not at its padding below.
    y_start = "document.querySelector('[data-docsync-name=hist_plot]').docsyncView.plan.scales.y.default.start"
    assert page.evaluate(y_start) == 0
    page.screenshot(path=SCREENSHOTS / "example-histogram.png", full_page=True)

    page = open_example(context, server, "glyphs", ())
    page.wait_for_function("[...document.querySelectorAll('.ds-plot')].every((el) => el.docsyncView.plan)")
    page.screenshot(path=SCREENSHOTS / "example-glyphs.png", full_page=True)
    # Every legend of the gallery lies beside its frame, covering no data; one placed
    # "center" on the right is centred on the frame's height.
    legends = page.evaluate(
        """() => [...document.querySelectorAll('.ds-plot')].map((el) => {
          const { frame, legendBoxes } = el.docsyncView.plan;
          const boxes = legendBoxes.map(({ left, top, right, bottom }) => ({ left, top, right, bottom }));
          return { frame, boxes }; })"""
    )
    with_legends = [plot for plot in legends if plot["boxes"]]
    assert len(with_legends) == 3
    for plot in with_legends:
        frame = plot["frame"]
        for box in plot["boxes"]:
            outside = box["left"] >= frame["right"] or box["right"] <= frame["left"]
            assert outside or box["top"] >= frame["bottom"] or box["bottom"] <= frame["top"], (box, frame)
    right = [p for p in with_legends if all(b["left"] >= p["frame"]["right"] for b in p["boxes"])]
    assert len(right) == 1
    middle = (min(b["top"] for b in right[0]["boxes"]) + max(b["bottom"] for b in right[0]["boxes"])) / 2
    assert abs(middle - (right[0]["frame"]["top"] + right[0]["frame"]["bottom"]) / 2) < 3
    assert page.errors == []  # type: ignore[attr-defined]


def value_indices(page: Page) -> list[int]:
    return list(page.evaluate("window.docsync.getModelByName('source').get('selected').get('indices')"))
