"""A meeting's day and time and an alarm past midnight: Bokeh's datetime and time pickers, bounded (a script app).

docsync judges what BokehJS's pickers send against their bounds (docs/bokeh.md, "What a
widget offers"); the browser's test opens it in a browser not on UTC, where BokehJS shows
those bounds in the browser's time zone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bokeh.io import curdoc
from bokeh.layouts import column
from bokeh.models import DatetimePicker, Div, TimePicker

meeting = DatetimePicker(
    title="meeting",
    min_date=dt.date(2024, 1, 1),
    max_date=dt.date(2024, 1, 31),
    value=dt.datetime(2024, 1, 15, 10),
    name="meeting",
)
alarm = TimePicker(title="alarm", min_time=dt.time(22), max_time=dt.time(6), value=dt.time(23), name="alarm")
shown = Div(text="", name="shown")


def show(attr: str, old: Any, new: Any) -> None:
    shown.text = f"{meeting.value} / {alarm.value}"


meeting.on_change("value", show)
alarm.on_change("value", show)
curdoc().add_root(column(meeting, alarm, shown))
curdoc().title = "Pickers"
