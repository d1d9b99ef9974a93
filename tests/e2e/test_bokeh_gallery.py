"""docsync's own Bokeh gallery (tests/bokeh/gallery/), served by docsync, driven by BokehJS in Chromium.

These apps are docsync's, written against Bokeh's public API in the spirit of Bokeh's
server examples: Bokeh's example sources are not available to this test set-up (the
wheel and the sdist do not ship them). Each test acts as a user would — the mouse on a
tool or a button, the keyboard on a slider, a choice in a select — then checks that
the Python document of the page's own session changed (read in the server, holding the
session's lock), that Python's answer reached the browser, and that the canvas redrew.
One server for the whole module; every page's screenshot goes to build/screenshots/.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from docsync.testing import ServerProcess

from .bokeh_page import BokehPage
from .conftest import SCREENSHOTS, new_context, start_server
from .pixels import decode_png

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")


@pytest.fixture(scope="module")
def server(workdir: Path, database: str) -> Iterator[ServerProcess]:
    """One server for every app of the gallery, with the movies app's database written first."""
    from tests.bokeh.gallery.movies.database import write_database

    movies = write_database(workdir / "movies.sqlite3")
    env = {"DJANGO_SETTINGS_MODULE": "tests.bokeh.settings", "DOCSYNC_BOKEH_MOVIES_DB": str(movies)}
    process = start_server(workdir, database, "bokeh_gallery", **env)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def module_tab(module_browser: Browser) -> Iterator[Page]:
    """One tab for the module's tests in the usual context: each opens its app in it."""
    context = new_context(module_browser, viewport={"width": 1100, "height": 760})
    yield context.new_page()
    context.close()


@pytest.fixture
def tab(module_tab: Page) -> Page:
    """The module's tab, for a test to open its app in: a new document and a session of its own.

    Chromium keeps the tab's renderer process from app to app (a new tab's page load was
    ~0.7 s of its CPU, a navigation ~0.45). A page a test left is unloaded by the next
    test's; the mouse goes back to (0, 0), where a new tab has it, off any hover tool.
    """
    module_tab.mouse.move(0, 0)
    return module_tab


def _keys(page: BokehPage, selector: str, key: str, times: int, index: int = 0) -> None:
    handle = page.page.locator(selector).nth(index)
    handle.focus()
    for _ in range(times):
        handle.press(key)


def test_sliders(tab: Page, server: ServerProcess) -> None:
    page = BokehPage.open(tab, server, "bk_sliders")
    before = page.pixels("plot")
    _keys(page, ".noUi-handle", "ArrowRight", 10)  # the offset slider, step 0.1
    page.until(lambda: page.python("offset", "value") == pytest.approx(1.0), "offset = 1 in Python")
    # y = a sin(k x + w) + b, recomputed by the Python callback and sent back.
    assert page.python("wave", "data.y")[0] == pytest.approx(1.0)
    page.until(lambda: page.js("wave", "m.data.y[0]") == pytest.approx(1.0), "the new curve in the browser")
    page.until(lambda: page.redrew("plot", before), "the plot redrawn")
    title = page.page.locator("input[type=text]").first
    title.fill("docsync sine")
    title.press("Enter")
    page.until(lambda: page.python("plot", "title.text") == "docsync sine", "the title set in Python")
    page.until(lambda: page.js("plot", "m.title.text") == "docsync sine", "the title Python set, in the browser")
    page.shot("sliders")


def test_crossfilter(tab: Page, server: ServerProcess) -> None:
    page = BokehPage.open(tab, server, "bk_crossfilter")
    before = page.pixels("layout")
    selects = page.page.locator("select")
    selects.nth(0).select_option("weight")  # x axis
    selects.nth(2).select_option("hp")  # colour
    page.until(lambda: page.python("colour", "value") == "hp", "the colour choice in Python")
    assert page.python("x", "value") == "weight"
    # The Python callback replaced the figure: the new one came to the browser.
    assert page.python("layout", "children.1.title.text") == "hp against weight"
    page.until(lambda: page.js("layout", "m.children[1].title.text") == "hp against weight", "the new figure")
    page.wait_drawn()
    page.until(lambda: page.redrew("layout", before, 0.05), "the new figure drawn")
    page.shot("crossfilter")


def test_selection_histogram(tab: Page, server: ServerProcess) -> None:
    page = BokehPage.open(tab, server, "bk_selection_histogram")
    before = page.pixels("scatter")
    page.drag("scatter", (0.5, -0.5), (3.5, 2.5))  # the box select tool is the active drag
    page.until(lambda: len(page.python("points", "selected.indices")) > 0, "the selection in Python")
    chosen = page.python("points", "selected.indices")
    assert sorted(chosen) == sorted(page.js("points", "[...m.selected.indices]"))
    xs, ys = page.python("points", "data.x"), page.python("points", "data.y")
    assert all(0.5 <= xs[i] <= 3.5 and -0.5 <= ys[i] <= 2.5 for i in chosen)
    # The Python callback histogrammed the selection along each axis.
    assert sum(page.python("x_selected", "data.count")) == len(chosen)
    page.until(lambda: sum(page.js("y_selected", "[...m.data.count]")) == len(chosen), "the histograms")
    page.until(lambda: page.redrew("scatter", before), "the selection drawn")
    page.shot("selection_histogram")


def test_stocks(tab: Page, server: ServerProcess) -> None:
    page = BokehPage.open(tab, server, "bk_stocks")
    history = page.pixels("h1")
    page.drag("correlation", (-0.01, -0.01), (0.03, 0.03))  # a box of returns; box select is active
    page.until(lambda: len(page.python("prices", "selected.indices")) > 0, "the selected days in Python")
    days = page.python("prices", "selected.indices")
    # The Python callback summarised the selection; the same days light up in the histories.
    page.until(lambda: f"{len(days)} selected days" in page.js("stats", "m.text"), "the summary in the browser")
    assert f"{len(days)} selected days" in page.python("stats", "text")
    page.until(lambda: page.redrew("h1", history), "the selected days drawn in the price history")
    page.shot("stocks")
    closes = page.python("prices", "data.t2")
    page.page.locator("select").nth(1).select_option("HOOLI")
    page.until(lambda: page.python("second", "value") == "HOOLI", "the second ticker in Python")
    assert page.python("prices", "data.t2") != closes
    page.until(lambda: page.js("h2", "m.title.text") == "HOOLI", "the new ticker's history")
    assert page.python("prices", "selected.indices") == []


def test_movies(tab: Page, server: ServerProcess) -> None:
    page = BokehPage.open(tab, server, "bk_movies")
    before = page.pixels("plot")
    shown = page.python("movies", "data.title")
    _keys(page, ".noUi-handle", "ArrowRight", 5)  # minimum reviews: 80 -> 130
    page.until(lambda: page.python("reviews", "value") == 130, "the minimum in Python")
    page.until(lambda: page.js("count", "m.text") == f"{len(page.python('movies', 'data.title'))} films", "the count")
    films = page.python("movies", "data.title")
    assert 0 < len(films) < len(shown)
    page.until(lambda: page.redrew("plot", before), "the plot redrawn")
    # Hover over the top-grossing film (a point on its own): its tooltip shows what Python's query returned.
    ys = page.python("movies", "data.y")
    top = ys.index(max(ys))
    page.page.mouse.move(*page.point("plot", page.python("movies", "data.x")[top], ys[top]))
    tooltip = page.page.locator(".bk-tooltip-content").first
    tooltip.wait_for(state="visible")
    assert films[top] in tooltip.inner_text()
    page.shot("movies")


def test_export_csv(tab: Page, server: ServerProcess) -> None:
    page = BokehPage.open(tab, server, "bk_export_csv")
    before = page.pixels("table")
    rows_before = page.python("rows", "data.name")
    # Drag the range slider's upper handle to the right with the mouse.
    handle = page.page.locator(".noUi-handle").nth(1)
    box = handle.bounding_box()
    assert box is not None
    page.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.page.mouse.down()
    page.page.mouse.move(box["x"] + 120, box["y"] + box["height"] / 2, steps=8)
    page.page.mouse.up()
    page.until(lambda: page.python("salary", "value")[1] > 80_000, "the new range in Python")
    page.until(lambda: len(page.python("rows", "data.name")) > len(rows_before), "more rows, filtered by Python")
    names = page.python("rows", "data.name")
    page.until(lambda: page.js("rows", "m.get_length()") == len(names), "the rows in the browser")
    page.until(lambda: page.redrew("table", before), "the table redrawn")
    # The download is made in the browser by the button's CustomJS, from what Python sent.
    with page.page.expect_download() as download:
        page.page.get_by_role("button", name="Download the rows shown").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0] == ["name", "salary", "years"]
    assert [row[0] for row in rows[1:]] == names
    page.shot("export_csv")


def test_ohlc(tab: Page, server: ServerProcess) -> None:
    page = BokehPage.open(tab, server, "bk_ohlc")
    # The periodic callback streams a candle every 100 ms from Python.
    first = page.python("ticks", "data.t")
    page.until(lambda: len(page.python("ticks", "data.t")) >= len(first) + 5, "candles streamed in Python")
    page.until(lambda: page.js("ticks", "m.get_length()") >= len(first) + 5, "the candles in the browser")
    page.page.locator("select").first.select_option("8-tick SMA")
    page.until(lambda: page.python("average", "value") == "8-tick SMA", "the average chosen in Python")
    page.until(lambda: page.python("ticks", "data.average")[-1] not in (None, "NaN", "nan"), "an average streamed")
    before = page.pixels("prices")
    page.until(lambda: page.redrew("prices", before), "new candles drawn")
    # theme.yaml's dark background, applied by the directory app's loader.
    image = decode_png(page.pixels("prices"))
    assert (image[20, image.shape[1] // 3, :3] == (0x1F, 0x24, 0x30)).all()
    page.shot("ohlc")


def test_weather(tab: Page, server: ServerProcess) -> None:
    page = BokehPage.open(tab, server, "bk_weather")
    before = page.pixels("plot")
    oslo = page.python("temperatures", "data.record_max")
    selects = page.page.locator("select")
    selects.nth(0).select_option("Lisbon")
    page.until(lambda: page.python("plot", "title.text") == "Weather data for Lisbon (discrete)", "Lisbon in Python")
    assert page.python("temperatures", "data.record_max") != oslo
    page.until(lambda: page.js("plot", "m.title.text").startswith("Weather data for Lisbon"), "the new title")
    page.until(lambda: page.redrew("plot", before, 0.05), "Lisbon's year drawn")
    selects.nth(1).select_option("smoothed")
    page.until(lambda: page.python("distribution", "value") == "smoothed", "smoothing in Python")
    page.until(lambda: page.js("plot", "m.title.text") == "Weather data for Lisbon (smoothed)", "smoothed, drawn")
    page.shot("weather")


def test_gapminder(tab: Page, server: ServerProcess) -> None:
    page = BokehPage.open(tab, server, "bk_gapminder")
    start = page.python("year", "value")
    before = page.pixels("plot")
    page.page.get_by_role("button", name="► Play").click()
    # The click's Python callback added a periodic callback that moves the year.
    page.until(lambda: page.python("year", "value") >= start + 3, "the years advancing in Python")
    page.until(lambda: page.js("year_label", "Number(m.text)") >= start + 3, "the years in the browser")
    page.until(lambda: page.redrew("plot", before), "the bubbles moved")
    page.page.get_by_role("button", name="❚❚ Pause").click()
    page.until(lambda: page.python("play", "label") == "► Play", "paused in Python")
    assert page.python("document", "session_callbacks") == []  # the periodic callback is gone
    page.shot("gapminder")


def test_lifecycle_directory_app(tab: Page, server: ServerProcess) -> None:
    page = BokehPage.open(tab, server, "bk_lifecycle")
    made = page.python("document", "session_context.server_context.sessions_made")  # app_hooks counted it
    # templates/index.html: the app's template variable, and each root placed by its name.
    assert page.page.locator("#greeting").inner_text() == f"Welcome, visitor number {made}"
    assert page.page.locator("#controls-panel .bk-Column").count() == 1
    assert page.page.locator("#chart-panel .bk-Figure").count() == 1
    # static/style.css, served from the app's folder.
    banner = page.page.locator(".banner").evaluate("(el) => getComputedStyle(el).backgroundColor")
    assert banner == "rgb(38, 139, 210)"
    # theme.yaml: the chart's background.
    image = decode_png(page.pixels("chart"))
    assert (image[60, image.shape[1] // 2, :3] == (0xFD, 0xF6, 0xE3)).all()
    before = page.pixels("chart")
    counts = page.python("harvest", "data.count")
    page.page.get_by_role("button", name="Roll again").click()
    page.until(lambda: page.python("harvest", "data.count") != counts, "a new harvest in Python")
    expected = f"rolled by session {made} (of {made} made, 0 ended)"
    page.until(lambda: page.js("rolls", "m.text") == expected, "what the callback wrote, in the browser")
    page.until(lambda: page.redrew("chart", before), "the new bars drawn")
    assert page.page.title() == "Lifecycle"
    page.shot("lifecycle")


def test_request_arguments_cookies_and_headers(browser: Browser, server: ServerProcess) -> None:
    context = new_context(browser, viewport={"width": 1100, "height": 760}, extra_http_headers={"X-Team": "blue"})
    context.add_cookies([{"name": "flavour", "value": "mint", "url": server.url}])
    try:
        page = BokehPage.open(context, server, "bk_request_info", "?points=30&colour=green")
        assert len(page.python("points", "data.x")) == 30
        assert page.page.locator("#flavour").inner_text() == "flavour cookie: mint"
        assert page.page.locator("#team").inner_text() == "X-Team header: blue"
        assert page.page.locator("#arguments").inner_text() == "arguments: ['colour', 'points']"
        before, xs = page.pixels("plot"), page.python("points", "data.x")
        page.page.get_by_role("button", name="Draw again").click()
        page.until(lambda: page.python("draws", "text") == "drawn 2 times", "the second draw in Python")
        assert page.python("points", "data.x") != xs and len(page.python("points", "data.x")) == 30
        page.until(lambda: page.redrew("plot", before), "the new points drawn")
        page.shot("request_info")
    finally:
        context.close()


def test_custom_js(tab: Page, server: ServerProcess) -> None:
    page = BokehPage.open(tab, server, "bk_custom_js")
    before = page.pixels("plot")
    _keys(page, ".noUi-handle", "ArrowRight", 10)  # power 1.0 -> 2.0, handled by CustomJS in the browser
    page.until(lambda: page.redrew("plot", before), "the curve redrawn by the browser")
    # BokehJS sent the new column; the Python document has it, and Python's callback answered.
    page.until(lambda: page.python("curve", "data.y")[50] == pytest.approx(0.25), "y = x^2 in Python")
    assert page.python("power", "value") == pytest.approx(2.0)
    page.until(lambda: page.js("seen", "m.text") == "Python has seen power 2.0", "Python's answer in the browser")
    page.shot("custom_js")


def test_table_editing(tab: Page, server: ServerProcess) -> None:
    page = BokehPage.open(tab, server, "bk_table_editing")
    before = page.pixels("chart")
    cell = page.page.locator(".slick-row").first.locator(".slick-cell").nth(2)  # bolts' quantity
    cell.dblclick()
    editor = page.page.locator(".slick-cell.editable input")
    editor.fill("100")
    editor.press("Enter")
    page.until(lambda: page.python("orders", "data.quantity")[0] == 100, "the edit in Python")
    page.until(lambda: page.js("total", "m.text") == "total: 110.00", "Python's new total in the browser")
    assert page.python("values", "data.value")[0] == pytest.approx(50.0)
    page.until(lambda: page.redrew("chart", before), "the bars redrawn")
    # A status picked in the cell's SelectEditor: among its options, so the server takes it.
    page.page.locator(".slick-row").first.locator(".slick-cell").nth(4).dblclick()
    chooser = page.page.locator(".slick-cell.editable select")
    chooser.select_option("shipped")
    chooser.press("Enter")
    page.until(lambda: page.python("orders", "data.status")[0] == "shipped", "the status picked, in Python")
    page.shot("table_editing")


def test_dependent_selects(tab: Page, server: ServerProcess) -> None:
    # The app's own JavaScript changes what widgets offer: BokehJS's patches are taken.
    page = BokehPage.open(tab, server, "bk_dependent_selects")
    page.page.locator("select").nth(0).select_option("France")
    page.until(lambda: page.python("city", "options") == ["Paris", "Lyon"], "the refilled options in Python")
    # BokehJS sends the CustomJS's two changes as two patches: the value may come a moment after.
    page.until(lambda: page.python("city", "value") == "Paris", "the first city, picked by the CustomJS, in Python")
    page.until(lambda: page.js("shown", "m.text") == "Paris within 5 km (of 10)", "Python's answer in the browser")
    page.page.locator("select").nth(1).select_option("Lyon")
    page.until(lambda: page.python("city", "value") == "Lyon", "the city picked among the new options")
    page.page.get_by_role("button", name="wider").click()
    page.until(lambda: page.python("distance", "end") == 20, "the slider's end the SetValue moved, in Python")
    _keys(page, ".noUi-handle", "ArrowRight", 15)  # step 1: 5 -> 20, past the old end
    page.until(lambda: page.python("distance", "value") == 20, "the thumb at the new end, in Python")
    page.until(lambda: page.js("shown", "m.text") == "Lyon within 20 km (of 20)", "Python's answer in the browser")
    page.shot("dependent_selects")


#: The views of BokehJS's pickers: the bounds flatpickr was given, as the browser's wall clock.
_PICKER = """([name]) => {
  const views = [];
  const walk = (view) => { views.push(view); for (const child of view.child_views ?? []) walk(child); };
  for (const root of Object.values(Bokeh.index)) walk(root);
  const view = views.find((v) => v.model.name == name);
  const shown = (d) => (d == null ? null : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(),
                                             d.getMinutes()]);
  return {min: shown(view.picker.config.minDate ?? view.picker.config.minTime),
          max: shown(view.picker.config.maxDate ?? view.picker.config.maxTime)};
}"""
#: A pick, as flatpickr hands a user's click to BokehJS's view (which formats and sends it).
_PICK = """([name, parts]) => {
  const views = [];
  const walk = (view) => { views.push(view); for (const child of view.child_views ?? []) walk(child); };
  for (const root of Object.values(Bokeh.index)) walk(root);
  views.find((v) => v.model.name == name)._on_change([new Date(...parts)]);
}"""


def test_pickers_in_a_browser_off_utc(browser: Browser, server: ServerProcess) -> None:
    # BokehJS (3.9) gives flatpickr the bounds as instants, shown in the browser's zone
    # (docs/bokeh.md): in New York min_date 2024-01-01 is 2023-12-31 19:00, and the alarm's
    # 22:00-06:00 is 17:00-01:00. What the pickers send there within the margins is taken.
    context = new_context(browser, viewport={"width": 1100, "height": 760}, timezone_id="America/New_York")
    try:
        page = BokehPage.open(context, server, "bk_pickers")
        assert page.page.evaluate(_PICKER, ["meeting"]) == {"min": [2023, 12, 31, 19, 0], "max": [2024, 1, 30, 19, 0]}
        assert page.page.evaluate(_PICKER, ["alarm"]) == {"min": [1970, 1, 1, 17, 0], "max": [1970, 1, 1, 1, 0]}
        page.page.evaluate(_PICK, ["meeting", [2023, 11, 31, 20, 30]])  # the first moment it offers, nearly
        page.until(lambda: page.js("meeting", "m.value") == "2023-12-31T20:30:00", "BokehJS's wall clock sent")
        page.until(lambda: page.python("meeting", "value") == 1703980800000.0, "the pick in Python (its day)")
        page.page.evaluate(_PICK, ["alarm", [2024, 0, 1, 23, 30]])  # a time past min_time, before midnight
        page.until(lambda: page.python("alarm", "value") == "23:30:00", "the alarm in Python")
        page.until(lambda: page.js("shown", "m.text") == "1703980800000.0 / 23:30:00", "Python's answer in the browser")
        assert page.errors == []
    finally:
        context.close()


def test_function_app_tap(tab: Page, server: ServerProcess) -> None:
    page = BokehPage.open(tab, server, "bk_function", "?who=me")
    before = page.pixels("plot")
    page.page.mouse.click(*page.point("plot", 3, 1))  # the tap tool, on the third disc
    page.until(lambda: page.python("discs", "selected.indices") == [2], "the tapped disc in Python")
    expected = "tapped ['gold'] by anonymous, args=[('who', ['me'])]"
    page.until(lambda: page.js("shown", "m.text") == expected, "what Python wrote, in the browser")
    page.until(lambda: page.redrew("plot", before), "the other discs faded")
    page.shot("function_tap")


def test_server_document_and_server_session(tab: Page, server: ServerProcess) -> None:
    page = tab
    response = page.goto(f"{server.url}_test/bokeh/embedded/")
    assert response is not None and response.ok
    made_by_view = re.search(r"bk_sliders/autoload\.js\?[^\"]*session_id=([\w-]+)", response.text())
    assert made_by_view, "the page embeds the view's session by id"
    embedded = BokehPage(page, server, "bk_sliders", made_by_view.group(1))
    embedded.wait_drawn(documents=2)
    # server_session: the view made the session and titled it before the page loaded.
    assert embedded.js("title", "m.value") == "made by the view"
    assert embedded.python("plot", "title.text") == "made by the view"
    _keys(embedded, "#by-session .noUi-handle", "ArrowRight", 5)
    embedded.until(lambda: embedded.python("offset", "value") == pytest.approx(0.5), "the view's session moved")
    # server_document with arguments: a session of its own, made with them.
    others = BokehPage(page, server, "bk_request_info", None)
    assert others.js("points", "m.get_length()") == 25
    page.screenshot(path=str(SCREENSHOTS / "bokeh-embedded.png"))
