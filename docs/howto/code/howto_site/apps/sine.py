"""A Panel app (a slider, a Markdown pane, a plot) ported to docsync's own models."""

import numpy as np

from docsync.document.models import Column, ColumnDataSource, Markdown, Slider
from docsync.plotting import figure

x = np.linspace(0, 4 * np.pi, 200)


def modify_doc(doc):
    frequency = Slider(title="frequency", start=0.5, end=3, step=0.5, value=1, name="frequency")
    summary = Markdown(text="**frequency** 1.0", name="summary")
    source = ColumnDataSource(data={"x": x, "y": np.sin(x)})

    def update(attr, old, new):  # what pn.bind(...) or @param.depends did: runs in Python on each change
        source.data["y"] = np.sin(new * x)
        summary.text = f"**frequency** {new:.1f}"

    frequency.on_change("value", update)
    plot = figure(title="sin(frequency · x)", width=None, height=250)
    plot.line("x", "y", source=source)
    doc.add_root(Column(frequency, summary, plot, sizing_mode="stretch_width"))
