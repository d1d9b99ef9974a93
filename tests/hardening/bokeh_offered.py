"""A Bokeh app of widgets that offer bounded values, a source, and a Div every callback writes to."""

from __future__ import annotations

import datetime as dt
from typing import Any


def offered(doc: Any) -> None:
    """One widget of each rule family (test_offered_bokeh.py), each named."""
    from bokeh.layouts import column
    from bokeh.models import (
        AutocompleteInput,
        CategoricalSlider,
        CheckboxGroup,
        ColumnDataSource,
        DataRange1d,
        DataTable,
        DatePicker,
        DateRangePicker,
        DateRangeSlider,
        DateSlider,
        DatetimeRangeSlider,
        Div,
        FactorRange,
        MultiChoice,
        MultipleDatePicker,
        MultiSelect,
        NumericInput,
        RadioGroup,
        Range1d,
        RangeSlider,
        Select,
        SelectEditor,
        Slider,
        Spinner,
        StringEditor,
        TableColumn,
        TabPanel,
        Tabs,
    )

    calls = Div(text="", name="calls")

    def record(attr: str, old: Any, new: Any) -> None:
        calls.text += f"{attr};"

    widgets = [
        Slider(start=0, end=10, step=0.1, value=5, name="slider"),
        RangeSlider(start=0.1, end=0.9, step=0.1, value=(0.2, 0.5), name="range"),
        DateSlider(start=dt.date(2024, 1, 1), end=dt.date(2024, 3, 1), value=dt.date(2024, 2, 1), name="date_slider"),
        DateRangeSlider(
            start=dt.date(2024, 1, 1),
            end=dt.date(2024, 3, 1),
            value=(dt.date(2024, 1, 10), dt.date(2024, 2, 1)),
            name="date_range_slider",
        ),
        CategoricalSlider(categories=["low", "mid", "high"], value="mid", name="categorical"),
        Select(options=["a", ("b", "B")], value="a", name="select"),
        Select(options={"one": ["a", "b"], "two": [("c", "C")]}, value="a", name="grouped"),
        MultiSelect(options=[("a", "A"), ("b", "B")], value=["a"], name="multi_select"),
        MultiChoice(options=["a", "b", "c"], value=[], name="multi_choice"),
        MultiChoice(options=["a", "b"], value=["a", "legacy"], name="tags"),
        AutocompleteInput(completions=["Bern", "Berlin"], value="", name="auto"),
        AutocompleteInput(completions=["Bern"], restrict=False, value="", name="auto_free"),
        Spinner(low=0, high=10, step=1, value=5, name="spinner"),
        DatePicker(
            min_date=dt.date(2024, 1, 1),
            max_date=dt.date(2024, 12, 31),
            disabled_dates=[dt.date(2024, 5, 1), (dt.date(2024, 8, 1), dt.date(2024, 8, 31))],
            value=dt.date(2024, 6, 1),
            name="date",
        ),
        DatePicker(
            enabled_dates=[(dt.date(2024, 1, 1), dt.date(2024, 1, 31))], value=dt.date(2024, 1, 15), name="enabled"
        ),
        MultipleDatePicker(min_date=dt.date(2024, 1, 1), max_date=dt.date(2024, 12, 31), value=[], name="multi_date"),
        NumericInput(high=1, mode="float", value=0.5, name="numeric"),  # no low: no lower bound
        DateRangePicker(min_date=dt.date(2024, 1, 1), max_date=dt.date(2024, 12, 31), name="date_range"),
        DatetimeRangeSlider(
            start=dt.datetime(2024, 1, 1),
            end=dt.datetime(2024, 1, 2),
            value=(dt.datetime(2024, 1, 1, 6), dt.datetime(2024, 1, 1, 18)),
            name="dt_range",
        ),
        RadioGroup(labels=["x", "y"], active=0, name="radio"),
        CheckboxGroup(labels=["x", "y"], active=[], name="checks"),
    ]
    for widget in widgets:
        widget.on_change("value" if not isinstance(widget, RadioGroup | CheckboxGroup) else "active", record)
    panels = [
        TabPanel(title=t, child=Div(text=t), disabled=t == "two", name=f"tab_{t}") for t in ("one", "two", "three")
    ]
    tabs = Tabs(tabs=panels, active=0, name="tabs")
    tabs.on_change("active", record)
    source = ColumnDataSource(data={"x": [1.0, 2.0, 3.0], "y": [4.0, 5.0, 6.0]}, name="source")
    source.on_change("data", record)
    # A user may close a closable tab: BokehJS then sends Tabs.tabs less that panel.
    closable = Tabs(
        tabs=[
            TabPanel(title=t, child=Div(text=t), closable=t != "keep", name=f"panel_{t}")
            for t in ("first", "second", "keep")
        ],
        name="closable",
    )
    # A table whose "status" cells a SelectEditor edits (and one the app set outside its options).
    tasks = ColumnDataSource(data={"task": ["mail", "call"], "status": ["open", "legacy"]}, name="tasks")
    tasks.on_change("data", record)
    table = DataTable(
        source=tasks,
        columns=[
            TableColumn(field="task", editor=StringEditor()),
            TableColumn(field="status", editor=SelectEditor(options=["open", "done"], name="status_editor")),
        ],
        editable=True,
        name="table",
    )
    doc.add_root(column(*widgets, tabs, closable, table, calls, name="root"))
    doc.add_root(source)
    doc.add_root(ColumnDataSource(data={"x": [1.0, 2.0, 3.0], "y": [1.0]}, name="uneven"))  # the app's choice
    # Zoom and pan set a range's ends, to finite numbers only.
    ranges = [
        Range1d(start=0, end=10, name="x_range"),
        DataRange1d(name="y_range"),
        FactorRange(factors=["a", "b"], name="factors"),
    ]
    for made in ranges:
        made.on_change("start", record)
        made.on_change("end", record)
        doc.add_root(made)


#: The cities the scripted app's CustomJS offers per country (its own JavaScript changes the options).
CITIES = {"ch": ["Bern", "Basel"], "fr": ["Paris", "Lyon"]}


def offered_js(doc: Any) -> None:
    """Widgets whose offers the app's own JavaScript changes: a CustomJS refills a Select, a SetValue moves an end."""
    import json

    from bokeh.layouts import column
    from bokeh.models import Button, CustomJS, Div, Select, SetValue, Slider

    calls = Div(text="", name="calls")
    country = Select(options=list(CITIES), value="ch", name="country")
    city = Select(options=CITIES["ch"], value="Bern", name="city")
    # As a page of dependent lists does it: the browser refills the second list itself.
    country.js_on_change(
        "value",
        CustomJS(
            args={"city": city},
            code=f"const cities = {json.dumps(CITIES)}[cb_obj.value]; city.options = cities; city.value = cities[0]",
        ),
    )
    slider = Slider(start=0, end=10, step=1, value=5, name="slider")
    wider = Button(label="wider", name="wider")
    wider.js_on_click(SetValue(obj=slider, attr="end", value=20))

    def record(attr: str, old: Any, new: Any) -> None:
        calls.text += f"{attr}={new};"

    city.on_change("value", record)
    slider.on_change("value", record)
    doc.add_root(column(country, city, slider, wider, calls, name="root"))


def offered_times(doc: Any) -> None:
    """Datetime and time pickers with bounds (test_offered_bokeh.py): by the minute, by the day, and overnight."""
    from bokeh.layouts import column
    from bokeh.models import DatetimePicker, DatetimeRangePicker, Div, MultipleDatetimePicker, TimePicker

    calls = Div(text="", name="calls")

    def record(attr: str, old: Any, new: Any) -> None:
        calls.text += f"{attr};"

    widgets = [
        DatetimePicker(
            min_date=dt.datetime(2024, 1, 1, 8),
            max_date=dt.datetime(2024, 1, 31, 18),
            value=dt.datetime(2024, 1, 15, 12),
            name="datetime",
        ),
        # Days as bounds: the last one whole (BokehJS's calendar takes any time of it).
        DatetimeRangePicker(min_date=dt.date(2024, 1, 1), max_date=dt.date(2024, 1, 31), name="datetime_range"),
        MultipleDatetimePicker(
            disabled_dates=[dt.date(2024, 1, 15)], enabled_dates=None, value=[], name="multi_datetime"
        ),
        TimePicker(min_time=dt.time(8), max_time=dt.time(18), value=dt.time(12), name="time"),
        TimePicker(min_time="22:00", max_time="06:00", value="23:00", name="night"),  # past midnight
    ]
    for widget in widgets:
        widget.on_change("value", record)
    doc.add_root(column(*widgets, calls, name="root"))
