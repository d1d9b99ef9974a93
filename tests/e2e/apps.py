"""Applications only the browser tests serve."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from docsync.document import Document
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
from docsync.plotting import figure

ROLLOVER = 10


def table_stream(doc: Document) -> None:
    """A table fed by a stream (2 rows every 100 ms, 10 kept); a button patches row 0."""
    source = ColumnDataSource(data={"n": np.zeros(0, dtype=np.int64), "square": np.zeros(0)}, name="source")
    table = DataTable(
        source=source,
        columns=[TableColumn(field="n", title="n"), TableColumn(field="square", title="n²")],
        height=400,
        name="table",
    )
    patch = Button(label="Patch row 0", name="patch")
    state = {"n": 0}

    def tick() -> None:
        n = np.arange(state["n"], state["n"] + 2, dtype=np.int64)
        state["n"] += 2
        source.stream({"n": n, "square": (n * n).astype(np.float64)}, rollover=ROLLOVER)

    def on_patch(event: object) -> None:
        source.patch({"square": [(0, -1.0)]})

    patch.on_click(on_patch)
    doc.add_periodic_callback(tick, 100)
    doc.add_root(Column(patch, table, name="layout"))


def widgets(doc: Document) -> None:
    """Every widget the demo apps leave out, each echoed by a server callback, and bar and line plots."""
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    bars = ColumnDataSource(data={"day": days, "visits": [12, 19, 7, 15, 22, 30, 26]}, name="bars")
    x = np.linspace(0, 6, 40)
    curve = ColumnDataSource(data={"x": x, "y": np.exp(-x / 3) * np.cos(2 * x)}, name="curve")
    bar_plot = figure(title="visits per day", x_range=days, height=260, width=None, name="bar_plot")
    bar_plot.vbar(x="day", top="visits", source=bars, width=0.7, color="#2da44e", legend_label="visits")
    line_plot = figure(title="damped cosine", x_axis_label="t", height=260, width=None, name="line_plot")
    line_plot.line("x", "y", source=curve, legend_label="signal", line_width=2)
    line_plot.scatter("x", "y", source=curve, marker="square", size=5, color="#cf222e", legend_label="samples")
    echo = Div(text="Nothing changed yet.", name="echo")
    check = Checkbox(label="Show the bars", active=True, name="check")
    toggle = Toggle(label="Bold", name="toggle")
    window = RangeSlider(title="window", start=0, end=10, step=0.5, value=(2.0, 6.0), name="window")
    day = DatePicker(title="day", value=dt.date(2024, 5, 1), min_date=dt.date(2024, 1, 1), name="day")
    kind = Select(title="kind", options=["line", "bars"], value="line", name="kind")
    note = Paragraph(text="A Paragraph: <b>markup stays text</b>.", name="note")

    def echo_change(attr: str, old: Any, new: Any) -> None:
        echo.text = f"{attr} is now {new}"

    def show_bars(attr: str, old: bool, new: bool) -> None:
        bar_plot.renderers[0].glyph.fill_alpha = 1.0 if new else 0.15
        echo.text = f"bars shown: {new}"

    check.on_change("active", show_bars)
    for widget in (toggle, window, day, kind):
        widget.on_change("active" if widget is toggle else "value", echo_change)
    controls = Column(note, check, toggle, window, day, kind, echo, width=300, name="controls")
    doc.add_root(Row(controls, Column(bar_plot, line_plot), name="layout"))
    doc.title = "widgets"


def stepped(doc: Document) -> None:
    """An int-stepped slider and a float-stepped one; each callback says what type it was handed."""
    count = Slider(title="count", start=0, end=10, step=1, value=3, name="count")
    level = Slider(title="level", start=0.0, end=1.0, step=0.25, value=0.5, name="level")
    seen = Div(text="Nothing moved yet.", name="seen")

    def report(attr: str, old: Any, new: Any) -> None:
        seen.text = f"{type(new).__name__} {new!r}"

    count.on_change("value", report)
    level.on_change("value", report)
    doc.add_root(Column(count, level, seen, width=320, name="layout"))
    doc.title = "stepped"


def typed(doc: Document) -> None:
    """A text input and how many of its values the server applied (what a page's loop sends, counted)."""
    text = TextInput(title="typed", value="", name="input")
    applied = Div(text="0", name="applied")

    def count(attr: str, old: Any, new: Any) -> None:
        applied.text = str(int(applied.text) + 1)

    text.on_change("value", count)
    doc.add_root(Column(text, applied, width=320, name="layout"))
    doc.title = "typed"


def arguments(doc: Document) -> None:
    """Show the request arguments the session was made with."""
    context = doc.session_context
    shown = sorted((name, values) for name, values in context.arguments.items())
    doc.add_root(Div(text=f"arguments: {shown}", name="shown"))


def resume_room(doc: Document) -> None:
    """A shared room streaming a row every 50 ms, with a big column that never changes.

    A full pull carries the 400 kB column; a resume after a short drop carries a few
    ticks. ``streaming`` stops the stream, so that a test can compare documents.
    """
    first = np.arange(2, dtype=np.float64)
    stream = ColumnDataSource(data={"t": first, "v": np.sin(first / 5)}, name="stream")
    static = ColumnDataSource(data={"payload": np.linspace(0.0, 1.0, 50_000)}, name="static")
    streaming = Toggle(label="Streaming", active=True, name="streaming")
    level = Slider(title="level", start=0, end=10, step=1, value=0, name="level")
    note = TextInput(title="note", value="", name="note")
    plot = figure(title="stream", height=200, width=None, name="plot")
    plot.line("t", "v", source=stream)
    state = {"next": 2}

    def tick() -> None:
        if not streaming.active:
            return
        t = np.array([float(state["next"])])
        state["next"] += 1
        stream.stream({"t": t, "v": np.sin(t / 5)}, rollover=200)

    doc.add_periodic_callback(tick, 50)
    doc.add_root(Column(streaming, level, note, plot, name="layout"))
    doc.add_root(static)
    doc.title = "resume"


BIG_FRAME_POINTS = 2_000_000


def big_frame(doc: Document) -> None:
    """One 16 MB array: a pull sends it as a single 16,000,000-byte frame."""
    doc.add_root(ColumnDataSource(data={"x": np.arange(BIG_FRAME_POINTS, dtype=np.float64)}, name="source"))
