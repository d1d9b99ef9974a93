"""A scatter whose box or lasso selection is histogrammed along each axis by Python (a script app)."""

from __future__ import annotations

from typing import Any

import numpy as np
from bokeh.io import curdoc
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource
from bokeh.plotting import figure

rng = np.random.default_rng(2024)
X = np.concatenate([rng.normal(2.0, 1.0, 700), rng.normal(-1.5, 0.7, 300)])
Y = np.concatenate([rng.normal(1.0, 0.8, 700), rng.normal(-1.0, 1.2, 300)])
X_EDGES = np.linspace(-4.5, 6.0, 36)
Y_EDGES = np.linspace(-5.0, 4.5, 36)

points = ColumnDataSource(data={"x": X, "y": Y}, name="points")
scatter = figure(
    width=520,
    height=520,
    tools="box_select,lasso_select,reset",
    active_drag="box_select",
    x_range=(X_EDGES[0], X_EDGES[-1]),
    y_range=(Y_EDGES[0], Y_EDGES[-1]),
    title="select points: drag a box or a lasso",
    toolbar_location="above",
    name="scatter",
)
scatter.scatter("x", "y", source=points, size=4, color="#3a5785", alpha=0.6, selection_color="#d62728")


def _histogram_figure(values: np.ndarray, edges: np.ndarray, vertical: bool, name: str) -> ColumnDataSource:
    """Draw the histogram of every point in grey; return the source of the selection's bars."""
    counts, _ = np.histogram(values, bins=edges)
    selected = ColumnDataSource(data={"low": edges[:-1], "high": edges[1:], "count": np.zeros(len(counts))}, name=name)
    if vertical:
        plot = figure(width=200, height=520, y_range=scatter.y_range, x_range=(0, counts.max() * 1.1), tools="")
        plot.quad(left=0, right=counts, bottom=edges[:-1], top=edges[1:], color="#dddddd", line_color="#999999")
        plot.quad(left=0, right="count", bottom="low", top="high", source=selected, color="#d62728", alpha=0.7)
    else:
        plot = figure(width=520, height=200, x_range=scatter.x_range, y_range=(0, counts.max() * 1.1), tools="")
        plot.quad(bottom=0, top=counts, left=edges[:-1], right=edges[1:], color="#dddddd", line_color="#999999")
        plot.quad(bottom=0, top="count", left="low", right="high", source=selected, color="#d62728", alpha=0.7)
    plot.toolbar_location = None
    figures[name] = plot
    return selected


figures: dict[str, Any] = {}
x_selected = _histogram_figure(X, X_EDGES, vertical=False, name="x_selected")
y_selected = _histogram_figure(Y, Y_EDGES, vertical=True, name="y_selected")


def histogram_selection(attr: str, old: Any, new: Any) -> None:
    chosen = np.asarray(new, dtype=int)
    x_selected.data["count"] = np.histogram(X[chosen], bins=X_EDGES)[0]
    y_selected.data["count"] = np.histogram(Y[chosen], bins=Y_EDGES)[0]


points.selected.on_change("indices", histogram_selection)

curdoc().add_root(column(row(scatter, figures["y_selected"]), figures["x_selected"]))
curdoc().title = "Selection histogram"
