"""Two synthetic stocks: their returns' correlation and price histories, linked by selection (a directory app)."""

from __future__ import annotations

from typing import Any

from bokeh.io import curdoc
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, Div, Select
from bokeh.plotting import figure
from market import TICKERS, pair

first = Select(title="first ticker", value="ACME", options=[t for t in TICKERS if t != "GLOBEX"], name="first")
second = Select(title="second ticker", value="GLOBEX", options=[t for t in TICKERS if t != "ACME"], name="second")
source = ColumnDataSource(data=ColumnDataSource.from_df(pair(first.value, second.value)), name="prices")
stats = Div(width=300, name="stats")

tools = "pan,wheel_zoom,xbox_select,reset"
correlation = figure(
    width=360,
    height=340,
    tools="pan,wheel_zoom,box_select,reset",
    active_drag="box_select",
    title="daily returns",
    name="correlation",
)
correlation.scatter(
    "t1_returns", "t2_returns", source=source, size=4, color="#6b8e23", alpha=0.6, selection_color="#ff7f0e"
)
history1 = figure(width=700, height=180, x_axis_type="datetime", tools=tools, active_drag="xbox_select", name="h1")
history1.line("date", "t1", source=source, color="#999999")
history1.scatter("date", "t1", source=source, size=2, color=None, selection_color="#ff7f0e")
history2 = figure(width=700, height=180, x_axis_type="datetime", x_range=history1.x_range, tools=tools, name="h2")
history2.line("date", "t2", source=source, color="#999999")
history2.scatter("date", "t2", source=source, size=2, color=None, selection_color="#ff7f0e")


def describe(indices: list[int]) -> None:
    """Summarise the selected days (or all of them)."""
    data = source.to_df()
    chosen = data.iloc[indices] if indices else data
    what = f"{len(indices)} selected days" if indices else f"all {len(data)} days"
    corr = chosen["t1_returns"].corr(chosen["t2_returns"]) if len(chosen) > 1 else float("nan")
    stats.text = (
        f"<b>{first.value} and {second.value}</b>: {what}<br>"
        f"mean close {chosen['t1'].mean():.2f} and {chosen['t2'].mean():.2f}<br>"
        f"correlation of returns {corr:.3f}"
    )


def tickers_changed(attr: str, old: Any, new: Any) -> None:
    first.options = [t for t in TICKERS if t != second.value]
    second.options = [t for t in TICKERS if t != first.value]
    source.data = ColumnDataSource.from_df(pair(first.value, second.value))
    source.selected.indices = []
    correlation.title.text = f"daily returns: {first.value} against {second.value}"
    history1.title.text, history2.title.text = first.value, second.value
    describe([])


def selection_changed(attr: str, old: Any, new: Any) -> None:
    describe(list(new))


first.on_change("value", tickers_changed)
second.on_change("value", tickers_changed)
source.selected.on_change("indices", selection_changed)
tickers_changed("value", None, None)

curdoc().add_root(column(row(column(first, second, stats), correlation), history1, history2))
curdoc().title = "Stocks"
