"""The stream, table and lifecycle apps in Chromium: redraws, tables updated in place, defaults."""

from __future__ import annotations

import json
from urllib.parse import urljoin

from playwright.sync_api import BrowserContext, ConsoleMessage, expect

import docsync.document.models as builtin
from docsync.testing import EVENT_WAIT, ServerProcess

from .browser import column, open_app, value, wait_for
from .conftest import SCREENSHOTS
from .pixels import changed_fraction

# Counts, over at least ``ms``, the DOM mutations under a view's element, the streams its
# document received, and (for a plot) its redraws. On a loaded machine the streams come
# later, not fewer: it watches on until ``minStreams`` streams and ``minDraws`` redraws came (or
# a minute passed), so that the counts are checked, not their rate.
WATCH_DOM = """async ([selector, ms, minStreams, minDraws]) => {
  const el = document.querySelector(selector);
  const view = el.docsyncView;
  const canvas = el.querySelector('canvas');
  let added = 0, removed = 0;
  const observer = new MutationObserver((records) => {
    for (const r of records) { added += r.addedNodes.length; removed += r.removedNodes.length; }
  });
  observer.observe(el, { childList: true, subtree: true });
  let streams = 0;
  const stop = window.docsync.onChange((event) => { if (event.kind === 'ColumnsStreamed') streams += 1; });
  const draws = view.drawCount ?? 0;
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  while ((streams < minStreams || (view.drawCount ?? 0) - draws < minDraws) && performance.now() - started < 60000) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  observer.disconnect();
  stop();
  const sameCanvas = canvas === el.querySelector('canvas');
  return { added, removed, streams, draws: (view.drawCount ?? 0) - draws, sameCanvas };
}"""


def test_stream_redraws_the_canvas_and_never_the_dom(server: ServerProcess, context: BrowserContext) -> None:
    page = open_app(context, server.url + "stream/")
    wait_for(lambda: len(column(page, "source", "t")) >= 40, 60, "40 streamed points")
    canvas = page.locator('[data-docsync-name="plot"] canvas.ds-plot-canvas')
    before = canvas.screenshot()
    watched = page.evaluate(WATCH_DOM, ['[data-docsync-name="plot"]', 800, 4, 3])
    assert watched["streams"] >= 4
    assert watched["draws"] >= 3, "each stream is drawn"
    assert watched["draws"] <= watched["streams"] + 2, "no more than one redraw per change"
    assert (watched["added"], watched["removed"]) == (0, 0), "the plot's DOM is never rebuilt"
    assert watched["sameCanvas"]
    assert changed_fraction(before, canvas.screenshot()) > 0.002

    # The toggle stops the server's stream, and starts it again; its label says which.
    toggle = page.locator('[data-docsync-name="running"] button')
    expect(toggle).to_have_text("Streaming: click to pause")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(toggle).to_have_text("Paused: click to resume")
    wait_for(lambda: value(page, "running", "active") is False, 5, "the toggle's value")
    page.wait_for_timeout(300)
    length = len(column(page, "source", "t"))
    page.wait_for_timeout(400)
    assert len(column(page, "source", "t")) == length, "the stream stopped"
    page.screenshot(path=SCREENSHOTS / "stream-paused.png", full_page=True)
    toggle.click()
    expect(toggle).to_have_text("Streaming: click to pause")
    wait_for(lambda: len(column(page, "source", "t")) > length, 5, "the stream to start again")
    wait_for(lambda: len(column(page, "source", "t")) >= 120, 15, "120 points for the screenshot")
    page.screenshot(path=SCREENSHOTS / "stream.png", full_page=True)
    assert page.errors == []  # type: ignore[attr-defined]


CELLS = """(field) => {
  const table = document.querySelector('[data-docsync-name=table] table');
  const k = [...table.querySelectorAll('th')].findIndex((th) => th.dataset.field === field);
  return [...table.querySelectorAll('tbody tr')].map((tr) => tr.children[k].textContent);
}"""


def test_table_sorts_filters_and_updates_rows_in_place(server: ServerProcess, context: BrowserContext) -> None:
    page = open_app(context, server.url + "table/")
    total = len(column(page, "source", "price"))
    assert total > 20
    rows = page.locator('[data-docsync-name="table"] tbody tr')
    expect(rows).to_have_count(total)

    price = page.locator('[data-docsync-name="table"] th[data-field="price"]')
    price.click()
    expect(price).to_have_attribute("aria-sort", "ascending")
    prices = [float(text) for text in page.evaluate(CELLS, "price")]
    assert prices == sorted(prices)
    page.screenshot(path=SCREENSHOTS / "table.png", full_page=True)
    price.click()
    expect(price).to_have_attribute("aria-sort", "descending")
    prices = [float(text) for text in page.evaluate(CELLS, "price")]
    assert prices == sorted(prices, reverse=True)
    price.click()
    expect(price).to_have_attribute("aria-sort", "none")

    # Filtering on the server replaces the data: the rows that stay keep their elements.
    page.evaluate("document.querySelectorAll('[data-docsync-name=table] tbody tr').forEach((tr) => { tr.mark = 1; })")
    page.locator('[data-docsync-name="search"] input').fill("blue")
    wait_for(lambda: 0 < len(column(page, "source", "name")) < total, 5, "the server's filtered rows")
    shown = len(column(page, "source", "name"))
    expect(page.locator('[data-docsync-name="count"]')).to_have_text(f"{shown} products")
    expect(rows).to_have_count(shown)
    assert page.evaluate(CELLS, "name") == value(page, "source", "data")["name"]
    assert all("blue" in name.lower() for name in page.evaluate(CELLS, "name"))
    assert page.evaluate("[...document.querySelectorAll('[data-docsync-name=table] tbody tr')].every((tr) => tr.mark)")

    page.locator('[data-docsync-name="category"] select').select_option("books")
    wait_for(lambda: set(value(page, "source", "data")["category"]) == {"books"}, 5, "books only")
    assert set(page.evaluate(CELLS, "category")) == {"books"}

    # A filter that leaves no rows keeps the numeric headings aligned as numbers.
    numeric = "[...document.querySelectorAll('[data-docsync-name=table] th')].map((th) => th.matches('.ds-num'))"
    assert page.evaluate(numeric) == [False, False, True, True]
    page.locator('[data-docsync-name="search"] input').fill("no such product")
    expect(page.locator('[data-docsync-name="count"]')).to_have_text("0 products")
    expect(page.get_by_text("No rows")).to_be_visible()
    assert page.evaluate(numeric) == [False, False, True, True]
    page.screenshot(path=SCREENSHOTS / "table-empty.png", full_page=True)
    page.locator('[data-docsync-name="search"] input').fill("blue")
    wait_for(lambda: len(column(page, "source", "name")) > 0, 5, "rows again")

    # Clicking a row selects it in the data source (a property the browser may set).
    rows.first.click()
    indices = "() => window.docsync.getModelByName('source').get('selected').get('indices')"
    wait_for(lambda: page.evaluate(indices) == [0], 5, "row 0 selected")
    expect(rows.first).to_have_class("ds-selected")
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_streamed_and_patched_table(server: ServerProcess, context: BrowserContext) -> None:
    page = open_app(context, server.url + "table_stream/")
    wait_for(lambda: len(column(page, "source", "n")) == 10, 60, "the rollover's 10 rows")
    watched = page.evaluate(WATCH_DOM, ['[data-docsync-name="table"]', 700, 3, 0])
    assert watched["streams"] >= 3
    # Each stream of 2 rows adds 2 rows and drops the 2 rolled over: nothing else is rebuilt.
    assert watched["added"] == 2 * watched["streams"]
    assert watched["removed"] == 2 * watched["streams"]
    consistent = page.evaluate(
        """() => {
        const data = window.docsync.getModelByName('source').get('data');
        const rows = [...document.querySelectorAll('[data-docsync-name=table] tbody tr')];
        return rows.length === 10 && rows.every((tr, i) => tr.children[0].textContent === String(data.n[i]));
        }"""
    )
    assert consistent
    page.evaluate(
        """() => window.docsync.onChange((event) => {
        if (event.kind === 'ColumnsPatched')
          window.patchedCell = document.querySelector('[data-docsync-name=table] tbody tr td:nth-child(2)').textContent;
        })"""
    )
    page.get_by_role("button", name="Patch row 0").click()
    page.wait_for_function("window.patchedCell !== undefined")
    assert page.evaluate("window.patchedCell") == "-1"


def test_lifecycle_directory_app(server: ServerProcess, context: BrowserContext) -> None:
    page = open_app(context, server.url + "lifecycle/")
    expect(page.locator('[data-docsync-name="intro"]')).to_contain_text("directory with main.py")
    expect(page.locator('[data-docsync-name="note"]')).to_have_js_property("tagName", "P")
    expect(page).to_have_title("lifecycle")
    page.screenshot(path=SCREENSHOTS / "lifecycle.png", full_page=True)


def test_client_defaults_match_the_python_models(server: ServerProcess, context: BrowserContext) -> None:
    page = open_app(context, server.url + "lifecycle/")
    client = page.evaluate(
        "async (url) => JSON.parse(JSON.stringify((await import(url)).DEFAULTS))",
        f"{server.url}docsync-client/views/defaults.js",
    )
    python = {}
    for name in builtin.__all__:
        cls = getattr(builtin, name)
        if cls.__dict__.get("__abstract__"):
            continue
        python[name] = json.loads(json.dumps({attr: prop.default() for attr, prop in cls.properties().items()}))
    assert client == python


def test_pages_name_their_icon_and_log_no_errors(server: ServerProcess, context: BrowserContext) -> None:
    # Without an icon of their own, browsers ask for /favicon.ico: a 404 in the console of every page.
    for path in ("", "sliders/"):
        page = context.new_page()
        console_errors: list[str] = []

        def record(message: ConsoleMessage, errors: list[str] = console_errors) -> None:
            if message.type == "error":
                errors.append(message.text)

        page.on("console", record)
        page.goto(server.url + path)
        if path:
            page.wait_for_function("window.docsync && window.docsync.state === 'live'", timeout=EVENT_WAIT * 1000)
        page.wait_for_timeout(500)  # the icon is fetched after the load
        icon = page.locator("link[rel=icon]").get_attribute("href")
        assert icon is not None
        response = page.request.get(urljoin(page.url, icon))  # the app page names it by absolute URL
        assert response.status == 200 and response.headers["content-type"] == "image/svg+xml"
        assert console_errors == [], path
        page.close()


def test_the_index_says_what_each_app_is_and_links_the_embedding_demo(
    server: ServerProcess, context: BrowserContext
) -> None:
    page = context.new_page()
    page.goto(server.url)
    items = page.locator(".docsync-index li")
    about = dict(
        zip(items.locator("a").all_inner_texts(), items.locator(".docsync-about").all_inner_texts(), strict=False)
    )
    assert about["sliders"] == about["shared_sliders"] == "Four sliders drive a sine wave drawn by a line glyph."
    assert about["bench"].startswith("The benchmark document, a slider and a 1,000-point data source")
    assert about["bench_big"].startswith("The benchmark document with a 1,000,000-point data source")
    assert (
        about["stepped"] == "An int-stepped slider and a float-stepped one; each callback says what type it was handed."
    )
    # Every app says something (no bare names), and the embedding demo is a click away.
    assert items.count() == len(about) == items.locator(".docsync-about").count()
    page.get_by_role("link", name="two apps embedded in a page of the site").click()
    expect(page).to_have_url(server.url + "embed-demo/")
    page.go_back()
    page.screenshot(path=SCREENSHOTS / "index.png", full_page=True)
