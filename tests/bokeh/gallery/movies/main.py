"""Films from a SQLite database, filtered by sliders, a select and a text box, with tooltips (a directory app).

The database's path is the app's first argument (``"argv"`` in the app's entry, as
``bokeh serve movies --args PATH``); ``database.py`` writes one.
"""

from __future__ import annotations

import sqlite3
import sys
from typing import Any

from bokeh.io import curdoc
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, Div, HoverTool, RangeSlider, Select, Slider, TextInput
from bokeh.plotting import figure

DATABASE = sys.argv[1]
GENRES = ["All", "Action", "Comedy", "Drama", "Documentary", "Horror", "Romance", "Science fiction", "Western"]
AXES = {
    "Tomato meter": "meter",
    "Rating": "rating",
    "Reviews": "reviews",
    "Box office ($M)": "box_office",
    "Runtime (min)": "runtime",
    "Year": "year",
}

reviews = Slider(title="minimum number of reviews", value=80, start=0, end=300, step=10, name="reviews")
years = RangeSlider(title="year released", value=(1970, 2020), start=1970, end=2020, step=1, name="years")
oscars = Slider(title="minimum number of Oscar wins", start=0, end=1, value=0, step=1, name="oscars")
genre = Select(title="genre", value="All", options=GENRES, name="genre")
director = TextInput(title="director's name contains", name="director")
x_axis = Select(title="x axis", options=list(AXES), value="Tomato meter", name="x_axis")
y_axis = Select(title="y axis", options=list(AXES), value="Box office ($M)", name="y_axis")
count = Div(name="count")

source = ColumnDataSource(
    data={"x": [], "y": [], "title": [], "year": [], "box_office": [], "colour": [], "alpha": []}, name="movies"
)
hover = HoverTool(tooltips=[("title", "@title"), ("year", "@year"), ("box office", "$@box_office{0,0.0} M")])
plot = figure(height=560, width=620, title="", tools=[hover, "pan,wheel_zoom,reset"], name="plot")
plot.scatter("x", "y", source=source, size=8, color="colour", line_color=None, fill_alpha="alpha")


def query() -> list[sqlite3.Row]:
    """The films the controls let through (a connection per call: callbacks run in worker threads)."""
    sql = (
        "SELECT * FROM movies WHERE reviews >= ? AND year BETWEEN ? AND ? AND oscars >= ?"
        " AND (? = 'All' OR genre = ?) AND director LIKE ? ORDER BY title"
    )
    low, high = years.value
    pattern = f"%{director.value.strip()}%"
    with sqlite3.connect(f"file:{DATABASE}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        return db.execute(sql, (reviews.value, low, high, oscars.value, genre.value, genre.value, pattern)).fetchall()


def update(attr: str, old: Any, new: Any) -> None:
    films = query()
    x, y = AXES[x_axis.value], AXES[y_axis.value]
    plot.xaxis.axis_label, plot.yaxis.axis_label = x_axis.value, y_axis.value
    plot.title.text = f"{len(films)} films selected"
    count.text = f"{len(films)} films"
    source.data = {
        "x": [film[x] for film in films],
        "y": [film[y] for film in films],
        "title": [film["title"] for film in films],
        "year": [film["year"] for film in films],
        "box_office": [film["box_office"] for film in films],
        "colour": ["#e6550d" if film["oscars"] else "#777777" for film in films],
        "alpha": [0.9 if film["oscars"] else 0.35 for film in films],
    }


for control in (reviews, years, oscars, genre, director, x_axis, y_axis):
    control.on_change("value", update)
update("value", None, None)

controls = column(reviews, years, oscars, genre, director, x_axis, y_axis, count, width=300)
curdoc().add_root(row(controls, plot))
curdoc().title = "Movies"
