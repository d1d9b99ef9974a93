"""glyphs: one small plot per glyph family, mapper and annotation docsync draws."""

from __future__ import annotations

import numpy as np

from docsync.document import Document
from docsync.document.models import (
    Arrow,
    Band,
    BoxAnnotation,
    ColorBar,
    ColumnDataSource,
    Label,
    LabelSet,
    Legend,
    LinearAxis,
    LinearColorMapper,
    NormalHead,
    Range1d,
    Row,
    Span,
    Whisker,
)
from docsync.plotting import factor_cmap, figure
from docsync.plotting.palettes import Category10, Category20_20, Viridis256

SIZE = {"width": 360, "height": 300}
MARKERS = [
    "circle",
    "square",
    "triangle",
    "diamond",
    "star",
    "hex",
    "inverted_triangle",
    "plus",
    "cross",
    "x",
    "asterisk",
    "circle_x",
]


def lines() -> object:
    x = np.linspace(0, 10, 60)
    p = figure(title="Line, Step, MultiLine, Segment", width=460, height=SIZE["height"])
    # A legend beside the frame covers no data; the legend_labels below fill it.
    p.add_layout(Legend(location="center"), "right")
    p.line(x, np.sin(x) + 2, line_width=2, legend_label="line")
    p.step(x[::4], np.cos(x[::4]), mode="after", color="#ff7f0e", legend_label="step")
    p.multi_line(
        [[0, 3, 6], [4, 7, 10]],
        [[-2, -1.2, -2], [-2.4, -1.6, -2.4]],
        color="#2ca02c",
        line_width=3,
        legend_label="multi_line",
    )
    p.segment(
        [1, 5],
        [3.4, 3.4],
        [3, 8],
        [2.6, 3.6],
        color="#d62728",
        line_width=2,
        line_dash="dashed",
        legend_label="segment",
    )
    return p


def markers() -> object:
    n = len(MARKERS)
    source = ColumnDataSource(
        data={"x": np.arange(n) % 4, "y": np.arange(n) // 4, "m": MARKERS, "c": Category20_20[:n]}
    )
    p = figure(title="Scatter markers", x_range=(-0.6, 3.6), y_range=(-0.6, 2.8), **SIZE)
    p.scatter("x", "y", marker="m", fill_color="c", line_color="#333333", size=24, source=source)
    p.add_layout(
        LabelSet(source=source, x="x", y="y", text="m", y_offset=-22, text_align="center", text_font_size="10px")
    )
    return p


def bars() -> object:
    fruits = ["apples", "pears", "plums", "figs"]
    data = {"fruits": fruits, "2023": [2, 1, 4, 3], "2024": [5, 3, 3, 2], "2025": [3, 2, 4, 4]}
    years = ["2023", "2024", "2025"]
    p = figure(x_range=fruits, title="VBar stacked", tools="hover", tooltips="$name @fruits: @$name", **SIZE)
    p.add_layout(Legend(location="top_left", orientation="horizontal", margin=4), "above")
    p.vbar_stack(years, x="fruits", width=0.8, source=data, color=Category10[3], legend_label=years, name=years)
    return p


def hbars() -> object:
    factors = [("Q1", "jan"), ("Q1", "feb"), ("Q1", "mar"), ("Q2", "apr"), ("Q2", "may"), ("Q2", "jun")]
    p = figure(y_range=factors, title="HBar, nested factors", **SIZE)
    p.hbar(
        y=factors,
        right=[10, 12, 16, 9, 10, 8],
        height=0.7,
        fill_color=factor_cmap("y", ["#718dbf", "#e84d60"], ["Q1", "Q2"], end=1),
    )
    return p


def histogram() -> object:
    values = np.random.default_rng(4).normal(size=2000)
    counts, edges = np.histogram(values, bins=30)
    p = figure(title="Quad histogram + Span", **SIZE)
    p.quad(top=counts, bottom=0, left=edges[:-1], right=edges[1:], fill_color="#4c78a8", line_color="white")
    p.add_layout(Span(location=0, dimension="height", line_color="#d62728", line_width=2, line_dash="dashed"))
    return p


def heatmap() -> object:
    xs, ys = np.meshgrid(np.arange(12), np.arange(8))
    v = np.sin(xs / 2) * np.cos(ys / 3)
    mapper = LinearColorMapper(palette=Viridis256, low=-1, high=1)
    p = figure(title="Rect heatmap + ColorBar", x_range=(-0.5, 11.5), y_range=(-0.5, 7.5), **SIZE)
    source = {"x": xs.ravel(), "y": ys.ravel(), "v": v.ravel()}
    p.rect("x", "y", 1, 1, fill_color={"field": "v", "transform": mapper}, line_color=None, source=source)
    p.add_layout(ColorBar(color_mapper=mapper, width=12), "right")
    return p


def areas() -> object:
    x = np.arange(20.0)
    rng = np.random.default_rng(5)
    data = {"x": x, "a": rng.uniform(1, 3, 20), "b": rng.uniform(1, 3, 20), "c": rng.uniform(1, 3, 20)}
    p = figure(title="VArea stacked + Patch", **SIZE)
    p.varea_stack(["a", "b", "c"], x="x", source=data, color=Category10[3], alpha=0.8)
    p.patch([2, 6, 10, 6], [9, 11, 9, 7.5], fill_color="#ffffff", fill_alpha=0.7, line_color="#333333", line_width=2)
    return p


def pies() -> object:
    shares = np.array([35, 25, 20, 12, 8])
    ends = np.cumsum(shares) / shares.sum() * 2 * np.pi
    starts = np.concatenate([[0], ends[:-1]])
    p = figure(
        title="Wedge and AnnularWedge",
        x_range=(-2.4, 2.4),
        y_range=(-1.3, 1.3),
        tools="hover",
        tooltips="@share%",
        match_aspect=True,
        **SIZE,
    )
    colors = Category10[5]
    source = {"x": np.full(5, -1.1), "y": np.zeros(5), "start": starts, "end": ends, "share": shares, "color": colors}
    p.wedge(
        x="x",
        y="y",
        radius=1,
        start_angle="start",
        end_angle="end",
        fill_color="color",
        line_color="white",
        source=source,
    )
    p.annular_wedge(1.2, 0, 0.45, 1, starts, ends, fill_color=colors, line_color="white")
    p.xaxis.visible = False
    p.yaxis.visible = False
    p.xgrid.visible = False
    p.ygrid.visible = False
    return p


def image() -> object:
    x = np.linspace(0, 10, 200)
    xx, yy = np.meshgrid(x, x)
    d = np.sin(xx) * np.cos(yy)
    p = figure(title="Image + Text", x_range=(0, 10), y_range=(0, 10), **SIZE)
    p.image(image=[d], x=0, y=0, dw=10, dh=10, palette=Viridis256)
    p.text([2, 6], [8, 2], ["hot", "cold"], text_color="white", text_font_size="20px", text_align="center")
    return p


def annotations() -> object:
    x = np.arange(10.0)
    data = ColumnDataSource(data={"x": x, "y": x**1.5, "lower": x**1.5 - 3, "upper": x**1.5 + 3})
    p = figure(title="Band, Whisker, Box, Label, Arrow", **SIZE)
    p.add_layout(Band(source=data, base="x", lower="lower", upper="upper"))
    p.add_layout(Whisker(source=data, base="x", lower="lower", upper="upper"))
    p.scatter("x", "y", source=data, size=7)
    p.add_layout(BoxAnnotation(left=6, right=8, fill_color="green", fill_alpha=0.1))
    p.add_layout(Label(x=0.5, y=22, text="a Label", text_font_size="13px"))
    p.add_layout(Arrow(x_start=2, y_start=20, x_end=4, y_end=9, end=NormalHead(size=10)))
    return p


def log_and_time() -> object:
    days = np.arange("2023-01-01", "2024-07-01", dtype="datetime64[D]")
    growth = np.exp(np.linspace(0, 9, days.size))
    p = figure(title="datetime x, log y, twin linear y", x_axis_type="datetime", y_axis_type="log", **SIZE)
    p.add_layout(Legend(location="top_left", orientation="horizontal", margin=4), "below")
    p.line(days, growth, line_width=2, color="#9467bd", legend_label="growth (log)")
    p.extra_y_ranges["share"] = Range1d(start=0, end=100)
    p.add_layout(LinearAxis(y_range_name="share", axis_label="share (%)"), "right")
    share = 50 + 40 * np.sin(np.linspace(0, 6, days.size))
    p.line(days, share, y_range_name="share", color="#ff7f0e", line_dash="dashed", legend_label="share (right)")
    return p


def modify_doc(doc: Document) -> None:
    """Build the gallery."""
    plots = [
        lines(),
        markers(),
        bars(),
        hbars(),
        histogram(),
        heatmap(),
        areas(),
        pies(),
        image(),
        annotations(),
        log_and_time(),
    ]
    # One row that wraps: as many plots a line as the window holds, no gaps.
    doc.add_root(Row(*plots, name="layout"))
    doc.title = "glyphs"
