"""A directory app with every part: app hooks, a Jinja page placing roots by name, static files, a theme."""

from __future__ import annotations

import zlib

import numpy as np
from bokeh.io import curdoc
from bokeh.layouts import column
from bokeh.models import Button, ColumnDataSource, Div
from bokeh.plotting import figure

document = curdoc()
server_context = document.session_context.server_context
number = server_context.sessions_made  # counted by app_hooks.on_session_created
rng = np.random.default_rng(zlib.crc32(document.session_context.id.encode()))
FRUITS = ["apples", "pears", "plums", "figs", "cherries"]

source = ColumnDataSource(data={"fruit": FRUITS, "count": rng.integers(1, 10, len(FRUITS))}, name="harvest")
chart = figure(x_range=FRUITS, height=320, width=520, title="harvest", tools="", toolbar_location=None, name="chart")
chart.vbar(x="fruit", top="count", width=0.8, source=source, color="#859900")
chart.y_range.start = 0
chart.y_range.end = 60

rolls = Div(text="no rolls yet", name="rolls")
roll = Button(label="Roll again", button_type="primary", name="roll")


def roll_again() -> None:
    source.data["count"] = rng.integers(1, 60, len(FRUITS))
    made = server_context.sessions_made
    rolls.text = f"rolled by session {number} (of {made} made, {server_context.sessions_ended} ended)"


roll.on_click(roll_again)
document.add_root(column(roll, rolls, name="controls"))
document.add_root(chart)
document.template_variables["greeting"] = f"Welcome, visitor number {number}"
document.title = "Lifecycle"
