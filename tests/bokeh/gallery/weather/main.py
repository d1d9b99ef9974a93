"""A year of temperatures in a city: records, normals and actual readings on a datetime axis (a directory app)."""

from __future__ import annotations

from typing import Any

from bokeh.io import curdoc
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, Select
from bokeh.plotting import figure
from climate import CITIES, smoothed, temperatures

city = Select(title="city", value="Oslo", options=list(CITIES), name="city")
distribution = Select(title="distribution", value="discrete", options=["discrete", "smoothed"], name="distribution")
source = ColumnDataSource(data=ColumnDataSource.from_df(temperatures(city.value)), name="temperatures")

plot = figure(x_axis_type="datetime", width=820, height=480, tools="pan,xwheel_zoom,reset", name="plot")
bar = {"source": source, "width": 86_400_000 * 0.9, "line_color": None}
plot.vbar(x="date", bottom="record_min", top="record_max", color="#c6dbef", legend_label="record", **bar)
plot.vbar(x="date", bottom="average_min", top="average_max", color="#6baed6", legend_label="normal", **bar)
plot.vbar(x="date", bottom="actual_min", top="actual_max", color="#e6550d", alpha=0.8, legend_label="actual", **bar)
plot.yaxis.axis_label = "temperature (°C)"
plot.legend.location = "bottom_center"
plot.legend.orientation = "horizontal"


def update(attr: str, old: Any, new: Any) -> None:
    frame = temperatures(city.value)
    if distribution.value == "smoothed":
        frame = smoothed(frame)
    source.data = ColumnDataSource.from_df(frame)
    plot.title.text = f"Weather data for {city.value} ({distribution.value})"


city.on_change("value", update)
distribution.on_change("value", update)
update("value", None, None)

curdoc().add_root(row(column(city, distribution, width=200), plot))
curdoc().title = "Weather"
