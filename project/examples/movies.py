"""movies: filter a movie table with sliders and text, hover for titles (Bokeh's movies example, synthetic data).

Bokeh's original reads a SQLite file of its sample data (IMDb and Rotten Tomatoes
figures). This port generates a table of the same columns (sample_data.movies): the
titles, people and numbers are made up, so nothing needs a download or a licence.
"""

from __future__ import annotations

import numpy as np

from docsync.document import Document
from docsync.document.models import Column, ColumnDataSource, Div, RangeSlider, Row, Select, Slider, TextInput
from docsync.plotting import figure

from .sample_data import GENRES, movies

DATA = movies()
AXIS = {
    "Tomato Meter": "meter",
    "Numeric Rating": "rating",
    "Number of Reviews": "reviews",
    "Box Office (dollars)": "box_office",
    "Year": "year",
}


def modify_doc(doc: Document) -> None:
    """Build the movies app."""
    reviews = Slider(title="Minimum number of reviews", value=80, start=10, end=300, step=10, name="reviews")
    years = RangeSlider(title="Year released", start=1970, end=2014, value=(1970, 2014), step=1, name="years")
    oscars = Slider(title="Minimum number of Oscar wins", start=0, end=3, value=0, step=1, name="oscars")
    boxoffice = Slider(title="Dollars at Box Office (millions)", start=0, end=800, value=0, step=1, name="boxoffice")
    genre = Select(title="Genre", value="All", options=["All", *GENRES], name="genre")
    director = TextInput(title="Director name contains", name="director")
    cast = TextInput(title="Cast names contains", name="cast")
    x_axis = Select(title="X Axis", options=sorted(AXIS), value="Tomato Meter", name="x_axis")
    y_axis = Select(title="Y Axis", options=sorted(AXIS), value="Number of Reviews", name="y_axis")
    count = Div(text="", name="count")

    source = ColumnDataSource(data={"x": [], "y": [], "color": [], "title": [], "year": [], "revenue": [], "alpha": []},
                              name="source")  # fmt: skip
    tooltips = [("Title", "@title"), ("Year", "@year{0}"), ("$", "@revenue{$0,0}")]
    p = figure(height=600, width=700, title="", toolbar_location=None, tools="hover", tooltips=tooltips, name="plot")
    p.scatter(x="x", y="y", source=source, size=7, color="color", line_color=None, fill_alpha="alpha")

    def select_movies() -> np.ndarray:
        keep = (
            (DATA["reviews"] >= reviews.value)
            & (DATA["year"] >= years.value[0])
            & (DATA["year"] <= years.value[1])
            & (DATA["oscars"] >= oscars.value)
            & (DATA["box_office"] >= boxoffice.value * 1e6)
        )
        wanted = {"genre": genre.value if genre.value != "All" else "", "director": director.value.strip().lower(),
                  "cast": cast.value.strip().lower()}  # fmt: skip
        for i in np.flatnonzero(keep):
            keep[i] = (
                (not wanted["genre"] or wanted["genre"] in DATA["genre"][i])
                and (not wanted["director"] or wanted["director"] in DATA["director"][i].lower())
                and (not wanted["cast"] or wanted["cast"] in DATA["cast"][i].lower())
            )
        return np.flatnonzero(keep)

    def update() -> None:
        rows = select_movies()
        x_name, y_name = AXIS[x_axis.value], AXIS[y_axis.value]
        p.xaxis.axis_label = x_axis.value
        p.yaxis.axis_label = y_axis.value
        p.title.text = f"{len(rows)} movies selected"
        count.text = f"{len(rows)} movies selected"
        oscar = DATA["oscars"][rows] > 0
        source.data = {
            "x": DATA[x_name][rows],
            "y": DATA[y_name][rows],
            "color": ["orange" if won else "grey" for won in oscar],
            "alpha": np.where(oscar, 0.9, 0.25),
            "title": [DATA["title"][i] for i in rows],
            "year": DATA["year"][rows],
            "revenue": DATA["box_office"][rows],
        }

    controls = [reviews, boxoffice, genre, oscars, years, director, cast, x_axis, y_axis]
    for control in controls:
        control.on_change("value", lambda attr, old, new: update())
    update()
    doc.add_root(Row(Column(*controls, count, width=320), p, name="layout"))
    doc.title = "Movies"
