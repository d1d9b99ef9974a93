"""A source of dates, and a text input whose callback writes the date typed into it (test_bokeh_restored_ids.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
from bokeh.io import curdoc
from bokeh.models import ColumnDataSource, TextInput

dates = ColumnDataSource(
    data={"t": np.array(["2024-01-01", "2024-01-02", "2024-01-03"], dtype="datetime64[ns]")}, name="dates"
)
day = TextInput(value="", name="day")


def written(attr: str, old: Any, new: Any) -> None:
    """The app's own datetimes: its first cell patched, a row for the day after streamed."""
    when = np.datetime64(new, "ns")
    dates.patch({"t": [(0, when)]})
    dates.stream({"t": np.array([when + np.timedelta64(1, "D")])})


day.on_change("value", written)
curdoc().add_root(day)
curdoc().add_root(dates)
