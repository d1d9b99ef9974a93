"""weather: a year of daily temperatures per city: records, averages, actuals (Bokeh's weather, made-up data)."""

from __future__ import annotations

import numpy as np

from docsync.document import Document
from docsync.document.models import Column, ColumnDataSource, Legend, Row, Select
from docsync.plotting import figure

from .sample_data import CITIES, weather

STATS = ("record", "average", "actual")


def dataset(city: str, distribution: str) -> dict[str, np.ndarray]:
    """The plot's columns: left/right edges of each day and the bottoms/tops of each band."""
    raw = weather(city)
    day = 86_400_000.0
    data: dict[str, np.ndarray] = {}
    for stat in STATS:
        lo, hi = raw[f"{stat}_min"], raw[f"{stat}_max"]
        if distribution == "Smoothed":
            kernel = np.ones(9) / 9
            lo = np.convolve(np.pad(lo, 4, mode="edge"), kernel, mode="valid")
            hi = np.convolve(np.pad(hi, 4, mode="edge"), kernel, mode="valid")
        data[f"{stat}_bottom"], data[f"{stat}_top"] = lo, hi
    start = raw["date"].astype("datetime64[ms]").astype(np.int64).astype(np.float64)
    data["left"] = start + 0.1 * day
    data["right"] = start + 0.9 * day
    return data


def modify_doc(doc: Document) -> None:
    """Build the weather app."""
    city = Select(value="Austin", title="City", options=sorted(CITIES), name="city")
    distribution = Select(value="Discrete", title="Distribution", options=["Discrete", "Smoothed"], name="distribution")
    source = ColumnDataSource(data=dataset(city.value, distribution.value), name="source")
    p = figure(x_axis_type="datetime", width=800, tools="", toolbar_location=None, name="plot",
               title=f"Weather data for {city.value}")  # fmt: skip
    colors = {"record": "#fdd0a2", "average": "#fc8d59", "actual": "#b30000"}
    # Over the frame in one row: inside, it covered the record band whatever corner it took; beside
    # the frame, it took a third of the plot's width on a phone.
    p.add_layout(Legend(location="center", orientation="horizontal"), "above")
    for stat in STATS:
        p.quad(top=f"{stat}_top", bottom=f"{stat}_bottom", left="left", right="right", color=colors[stat],
               source=source, legend_label=stat.title())  # fmt: skip
    p.xaxis.axis_label = None
    p.yaxis.axis_label = "Temperature (F)"
    p.axis.axis_label_text_font_style = "bold"
    p.grid.grid_line_alpha = 0.3

    def update(attr: str, old: str, new: str) -> None:
        source.data = dataset(city.value, distribution.value)
        p.title.text = f"Weather data for {city.value}"

    city.on_change("value", update)
    distribution.on_change("value", update)
    doc.add_root(Row(p, Column(city, distribution, width=220), name="layout"))
    doc.title = "Weather"
