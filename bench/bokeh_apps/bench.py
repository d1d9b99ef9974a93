"""bench (Bokeh): slider ``slider`` and a 1000-point source ``source``; y = sin(x * value / 10).

The Bokeh twin of docsync's ``project/examples/bench.py``; run by ``bokeh serve``.
"""

import numpy as np
from bokeh.io import curdoc
from bokeh.models import ColumnDataSource, Slider

POINTS = 1000


def make_bench_doc(doc, points):
    """Fill ``doc`` with the benchmark's slider and source of ``points`` points."""
    x = np.linspace(0, 10, points)
    source = ColumnDataSource(data={"x": x, "y": np.sin(x / 10)}, name="source")
    slider = Slider(start=0, end=100, value=1, step=1, name="slider")

    def update(attr, old, new):
        source.data["y"] = np.sin(x * new / 10)

    slider.on_change("value", update)
    # Bokeh's Column takes only UI elements, so the source is a root of its own.
    doc.add_root(slider)
    doc.add_root(source)


make_bench_doc(curdoc(), POINTS)
