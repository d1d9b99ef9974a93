"""Cars of the autompg data set: four selects choose the axes, the colour and the size (a script app)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from bokeh.io import curdoc
from bokeh.layouts import column, row
from bokeh.models import Select
from bokeh.palettes import Viridis6
from bokeh.plotting import figure
from bokeh.sampledata.autompg import autompg

cars = autompg.drop(columns=["name"]).copy()
cars["origin"] = cars["origin"].map({1: "North America", 2: "Europe", 3: "Asia"})
for categorical in ("cyl", "yr"):
    cars[categorical] = cars[categorical].astype(str)

COLUMNS = sorted(cars.columns)
CATEGORICAL = [name for name in COLUMNS if not pd.api.types.is_numeric_dtype(cars[name])]
CONTINUOUS = [name for name in COLUMNS if name not in CATEGORICAL]
SIZES = np.linspace(6, 26, 6)
NONE = "(none)"

x_select = Select(title="x axis", value="mpg", options=COLUMNS, name="x")
y_select = Select(title="y axis", value="hp", options=COLUMNS, name="y")
colour_select = Select(title="colour", value=NONE, options=[NONE, *CONTINUOUS], name="colour")
size_select = Select(title="size", value=NONE, options=[NONE, *CONTINUOUS], name="size")


def _bins(name: str) -> np.ndarray:
    """Each car's bin (0..5) of column ``name``."""
    return pd.cut(cars[name].to_numpy(dtype=float), len(SIZES), labels=False)


def build_figure() -> Any:
    """A new scatter of the chosen columns."""
    xs, ys = cars[x_select.value].to_numpy(), cars[y_select.value].to_numpy()
    ranges: dict[str, Any] = {}
    if x_select.value in CATEGORICAL:
        ranges["x_range"] = sorted(set(xs))
    if y_select.value in CATEGORICAL:
        ranges["y_range"] = sorted(set(ys))
    plot = figure(
        height=520,
        width=640,
        title=f"{y_select.value} against {x_select.value}",
        tools="pan,box_zoom,hover,reset",
        **ranges,
    )
    plot.xaxis.axis_label = x_select.value
    plot.yaxis.axis_label = y_select.value
    if x_select.value in CATEGORICAL:
        plot.xaxis.major_label_orientation = np.pi / 4
    sizes: Any = 10
    if size_select.value != NONE:
        sizes = SIZES[_bins(size_select.value)]
    colours: Any = "#2b83ba"
    if colour_select.value != NONE:
        colours = [Viridis6[b] for b in _bins(colour_select.value)]
    plot.scatter(x=xs, y=ys, size=sizes, color=colours, line_color="white", alpha=0.7, hover_alpha=1.0)
    return plot


def rebuild(attr: str, old: Any, new: Any) -> None:
    layout.children[1] = build_figure()


for select in (x_select, y_select, colour_select, size_select):
    select.on_change("value", rebuild)

controls = column(x_select, y_select, colour_select, size_select, width=200)
layout = row(controls, build_figure(), name="layout")
curdoc().add_root(layout)
curdoc().title = "Crossfilter"
