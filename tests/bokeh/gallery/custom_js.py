"""The browser recomputes the curve (``js_on_change`` + CustomJS); Python sees the data it sent (a script app).

No Python callback runs on the slider: its CustomJS rewrites the source's ``y`` in the
browser, BokehJS sends the new column to the server, and a Python callback on the
source's data reports what arrived.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from bokeh.io import curdoc
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, CustomJS, Div, Slider
from bokeh.plotting import figure

X = np.linspace(0.0, 1.0, 101)
source = ColumnDataSource(data={"x": X, "y": X.copy()}, name="curve")
plot = figure(width=440, height=440, x_range=(0, 1), y_range=(0, 1), title="y = x^power", name="plot")
plot.line("x", "y", source=source, line_width=3, color="#7b3294")

power = Slider(title="power", value=1.0, start=0.1, end=4.0, step=0.1, name="power")
seen = Div(text="Python has seen power 1.0", name="seen")
power.js_on_change(
    "value",
    CustomJS(
        args={"source": source},
        code="""
    const x = source.data.x
    const y = Array.from(x, (v) => Math.pow(v, cb_obj.value))
    source.data = {x: x, y: y}
""",
    ),
)


def data_arrived(attr: str, old: Any, new: Any) -> None:
    x, y = np.asarray(new["x"]), np.asarray(new["y"])
    # y = x ** p at x = 0.5, so p = log(y) / log(0.5).
    middle = int(np.argmin(np.abs(x - 0.5)))
    seen.text = f"Python has seen power {np.log(y[middle]) / np.log(0.5):.1f}"


source.on_change("data", data_arrived)
curdoc().add_root(row(column(power, seen, width=260), plot))
curdoc().title = "CustomJS"
