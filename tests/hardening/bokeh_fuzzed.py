"""The Bokeh app the dialect's fuzz test patches (``test_fuzz_bokeh.py``): one model of each kind it aims at.

A data source with array, list and image columns; widgets with Python callbacks (a
slider, a button, a dropdown menu, a text input, choices); a table and a small plot over the source; a
Range1d; a Div the callbacks write to; a second root a patch may remove; an
``on_message`` handler. The callbacks accept any value a patch may set (they write its
``repr``): what they meet is the fuzz's input, not the app's bug.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from bokeh.events import ButtonClick, MenuItemClick
from bokeh.models import (
    Button,
    CheckboxGroup,
    Column,
    ColumnDataSource,
    DataTable,
    Div,
    Dropdown,
    GlyphRenderer,
    MultiChoice,
    Plot,
    Range1d,
    Scatter,
    Select,
    Slider,
    TableColumn,
    TextInput,
)

__all__ = ["NAMES", "fuzzed"]

#: The names of the models the fuzz aims at (every one in the document, found by name).
NAMES = (
    "root",
    "source",
    "slider",
    "text",
    "div",
    "select",
    "multi",
    "checks",
    "button",
    "menu",
    "table",
    "column_x",
    "plot",
    "renderer",
    "glyph",
    "range",
    "spare",
)


def fuzzed(doc: Any) -> None:
    """Build the fuzzed document."""
    rows = 5
    source = ColumnDataSource(
        data={
            "x": np.arange(rows, dtype=np.float64),
            "n": np.arange(rows, dtype=np.int32),
            "s": [f"s{i}" for i in range(rows)],
            "l": [float(i) for i in range(rows)],
            "img": [np.zeros((2, 3)) + i for i in range(rows)],
        },
        name="source",
    )
    div = Div(text="", name="div")

    def heard(what: str) -> Any:
        def record(attr: str, old: Any, new: Any) -> None:
            div.text = f"{what} {new!r}"[:200]

        return record

    def clicked(event: Any) -> None:
        div.text = f"click {event.model.id if event.model is not None else None}"

    def picked(event: Any) -> None:
        div.text = f"picked {event.item!r}"[:200]

    def message(data: Any) -> None:
        div.text = f"hello {data!r}"[:200]

    slider = Slider(start=0, end=100, value=10, step=1, title="slider", name="slider")
    slider.on_change("value", heard("slider"))
    text = TextInput(value="", name="text")
    text.on_change("value", heard("text"))
    select = Select(options=["a", "b", "c"], value="a", name="select")
    select.on_change("value", heard("select"))
    multi = MultiChoice(options=["a", "b", "c"], value=[], name="multi")
    checks = CheckboxGroup(labels=["one", "two", "three"], active=[0], name="checks")
    checks.on_change("active", heard("checks"))
    button = Button(label="go", name="button")
    button.on_event(ButtonClick, clicked)
    menu = Dropdown(label="menu", menu=[("One", "one"), ("Two", "two")], name="menu")
    menu.on_event(MenuItemClick, picked)
    source.on_change("data", heard("data"))
    table = DataTable(source=source, columns=[TableColumn(field="x", title="x", name="column_x")], name="table")
    glyph = Scatter(x="x", y="l", name="glyph")
    renderer = GlyphRenderer(data_source=source, glyph=glyph, name="renderer")
    plot = Plot(
        renderers=[renderer],
        x_range=Range1d(0, 10, name="range"),
        y_range=Range1d(0, 10),
        width=200,
        height=200,
        name="plot",
    )
    doc.add_root(Column(slider, text, select, multi, checks, button, menu, div, table, plot, name="root"))
    doc.add_root(Div(text="a second root", name="spare"))
    doc.on_message("hello", message)
    doc.title = "fuzzed"


def workers(doc: Any) -> None:
    """Widgets whose callbacks compute with what clients send (test_fuzz_bokeh_sessions.py), as ``apps.workers``.

    Some values make them raise (a slider at 0 divides by zero; a text that is no
    integer; a column of non-numbers; a "work" message without ``n``): the sender is
    answered ``callback error``, what the callbacks changed before is sent, the session
    goes on.
    """
    slider = Slider(start=-1000, end=1_000_000, step=1, value=1, name="slider")
    text = TextInput(value="1", name="text")
    source = ColumnDataSource(data={"x": [1.0, 2.0], "y": [2.0, 4.0]}, name="source")
    derived = ColumnDataSource(data={"x": [], "y": []}, name="derived")
    label, total = Div(text="", name="label"), Div(text="", name="total")

    def on_slider(attr: str, old: Any, new: Any) -> None:
        label.text = f"{new:,.2f} (was {old:g}); inverse {1 / new:.4g}"
        derived.stream({"x": [new], "y": [new * new]}, rollover=20)

    def on_text(attr: str, old: str, new: str) -> None:
        count = int(new)
        total.text = f"{new.strip().upper()[:40]} x2={count * 2}"
        slider.value = count % 1000

    def on_source(attr: str, old: Any, new: Any) -> None:
        xs, ys = list(source.data["x"]), list(source.data["y"])
        derived.data = {"x": [float(x) for x in xs], "y": [float(x) * float(y) for x, y in zip(xs, ys, strict=False)]}
        total.text = f"sum={sum(float(x) for x in xs):g} rows={len(xs)}"

    def on_work(data: Any) -> None:
        n = int(data["n"])
        total.text = f"{data.get('label', '')!s:.30}: {n * 3}"
        source.patch({"y": [(abs(n) % 2, float(n))]})
        derived.stream({"x": [float(n)], "y": [n * n]}, rollover=20)

    slider.on_change("value", on_slider)
    text.on_change("value", on_text)
    source.on_change("data", on_source)
    doc.on_message("work", on_work)
    doc.add_root(Column(slider, text, label, total, name="root"))
    doc.add_root(source)
    doc.add_root(derived)
