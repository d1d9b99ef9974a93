"""gallery: every built-in widget, layout and pane, each value echoed back from Python.

Each control has an echo line under it, written by a Python callback with ``repr()``
of what Python received: ints stay ints, dates are ``datetime.date``, times
``datetime.time``. The end-to-end tests drive this page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from docsync.document import ColumnsPatchedEvent, Document, DocumentEvent, Model
from docsync.document.models import (
    HTML,
    Alert,
    AutocompleteInput,
    Button,
    Card,
    Checkbox,
    CheckboxButtonGroup,
    CheckboxEditor,
    CheckboxGroup,
    ColorPicker,
    Column,
    ColumnDataSource,
    DataTable,
    DateEditor,
    DateFormatter,
    DatePicker,
    DateRangePicker,
    DateRangeSlider,
    DatetimePicker,
    Div,
    Dropdown,
    FileInput,
    GridBox,
    HTMLTemplateFormatter,
    Image,
    IntEditor,
    Markdown,
    MultiChoice,
    MultiSelect,
    NumberEditor,
    NumberFormatter,
    NumericInput,
    Paragraph,
    PasswordInput,
    Progress,
    RadioButtonGroup,
    RadioGroup,
    RangeSlider,
    Row,
    Select,
    SelectEditor,
    Slider,
    Spacer,
    Spinner,
    StringEditor,
    StringFormatter,
    Switch,
    TableColumn,
    TabPanel,
    Tabs,
    TextAreaInput,
    TextInput,
    TimePicker,
    Toggle,
)
from docsync.document.models.menus import MenuItemClick
from docsync.document.models.uploads import UploadedFile

FRUITS = ["apple", "banana", "cherry", "damson", "elderberry", "fig", "grape"]
CITIES = ["Amsterdam", "Athens", "Auckland", "Berlin", "Bern", "Bogotá", "Lisbon", "Lima", "London", "Lyon"]


def _swatch() -> np.ndarray:
    """A 48 by 240 RGBA gradient, made in numpy (the Image pane encodes it as PNG)."""
    y, x = np.mgrid[0:48, 0:240]
    rgba = np.zeros((48, 240, 4), dtype=np.uint8)
    rgba[..., 0] = (x * 255 // 239).astype(np.uint8)
    rgba[..., 1] = (y * 255 // 47).astype(np.uint8)
    rgba[..., 2] = 200
    rgba[..., 3] = 255
    return rgba


class Echo:
    """Echo lines: each shows what Python last received from one control."""

    def __init__(self) -> None:
        self.lines: dict[str, Div] = {}

    def line(self, model: Model, attr: str) -> Div:
        """Return a Div showing ``attr`` of ``model``, kept up to date by a Python callback."""
        name = f"{model.name}_echo"
        shown = Div(text=f"{attr} = {getattr(model, attr)!r}", name=name, css_classes=["ds-echo"])

        def changed(attr_: str, old: Any, new: Any) -> None:
            shown.text = f"{attr_} = {new!r}"

        model.on_change(attr, changed)
        self.lines[name] = shown
        return shown


def _inputs(echo: Echo) -> Card:
    text = TextInput(title="Name", placeholder="Ada Lovelace", name="text")
    password = PasswordInput(title="Password", name="password")
    area = TextAreaInput(title="Notes", rows=3, max_length=200, placeholder="Anything to add?", name="area")
    auto = AutocompleteInput(title="City", completions=CITIES, min_characters=1, name="auto")
    return Card(
        text,
        echo.line(text, "value"),
        password,
        echo.line(password, "value"),
        area,
        echo.line(area, "value"),
        auto,
        echo.line(auto, "value"),
        title="Text",
        name="card_text",
    )


def _numbers(echo: Echo) -> Card:
    count = Spinner(title="Count (int, 0 to 10, step 2)", low=0, high=10, step=2, value=4, name="count")
    ratio = Spinner(title="Ratio (float, step 0.25)", mode="float", low=0, high=1, step=0.25, value=0.5, name="ratio")
    amount = NumericInput(title="Amount (float)", mode="float", value=12.5, placeholder="any number", name="amount")
    color = ColorPicker(title="Colour", color="#1f77b4", name="color")
    return Card(
        count,
        echo.line(count, "value"),
        ratio,
        echo.line(ratio, "value"),
        amount,
        echo.line(amount, "value"),
        color,
        echo.line(color, "color"),
        title="Numbers and colour",
        name="card_numbers",
    )


def _choices(echo: Echo) -> Card:
    select = Select(title="Fruit", options=FRUITS, value="apple", name="select")
    multi = MultiSelect(title="Fruits", options=FRUITS, value=["banana"], size=4, name="multi")
    choice = MultiChoice(title="Tags", options=FRUITS, value=["cherry"], placeholder="Add a fruit", name="choice")
    checks = CheckboxGroup(labels=["Email", "SMS", "Post"], active=[0], name="checks")
    radios = RadioGroup(labels=["Small", "Medium", "Large"], active=1, inline=True, name="radios")
    return Card(
        select,
        echo.line(select, "value"),
        multi,
        echo.line(multi, "value"),
        choice,
        echo.line(choice, "value"),
        checks,
        echo.line(checks, "active"),
        radios,
        echo.line(radios, "active"),
        title="Choices",
        name="card_choices",
    )


def _buttons(echo: Echo) -> Card:
    clicks = Div(text="clicks = 0", name="button_echo", css_classes=["ds-echo"])
    button = Button(label="Press me", button_type="primary", sizing_mode="fixed", name="button")
    count = {"n": 0}

    def pressed(event: object) -> None:
        count["n"] += 1
        clicks.text = f"clicks = {count['n']}"

    button.on_click(pressed)
    toggle = Toggle(label="Bold", sizing_mode="fixed", name="toggle")
    check = Checkbox(label="I agree", name="check")
    switch = Switch(label="Notifications", active=True, name="switch")
    segment = RadioButtonGroup(labels=["Day", "Week", "Month"], active=0, name="segment")
    styles = CheckboxButtonGroup(labels=["B", "I", "U"], active=[1], name="styles")
    menu = Dropdown(
        label="Export",
        menu=[("As CSV", "csv"), ("As JSON", "json"), None, ("Print…", "print")],
        button_type="success",
        name="menu",
    )
    picked = Div(text="item = None", name="menu_echo", css_classes=["ds-echo"])

    def chose(event: MenuItemClick) -> None:
        picked.text = f"item = {event.item!r}"

    menu.on_click(chose)
    return Card(
        Row(button, toggle, spacing=8),
        clicks,
        echo.line(toggle, "active"),
        check,
        echo.line(check, "active"),
        switch,
        echo.line(switch, "active"),
        segment,
        echo.line(segment, "active"),
        styles,
        echo.line(styles, "active"),
        menu,
        picked,
        title="Buttons and menus",
        name="card_buttons",
    )


def _dates(echo: Echo) -> Card:
    day = DatePicker(title="Day", value=dt.date(2024, 5, 1), min_date=dt.date(2024, 1, 1), name="day")
    span = DateRangePicker(
        title="Stay",
        value=(dt.date(2024, 5, 1), dt.date(2024, 5, 7)),
        max_date=dt.date(2024, 12, 31),
        name="span",
    )
    when = DatetimePicker(title="Meeting", value=dt.datetime(2024, 5, 1, 9, 30), name="when")
    clock = TimePicker(title="Alarm", value=dt.time(7, 30), name="clock")
    return Card(
        day,
        echo.line(day, "value"),
        span,
        echo.line(span, "value"),
        when,
        echo.line(when, "value"),
        clock,
        echo.line(clock, "value"),
        title="Dates and times",
        name="card_dates",
    )


def _sliders(echo: Echo) -> Card:
    level = Slider(title="Level", start=0, end=10, step=0.5, value=3, name="level")
    window = RangeSlider(title="Window", start=0, end=100, step=1, value=(20, 60), name="window")
    season = DateRangeSlider(
        title="Season",
        start=dt.date(2024, 1, 1),
        end=dt.date(2024, 12, 31),
        value=(dt.date(2024, 3, 1), dt.date(2024, 6, 1)),
        step=1,
        name="season",
    )
    progress = Progress(title="Level as progress", value=30, max=100, name="progress")

    def follow(attr: str, old: float, new: float) -> None:
        progress.value = new * 10

    level.on_change("value", follow)
    return Card(
        level,
        echo.line(level, "value"),
        window,
        echo.line(window, "value"),
        season,
        echo.line(season, "value"),
        progress,
        title="Sliders and progress",
        name="card_sliders",
    )


def _files(echo: Echo) -> Card:
    upload = FileInput(title="Upload CSV or text files", accept=".csv,.txt,text/plain", multiple=True, name="upload")
    received = Div(text="files = []", name="upload_echo", css_classes=["ds-echo"])

    def uploaded(files: list[UploadedFile]) -> None:
        received.text = "files = " + repr([(f.filename, f.mime_type, f.size, f.data[:16]) for f in files])

    upload.on_upload(uploaded)
    return Card(upload, received, title="Files", name="card_files")


def _content() -> Card:
    markdown = Markdown(
        "**Markdown**, rendered on the server: *emphasis*, `code`, [a link](https://example.com), "
        "and a table:\n\n| fruit | kg |\n|---|---:|\n| apple | 1.5 |\n| fig | 0.25 |\n\n"
        "<script>alert('dropped')</script>",
        name="markdown",
    )
    html = HTML(
        text='<p>An <b>HTML</b> pane: <em>sanitised</em> on the server <span onclick="alert(1)">(no script)</span>.</p>'
        '<script>alert("dropped")</script>',
        name="html",
    )
    image = Image(_swatch(), alt="A red-to-green gradient made from a numpy RGBA array", name="image")
    return Card(
        markdown,
        html,
        image,
        Alert(text="Saved: your changes are on the server.", alert_type="success", name="alert_success"),
        Alert(text="Heads up: the export runs nightly.", alert_type="info", name="alert_info"),
        Alert(text="Disk almost full.", alert_type="warning", name="alert_warning"),
        title="Rich content",
        name="card_content",
    )


def _layouts(echo: Echo) -> Card:
    tabs = Tabs(
        tabs=[
            TabPanel(title="Overview", child=Paragraph(text="Tabs show one panel at a time.")),
            TabPanel(title="Details", child=Paragraph(text="The arrow keys move between tabs.")),
            TabPanel(title="Archive", child=Paragraph(text="Python sees which one is active.")),
        ],
        active=0,
        name="tabs",
    )
    cells = [Div(text=f"cell {i}", css_classes=["ds-cell-demo"]) for i in range(4)]
    grid = GridBox(
        children=[(cells[0], 0, 0, 1, 2), (cells[1], 1, 0), (cells[2], 1, 1), (cells[3], 0, 2, 2, 1)],
        name="grid",
    )
    folded = Card(Paragraph(text="A card inside a card, folded away."), title="More", collapsed=True, name="folded")
    return Card(
        tabs,
        echo.line(tabs, "active"),
        grid,
        Row(
            Div(text="left", sizing_mode="fixed"),
            Spacer(width=40, name="spacer"),
            Div(text="right, after a 40 px spacer", sizing_mode="fixed"),
            spacing=0,
        ),
        folded,
        echo.line(folded, "collapsed"),
        title="Layouts",
        name="card_layouts",
    )


def _table(doc: Document) -> Card:
    source = ColumnDataSource(
        data={
            "fruit": ["apple", "banana", "cherry", "damson", "fig", "grape", "kiwi"],
            "kg": np.array([1.5, 0.25, 2.0, 0.75, 0.5, 3.25, 1.0]),
            "boxes": np.array([3, 1, 4, 1, 5, 9, 2], dtype=np.int64),
            "organic": [True, False, True, True, False, False, True],
            "picked": [dt.date(2024, 5, d) for d in (1, 2, 3, 5, 8, 13, 21)],
            "grade": ["A", "B", "A", "C", "B", "A", "B"],
        },
        name="fruit_source",
    )
    columns = [
        TableColumn(
            field="fruit",
            title="Fruit",
            editor=StringEditor(),
            formatter=HTMLTemplateFormatter(template="<b><%= value %></b>"),
        ),
        TableColumn(field="kg", title="Weight", formatter=NumberFormatter(format="0.00"), editor=NumberEditor()),
        TableColumn(field="boxes", title="Boxes", editor=IntEditor()),
        TableColumn(field="organic", title="Organic", editor=CheckboxEditor()),
        TableColumn(field="picked", title="Picked", formatter=DateFormatter(format="%d %b %Y"), editor=DateEditor()),
        TableColumn(
            field="grade", title="Grade", formatter=StringFormatter(), editor=SelectEditor(options=["A", "B", "C"])
        ),
    ]
    table = DataTable(
        source=source, columns=columns, editable=True, selectable="checkbox", page_size=5, height=None, name="table"
    )
    edits = Div(text="edit = None", name="table_echo", css_classes=["ds-echo"])
    selected = Div(text="selected = []", name="selection_echo", css_classes=["ds-echo"])

    def edited(event: DocumentEvent) -> None:
        # Each edit is a patch of one cell: show the cell as Python now holds it (a float64
        # column holds floats, a list of dates holds datetime.date).
        if isinstance(event, ColumnsPatchedEvent) and event.model is source and event.setter is not None:
            cells = {
                name: [(row, _plain(source.data[name][row])) for row, _ in rows] for name, rows in event.patches.items()
            }
            edits.text = f"edit = {cells!r}"

    def chose(attr: str, old: Any, new: Any) -> None:
        selected.text = f"selected = {list(new)!r}"

    doc.on_change(edited)
    source.selected.on_change("indices", chose)
    pick = Button(label="Select grape from Python", sizing_mode="fixed", name="pick")

    def select_grape(event: object) -> None:
        source.selected.indices = [5]

    pick.on_click(select_grape)
    return Card(table, edits, selected, pick, title="Table", name="card_table")


def _plain(value: Any) -> Any:
    """A cell value as Python sees it once stored (numpy scalars as their Python equivalents)."""
    return value.item() if isinstance(value, np.generic | np.ndarray) and np.ndim(value) == 0 else value


def modify_doc(doc: Document) -> None:
    """Build the gallery."""
    echo = Echo()
    cards = [
        _inputs(echo),
        _numbers(echo),
        _choices(echo),
        _buttons(echo),
        _dates(echo),
        _sliders(echo),
        _files(echo),
        _content(),
        _layouts(echo),
        _table(doc),
    ]
    heading = Markdown(
        "# Widget gallery\nEvery control of docsync. Each grey line is **Python's** `repr()` of what it "
        "received, sent back to the page.",
        name="heading",
    )
    doc.add_root(Column(heading, Row(*cards, spacing=16, name="cards"), name="gallery"))
    doc.title = "gallery"
