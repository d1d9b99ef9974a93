"""Plot applications only the browser tests serve: every tool, linked plots, events to Python."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np

from docsync.document import Document
from docsync.document.models import (
    Arrow,
    Column,
    ColumnDataSource,
    DatetimeTickFormatter,
    Div,
    Legend,
    NormalHead,
    OpenHead,
    Plot,
    Range1d,
    Row,
    TeeHead,
    Whisker,
)
from docsync.plotting import figure

TOOLS = "pan,wheel_zoom,box_zoom,box_select,lasso_select,tap,hover,crosshair,reset,save"
EVENTS = ("tap", "doubletap", "panstart", "pan", "panend", "wheel", "rangesupdate", "selectiongeometry", "reset")


def plot_tools(doc: Document) -> None:
    """Two scatter plots over one source (linked selection) sharing x (linked panning); Python echoes all it hears."""
    # A 10 x 10 grid of points at integer coordinates 0..9: easy to aim at.
    gx, gy = np.meshgrid(np.arange(10.0), np.arange(10.0))
    source = ColumnDataSource(data={"x": gx.ravel(), "y": gy.ravel(), "v": np.arange(100.0) * 1.5}, name="source")
    x_range = Range1d(start=-1, end=10, name="x_range")
    main = figure(
        title="tools",
        x_range=x_range,
        y_range=Range1d(start=-1, end=10, name="y_range"),
        tools=TOOLS,
        tooltips=[("point", "(@x{0}, @y{0})"), ("v", "@v{0.0}")],
        width=520,
        height=420,
        name="main",
    )
    # Legends beside the frames: inside, they covered grid points.
    main.add_layout(Legend(), "right")
    main.scatter(
        "x", "y", source=source, size=12, legend_label="grid", nonselection_alpha=0.15, selection_color="#d62728"
    )
    main.legend.click_policy = "hide"
    linked = figure(title="linked", x_range=x_range, tools="pan,reset,box_select", width=360, height=420, name="linked")
    linked.add_layout(Legend(), "right")
    values = linked.scatter(
        "x", "v", source=source, size=6, color="#2ca02c", selection_color="#d62728", legend_label="values"
    )
    linked.legend.click_policy = "mute"
    heard = Div(text="[]", name="heard")
    selected = Div(text="[]", name="selected")
    ranges = Div(text="", name="ranges")
    shown = Div(text="grid shown", name="shown")
    muted = Div(text="values heard", name="muted")
    log: list[dict[str, Any]] = []

    def record(event: Any) -> None:
        entry = {"event": event.event_name}
        for attr in ("x", "y", "sx", "sy", "x0", "x1", "y0", "y1", "delta", "final"):
            if hasattr(event, attr) and getattr(event, attr) is not None:
                entry[attr] = getattr(event, attr)
        if hasattr(event, "geometry"):
            entry["geometry"] = event.geometry["type"]
        log.append(entry)
        heard.text = json.dumps(log[-30:])

    for name in EVENTS:
        main.on_event(name, record)

    def on_selection(attr: str, old: list[int], new: list[int]) -> None:
        selected.text = json.dumps(list(new))

    def on_range(attr: str, old: float, new: float) -> None:
        ranges.text = json.dumps([x_range.start, x_range.end, main.y_range.start, main.y_range.end])

    source.selected.on_change("indices", on_selection)
    grid = main.renderers[0]
    grid.on_change("visible", lambda attr, old, new: setattr(shown, "text", f"grid {'shown' if new else 'hidden'}"))
    values.on_change("muted", lambda attr, old, new: setattr(muted, "text", f"values {'muted' if new else 'heard'}"))
    for model in (x_range, main.y_range):
        model.on_change("start", on_range)
        model.on_change("end", on_range)
    doc.add_root(Column(Row(main, linked), heard, selected, ranges, shown, muted, name="layout"))
    doc.title = "plot tools"


# 3 Dec 2026 13:05:16 UTC in ms since the epoch: the datetime plots start on the two seconds around it.
DATETIME_CENTRE = 1_796_303_116_000
# The context line: one pattern per resolution, naming the unit above the tick labels'.
CONTEXT = DatetimeTickFormatter(
    milliseconds="%H:%M:%S",
    seconds="%H:%M",
    minsec="%b %d %H:%M",
    minutes="%b %d, %Y",
    hourmin="%b %d, %Y",
    hours="%b %d, %Y",
    days="%Y",
    months="",
    years="",
)


def datetime_axes(doc: Document) -> None:
    """Two plots over one x range spanning two seconds: default datetime labels, and labels with a context line."""
    t = DATETIME_CENTRE + np.linspace(-2 * 365 * 86_400_000, 2 * 365 * 86_400_000, 4001)
    source = ColumnDataSource(data={"t": t, "y": np.sin(np.arange(t.size) / 7.0)})
    x_range = Range1d(start=DATETIME_CENTRE - 1000, end=DATETIME_CENTRE + 1000, name="x_range")
    plots = []
    for name, formatter in (("plain", None), ("context", DatetimeTickFormatter(context=CONTEXT))):
        p = figure(
            title=f"datetime axis ({name})",
            x_axis_type="datetime",
            x_range=x_range,
            tools="xwheel_zoom,reset",
            active_scroll="xwheel_zoom",
            width=640,
            height=200,
            name=name,
        )
        p.line("t", "y", source=source)
        if formatter is not None:
            p.xaxis.formatter = formatter
        plots.append(p)
    doc.add_root(Column(*plots, name="layout"))
    doc.title = "datetime axes"


def datetime_objects(doc: Document) -> None:
    """Python datetimes and dates in list columns, as Bokeh apps write them, on datetime axes; one more streamed."""
    start = dt.datetime(2026, 12, 3, 13, 5, 15)  # naive: read as UTC, as Bokeh reads it
    times = ColumnDataSource(data={"t": [start + dt.timedelta(seconds=s) for s in range(3)], "v": [1.0, 3.0, 2.0]})
    days = ColumnDataSource(data={"d": [dt.date(2026, 12, day) for day in (1, 2, 3)], "v": [5.0, 4.0, 6.0]})
    clock = figure(x_axis_type="datetime", tooltips=[("at", "@t{%H:%M:%S}")], width=500, height=200, name="clock")
    clock.hover.formatters = {"@t": "datetime"}
    clock.scatter("t", "v", source=times, size=12)
    calendar = figure(x_axis_type="datetime", width=500, height=200, name="calendar")
    calendar.line("d", "v", source=days)

    def more() -> None:
        times.stream({"t": [start + dt.timedelta(seconds=3)], "v": [4.0]})

    doc.add_next_tick_callback(more)
    doc.add_root(Column(clock, calendar, name="layout"))
    doc.title = "datetime objects"


def plotting_doc(doc: Document) -> None:
    """The ``?example=<n>``-th Python example of docs/plotting.md, as its reader pastes it into an app."""
    from tests.document.test_plotting_docs import EXAMPLES

    [number] = doc.session_context.arguments["example"]
    namespace: dict[str, Any] = {}
    exec(compile(EXAMPLES[int(number)], "docs/plotting.md", "exec"), namespace)  # the page's own code
    if callable(namespace.get("modify_doc")):
        namespace["modify_doc"](doc)
    else:  # a fragment that builds plots: show them all
        plots = [value for value in namespace.values() if isinstance(value, Plot)]
        doc.add_root(Column(*plots))


def whiskers(doc: Document) -> None:
    """Three vertical whiskers on fixed ranges, a point on one; ``?upper_head=none`` leaves their upper ends bare."""
    source = ColumnDataSource(data={"x": [2.0, 5.0, 8.0], "lower": [2.0, 3.0, 1.5], "upper": [7.0, 8.0, 6.5]})
    p = figure(
        title="whiskers",
        x_range=Range1d(start=0, end=10),
        y_range=Range1d(start=0, end=10),
        width=420,
        height=360,
        name="plot",
    )
    whisker = Whisker(source=source, base="x", lower="lower", upper="upper", name="whisker")
    if doc.session_context.arguments.get("upper_head") == ["none"]:
        whisker.upper_head = None
    p.add_layout(whisker)
    # A point on the middle whisker, added after it: drawn over it all the same (its level).
    p.scatter([5.0], [4.0], size=16, color="#1f77b4", name="point")
    doc.add_root(p)
    doc.title = "whiskers"


def heads(doc: Document) -> None:
    """Heads at line_alpha 1 and 0.3: a whisker's caps (x=3), normal heads (x=7); a dashed open head (x=5)."""
    p = figure(
        title="heads",
        x_range=Range1d(start=0, end=10),
        y_range=Range1d(start=0, end=10),
        width=420,
        height=360,
        name="plot",
    )
    source = ColumnDataSource(data={"x": [3.0], "lower": [2.5], "upper": [7.5]})
    opaque_tee = TeeHead(size=20, line_width=3)
    light_tee = TeeHead(size=20, line_width=3, line_alpha=0.3)
    p.add_layout(
        Whisker(source=source, base="x", lower="lower", upper="upper", lower_head=opaque_tee, upper_head=light_tee)
    )
    opaque, light = NormalHead(size=20), NormalHead(size=20, line_alpha=0.3, fill_alpha=0.3)
    p.add_layout(Arrow(x_start=7, y_start=2.5, x_end=7, y_end=7.5, start=opaque, end=light))
    dashed = OpenHead(size=20, line_width=3, line_dash=[4, 3])
    p.add_layout(Arrow(x_start=5, y_start=2.5, x_end=5, y_end=7.5, end=dashed))
    doc.add_root(p)
    doc.title = "heads"
