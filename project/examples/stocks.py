"""stocks: two tickers' returns against each other and over time; select days for their statistics (Bokeh's stocks)."""

from __future__ import annotations

import numpy as np

from docsync.document import Document
from docsync.document.models import Column, ColumnDataSource, Div, Row, Select
from docsync.plotting import figure

from .sample_data import TICKERS, stocks

DATA = stocks()
TOOLS = "pan,wheel_zoom,xbox_select,reset"


def series(t1: str, t2: str) -> dict[str, np.ndarray]:
    """Both tickers' closes and daily returns, by date."""
    a, b = DATA[t1]["close"], DATA[t2]["close"]
    ra = np.concatenate([[0.0], np.diff(a) / a[:-1]])
    rb = np.concatenate([[0.0], np.diff(b) / b[:-1]])
    return {"date": DATA[t1]["date"], "t1": a, "t2": b, "t1_returns": ra, "t2_returns": rb}


def nix(value: str, options: list[str]) -> list[str]:
    return [x for x in options if x != value]


def modify_doc(doc: Document) -> None:
    """Build the stocks app."""
    ticker1 = Select(title="Ticker 1", value="AAPL", options=nix("GOOG", TICKERS), name="ticker1")
    ticker2 = Select(title="Ticker 2", value="GOOG", options=nix("AAPL", TICKERS), name="ticker2")
    source = ColumnDataSource(data=series(ticker1.value, ticker2.value), name="source")
    stats = Div(text="", name="stats")

    corr = figure(width=370, height=350, tools="pan,wheel_zoom,box_select,reset", name="corr")
    corr.scatter("t1_returns", "t2_returns", size=3, source=source, selection_color="orange", alpha=0.6,
                 nonselection_alpha=0.1, selection_alpha=0.4)  # fmt: skip
    ts1 = figure(width=900, height=220, tools=TOOLS, x_axis_type="datetime", active_drag="xbox_select", name="ts1")
    ts1.line("date", "t1", source=source)
    ts1.scatter("date", "t1", size=2, source=source, color=None, selection_color="orange")
    ts2 = figure(width=900, height=220, tools=TOOLS, x_axis_type="datetime", active_drag="xbox_select", name="ts2")
    ts2.x_range = ts1.x_range  # linked panning
    ts2.line("date", "t2", source=source)
    ts2.scatter("date", "t2", size=2, source=source, color=None, selection_color="orange")

    def update_stats(rows: list[int] | None = None) -> None:
        data = source.data
        chosen = np.asarray(rows) if rows else np.arange(len(data["t1"]))
        t1, t2 = ticker1.value, ticker2.value
        r1, r2 = data["t1_returns"][chosen], data["t2_returns"][chosen]
        lines = [f"{len(chosen)} days" + (" selected" if rows else "")]
        for name, r in ((t1, r1), (t2, r2)):
            lines.append(f"{name}: mean {r.mean():+.4f}, std {r.std():.4f}, min {r.min():+.4f}, max {r.max():+.4f}")
        lines.append(f"correlation {np.corrcoef(r1, r2)[0, 1]:.3f}" if len(chosen) > 2 else "")
        stats.text = "\n".join(lines)

    def update(attr: str, old: str, new: str) -> None:
        ticker1.options = nix(ticker2.value, TICKERS)
        ticker2.options = nix(ticker1.value, TICKERS)
        source.data = series(ticker1.value, ticker2.value)
        corr.title.text = f"{ticker1.value} returns vs. {ticker2.value} returns"
        ts1.title.text, ts2.title.text = ticker1.value, ticker2.value
        source.selected.indices = []
        update_stats()

    ticker1.on_change("value", update)
    ticker2.on_change("value", update)
    source.selected.on_change("indices", lambda attr, old, new: update_stats(list(new)))
    update("value", "", "")
    widgets = Column(ticker1, ticker2, stats)
    doc.add_root(Column(Row(corr, widgets), ts1, ts2, name="layout"))
    doc.title = "Stocks"
