"""stream: a periodic callback streams a random walk into a line plot, keeping 300 points."""

from __future__ import annotations

import numpy as np

from docsync.document import Document
from docsync.document.models import Column, ColumnDataSource, DataRange1d, Div, Toggle
from docsync.plotting import figure

ROLLOVER = 300
LABELS = {True: "Streaming: click to pause", False: "Paused: click to resume"}


def modify_doc(doc: Document) -> None:
    """Build the stream app."""
    rng = np.random.default_rng()
    source = ColumnDataSource(data={"t": np.zeros(0), "v": np.zeros(0)}, name="source")
    plot = figure(
        title="random walk, streamed every 100 ms",
        x_axis_label="t",
        y_axis_label="value",
        x_range=DataRange1d(follow="end", follow_interval=ROLLOVER, range_padding=0),
        width=None,
        height=300,
        name="plot",
    )
    plot.line("t", "v", source=source, color="#d62728", line_width=2)
    plot.scatter("t", "v", source=source, size=4, color="#d62728")
    running = Toggle(label=LABELS[True], active=True, name="running")
    info = Div(text="0 points", name="info")
    state = {"t": 0, "v": 0.0}

    def relabel(attr: str, old: bool, new: bool) -> None:
        running.label = LABELS[new]  # the button says what is happening, and what a click does

    running.on_change("active", relabel)

    def tick() -> None:
        if not running.active:
            return
        steps = rng.normal(0, 1, 5).cumsum() + state["v"]
        times = np.arange(state["t"], state["t"] + 5, dtype=np.float64)
        state["t"] += 5
        state["v"] = float(steps[-1])
        source.stream({"t": times, "v": steps}, rollover=ROLLOVER)
        info.text = f"{state['t']} points streamed, {source.length} shown"

    doc.add_periodic_callback(tick, 100)
    doc.add_root(Column(running, info, plot, name="layout"))
    doc.title = "stream"
