"""Candles of an invented price streamed from Python ten times a second, with a moving average (a directory app)."""

from __future__ import annotations

from typing import Any

import numpy as np
from bokeh.io import curdoc
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, Div, Select, Slider
from bokeh.plotting import figure

rng = np.random.default_rng(11)
AVERAGES = ["none", "8-tick SMA", "8-tick EMA", "21-tick EMA"]

source = ColumnDataSource(
    data={"t": [], "open": [], "close": [], "high": [], "low": [], "colour": [], "average": []}, name="ticks"
)
prices = figure(height=420, width=800, tools="xpan,xwheel_zoom,reset", y_axis_location="right", name="prices")
prices.x_range.follow = "end"
prices.x_range.follow_interval = 80
prices.x_range.range_padding = 0
prices.segment("t", "high", "t", "low", source=source, color="colour")
prices.vbar("t", 0.6, "open", "close", source=source, fill_color="colour", line_color="colour")
prices.line("t", "average", source=source, color="#f0c040", line_width=2)

average = Select(title="moving average", value="none", options=AVERAGES, name="average")
volatility = Slider(title="volatility", value=0.5, start=0.1, end=2.0, step=0.1, name="volatility")
last = Div(name="last")
state = {"t": 0, "price": 100.0, "closes": [100.0], "ema": 100.0}


def _average(closes: list[float], choice: str) -> float:
    if choice == "none":
        return float("nan")
    window = 8 if "8" in choice else 21
    if "SMA" in choice:
        return float(np.mean(closes[-window:]))
    alpha = 2 / (window + 1)
    state["ema"] = alpha * closes[-1] + (1 - alpha) * state["ema"]
    return float(state["ema"])


def tick() -> None:
    """Stream one candle (the document's periodic callback)."""
    opening = state["price"]
    path = opening + np.cumsum(rng.normal(0, volatility.value, 10))
    closing = float(path[-1])
    state["t"] += 1
    state["price"] = closing
    state["closes"] = [*state["closes"][-50:], closing]
    source.stream(
        {
            "t": [state["t"]],
            "open": [opening],
            "close": [closing],
            "high": [max(opening, float(path.max()))],
            "low": [min(opening, float(path.min()))],
            "colour": ["#26a65b" if closing >= opening else "#e74c3c"],
            "average": [_average(state["closes"], average.value)],
        },
        rollover=300,
    )
    last.text = f"tick {state['t']}: {closing:.2f}"


def average_changed(attr: str, old: Any, new: Any) -> None:
    state["ema"] = state["price"]


average.on_change("value", average_changed)
curdoc().add_root(column(row(average, volatility, last), prices))
curdoc().add_periodic_callback(tick, 100)
curdoc().title = "OHLC"
