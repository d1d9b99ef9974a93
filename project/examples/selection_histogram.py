"""selection_histogram: a scatter with marginal histograms that follow the selection (Bokeh's example)."""

from __future__ import annotations

import numpy as np

from docsync.document import Document
from docsync.document.models import Column, ColumnDataSource, Row
from docsync.plotting import figure

LINE = {"color": "#3A5785", "line_color": None}


def modify_doc(doc: Document) -> None:
    """Build the selection histogram app."""
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.normal(2, 1, 800), rng.normal(-2, 0.5, 600), rng.normal(0, 2, 600)])
    y = np.concatenate([rng.normal(1, 0.8, 800), rng.normal(-1, 1.2, 600), rng.normal(2, 0.6, 600)])
    source = ColumnDataSource(data={"x": x, "y": y}, name="source")
    main = figure(tools="pan,wheel_zoom,box_select,lasso_select,reset", width=600, height=600,
                  min_border=10, title="Linked histograms", active_drag="lasso_select", name="main")  # fmt: skip
    main.scatter("x", "y", source=source, size=3, color="#3A5785", alpha=0.6)

    hhist, hedges = np.histogram(x, bins=20)
    hmax = hhist.max() * 1.1
    ph = figure(toolbar_location=None, width=main.width, height=200, x_range=main.x_range, y_range=(-hmax, hmax),
                min_border=10, y_axis_location="right", name="hist_x")  # fmt: skip
    ph.xgrid.grid_line_color = None
    ph.quad(bottom=0, left=hedges[:-1], right=hedges[1:], top=hhist, color="white", line_color="#3A5785")
    hh1 = ph.quad(bottom=0, left=hedges[:-1], right=hedges[1:], top=np.zeros(20), alpha=0.5, **LINE)
    hh2 = ph.quad(bottom=0, left=hedges[:-1], right=hedges[1:], top=np.zeros(20), alpha=0.1, **LINE)

    vhist, vedges = np.histogram(y, bins=20)
    vmax = vhist.max() * 1.1
    pv = figure(toolbar_location=None, width=200, height=main.height, x_range=(-vmax, vmax), y_range=main.y_range,
                min_border=10, name="hist_y")  # fmt: skip
    pv.ygrid.grid_line_color = None
    pv.quad(left=0, bottom=vedges[:-1], top=vedges[1:], right=vhist, color="white", line_color="#3A5785")
    vh1 = pv.quad(left=0, bottom=vedges[:-1], top=vedges[1:], right=np.zeros(20), alpha=0.5, **LINE)
    vh2 = pv.quad(left=0, bottom=vedges[:-1], top=vedges[1:], right=np.zeros(20), alpha=0.1, **LINE)

    def update(attr: str, old: list[int], new: list[int]) -> None:
        inds = np.asarray(new, dtype=np.int64)
        if len(inds) == 0 or len(inds) == len(x):
            hhist1, hhist2 = np.zeros(20), np.zeros(20)
            vhist1, vhist2 = np.zeros(20), np.zeros(20)
        else:
            others = np.ones(len(x), dtype=bool)
            others[inds] = False
            hhist1, _ = np.histogram(x[inds], bins=hedges)
            vhist1, _ = np.histogram(y[inds], bins=vedges)
            hhist2, _ = np.histogram(x[others], bins=hedges)
            vhist2, _ = np.histogram(y[others], bins=vedges)
        hh1.data_source.data["top"] = hhist1.astype(np.float64)
        hh2.data_source.data["top"] = -hhist2.astype(np.float64)
        vh1.data_source.data["right"] = vhist1.astype(np.float64)
        vh2.data_source.data["right"] = -vhist2.astype(np.float64)

    source.selected.on_change("indices", update)
    doc.add_root(Column(Row(main, pv), Row(ph), name="layout"))
    doc.title = "Selection Histogram"
