"""ohlc: a simulated price streamed every 200 ms as candles (segment + vbar), an average and MACD (Bokeh's ohlc)."""

from __future__ import annotations

import numpy as np

from docsync.document import Document
from docsync.document.models import Column, ColumnDataSource, Row, Select, Slider
from docsync.plotting import figure

ROLLOVER = 300
COLUMNS = ("time", "average", "open", "high", "low", "close", "ma", "macd", "macd9", "macdh", "color")


def _ema(values: np.ndarray, days: int) -> float:
    weights = (1 - 2 / (days + 1)) ** np.arange(len(values))[::-1]
    return float((values * weights).sum() / weights.sum())


def modify_doc(doc: Document) -> None:
    """Build the ohlc app."""
    rng = np.random.default_rng()
    source = ColumnDataSource(data={name: ([] if name == "color" else np.zeros(0)) for name in COLUMNS}, name="source")
    tools = "xpan,xwheel_zoom,xbox_zoom,reset"
    p = figure(height=500, width=1000, tools=tools, x_axis_type=None, y_axis_location="right", name="price")
    p.x_range.follow = "end"
    p.x_range.follow_interval = 100
    p.x_range.range_padding = 0
    p.line(x="time", y="average", alpha=0.2, line_width=3, color="navy", source=source)
    p.line(x="time", y="ma", alpha=0.8, line_width=2, color="orange", source=source)
    p.segment(x0="time", y0="low", x1="time", y1="high", line_width=2, color="black", source=source)
    p.vbar(x="time", width=0.5, top="open", bottom="close", line_color="black", color="color", source=source)
    p2 = figure(height=250, width=1000, x_range=p.x_range, tools=tools, y_axis_location="right", name="macd")
    p2.line(x="time", y="macd", color="red", source=source)
    p2.line(x="time", y="macd9", color="blue", source=source)
    p2.segment(x0="time", y0=0, x1="time", y1="macdh", line_width=6, color="black", alpha=0.5, source=source)
    mean = Slider(title="mean", value=0, start=-0.01, end=0.01, step=0.001, name="mean")
    stddev = Slider(title="stddev", value=0.04, start=0.01, end=0.1, step=0.01, name="stddev")
    mavg = Select(value="MA12", options=["MA12", "MA26", "EMA12", "EMA26"], name="mavg")
    state = {"t": 0, "average": 100.0, "closes": []}

    def tick() -> None:
        state["t"] += 1
        t = state["t"]
        drift = rng.normal(mean.value, stddev.value)
        open_ = state["average"] * np.exp(rng.normal(0, stddev.value / 2))
        close = state["average"] * np.exp(drift)
        high = max(open_, close) * np.exp(abs(rng.normal(0, stddev.value / 2)))
        low = min(open_, close) * np.exp(-abs(rng.normal(0, stddev.value / 2)))
        state["average"] = (open_ + close + high + low) / 4
        closes = state["closes"]
        closes.append(close)
        del closes[:-40]
        arr = np.asarray(closes)
        kind, days = mavg.value[:-2], int(mavg.value[-2:])
        ma = float(arr[-days:].mean()) if kind == "MA" else _ema(arr[-days:], days)
        macd = _ema(arr[-12:], 12) - _ema(arr[-26:], 26)
        prev = source.data["macd"][-8:]
        macd9 = float(np.mean(np.concatenate([prev, [macd]])))
        row = {"time": [float(t)], "average": [state["average"]], "open": [open_], "high": [high], "low": [low],
               "close": [close], "ma": [ma], "macd": [macd], "macd9": [macd9], "macdh": [macd - macd9],
               "color": ["#D5E1DD" if close > open_ else "#F2583E"]}  # fmt: skip
        source.stream(
            {k: np.asarray(v, dtype=np.float64) if k != "color" else v for k, v in row.items()}, rollover=ROLLOVER
        )

    doc.add_periodic_callback(tick, 200)
    doc.add_root(Column(Row(mean, stddev, mavg), p, p2, name="layout"))
    doc.title = "OHLC"
