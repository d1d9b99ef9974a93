"""A directory app whose ``app_hooks.py`` re-wires a restored session (docsync's ``on_session_restored``)."""

from __future__ import annotations

from bokeh.io import curdoc
from bokeh.layouts import column
from bokeh.models import Div, Slider

count = Slider(start=0, end=10, value=0, step=1, title="count", name="count")
status = Div(text="new", name="status")
curdoc().add_root(column(count, status))
