"""Fertility against life expectancy by country, year by year; a play button animates the years (a directory app).

Data: the gapminder tables of ``bokeh_sampledata`` (shipped in its wheel).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from bokeh.io import curdoc
from bokeh.layouts import column, row
from bokeh.models import Button, ColumnDataSource, HoverTool, Label, Slider
from bokeh.palettes import Category10
from bokeh.plotting import figure
from bokeh.sampledata.gapminder import fertility, life_expectancy, population, regions
from bokeh.transform import factor_cmap

YEARS = [int(year) for year in fertility.columns]
REGIONS = sorted(regions["Group"].dropna().unique())
countries = fertility.index.intersection(life_expectancy.index).intersection(population.index)


def year_data(year: int) -> dict[str, Any]:
    """Each country's values in ``year`` (countries missing any of them are left out)."""
    frame = pd.DataFrame(
        {
            "fertility": fertility.loc[countries, str(year)],
            "life": life_expectancy.loc[countries, str(year)],
            "population": population.loc[countries, str(year)],
            "region": regions["Group"].reindex(countries),
        }
    ).dropna()
    return {
        "country": list(frame.index),
        "fertility": frame["fertility"].to_numpy(),
        "life": frame["life"].to_numpy(),
        "size": np.sqrt(frame["population"].to_numpy() / np.pi) / 150 + 3,
        "region": list(frame["region"]),
    }


source = ColumnDataSource(data=year_data(YEARS[0]), name="countries")
plot = figure(height=440, width=900, x_range=(0.5, 9), y_range=(20, 88), title="Gapminder", tools="reset", name="plot")
plot.xaxis.axis_label, plot.yaxis.axis_label = "children per woman", "life expectancy (years)"
year_label = Label(x=1.1, y=25, text=str(YEARS[0]), text_font_size="120px", text_color="#eeeeee", name="year_label")
plot.add_layout(year_label)
plot.scatter(
    "fertility",
    "life",
    size="size",
    source=source,
    fill_color=factor_cmap("region", Category10[10], REGIONS),
    fill_alpha=0.8,
    line_color="#7c7e71",
    legend_field="region",
)
plot.add_tools(HoverTool(tooltips="@country", show_arrow=False))
plot.add_layout(plot.legend[0], "right")  # beside the bubbles, not over them

year = Slider(start=YEARS[0], end=YEARS[-1], value=YEARS[0], step=1, title="Year", name="year")
play = Button(label="► Play", width=90, name="play")
playing: dict[str, Any] = {"callback": None}


def show_year(attr: str, old: Any, new: Any) -> None:
    year_label.text = str(new)
    source.data = year_data(new)


def advance() -> None:
    year.value = year.value + 1 if year.value < YEARS[-1] else YEARS[0]


def toggle() -> None:
    if playing["callback"] is None:
        play.label = "❚❚ Pause"
        playing["callback"] = curdoc().add_periodic_callback(advance, 250)
    else:
        play.label = "► Play"
        curdoc().remove_periodic_callback(playing["callback"])
        playing["callback"] = None


year.on_change("value", show_year)
play.on_event("button_click", toggle)
curdoc().add_root(column(plot, row(year, play)))
curdoc().title = "Gapminder"
