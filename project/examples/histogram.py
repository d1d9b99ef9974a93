"""histogram: a distribution's histogram and a 2-D histogram as a heatmap, bins and sample size by slider."""

from __future__ import annotations

import numpy as np

from docsync.document import Document
from docsync.document.models import ColorBar, Column, ColumnDataSource, LinearColorMapper, Row, Select, Slider
from docsync.plotting import figure
from docsync.plotting.palettes import Viridis256

DISTRIBUTIONS = {
    "normal": lambda rng, n: rng.normal(0, 1, n),
    "log-normal": lambda rng, n: rng.lognormal(0, 0.6, n),
    "bimodal": lambda rng, n: np.concatenate([rng.normal(-2, 0.7, n // 2), rng.normal(1.5, 1, n - n // 2)]),
    "uniform": lambda rng, n: rng.uniform(-3, 3, n),
}


def modify_doc(doc: Document) -> None:
    """Build the histogram app."""
    kind = Select(title="distribution", value="bimodal", options=list(DISTRIBUTIONS), name="kind")
    bins = Slider(title="bins", start=5, end=100, step=1, value=40, name="bins")
    size = Slider(title="sample size", start=100, end=20000, step=100, value=5000, name="size")
    hist = ColumnDataSource(data={"left": [], "right": [], "top": []}, name="hist")
    heat = ColumnDataSource(
        data={"image": [np.zeros((2, 2))], "x": [0.0], "y": [0.0], "dw": [1.0], "dh": [1.0]}, name="heat"
    )
    p = figure(title="histogram", tools="pan,wheel_zoom,box_zoom,reset,hover", width=520, height=400, name="hist_plot",
               tooltips=[("bin", "@left{0.00} to @right{0.00}"), ("count", "@top")])  # fmt: skip
    p.quad(top="top", bottom=0, left="left", right="right", source=hist, fill_color="#4c78a8", line_color="white",
           hover_fill_color="#f58518")  # fmt: skip
    p.y_range.start = 0  # bars stand on the x axis, not on the range's padding below zero
    mapper = LinearColorMapper(palette=Viridis256, low=0)
    h = figure(
        title="2-D histogram (x against a noisy copy)", width=520, height=400, name="heat_plot", tools="pan,reset"
    )
    h.image(image="image", x="x", y="y", dw="dw", dh="dh", color_mapper=mapper, source=heat)
    h.add_layout(ColorBar(color_mapper=mapper, width=12, title="count"), "right")

    def update(attr: str = "", old: object = None, new: object = None) -> None:
        rng = np.random.default_rng(11)
        values = DISTRIBUTIONS[kind.value](rng, int(size.value))
        counts, edges = np.histogram(values, bins=int(bins.value))
        hist.data = {"left": edges[:-1], "right": edges[1:], "top": counts.astype(np.float64)}
        other = values + rng.normal(0, 0.8, values.size)
        grid, xe, ye = np.histogram2d(values, other, bins=int(bins.value))
        heat.data = {
            "image": [grid.T.copy()],
            "x": [xe[0]],
            "y": [ye[0]],
            "dw": [xe[-1] - xe[0]],
            "dh": [ye[-1] - ye[0]],
        }
        mapper.high = float(grid.max())

    for control in (kind, bins, size):
        control.on_change("value", update)
    update()
    doc.add_root(Column(Row(kind, bins, size), Row(p, h), name="layout"))
    doc.title = "Histogram"
