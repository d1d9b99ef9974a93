"""The gallery in Chromium: every model round-trips, typed (Python -> browser -> user -> Python).

Each control of the gallery app has an echo line that a Python callback writes with
``repr()`` of what Python received; these tests act as a user would (mostly with the
keyboard, which also shows the controls are operable without a mouse) and read the
echo: ``6`` is an int, ``6.0`` a float, ``datetime.date(...)`` a date. The tests of
controls share one page (``shared_gallery``): each acts on controls no other test touches.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

import docsync.document.models as builtin
from docsync.document import Document, Model
from docsync.testing import ServerProcess
from project.examples.gallery import modify_doc

from .browser import open_app
from .conftest import SCREENSHOTS, new_context

# Models drawn by the plots' own tests and example apps, not by the gallery of widgets.
# The plot models (glyphs, ranges, axes, tools, ...) have their own gallery: project/examples/glyphs.py,
# shown by tests/e2e/test_plot_examples.py.
PLOT_MODULES = ("glyphs_", "mappers", "ranges", "axes", "renderers", "annotations", "tools", "plots")
NOT_IN_GALLERY = {
    cls.__type_name__
    for cls in (getattr(builtin, name) for name in builtin.__all__)
    if isinstance(cls, type) and cls.__module__.rsplit(".", 1)[-1].startswith(PLOT_MODULES)
}


def echo(page: Page, name: str) -> object:
    """The echo line of control ``name``."""
    return expect(page.locator(f'[data-docsync-name="{name}_echo"]'))


@pytest.fixture(scope="module")
def shared_gallery(server: ServerProcess, module_browser: Browser) -> Iterator[Page]:
    """One gallery page (one session) for the tests that each act on controls of their own and read their echoes.

    A page load is ~0.7 s of Chromium's CPU; each test's controls and echoes are its own,
    so none reads what another did.
    """
    context = new_context(module_browser, viewport={"width": 1100, "height": 760})
    yield open_app(context, server.url + "gallery/")
    context.close()


@pytest.fixture
def page(shared_gallery: Page) -> Page:
    """The shared gallery page, the errors it had before this test forgotten."""
    shared_gallery.errors.clear()  # type: ignore[attr-defined]
    return shared_gallery


def test_the_gallery_holds_every_built_in_model() -> None:
    doc = Document()
    modify_doc(doc)
    shown = {model.__type_name__ for model in doc.models.values()}
    exported = {
        cls.__type_name__
        for cls in (getattr(builtin, name) for name in builtin.__all__)
        if isinstance(cls, type) and issubclass(cls, Model) and not cls.__dict__.get("__abstract__")
    }
    assert exported - NOT_IN_GALLERY - shown == set(), "add the new model to project/examples/gallery.py"


def test_text_and_number_inputs(page: Page) -> None:
    page.get_by_label("Name", exact=True).fill("Ada")
    echo(page, "text").to_have_text("value = 'Ada'")
    page.get_by_label("Password").fill("s3cret")
    echo(page, "password").to_have_text("value = 's3cret'")
    assert page.get_by_label("Password").get_attribute("type") == "password"
    page.get_by_label("Notes").fill("two\nlines")
    echo(page, "area").to_have_text("value = 'two\\nlines'")

    # Autocomplete: the list opens on typing; Down and Enter pick the second match.
    city = page.get_by_label("City")
    city.press_sequentially("Be")
    expect(city).to_have_attribute("aria-expanded", "true")
    expect(page.locator('[data-docsync-name="auto"]').get_by_role("option")).to_have_text(["Berlin", "Bern"])
    city.press("ArrowDown")
    city.press("Enter")
    echo(page, "auto").to_have_text("value = 'Bern'")
    expect(city).to_have_attribute("aria-expanded", "false")
    city.fill("Nowhere")  # restrict: only a completion becomes the value; leaving restores it
    city.press("Tab")
    expect(city).to_have_value("Bern")
    echo(page, "auto").to_have_text("value = 'Bern'")

    # Spinner in int mode: the arrow key steps by 2, Page Up by ten steps (clamped), ints stay ints.
    count = page.get_by_label("Count (int, 0 to 10, step 2)")
    expect(count).to_have_value("4")
    count.press("ArrowUp")
    echo(page, "count").to_have_text("value = 6")
    count.press("PageUp")
    echo(page, "count").to_have_text("value = 10")
    count.fill("2.5")  # not a whole number: marked, not sent
    expect(count).to_have_attribute("aria-invalid", "true")
    count.fill("7")
    echo(page, "count").to_have_text("value = 7")
    count.fill("12")  # above high: not sent while typing, brought into range on leaving
    expect(count).to_have_attribute("aria-invalid", "true")
    count.press("Tab")
    echo(page, "count").to_have_text("value = 10")

    page.get_by_label("Ratio (float, step 0.25)").press("ArrowUp")
    echo(page, "ratio").to_have_text("value = 0.75")
    page.get_by_label("Amount (float)").fill("3")
    echo(page, "amount").to_have_text("value = 3.0")  # a float, though JSON carried 3
    page.get_by_label("Colour").fill("#ff8800")
    echo(page, "color").to_have_text("color = '#ff8800'")
    assert page.errors == []  # type: ignore[attr-defined]


def test_choices_buttons_and_menus(page: Page) -> None:
    page.get_by_label("Fruit", exact=True).select_option("fig")
    echo(page, "select").to_have_text("value = 'fig'")
    page.get_by_label("Fruits").select_option(["apple", "grape"])
    echo(page, "multi").to_have_text("value = ['apple', 'grape']")

    tags = page.get_by_label("Tags")
    tags.press_sequentially("gr")
    tags.press("Enter")
    echo(page, "choice").to_have_text("value = ['cherry', 'grape']")
    tags.press("Backspace")  # in an empty box: removes the last tag
    echo(page, "choice").to_have_text("value = ['cherry']")
    page.get_by_role("button", name="Remove cherry").click()
    echo(page, "choice").to_have_text("value = []")

    page.get_by_label("SMS").check()
    echo(page, "checks").to_have_text("active = [0, 1]")
    page.get_by_label("Large").check()
    echo(page, "radios").to_have_text("active = 2")

    press = page.get_by_role("button", name="Press me")
    press.click()
    page.locator('[data-docsync-name="button_echo"]').get_by_text("clicks = 1").wait_for()
    press.press("Enter")
    expect(page.locator('[data-docsync-name="button_echo"]')).to_have_text("clicks = 2")
    page.get_by_role("button", name="Bold").press("Space")
    echo(page, "toggle").to_have_text("active = True")
    page.get_by_label("I agree").press("Space")
    echo(page, "check").to_have_text("active = True")
    switch = page.get_by_role("switch", name="Notifications")
    switch.press("Space")
    echo(page, "switch").to_have_text("active = False")
    expect(switch).not_to_be_checked()

    # Joined buttons: the arrow keys move the one pressed; Space presses another.
    page.get_by_role("radio", name="Day").press("ArrowRight")
    echo(page, "segment").to_have_text("active = 1")
    page.get_by_role("checkbox", name="B", exact=True).press("Space")
    echo(page, "styles").to_have_text("active = [0, 1]")

    # The menu button: Enter opens it on the first item, arrows skip the divider, Escape closes.
    export = page.get_by_role("button", name="Export")
    export.press("Enter")
    expect(export).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("menuitem", name="As CSV")).to_be_focused()
    page.keyboard.press("Escape")
    expect(export).to_be_focused()
    expect(page.get_by_role("menu")).to_be_hidden()
    export.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("menuitem", name="Print…")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator('[data-docsync-name="menu_echo"]')).to_have_text("item = 'print'")
    export.click()
    page.get_by_role("menuitem", name="As JSON").click()
    expect(page.locator('[data-docsync-name="menu_echo"]')).to_have_text("item = 'json'")
    assert page.errors == []  # type: ignore[attr-defined]


def test_dates_times_and_sliders(page: Page) -> None:
    page.get_by_role("textbox", name="Day").fill("2024-05-03")
    echo(page, "day").to_have_text("value = datetime.date(2024, 5, 3)")
    # A day typed before min_date (the calendar offers none): marked invalid, not sent; the
    # server, which refuses it from a browser, never hears of it. Then a day offered is sent.
    day = page.get_by_role("textbox", name="Day")
    day.fill("2023-12-31")
    expect(day).to_have_attribute("aria-invalid", "true")
    day.fill("2024-05-04")
    expect(day).to_have_attribute("aria-invalid", "false")
    echo(page, "day").to_have_text("value = datetime.date(2024, 5, 4)")

    page.get_by_label("from", exact=True).fill("2024-06-01")  # after the current end: said, not sent
    expect(page.locator('[data-docsync-name="span"] [role="status"]')).to_have_text("The end is before the start.")
    page.get_by_label("to", exact=True).fill("2025-06-09")  # past max_date: said, not sent
    status = page.locator('[data-docsync-name="span"] [role="status"]')
    expect(status).to_have_text("A date is outside the dates offered.")
    expect(page.get_by_label("to", exact=True)).to_have_attribute("aria-invalid", "true")
    page.get_by_label("to", exact=True).fill("2024-06-09")
    echo(page, "span").to_have_text("value = (datetime.date(2024, 6, 1), datetime.date(2024, 6, 9))")
    expect(status).to_have_text("")

    page.get_by_label("Meeting").fill("2024-05-02T14:15")
    echo(page, "when").to_have_text("value = datetime.datetime(2024, 5, 2, 14, 15)")
    page.get_by_label("Alarm").fill("08:45")
    echo(page, "clock").to_have_text("value = datetime.time(8, 45)")

    page.get_by_label("Level", exact=True).press("ArrowRight")
    echo(page, "level").to_have_text("value = 3.5")
    # Python's callback moves the progress bar: browser -> Python -> browser.
    expect(page.locator('[data-docsync-name="progress"] .ds-progress-amount')).to_have_text("35%")
    assert page.get_by_role("progressbar", name="Level as progress").get_attribute("value") == "35"

    # A thumb at either end of its range: what the server takes from a browser includes the ends.
    page.get_by_label("Level", exact=True).press("End")
    echo(page, "level").to_have_text("value = 10.0")
    page.get_by_label("Level", exact=True).press("Home")
    echo(page, "level").to_have_text("value = 0.0")
    page.get_by_label("Level", exact=True).press("ArrowRight")
    echo(page, "level").to_have_text("value = 0.5")

    page.get_by_label("Window: high").press("End")
    echo(page, "window").to_have_text("value = (20, 100)")
    page.get_by_label("Window: low").press("ArrowRight")
    echo(page, "window").to_have_text("value = (21, 100)")  # int-stepped: ints
    season = page.get_by_label("Season: low")
    season.press("ArrowRight")
    echo(page, "season").to_have_text("value = (datetime.date(2024, 3, 2), datetime.date(2024, 6, 1))")
    expect(season).to_have_attribute("aria-valuetext", "2024-03-02")
    assert page.errors == []  # type: ignore[attr-defined]


def test_layouts_files_and_content(page: Page) -> None:
    details = page.get_by_role("tab", name="Details")
    details.click()
    echo(page, "tabs").to_have_text("active = 1")
    details.press("ArrowRight")
    echo(page, "tabs").to_have_text("active = 2")
    expect(page.get_by_role("tab", name="Archive")).to_be_focused()
    expect(page.get_by_role("tabpanel")).to_have_text("Python sees which one is active.")

    more = page.get_by_role("button", name="More")
    expect(more).to_have_attribute("aria-expanded", "false")
    more.press("Enter")
    echo(page, "folded").to_have_text("collapsed = False")
    expect(page.get_by_text("A card inside a card, folded away.")).to_be_visible()

    # Grid cells where their (row, column, spans) put them; the spacer's 40 px.
    boxes = {
        name: page.get_by_text(name, exact=True).bounding_box() for name in ("cell 0", "cell 1", "cell 2", "cell 3")
    }
    assert boxes["cell 0"]["width"] > 1.8 * boxes["cell 1"]["width"]  # type: ignore[index]
    assert boxes["cell 3"]["height"] > 1.8 * boxes["cell 1"]["height"]  # type: ignore[index]
    assert boxes["cell 2"]["x"] > boxes["cell 1"]["x"]  # type: ignore[index]
    assert page.locator('[data-docsync-name="spacer"]').bounding_box()["width"] == 40  # type: ignore[index]

    upload = page.get_by_label("Upload CSV or text files")
    upload.set_input_files([{"name": "photo.png", "mimeType": "image/png", "buffer": b"\x89PNG"}])
    status = page.locator('[data-docsync-name="upload"] [role="status"]')
    expect(status).to_have_text("photo.png is not a file this input accepts (.csv,.txt,text/plain).")
    upload.set_input_files(
        [
            {"name": "a.csv", "mimeType": "text/csv", "buffer": b"x,y\n1,2\n"},
            {"name": "b.txt", "mimeType": "text/plain", "buffer": b"hello"},
        ]
    )
    expect(page.locator('[data-docsync-name="upload_echo"]')).to_have_text(
        "files = [('a.csv', 'text/csv', 8, b'x,y\\n1,2\\n'), ('b.txt', 'text/plain', 5, b'hello')]"
    )
    expect(status).to_have_text("Uploaded a.csv, b.txt (13 bytes).")  # it said "(1 kB)"

    # Rich content from Python, sanitised: no script, no event attribute; the image decodes.
    markdown = page.locator('[data-docsync-name="markdown"]')
    expect(markdown.locator("table td")).to_have_text(["apple", "1.5", "fig", "0.25"])
    expect(markdown.locator("a")).to_have_attribute("rel", "noopener noreferrer")
    assert page.locator('[data-docsync-name="card_content"] script, [onclick]').count() == 0
    image = page.get_by_role("img", name="A red-to-green gradient made from a numpy RGBA array")
    expect(image).to_have_js_property("naturalWidth", 240)
    expect(page.locator('[data-docsync-name="alert_success"]')).to_have_attribute("role", "status")
    expect(page.locator('[data-docsync-name="alert_warning"]')).to_have_text("!Disk almost full.")
    assert page.errors == []  # type: ignore[attr-defined]


# Markup that could run script if it got past the server's nh3: the browser's own layer
# (views/panes.js scrubbed) must make it harmless too, as Chromium's parser reads it.
SCRUB_VECTORS = [
    '<a href="java&#9;script:alert(1)">x</a>',
    '<a href="java&#x0A;script:alert(1)">x</a>',
    '<a href="&#1;javascript:alert(1)">x</a>',
    '<a href=" &#13;javascript:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<img src="java\tscript:alert(1)">',
    '<svg><a xlink:href="java&#9;script:alert(1)"><text>x</text></a></svg>',
    '<svg><a href="#"><animate attributeName="href" values="javascript:alert(1)"/><text>x</text></a></svg>',
    '<svg><a><set attributeName="href" to="java&#9;script:alert(1)"/><text>x</text></a></svg>',
    '<svg><animateTransform attributeName="transform" type="rotate"/><animateMotion path="M0,0"/></svg>',
]


def test_the_browser_scrubs_what_might_get_past_the_server(server: ServerProcess, page: Page) -> None:
    shown = page.evaluate(
        """async ([url, vectors]) => {
          const { scrubbed } = await import(url);
          return vectors.map((html) => {
            const box = document.createElement("div");
            box.append(scrubbed(html));
            return box.innerHTML;
          });
        }""",
        [f"{server.url}docsync-client/views/panes.js", [*SCRUB_VECTORS, '<a href="https://example.com/">ok</a>']],
    )
    for vector, html in zip(SCRUB_VECTORS, shown, strict=False):
        assert "script:" not in html.lower() and "animate" not in html.lower() and "<set" not in html, (vector, html)
        assert "href" not in html.replace('href="#"', "") and "src" not in html, (vector, html)
    assert shown[-1] == '<a href="https://example.com/">ok</a>'


def test_table_selection_editing_and_pages(page: Page) -> None:
    table = page.locator('[data-docsync-name="table"]')
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(5)  # one page
    expect(rows.first.locator("td")).to_have_text(["", "apple", "1.50", "3", "true", "01 May 2024", "A"])
    expect(rows.first.locator("td b")).to_have_text("apple")  # the HTML template, its value as text

    # Selection both ways: a checkbox selects in Python; Python's selection shows on page 2.
    page.get_by_role("checkbox", name="Select row 1").check()
    expect(page.locator('[data-docsync-name="selection_echo"]')).to_have_text("selected = [0]")
    page.get_by_role("button", name="Select grape from Python").click()
    expect(page.locator('[data-docsync-name="selection_echo"]')).to_have_text("selected = [5]")
    expect(page.get_by_role("checkbox", name="Select row 1")).not_to_be_checked()
    page.get_by_role("button", name="Next page").click()
    expect(table.locator(".ds-pager-text")).to_have_text("6\u20137 of 7")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_class("ds-selected")
    expect(page.get_by_role("checkbox", name="Select row 6")).to_be_checked()
    page.get_by_role("button", name="Previous page").click()

    # Editing with the keyboard: each commit is one typed patch of one cell.
    edit = page.locator('[data-docsync-name="table_echo"]')

    def edit_cell(column: int, keys: list[str]) -> None:
        rows.first.locator("td").nth(column).click()
        page.keyboard.press("Enter")
        for key in keys:
            page.keyboard.press(key) if len(key) > 1 and key[0].isupper() else page.keyboard.type(key)

    edit_cell(3, ["Control+a", "7", "Enter"])
    expect(edit).to_have_text("edit = {'boxes': [(0, 7)]}")
    edit_cell(2, ["Control+a", "2", "Enter"])
    expect(edit).to_have_text("edit = {'kg': [(0, 2.0)]}")
    expect(rows.first.locator("td").nth(2)).to_have_text("2.00")
    edit_cell(4, ["Space"])
    expect(edit).to_have_text("edit = {'organic': [(0, False)]}")
    rows.first.locator("td").nth(5).dblclick()
    table.locator("input[type=date]").fill("2024-06-30")
    page.keyboard.press("Enter")
    expect(edit).to_have_text("edit = {'picked': [(0, datetime.date(2024, 6, 30))]}")
    expect(rows.first.locator("td").nth(5)).to_have_text("30 Jun 2024")
    rows.first.locator("td").nth(6).dblclick()
    table.locator("select").select_option("C")
    page.keyboard.press("Enter")
    expect(edit).to_have_text("edit = {'grade': [(0, 'C')]}")
    edit_cell(1, ["Control+a", "apricot", "Enter"])
    expect(edit).to_have_text("edit = {'fruit': [(0, 'apricot')]}")
    expect(rows.first.locator("td b")).to_have_text("apricot")

    # A bad value keeps the editor open and sends nothing; Escape gives the cell back.
    edit_cell(3, ["Control+a", "2.5", "Enter"])
    expect(table.locator("input.ds-cell-editor")).to_have_attribute("aria-invalid", "true")
    page.keyboard.press("Escape")
    expect(table.locator("input.ds-cell-editor")).to_have_count(0)
    expect(rows.first.locator("td").nth(3)).to_have_text("7")
    expect(edit).to_have_text("edit = {'fruit': [(0, 'apricot')]}")

    # The grid's arrow keys move between cells; Space adds the row to the selection (clicks
    # on cells did not: with a checkbox per row, only it selects).
    rows.first.locator("td").nth(1).click()
    page.keyboard.press("ArrowDown")
    expect(rows.nth(1).locator("td").nth(1)).to_be_focused()
    page.keyboard.press("Space")
    expect(page.locator('[data-docsync-name="selection_echo"]')).to_have_text("selected = [1, 5]")
    assert page.errors == []  # type: ignore[attr-defined]


# Every widget a user operates: each must be reachable with Tab (radio groups: their chosen one).
OPERABLE = [
    "TextInput",
    "PasswordInput",
    "TextAreaInput",
    "AutocompleteInput",
    "Spinner",
    "NumericInput",
    "ColorPicker",
    "Select",
    "MultiSelect",
    "MultiChoice",
    "CheckboxGroup",
    "RadioGroup",
    "Button",
    "Toggle",
    "Checkbox",
    "Switch",
    "RadioButtonGroup",
    "CheckboxButtonGroup",
    "Dropdown",
    "DatePicker",
    "DateRangePicker",
    "DatetimePicker",
    "TimePicker",
    "Slider",
    "RangeSlider",
    "DateRangeSlider",
    "FileInput",
    "Tabs",
    "Card",
    "DataTable",
]


def tab_through(page: Page) -> None:
    """Press Tab through the page: every operable control must get the focus."""
    names = page.evaluate(
        "(types) => [...document.querySelectorAll('[data-docsync-type]')]"
        ".filter((el) => types.includes(el.dataset.docsyncType)).map((el) => el.dataset.docsyncName)",
        OPERABLE,
    )
    assert len(names) >= 35 and None not in names
    # Note the view holding each focused element (the Card's header holds its own toggle).
    page.evaluate(
        """() => {
        window.reached = new Set();
        document.addEventListener('focusin', (event) => {
          const view = event.target.closest('[data-docsync-name]');
          if (view) window.reached.add(view.dataset.docsyncName);
        });
        }"""
    )
    page.locator("body").focus()
    for _ in range(160):
        page.keyboard.press("Tab")
    reached = set(page.evaluate("[...window.reached]"))
    assert set(names) - reached == set(), "these controls cannot be reached with Tab"


AXE_RUN = """async () => {
  const results = await axe.run(document, { resultTypes: ['violations'] });
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ': ' + n.failureSummary),
  }));
}"""


@pytest.mark.parametrize(("scheme", "width"), [("light", 1280), ("dark", 1280), ("light", 390), ("dark", 390)])
def test_screenshots_and_accessibility(
    server: ServerProcess, browser: Browser, axe_core: Path, scheme: str, width: int
) -> None:
    """The gallery in each theme and width: a screenshot, axe-core, and (once) every control reached with Tab."""
    context = new_context(browser, viewport={"width": width, "height": 900}, color_scheme=scheme)
    try:
        page = open_app(context, server.url + "gallery/")
        # The theme follows the system's preference when the app sets none.
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == ("rgb(13, 17, 23)" if scheme == "dark" else "rgb(244, 246, 248)")
        image = page.get_by_role("img", name="A red-to-green gradient made from a numpy RGBA array")
        expect(image).to_have_js_property("complete", True)
        if width < 500:  # nothing wider than the phone's screen but the table's own scroller
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=SCREENSHOTS / f"gallery-{scheme}-{width}.png", full_page=True)
        page.add_script_tag(path=str(axe_core))
        violations = page.evaluate(AXE_RUN)
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert serious == [], "\n".join(f"{v['id']} ({v['impact']}): {v['help']}\n  {v['nodes']}" for v in serious)
        if (scheme, width) == ("light", 1280):
            tab_through(page)
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        context.close()


def test_an_app_theme_overrides_the_system(server: ServerProcess, browser: Browser) -> None:
    context = new_context(browser, viewport={"width": 900, "height": 700}, color_scheme="light")
    try:
        page = open_app(context, server.url + "sliders_dark/")
        expect(page.locator(".docsync-root")).to_have_attribute("data-theme", "dark")
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(13, 17, 23)"
        ink = page.evaluate("getComputedStyle(document.querySelector('.ds-slider .ds-title')).color")
        assert ink == "rgb(145, 152, 161)"  # --ds-muted of the dark palette
        # A site restyles docsync through the custom properties: a plain rule wins over the theme's.
        page.add_style_tag(content=".docsync-root { --ds-soft: #7c3aed; --ds-radius: 12px; }")
        button = page.get_by_role("button", name="Reset", exact=True)
        assert button.evaluate("(b) => getComputedStyle(b).borderRadius") == "12px"
        # Buttons ease their background in (a CSS transition): wait for where it ends.
        expect(button).to_have_css("background-color", "rgb(124, 58, 237)")
    finally:
        context.close()
