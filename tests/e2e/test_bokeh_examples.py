"""Bokeh's own example apps, unchanged, served by docsync and driven by BokehJS in Chromium.

Each test acts on a widget or tool as a user would (or sets the widget's value the way
its BokehJS view does), then checks that the Python document changed (read in the
server process, under the session's lock, through tests/bokeh/urls.py), that Python's
answer came back to the browser, and that the canvas redrew.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

from docsync.testing import ServerProcess

from .conftest import SCREENSHOTS

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

SERVER_ENV = {"DJANGO_SETTINGS_MODULE": "tests.bokeh.settings"}

_FIND = """([type, key, value]) => {
  const models = [...Bokeh.documents[0]._all_models.values()];
  const found = models.find((m) => m.type == type && (key == null || m[key] == value));
  return found == null ? null : found.id;
}"""


def _open(context: BrowserContext, server: ServerProcess, app: str, query: str = "") -> Page:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server.url}{app}/{query}")
    page.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle")
    page.wait_for_timeout(300)  # the first paint after idle
    assert errors == []
    return page


def _find(page: Page, type_name: str, key: str | None = None, value: Any = None) -> str:
    model_id = page.evaluate(_FIND, [type_name, key, value])
    assert model_id, f"no {type_name} with {key}={value!r} in the browser's document"
    return str(model_id)


def _python(server: ServerProcess, app: str, model_id: str, name: str) -> list[Any]:
    """``name`` of model ``model_id`` in every live session of ``app``, read in the server."""
    with urllib.request.urlopen(f"{server.url}_test/bokeh/{app}/{model_id}/{name}", timeout=10) as response:
        values: list[Any] = json.loads(response.read())["values"]
    return values


def _js(page: Page, model_id: str, expression: str) -> Any:
    return page.evaluate(
        f"() => {{ const m = Bokeh.documents[0].get_model_by_id({model_id!r}); return {expression}; }}"
    )


def _set(page: Page, model_id: str, name: str, value: Any) -> None:
    page.evaluate(
        "([id, name, value]) => { Bokeh.documents[0].get_model_by_id(id)[name] = value; }", [model_id, name, value]
    )


def _canvas(page: Page, selector: str = ".bk-Figure, .bk-GridPlot") -> bytes:
    return page.locator(selector).first.screenshot()


def _until(page: Page, check: Callable[[], bool], what: str) -> None:
    for _ in range(100):
        if check():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out waiting for {what}")


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"bokeh-{name}.png"))


def test_sliders(context: BrowserContext, server: ServerProcess) -> None:
    page = _open(context, server, "bk_sliders")
    offset = _find(page, "Slider", "title", "offset")
    source = _find(page, "ColumnDataSource")
    before = _canvas(page)
    # The offset slider's handle, moved with the keyboard as a user would (step 0.1).
    handle = page.locator(".noUi-handle").first
    handle.focus()
    for _ in range(10):
        handle.press("ArrowRight")
    _until(page, lambda: _python(server, "bk_sliders", offset, "value") == [pytest.approx(1.0)], "offset in Python")
    # y = a*sin(k*x + w) + b was recomputed by the Python callback and sent back.
    _until(page, lambda: _js(page, source, "m.data['y'][0]") == pytest.approx(1.0), "new y in the browser")
    assert _canvas(page) != before
    title = _find(page, "Title", "text", "my sine wave")
    text = page.locator("input[type=text]").first
    text.fill("docsync sine")
    text.press("Enter")
    _until(page, lambda: _js(page, title, "m.text") == "docsync sine", "title set by Python")
    assert _python(server, "bk_sliders", title, "text") == ["docsync sine"]
    _shot(page, "sliders")


def test_crossfilter(context: BrowserContext, server: ServerProcess) -> None:
    page = _open(context, server, "bk_crossfilter")
    select = _find(page, "Select", "title", "X-Axis")
    before = _canvas(page)
    page.locator("select").first.select_option("hp")
    _until(page, lambda: _python(server, "bk_crossfilter", select, "value") == ["hp"], "X-Axis in Python")
    # The Python callback replaced the whole figure: its new title came with it.
    _until(page, lambda: page.evaluate(_FIND, ["Title", "text", "Hp vs Hp"]) is not None, "the new figure")
    page.wait_for_timeout(300)
    assert _canvas(page) != before
    _shot(page, "crossfilter")


def test_selection_histogram(context: BrowserContext, server: ServerProcess) -> None:
    page = _open(context, server, "bk_selection_histogram")
    selection = _find(page, "Selection")  # the scatter's: the first one in the document
    tops = page.evaluate(
        "() => [...Bokeh.documents[0]._all_models.values()]"
        ".filter((m) => m.type == 'ColumnDataSource' && 'top' in m.data).map((m) => m.id)"
    )
    before = _canvas(page)
    # What the box-select tool does when it ends: set the selected indices.
    _set(page, selection, "indices", list(range(0, 400)))
    _until(page, lambda: len(_python(server, "bk_selection_histogram", selection, "indices")[0]) == 400, "selection")
    # The Python callback filled the histogram of the selection, and it came back.
    _until(page, lambda: any(_js(page, t, "Math.max(...m.data['top'])") > 0 for t in tops), "histograms")
    page.wait_for_timeout(300)
    assert _canvas(page) != before
    _shot(page, "selection_histogram")


def test_export_csv(context: BrowserContext, server: ServerProcess) -> None:
    page = _open(context, server, "bk_export_csv")
    slider = _find(page, "RangeSlider")
    source = _find(page, "ColumnDataSource")
    rows_before = _js(page, source, "m.get_length()")
    before = _canvas(page, ".bk-DataTable")
    _set(page, slider, "value", [10000, 110000])
    _until(page, lambda: _python(server, "bk_export_csv", slider, "value") == [[10000, 110000]], "range in Python")
    _until(page, lambda: _js(page, source, "m.get_length()") == 100, "every row, filtered by Python")
    assert rows_before < 100
    page.wait_for_timeout(300)
    assert _canvas(page, ".bk-DataTable") != before
    _shot(page, "export_csv")


def test_ohlc(context: BrowserContext, server: ServerProcess) -> None:
    page = _open(context, server, "bk_ohlc")
    source = _find(page, "ColumnDataSource")
    # The periodic callback (50 ms) streams a tick at a time from Python.
    first = _js(page, source, "m.get_length()")
    _until(page, lambda: _js(page, source, "m.get_length()") > first + 5, "streamed ticks")
    select = _find(page, "Select")
    page.locator("select").first.select_option("26-tick EMA")
    _until(page, lambda: _python(server, "bk_ohlc", select, "value") == ["26-tick EMA"], "moving average in Python")
    before = _canvas(page)
    page.wait_for_timeout(500)
    assert _canvas(page) != before
    _shot(page, "ohlc")


def test_gapminder(context: BrowserContext, server: ServerProcess) -> None:
    page = _open(context, server, "bk_gapminder")
    slider = _find(page, "Slider", "title", "Year")
    start = _js(page, slider, "m.value")
    before = _canvas(page)
    page.get_by_role("button", name="► Play").click()
    # The click's Python callback added a periodic callback that moves the slider.
    _until(page, lambda: _js(page, slider, "m.value") >= start + 3, "the animation")
    assert _python(server, "bk_gapminder", slider, "value")[0] >= start + 3
    assert _canvas(page) != before
    page.get_by_role("button", name="❚❚ Pause").click()
    _shot(page, "gapminder")


def test_function_app_sees_request_arguments(context: BrowserContext, server: ServerProcess) -> None:
    page = _open(context, server, "bk_function", "?who=me")
    shown = _find(page, "Div")
    page.get_by_role("button", name="show").click()
    expected = "args=[('who', ['me'])] user=anonymous"
    _until(page, lambda: _js(page, shown, "m.text") == expected, "the Python callback's text")
    assert _python(server, "bk_function", shown, "text") == [expected]
