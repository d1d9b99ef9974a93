"""crossfilter: explore a cars table by choosing what x, y, colour and size show (Bokeh's crossfilter example)."""

from __future__ import annotations

from typing import Any

import numpy as np

from docsync.document import Document
from docsync.document.models import Column, ColumnDataSource, Row, Select
from docsync.plotting import figure
from docsync.plotting.palettes import Inferno256, linear_palette

from .sample_data import autompg

DATA = autompg()
# As the original: cylinders and model years are categories (strings), not quantities
# (an axis of 4..8 cylinders had ticks at 5 and 7); the name is for tooltips only.
DATA["cyl"] = [str(int(v)) for v in DATA["cyl"]]
DATA["yr"] = [str(int(v)) for v in DATA["yr"]]
COLUMNS = sorted(name for name in DATA if name != "name")
DISCRETE = [name for name in COLUMNS if isinstance(DATA[name], list)]
CONTINUOUS = [name for name in COLUMNS if name not in DISCRETE]
SIZES = list(range(6, 22, 3))
COLORS = linear_palette(Inferno256, 11)[1:-1]


def _binned(values: np.ndarray, choices: list[Any]) -> list[Any]:
    edges = np.linspace(values.min(), values.max(), len(choices) + 1)[1:-1]
    return [choices[i] for i in np.digitize(values, edges)]


def create_figure(x: str, y: str, size: str, color: str) -> Any:
    """Build the scatter plot for the chosen columns (a new figure each time, as in the original)."""
    xs, ys = DATA[x], DATA[y]
    kw: dict[str, Any] = {"title": f"{x.title()} vs {y.title()}", "width": 800, "height": 600}
    if x in DISCRETE:
        kw["x_range"] = sorted(set(xs))  # type: ignore[arg-type]
    if y in DISCRETE:
        kw["y_range"] = sorted(set(ys))  # type: ignore[arg-type]
    p = figure(tools="pan,box_zoom,hover,reset", tooltips=[("name", "@name"), (x, "@x"), (y, "@y")], name="plot", **kw)
    p.xaxis.axis_label = x.title()
    p.yaxis.axis_label = y.title()
    if x in DISCRETE:
        p.xaxis.major_label_orientation = np.pi / 4
    sz = _binned(np.asarray(DATA[size]), SIZES) if size != "None" else [9] * len(xs)
    c = _binned(np.asarray(DATA[color]), COLORS) if color != "None" else ["#31AADE"] * len(xs)
    source = ColumnDataSource(data={"x": list(xs) if x in DISCRETE else xs, "y": list(ys) if y in DISCRETE else ys,
                                    "size": np.asarray(sz, dtype=float), "color": c, "name": DATA["name"]})  # fmt: skip
    p.scatter(
        "x",
        "y",
        source=source,
        size="size",
        color="color",
        line_color="white",
        alpha=0.6,
        hover_color="white",
        hover_alpha=0.5,
    )
    return p


def modify_doc(doc: Document) -> None:
    """Build the crossfilter app."""
    x = Select(title="X-Axis", value="mpg", options=COLUMNS, name="x")
    y = Select(title="Y-Axis", value="hp", options=COLUMNS, name="y")
    size = Select(title="Size", value="None", options=["None", *CONTINUOUS], name="size")
    color = Select(title="Color", value="None", options=["None", *CONTINUOUS], name="color")
    controls = Column(x, y, color, size, width=200)
    layout = Row(controls, create_figure(x.value, y.value, size.value, color.value), name="layout")

    def update(attr: str, old: str, new: str) -> None:
        layout.children[1] = create_figure(x.value, y.value, size.value, color.value)

    for control in (x, y, size, color):
        control.on_change("value", update)
    doc.add_root(layout)
    doc.title = "Crossfilter"
