from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

import docsync.document.models as builtin
from docsync.document import Document, Model
from docsync.document.models import (
    Button,
    Checkbox,
    Column,
    ColumnDataSource,
    DataTable,
    DatePicker,
    Div,
    Paragraph,
    RangeSlider,
    Row,
    Select,
    Slider,
    TableColumn,
    TextInput,
    Toggle,
)
from docsync.document.registry import model_class
from docsync.exceptions import NotWritableError, ValidationError

from .helpers import assert_docs_equal, json_roundtrip

# Every concrete model the package exports; a new one is covered when it is added.
CONCRETE = [
    cls
    for cls in (getattr(builtin, name) for name in builtin.__all__)
    if isinstance(cls, type) and issubclass(cls, Model) and not cls.__dict__.get("__abstract__")
]

# What a browser may change on each model, as the issue asks: user-editable values only.
WRITABLE = {
    "Toggle": {"active"},
    "Checkbox": {"active"},
    "Switch": {"active"},
    "CheckboxGroup": {"active"},
    "RadioGroup": {"active"},
    "CheckboxButtonGroup": {"active"},
    "RadioButtonGroup": {"active"},
    "Slider": {"value"},
    "RangeSlider": {"value"},
    "DateRangeSlider": {"value"},
    "TextInput": {"value"},
    "PasswordInput": {"value"},
    "AutocompleteInput": {"value"},
    "TextAreaInput": {"value"},
    "NumericInput": {"value"},
    "Spinner": {"value"},
    "ColorPicker": {"color"},
    "Select": {"value"},
    "MultiSelect": {"value"},
    "MultiChoice": {"value"},
    "DatePicker": {"value"},
    "DateRangePicker": {"value"},
    "DatetimePicker": {"value"},
    "TimePicker": {"value"},
    "Tabs": {"active"},
    "Card": {"collapsed"},
    "ColumnDataSource": {"data"},
    "Selection": {"indices", "line_indices"},
    # Zoom and pan move ranges; legend clicks hide or mute; the toolbar picks tools.
    "Range1d": {"start", "end"},
    "DataRange1d": {"start", "end"},
    "FactorRange": {"start", "end"},
    "GlyphRenderer": {"visible", "muted"},
    "Toolbar": {"active_drag", "active_scroll", "active_tap", "active_inspect"},
}

# The UI events a browser may send, per model.
EVENTS = {
    "Button": {"button_click"},
    "Dropdown": {"button_click", "menu_item_click"},
    "Plot": {"tap", "doubletap", "panstart", "pan", "panend", "wheel", "rangesupdate", "selectiongeometry", "reset"},
    "FileInput": {"upload_start", "upload_chunk", "upload_cancel"},
}


def test_the_issue_s_model_set_is_exported() -> None:
    names = {cls.__name__ for cls in CONCRETE}
    assert {"Slider", "DataTable", "Plot", "Selection", "Tabs", "FileInput", "Markdown", "Spinner"} <= names
    assert len(names) >= 55


@pytest.mark.parametrize("cls", CONCRETE, ids=lambda c: c.__name__)
def test_registered_under_its_own_name(cls: type[Model]) -> None:
    assert model_class(cls.__name__) is cls


@pytest.mark.parametrize("cls", CONCRETE, ids=lambda c: c.__name__)
def test_defaults_are_valid_and_survive_json(cls: type[Model]) -> None:
    model = cls()
    for attr, prop in cls.properties().items():
        value = getattr(model, attr)
        if value is not None:
            prop.accepts(value)  # every default passes its own validation
    doc = Document()
    doc.add_root(model)
    assert_docs_equal(doc, json_roundtrip(doc))


@pytest.mark.parametrize("cls", CONCRETE, ids=lambda c: c.__name__)
def test_client_writable_declarations(cls: type[Model]) -> None:
    assert set(cls.__client_writable__) == WRITABLE.get(cls.__name__, set())


@pytest.mark.parametrize("cls", CONCRETE, ids=lambda c: c.__name__)
def test_client_event_declarations(cls: type[Model]) -> None:
    assert set(cls.__client_events__) == EVENTS.get(cls.__name__, set())


def test_client_may_set_a_slider_value_but_not_its_range() -> None:
    doc = Document()
    slider = Slider(start=0, end=10)
    doc.add_root(slider)
    content = {"events": [{"kind": "ModelChanged", "model": {"id": slider.id}, "attr": "value", "new": 3}]}
    doc.apply_patch(doc.decode_patch(content), from_client=True)
    assert slider.value == 3.0
    content["events"][0]["attr"] = "end"
    with pytest.raises(NotWritableError):
        doc.apply_patch(doc.decode_patch(content), from_client=True)
    assert slider.end == 10.0


class TestWidgets:
    def test_slider(self) -> None:
        slider = Slider(start=1, end=5, step=0.5, value=2, title="Speed")
        assert (slider.start, slider.end, slider.step, slider.value) == (1.0, 5.0, 0.5, 2.0)
        with pytest.raises(ValidationError, match=r"^Slider.value expected an int or a float, got 'abc'$"):
            slider.value = "abc"

    def test_range_slider_takes_a_pair(self) -> None:
        slider = RangeSlider()
        assert slider.value == (0.0, 1.0)
        slider.value = [0.25, 0.5]
        assert slider.value == (0.25, 0.5)
        with pytest.raises(ValidationError, match=r"^RangeSlider\.value expected a tuple of"):
            slider.value = (1.0,)

    def test_select_options(self) -> None:
        select = Select(options=["a", "b"], value="a")
        select.options.append("c")
        assert select.options == ["a", "b", "c"]
        with pytest.raises(ValidationError):
            select.options.append(3)

    def test_date_picker(self) -> None:
        picker = DatePicker(value="2024-03-01", min_date=dt.date(2024, 1, 1))
        assert picker.value == dt.date(2024, 3, 1)
        picker.value = None
        with pytest.raises(ValidationError, match=r"^DatePicker\.value expected None or a date"):
            picker.value = "March"

    def test_text_widgets(self) -> None:
        assert Div(text="<b>x</b>").text == "<b>x</b>"
        assert Paragraph(text="p").text == "p"
        assert TextInput(value="v", placeholder="type").placeholder == "type"

    def test_toggles(self) -> None:
        assert Toggle(active=True).active is True
        assert Checkbox(label="ok").active is False
        with pytest.raises(ValidationError):
            Toggle(active="yes")

    def test_button_type(self) -> None:
        assert Button().button_type == "default"
        with pytest.raises(ValidationError, match="one of 'default', 'primary'"):
            Button(button_type="huge")


class TestLayouts:
    def test_children_positional(self) -> None:
        a, b = Div(), Div()
        assert Row(a, b).children == [a, b]
        assert Column(a, spacing=2).spacing == 2
        assert Column().children == []

    def test_children_must_be_models(self) -> None:
        with pytest.raises(ValidationError, match=r"^Column\.children expected a list of an instance of Model"):
            Column("text")  # type: ignore[arg-type]

    def test_nested_layout_is_indexed(self) -> None:
        doc = Document()
        inner = Slider()
        doc.add_root(Column(Row(inner), Div()))
        assert inner.id in doc.models


class TestDataModels:
    def test_column_data_source(self) -> None:
        source = ColumnDataSource(data={"x": np.arange(3), "y": [1, 2, 3]})
        assert source.column_names == ["x", "y"]
        assert source.length == 3
        assert ColumnDataSource().length == 0

    def test_table_references_its_source(self) -> None:
        source = ColumnDataSource(data={"a": [1]})
        table = DataTable(source=source, columns=[TableColumn(field="a", title="A")])
        doc = Document()
        doc.add_root(table)
        assert source.id in doc.models and table.columns[0].id in doc.models
        with pytest.raises(ValidationError):
            DataTable(source=Div())


class TestSteppedValues:
    """A slider's value is an int when its start, end and step are ints (as in Bokeh)."""

    @staticmethod
    def _from_client(slider: Model, value: Any) -> list[Any]:
        """Apply a browser's patch setting ``value`` (JSON has one number type); return what callbacks saw."""
        doc = Document()
        doc.add_root(slider)
        seen: list[Any] = []
        slider.on_change("value", lambda attr, old, new: seen.append(new))
        content = {"events": [{"kind": "ModelChanged", "model": {"id": slider.id}, "attr": "value", "new": value}]}
        doc.apply_patch(doc.decode_patch(content, setter="c1"), setter="c1", from_client=True)
        return seen

    def test_an_int_stepped_slider_hands_callbacks_ints(self) -> None:
        seen = self._from_client(Slider(start=0, end=10, step=1, value=3), 8.0)
        assert seen == [8] and type(seen[0]) is int
        seen = self._from_client(Slider(start=0, end=10, step=1), 7)
        assert type(seen[0]) is int

    def test_a_float_stepped_slider_hands_callbacks_floats(self) -> None:
        # The browser sends 2.0 as the JSON number 2: the slider's step says it is a float.
        seen = self._from_client(Slider(start=0, end=10, step=0.5, value=1.5), 2)
        assert seen == [2.0] and type(seen[0]) is float
        seen = self._from_client(Slider(start=0.0, end=10.0, step=1.0), 4)
        assert type(seen[0]) is float

    def test_range_slider_values_follow_the_same_rule(self) -> None:
        seen = self._from_client(RangeSlider(start=0, end=10, step=1), [2.0, 6])
        assert seen == [(2, 6)] and all(type(n) is int for n in seen[0])
        seen = self._from_client(RangeSlider(start=0, end=10, step=0.5), [2, 6])
        assert all(type(n) is float for n in seen[0])

    def test_values_set_in_python_follow_the_rule(self) -> None:
        slider = Slider(start=0, end=10, step=1)
        assert slider.value == 0 and type(slider.value) is int
        slider.value = 3.0
        assert type(slider.value) is int
        assert type(Slider(value=3).value) is float  # the default step (0.1) is a float
        # A value between whole numbers (no browser slider sends one) is kept, as a float.
        slider.value = 2.5
        assert slider.value == 2.5
        # Whole numbers too large to be exact in JavaScript are not turned into ints.
        slider.value = 1e300
        assert type(slider.value) is float

    def test_making_a_slider_int_stepped_retypes_its_value(self) -> None:
        slider = Slider(value=5)
        doc = Document()
        doc.add_root(slider)
        with_events = []
        doc.on_change(with_events.append)
        slider.start, slider.end, slider.step = 0, 10, 1
        assert type(slider.value) is int
        # Browsers are told the value too (5.0 and 5 are one number to them, not to Python clients).
        assert [e.attr for e in with_events if e.attr == "value"] == ["value"]

    def test_int_values_survive_the_wire(self) -> None:
        doc = Document()
        doc.add_root(Slider(start=0, end=10, step=1, value=8, name="s"))
        copy = json_roundtrip(doc)
        value = copy.get_model_by_name("s").value
        assert value == 8 and type(value) is int

    def test_a_bool_is_not_a_number(self) -> None:
        with pytest.raises(ValidationError, match=r"^Slider\.value expected an int or a float, got True"):
            Slider(value=True)
