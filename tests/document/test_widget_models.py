"""The dashboard models' own rules: typed values, indices, ranges, menus, panes, sanitising."""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from typing import Any

import numpy as np
import pytest

from docsync.document import Document, MessageSentEvent, ModelChangedEvent
from docsync.document.models import (
    HTML,
    AutocompleteInput,
    CheckboxButtonGroup,
    CheckboxGroup,
    Column,
    DataTable,
    DateRangePicker,
    DateRangeSlider,
    Dropdown,
    GridBox,
    HTMLTemplateFormatter,
    Image,
    Markdown,
    MultiChoice,
    NumericInput,
    PasswordInput,
    RadioButtonGroup,
    RadioGroup,
    Spinner,
    TabPanel,
    Tabs,
    TextAreaInput,
    TextInput,
    TimePicker,
)
from docsync.document.models.menus import MenuItemClick
from docsync.document.models.panes import png_from_rgba
from docsync.document.sanitize import clean_html, clean_template
from docsync.exceptions import PatchError, ValidationError

from .helpers import assert_docs_equal, doc_json_bytes, json_roundtrip


def client_set(doc: Document, model: Any, attr: str, value: Any) -> None:
    """Apply a browser's change of ``attr``, as the server does."""
    content = {"events": [{"kind": "ModelChanged", "model": {"id": model.id}, "attr": attr, "new": value}]}
    doc.apply_patch(doc.decode_patch(content, setter="browser"), setter="browser", from_client=True)


def in_document(model: Any) -> Document:
    doc = Document()
    doc.add_root(Column(model))
    return doc


class TestNumbers:
    def test_int_mode_keeps_ints_and_refuses_fractions(self) -> None:
        spinner = Spinner(low=0, high=10, step=2, value=4)
        doc = in_document(spinner)
        client_set(doc, spinner, "value", 6)
        assert spinner.value == 6 and type(spinner.value) is int
        client_set(doc, spinner, "value", 8.0)  # a whole float is the int it names
        assert type(spinner.value) is int
        before = doc_json_bytes(doc)
        with pytest.raises(PatchError, match=r"^Spinner\.value expected an int \(mode 'int'\), got 2\.5$"):
            client_set(doc, spinner, "value", 2.5)
        assert doc_json_bytes(doc) == before

    def test_float_mode_makes_floats_even_of_whole_numbers(self) -> None:
        field = NumericInput(mode="float", value=3)
        assert field.value == 3.0 and type(field.value) is float
        doc = in_document(field)
        client_set(doc, field, "value", 7)  # JSON "7" from the browser
        assert type(field.value) is float
        with pytest.raises(PatchError, match="finite"):
            client_set(doc, field, "value", {"type": "number", "value": "nan"})

    def test_bounds_are_enforced_whatever_the_argument_order(self) -> None:
        assert Spinner(value=5, high=5, low=1).value == 5
        with pytest.raises(ValidationError, match=r"^Spinner\.value 11 is above high 10$"):
            Spinner(value=11, high=10)
        spinner = Spinner(low=0, value=0)
        doc = in_document(spinner)
        with pytest.raises(PatchError, match=r"is below low 0"):
            client_set(doc, spinner, "value", -1)
        client_set(doc, spinner, "value", None)  # cleared
        assert spinner.value is None

    def test_text_area_length(self) -> None:
        area = TextAreaInput(max_length=5)
        doc = in_document(area)
        client_set(doc, area, "value", "12345")
        with pytest.raises(PatchError, match="at most 5"):
            client_set(doc, area, "value", "123456")

    @pytest.mark.parametrize("cls", [TextInput, PasswordInput, AutocompleteInput])
    def test_text_input_length(self, cls: type) -> None:
        # An app that copies the text elsewhere (the demo's sliders: into a title) bounds it.
        extra = {"restrict": False} if cls is AutocompleteInput else {}
        text = cls(max_length=3, **extra)
        doc = in_document(text)
        client_set(doc, text, "value", "abc")
        with pytest.raises(PatchError, match=f"{cls.__name__}.value is 4 characters long: at most 3"):
            client_set(doc, text, "value", "abcd")
        assert text.value == "abc"
        with pytest.raises(ValidationError, match="at most 3"):
            text.value = "abcd"  # Python's own assignments too
        text.max_length = None
        client_set(doc, text, "value", "abcd" * 100)
        assert len(text.value) == 400


class TestIndices:
    @pytest.mark.parametrize("cls", [RadioGroup, RadioButtonGroup])
    def test_one_index_within_the_labels(self, cls: type) -> None:
        group = cls(active=2, labels=["a", "b", "c"])  # active given first: still checked against labels
        doc = in_document(group)
        client_set(doc, group, "active", 0)
        assert group.active == 0 and type(group.active) is int
        with pytest.raises(PatchError, match=r"active 3 is out of range: 3 labels"):
            client_set(doc, group, "active", 3)
        client_set(doc, group, "active", None)

    @pytest.mark.parametrize("cls", [CheckboxGroup, CheckboxButtonGroup])
    def test_several_indices_within_the_labels_and_once_each(self, cls: type) -> None:
        group = cls(labels=["a", "b", "c"])
        doc = in_document(group)
        client_set(doc, group, "active", [2, 0])
        assert group.active == [2, 0]
        with pytest.raises(PatchError, match="out of range"):
            client_set(doc, group, "active", [0, -1])
        with pytest.raises(PatchError, match="twice"):
            client_set(doc, group, "active", [1, 1])

    def test_tabs_active(self) -> None:
        tabs = Tabs(active=1, tabs=[TabPanel(title="a"), TabPanel(title="b")])
        doc = in_document(tabs)
        client_set(doc, tabs, "active", 0)
        with pytest.raises(PatchError, match=r"^Tabs\.active 2 is out of range: 2 tabs$"):
            client_set(doc, tabs, "active", 2)
        with pytest.raises(PatchError, match="not writable"):
            client_set(doc, tabs, "tabs_location", "left")

    def test_multichoice_max_items(self) -> None:
        choice = MultiChoice(options=["a", "b", "c"], max_items=2)
        doc = in_document(choice)
        client_set(doc, choice, "value", ["b", "a"])
        with pytest.raises(PatchError, match="at most 2"):
            client_set(doc, choice, "value", ["a", "b", "c"])

    def test_grid_cells(self) -> None:
        grid = GridBox(children=[(Markdown("x"), 0, 1), (Markdown("y"), 1, 0, 1, 2)])
        doc = in_document(grid)
        assert_docs_equal(doc, json_roundtrip(doc))
        with pytest.raises(ValidationError, match="bad cell"):
            GridBox(children=[(Markdown("x"), -1, 0)])
        with pytest.raises(ValidationError, match="bad cell"):
            GridBox(children=[(Markdown("x"), 0, 0, 0, 1)])


class TestDates:
    def test_ranges_must_be_in_order(self) -> None:
        picker = DateRangePicker()
        doc = in_document(picker)
        stay = [{"type": "date", "iso": "2024-05-01"}, {"type": "date", "iso": "2024-05-07"}]
        client_set(doc, picker, "value", stay)
        assert picker.value == (dt.date(2024, 5, 1), dt.date(2024, 5, 7))
        with pytest.raises(PatchError, match="must not end before it starts"):
            client_set(doc, picker, "value", stay[::-1])
        with pytest.raises(ValidationError):
            DateRangeSlider(value=(dt.date(2024, 2, 1), dt.date(2024, 1, 1)))

    def test_time_picker_takes_a_time(self) -> None:
        picker = TimePicker(value="07:30")
        assert picker.value == dt.time(7, 30)
        doc = in_document(picker)
        client_set(doc, picker, "value", {"type": "time", "iso": "13:05:00"})
        assert picker.value == dt.time(13, 5)
        with pytest.raises(PatchError, match="expected None or a time"):
            client_set(doc, picker, "value", {"type": "date", "iso": "2024-05-01"})


class TestDropdown:
    def make(self) -> tuple[Document, Dropdown, list[MenuItemClick]]:
        menu = Dropdown(menu=["Open", ("Save as…", "save"), None])
        clicks: list[MenuItemClick] = []
        menu.on_click(clicks.append)
        return in_document(menu), menu, clicks

    def click(self, doc: Document, menu: Dropdown, msg_type: str, data: Any) -> None:
        doc.apply_patch([MessageSentEvent(msg_type, data, menu, setter="browser")], from_client=True)

    def test_items_reach_python(self) -> None:
        doc, menu, clicks = self.make()
        self.click(doc, menu, "menu_item_click", {"item": "save"})
        self.click(doc, menu, "menu_item_click", {"item": "Open"})
        assert [(c.model, c.item) for c in clicks] == [(menu, "save"), (menu, "Open")]

    @pytest.mark.parametrize(
        ("msg_type", "data", "error"),
        [
            ("menu_item_click", {"item": "Save as…"}, "no menu item 'Save as…'"),  # the label is not the item
            ("menu_item_click", {"item": None}, "no menu item None"),
            ("menu_item_click", "save", "no menu item None"),
            ("button_click", None, "not clickable unless split"),
        ],
    )
    def test_anything_else_is_refused(self, msg_type: str, data: Any, error: str) -> None:
        doc, menu, clicks = self.make()
        with pytest.raises(PatchError, match=error):
            self.click(doc, menu, msg_type, data)
        assert clicks == []

    def test_a_split_button_clicks_with_no_item(self) -> None:
        doc, menu, clicks = self.make()
        menu.split = True
        self.click(doc, menu, "button_click", None)
        assert clicks[0].item is None


class TestPanes:
    def test_html_is_sanitised_on_every_way_in(self) -> None:
        pane = HTML(text='<b onclick="x()">hi</b><script>alert(1)</script><a href="javascript:x()">y</a>')
        assert pane.text == '<b>hi</b><a rel="noopener noreferrer">y</a>'
        doc = in_document(pane)
        pane.text = "<img src=x onerror=alert(1)>"
        assert pane.text == '<img src="x">'
        # From document JSON (a client that may create models, say): sanitised too.
        raw = {"type": "object", "name": "HTML", "id": "h", "attributes": {"text": "<iframe src=x></iframe>ok"}}
        assert_docs_equal(doc, json_roundtrip(doc))
        from docsync.document.wire import instantiate_models

        built = instantiate_models([raw], {}, {}, max_array_elements=10)
        assert built["h"].text == "ok"  # type: ignore[attr-defined]

    def test_markdown_renders_and_rerenders_on_change(self) -> None:
        pane = Markdown("# Title\n\n| a |\n|---|\n| 1 |\n\n<script>x</script>")
        assert pane.html.startswith("<h1>Title</h1>") and "<table>" in pane.html and "script" not in pane.html
        doc = in_document(pane)
        events: list[Any] = []
        doc.on_change(events.append)
        pane.text = "*new*"
        assert pane.html == "<p><em>new</em></p>\n"
        assert [(e.attr, e.new) for e in events if isinstance(e, ModelChangedEvent)] == [
            ("text", "*new*"),
            ("html", "<p><em>new</em></p>\n"),
        ]

    def test_cell_templates_keep_their_holes(self) -> None:
        assert clean_template('<a href="<%= url %>" onclick="x"><%=value%></a><script>1</script>') == (
            '<a href="<%= url %>" rel="noopener noreferrer"><%= value %></a>'
        )
        assert HTMLTemplateFormatter().template == "<%= value %>"
        assert clean_html("<style>b{}</style><p class='x' style='color:red'>t</p>") == '<p class="x">t</p>'

    def test_image_from_a_numpy_rgba_array_is_a_valid_png(self) -> None:
        rgba = np.zeros((2, 3, 4), dtype=np.uint8)
        rgba[0, 0] = (255, 0, 0, 255)
        rgba[1, 2] = (0, 0, 255, 128)
        image = Image(rgba, alt="dots")
        assert image.format == "png"
        data = image.data
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        # Read it back independently: IHDR, then the inflated rows (filter byte + RGBA).
        width, height, depth, color = struct.unpack(">IIBB", data[16:26])
        assert (width, height, depth, color) == (3, 2, 8, 6)
        idat = data.index(b"IDAT")
        length = struct.unpack(">I", data[idat - 4 : idat])[0]
        rows = zlib.decompress(data[idat + 4 : idat + 4 + length])
        assert rows == b"".join(b"\x00" + rgba[r].tobytes() for r in range(2))
        with pytest.raises(ValidationError, match="uint8"):
            Image(np.zeros((2, 2, 4)))

    def test_image_formats_are_detected_and_others_refused(self) -> None:
        assert Image(b"\xff\xd8\xff\xe0fake jpeg").format == "jpeg"
        svg = Image(b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>')
        assert svg.format == "svg"
        doc = in_document(svg)
        svg.data = png_from_rgba(np.zeros((1, 1, 4), dtype=np.uint8))
        assert svg.format == "png"
        with pytest.raises(ValidationError, match="neither PNG, JPEG nor SVG"):
            svg.data = b"GIF89a"
        svg.data = None  # no image (yet)
        assert svg.format is None
        svg.data = png_from_rgba(np.zeros((1, 1, 4), dtype=np.uint8))
        assert_docs_equal(doc, json_roundtrip(doc))


class TestFrames:
    def test_structured_array(self) -> None:
        records = np.array(
            [(1, 2.5, b"a", np.datetime64("2024-05-01T12:00")), (2, np.nan, b"b", np.datetime64("NaT"))],
            dtype=[("n", "i4"), ("x", "f8"), ("s", "S1"), ("t", "M8[m]")],
        )
        table = DataTable.from_data(records)
        data = table.source.data
        assert data["n"].dtype == np.int32 and list(data["n"]) == [1, 2]
        assert data["s"] == ["a", "b"]
        assert data["t"][0] == dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC).timestamp() * 1000
        assert np.isnan(data["t"][1])
        kinds = {c.field: type(c.formatter).__name__ for c in table.columns}
        assert kinds == {"n": "NumberFormatter", "x": "NumberFormatter", "s": "NoneType", "t": "DateFormatter"}

    def test_pandas_frame(self) -> None:
        pd = pytest.importorskip("pandas", reason="pandas is an optional extra")
        frame = pd.DataFrame(
            {
                "city": ["Lima", None],
                "people": pd.array([10, None], dtype="Int64"),
                "when": pd.to_datetime(["2024-01-01", "2024-01-02"]).tz_localize("Europe/Paris"),
                "day": [dt.date(2024, 1, 1), dt.date(2024, 1, 2)],
                "kind": pd.Categorical(["a", "b"]),
            },
            index=pd.Index(["x", "y"], name="key"),
        )
        table = DataTable.from_data(frame, page_size=10)
        data = table.source.data
        assert list(data) == ["key", "city", "people", "when", "day", "kind"]
        assert data["key"] == ["x", "y"] and data["city"] == ["Lima", None] and data["kind"] == ["a", "b"]
        assert data["people"][0] == 10.0 and np.isnan(data["people"][1])
        assert data["when"][0] == dt.datetime(2023, 12, 31, 23, tzinfo=dt.UTC).timestamp() * 1000
        assert data["day"] == [dt.date(2024, 1, 1), dt.date(2024, 1, 2)]
        assert table.page_size == 10
        doc = in_document(table)
        assert_docs_equal(doc, json_roundtrip(doc))

    def test_refuses_other_things(self) -> None:
        with pytest.raises(TypeError, match="DataFrame"):
            DataTable.from_data([1, 2, 3])
