"""The widget tests' own apps in Chromium: uploads (20 MB arrive byte-identical with a progress
bar; too large is refused unread), sizing modes as Bokeh's, and a paged table over a large source."""

from __future__ import annotations

import hashlib
import itertools
import os
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, expect

from docsync.testing import ServerProcess

from .browser import open_app, value
from .conftest import SCREENSHOTS, new_context

MB = 1024 * 1024

# Counts what the page sends (PATCH-DOC header frames) and reads (Blob slices and reads).
SPY = """() => {
  window.sent = 0;
  window.reads = 0;
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (frame) {
    if (typeof frame === 'string' && frame.includes('"msgtype":"PATCH-DOC"')) window.sent += 1;
    return send.call(this, frame);
  };
  for (const name of ['slice', 'arrayBuffer', 'text', 'stream']) {
    const original = Blob.prototype[name];
    Blob.prototype[name] = function (...args) { window.reads += 1; return original.apply(this, args); };
  }
  window.statuses = [];
  new MutationObserver(() => {
    for (const el of document.querySelectorAll('.ds-upload-status')) window.statuses.push(el.textContent);
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
}"""


def test_twenty_megabytes_arrive_byte_identical(server: ServerProcess, context: BrowserContext, tmp_path: Path) -> None:
    data = os.urandom(20 * MB)
    path = tmp_path / "sample.bin"
    path.write_bytes(data)
    page = open_app(context, server.url + "uploads/")
    page.evaluate(SPY)
    page.get_by_label("Any file").set_input_files(path)
    digest = hashlib.sha256(data).hexdigest()
    expect(page.locator('[data-docsync-name="report"]')).to_have_text(
        f"sample.bin application/octet-stream {len(data)} bytes {digest}", timeout=60_000
    )
    expect(page.locator('[data-docsync-name="big"] [role="status"]')).to_have_text("Uploaded sample.bin (21.0 MB).")
    # The bar moved through the upload: some statuses between none and all of it.
    progress = [text for text in page.evaluate("window.statuses") if text.startswith("Uploading")]
    middle = [text for text in progress if not text.startswith(("Uploading… 0 kB", "Uploading… 21.0 MB"))]
    assert len(middle) >= 5, progress
    assert page.evaluate("window.sent") == 1 + 40  # the announcement, then 40 chunks of 512 KiB
    assert page.locator('[data-docsync-name="big"] progress').is_hidden()
    assert page.errors == []  # type: ignore[attr-defined]


def test_too_large_is_refused_before_it_is_read(server: ServerProcess, context: BrowserContext) -> None:
    page = open_app(context, server.url + "uploads/")
    page.evaluate(SPY)
    small = page.get_by_label("At most 1 MB")
    small.set_input_files([{"name": "large.csv", "mimeType": "text/csv", "buffer": b"x" * 1_500_000}])
    status = page.locator('[data-docsync-name="small"] [role="status"]')
    expect(status).to_have_text("large.csv is too large: 1.5 MB, at most 1.0 MB.")
    assert page.evaluate("[window.sent, window.reads]") == [0, 0]  # not a byte read, nothing sent
    expect(page.locator('[data-docsync-name="report"]')).to_have_text("nothing yet")

    # A page that skips its own check meets the server's: the announcement is refused.
    refusal = page.evaluate(
        """() => document.querySelector('[data-docsync-name=big]').docsyncView
        .request('upload_start', { upload: 'x', files: [{ name: 'huge.bin', type: '', size: 40 * 1024 * 1024 }] })
        .then(() => 'accepted', (err) => err.message)"""
    )
    assert refusal == "upload of 41.9 MB refused: this input takes at most 33.6 MB"
    # And a chunk past what was announced, before it is stored.
    refusal = page.evaluate(
        """async () => {
        const view = document.querySelector('[data-docsync-name=big]').docsyncView;
        await view.request('upload_start', { upload: 'y', files: [{ name: 'a', type: '', size: 4 }] });
        return view.request('upload_chunk', { upload: 'y', file: 0, offset: 0, data: new ArrayBuffer(5) })
          .then(() => 'accepted', (err) => err.message);
        }"""
    )
    assert refusal == "FileInput chunk past the end of file 0 (4 bytes announced)"
    expect(page.locator('[data-docsync-name="report"]')).to_have_text("nothing yet")


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
    assert box("wide")["width"] == 600 - 150 - 16  # a Row's children are 16 px apart
    assert box("capped")["width"] == 200
    # A Spacer with no width takes a row's free room: the end sits at the row's end.
    assert box("end")["x"] + box("end")["width"] == box("spaced")["x"] + 600
    # Tabs on the left: a vertical tab list, moved through with Up and Down.
    one = page.get_by_role("tab", name="One")
    expect(page.get_by_role("tablist")).to_have_attribute("aria-orientation", "vertical")
    assert page.get_by_role("tab", name="Two").bounding_box()["y"] > one.bounding_box()["y"]  # type: ignore[index]
    one.click()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("tab", name="Two")).to_be_focused()
    expect(page.get_by_role("tabpanel")).to_have_text("Two panel")
    assert value(page, "side", "active") == 1
    # On a phone the row's children stack, each as wide as the screen allows.
    page.set_viewport_size({"width": 390, "height": 800})
    assert box("narrow")["y"] > box("wide")["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


# Each child of the row named ``row``: the edges of its box, and of the control in it.
ROW_BOXES = """(row) => [...document.querySelector(`[data-docsync-name=${row}]`).children].map((child) => {
  const box = child.getBoundingClientRect();
  const control = child.querySelector('select, input:not([type=radio]), button, .ds-group-button span');
  const edges = (control ?? child).getBoundingClientRect();
  return { name: child.dataset.docsyncName, left: box.left, right: box.right, top: box.top,
           controlTop: edges.top, controlBottom: edges.bottom };
})"""


def test_a_row_spaces_its_controls_and_lines_buttons_up_with_inputs(
    server: ServerProcess, context: BrowserContext
) -> None:
    page = open_app(context, server.url + "layouts/")
    form = page.evaluate(ROW_BOXES, "form")
    labels = page.evaluate(ROW_BOXES, "labels")
    assert [c["name"] for c in form + labels] == [
        *("form_bins", "form_kind", "form_apply"),
        *("form_label", "form_live", "form_period"),
    ]
    # Side by side, 16 px apart: "7" (the slider's value) and "distribution" read as two labels.
    for left, right in [*itertools.pairwise(form), *itertools.pairwise(labels)]:
        assert round(right["left"] - left["right"]) == 16, (left, right)
    value = page.locator('[data-docsync-name="form_bins"] .ds-slider-value').bounding_box()
    title = page.locator('[data-docsync-name="form_kind"] .ds-title').bounding_box()
    assert value is not None and title is not None
    assert title["x"] - (value["x"] + value["width"]) >= 16
    # Buttons line up with the select or text input beside them, not with its title.
    for row in (form, labels):
        field, *buttons = (c for c in row if c["name"] in ("form_kind", "form_label", *BUTTONS))
        for button in buttons:
            assert abs(button["controlTop"] - field["controlTop"]) <= 0.5, (button, field)
            assert abs(button["controlBottom"] - field["controlBottom"]) <= 0.5, (button, field)
    # Beside no titled field, a button stays at the row's top.
    plain = page.evaluate(ROW_BOXES, "plain")
    assert plain[1]["controlTop"] == plain[0]["top"]
    # On a phone the children stack: no empty title line above a button alone on its line.
    page.set_viewport_size({"width": 390, "height": 800})
    apply = page.evaluate(ROW_BOXES, "form")[2]
    assert apply["controlTop"] == apply["top"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


BUTTONS = ("form_apply", "form_live", "form_period")


# Each child of the row named ``row``, by name: its box, and the box of its control (a
# switch's track, a group's first choice, else its input, select or button).
CONTROL_BOXES = """(row) => Object.fromEntries(
  [...document.querySelector(`[data-docsync-name=${row}]`).children].map((child) => {
  const control = child.querySelector('.ds-switch-track') ?? child.querySelector('.ds-choice')
    ?? child.querySelector('input, select, button') ?? child;
  const [box, edges] = [child, control].map((el) => el.getBoundingClientRect());
  return [child.dataset.docsyncName, { left: box.left, top: box.top, bottom: box.bottom, width: box.width,
    controlTop: edges.top, middle: (edges.top + edges.bottom) / 2, controlWidth: edges.width }];
  }))"""


def _form_rows(browser: Browser, server: ServerProcess, width: int, scheme: str) -> tuple[BrowserContext, Any]:
    context = new_context(browser, viewport={"width": width, "height": 700}, color_scheme=scheme)
    page = open_app(context, server.url + "form_rows/")
    page.screenshot(path=SCREENSHOTS / f"form-rows-{scheme}-{width}.png", full_page=True)
    return context, page


def test_checkboxes_switches_and_groups_in_a_row_line_up_with_its_fields_and_buttons(
    server: ServerProcess, browser: Browser
) -> None:
    context, page = _form_rows(browser, server, 1280, "light")
    try:
        for row, field in (("checks", "checks_name"), ("groups", "groups_search")):
            boxes = page.evaluate(CONTROL_BOXES, row)
            # One line, and every control ends where the text input does: under the input's
            # title, not beside it; a checkbox, a switch or a group centred on the input.
            assert len({round(b["top"]) for b in boxes.values()}) == 1, boxes
            for name, box in boxes.items():
                assert abs(box["bottom"] - boxes[field]["bottom"]) <= 1, (name, box, boxes[field])
                assert abs(box["middle"] - boxes[field]["middle"]) <= 1, (name, box, boxes[field])
        # One above the other: the first choice on the input's line, as a dropdown's button.
        stacked = page.evaluate(CONTROL_BOXES, "stacked")
        for name, box in stacked.items():
            assert abs(box["middle"] - stacked["stacked_city"]["middle"]) <= 1, (name, box)
        # A dropdown that is not split is rounded at both ends (its right corners were square).
        corners = page.locator('[data-docsync-name="stacked_more"] .ds-button:visible').evaluate(
            "(b) => [getComputedStyle(b).borderTopLeftRadius, getComputedStyle(b).borderTopRightRadius]"
        )
        assert corners[0] == corners[1] != "0px", corners
        # Beside a button only: no title line above them, centred on the button.
        bare = page.evaluate(CONTROL_BOXES, "bare")
        for name, box in bare.items():
            assert box["top"] == bare["bare_login"]["controlTop"], (name, box)
            assert abs(box["middle"] - bare["bare_login"]["middle"]) <= 1, (name, box)
    finally:
        context.close()
    # On a phone the children stack, 16 px apart: no title line above a checkbox, a switch or a button.
    context, page = _form_rows(browser, server, 400, "dark")
    try:
        for row in ("checks", "groups", "bare"):
            boxes = page.evaluate(CONTROL_BOXES, row)
            tops = sorted(b["top"] for b in boxes.values())
            assert all(b - a >= 16 for a, b in itertools.pairwise(tops)), boxes
            for name, box in boxes.items():
                assert box["left"] == boxes[next(iter(boxes))]["left"], (name, box)
                if not name.endswith(("name", "plan", "search", "channels", "order")):
                    assert box["controlTop"] - box["top"] < 4, (name, box)  # no 23 px title line
        assert page.evaluate("document.documentElement.scrollWidth") <= 400
    finally:
        context.close()


def test_a_button_in_a_row_is_as_wide_as_its_label(server: ServerProcess, browser: Browser) -> None:
    for width, scheme in ((1280, "dark"), (400, "light")):
        context, page = _form_rows(browser, server, width, scheme)
        try:
            alone = page.evaluate(CONTROL_BOXES, "layout")["alone_save"]["controlWidth"]
            boxes = {**page.evaluate(CONTROL_BOXES, "checks"), **page.evaluate(CONTROL_BOXES, "bare")}
            # The same label, the same width: in a row or alone, wide or narrow.
            assert boxes["checks_save"]["controlWidth"] == alone, (width, boxes["checks_save"], alone)
            assert 60 < alone < 80, alone  # "Save" and 16 px either side
            if width > 480:
                # Not a 260 px share of the row: the button's cell is the button.
                for name in ("checks_save", "bare_login"):
                    assert boxes[name]["width"] == boxes[name]["controlWidth"], (name, boxes[name])
        finally:
            context.close()


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
    expect(rows.first.locator("td").last).to_have_text("51")  # index_position=-1: row numbers last

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


def test_a_tables_height_holds_its_heading_row_and_the_rows_scroll_under_it(
    server: ServerProcess, context: BrowserContext
) -> None:
    # docs/widgets.md said the 300 px were "pixels of rows": they are the whole table's,
    # its heading included, as in Bokeh.
    page = open_app(context, server.url + "big_table/")
    table = page.locator('[data-docsync-name="table"]')
    expect(table.locator("tbody tr")).to_have_count(50)
    scroll = table.locator(".ds-table-scroll")
    box = scroll.bounding_box()
    heading = table.locator('th[data-field="n"]').bounding_box()
    assert box is not None and heading is not None
    assert box["height"] == 300
    assert 0 <= heading["y"] - box["y"] <= 1  # the heading row is inside the 300 px, at its top (below a border)
    scroll.evaluate("e => { e.scrollTop = e.scrollHeight; }")
    after = table.locator('th[data-field="n"]').bounding_box()
    assert after is not None and after["y"] == heading["y"]  # still there once the rows scrolled
    assert scroll.evaluate("e => e.scrollTop") > 0
