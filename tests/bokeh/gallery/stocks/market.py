"""Synthetic daily closing prices: a shared market factor plus each ticker's own noise."""

from __future__ import annotations

import zlib
from functools import cache

import numpy as np
import pandas as pd

TICKERS = ["ACME", "GLOBEX", "INITECH", "HOOLI", "UMBRELLA"]
DAYS = pd.bdate_range("2022-01-03", periods=500)
_BETA = {"ACME": 1.2, "GLOBEX": 0.8, "INITECH": 1.0, "HOOLI": 1.5, "UMBRELLA": 0.4}


@cache
def _market() -> np.ndarray:
    return np.random.default_rng(1).normal(0.0004, 0.011, len(DAYS))


@cache
def closes(ticker: str) -> pd.Series:
    """The closing prices of ``ticker``, one per business day (the same every run)."""
    own = np.random.default_rng(zlib.crc32(ticker.encode())).normal(0.0, 0.012, len(DAYS))
    returns = _BETA[ticker] * _market() + own
    start = 20 + zlib.crc32(ticker.encode()) % 180
    return pd.Series(start * np.exp(np.cumsum(returns)), index=DAYS, name=ticker)


def pair(first: str, second: str) -> pd.DataFrame:
    """Both tickers' closes and daily returns, side by side."""
    frame = pd.DataFrame({"t1": closes(first), "t2": closes(second)})
    frame["t1_returns"] = frame["t1"].pct_change().fillna(0.0)
    frame["t2_returns"] = frame["t2"].pct_change().fillna(0.0)
    frame.index.name = "date"
    return frame.reset_index()
