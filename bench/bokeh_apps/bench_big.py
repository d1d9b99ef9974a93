"""bench_big (Bokeh): the benchmark document with a 1,000,000-point source."""

import numpy as np
from bokeh.io import curdoc
from bokeh.models import ColumnDataSource, Slider

POINTS = 1_000_000

x = np.linspace(0, 10, POINTS)
source = ColumnDataSource(data={"x": x, "y": np.sin(x / 10)}, name="source")
slider = Slider(start=0, end=100, value=1, step=1, name="slider")


def update(attr, old, new):
    source.data["y"] = np.sin(x * new / 10)


slider.on_change("value", update)
curdoc().add_root(slider)
curdoc().add_root(source)
