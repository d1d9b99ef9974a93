"""A Bokeh server app, as `bokeh serve wave.py` runs it; docsync runs this file unchanged."""

import numpy as np
from bokeh.io import curdoc
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, Div, Slider
from bokeh.plotting import figure

x = np.linspace(0, 4 * np.pi, 200)
source = ColumnDataSource(data={"x": x, "y": np.sin(x)}, name="wave")
frequency = Slider(title="frequency", start=0.5, end=3, step=0.5, value=1, name="frequency")
status = Div(text="frequency 1.0", name="status")
plot = figure(height=250, width=500, title="sin(frequency · x)", name="plot")
plot.line("x", "y", source=source)


def update(attr, old, new):
    source.data = {"x": x, "y": np.sin(new * x)}
    status.text = f"frequency {new:.1f}"


frequency.on_change("value", update)
curdoc().add_root(column(frequency, status, plot))
curdoc().title = "Wave"
