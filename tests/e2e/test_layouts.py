"""Sizing modes as Bokeh's, and a paged table over a large source, in Chromium."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, expect

from docsync.testing import ServerProcess

from .browser import open_app


def test_sizing_modes(server: ServerProcess, context: BrowserContext) -> None:
    page = open_app(context, server.url + "layouts/")

    def box(name: str) -> dict[str, float]:
        found = page.locator(f'[data-docsync-name="{name}"]').bounding_box()
        assert found is not None
        return found

    assert (box("frame")["width"], box("frame")["height"]) == (500, 300)
    assert (box("fixed")["width"], box("fixed")["height"]) == (120, 50)
    # stretch_both takes the column's width and the height the fixed child leaves (8 px apart).
    assert (box("both")["width"], box("both")["height"]) == (500, 300 - 50 - 8)
    assert box("narrow")["width"] == 150
    assert box("wide")["width"] == 600 - 150 - 8
    assert box("capped")["width"] == 200
    # On a phone the row's children stack, each as wide as the screen allows.
    page.set_viewport_size({"width": 390, "height": 800})
    assert box("narrow")["y"] > box("wide")["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_paged_table_of_a_hundred_thousand_rows(server: ServerProcess, context: BrowserContext) -> None:
    page = open_app(context, server.url + "big_table/")
    table = page.locator('[data-docsync-name="table"]')
    rows = table.locator("tbody tr")
    pager = table.locator(".ds-pager-text")
    expect(pager).to_have_text("1\u201350 of 100,000")
    expect(rows).to_have_count(50)  # only the page is built
    page.get_by_role("button", name="Next page").click()
    expect(pager).to_have_text("51\u2013100 of 100,000")
    expect(rows.first.locator("td").first).to_have_text("50")

    # Sorting orders every row, not the page: descending y starts at the largest.
    heading = table.locator('th[data-field="y"]')
    heading.click()
    heading.click()
    expect(heading).to_have_attribute("aria-sort", "descending")
    expect(pager).to_have_text("1\u201350 of 100,000")  # a new order starts at its first page
    largest = page.evaluate("window.docsync.getModelByName('source').get('data').y.reduce((a, b) => Math.max(a, b))")
    assert abs(float(rows.first.locator("td").nth(1).text_content() or "nan") - largest) < 1e-5

    # Rows streamed from Python join the source; the page keeps its 50 rows.
    page.get_by_role("button", name="Append").click()
    expect(pager).to_have_text("1\u201350 of 100,010")
    expect(rows).to_have_count(50)
    expect(rows.first.locator("td").nth(1)).to_have_text("2")  # the streamed 2.0s now sort first
    assert page.errors == []  # type: ignore[attr-defined]
