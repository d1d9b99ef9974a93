"""A year of invented daily temperatures per city: records, normals and this year's readings."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

CITIES = {"Oslo": (6.0, 11.0), "Lisbon": (17.5, 6.0), "Montreal": (7.0, 16.0)}
DAYS = pd.date_range("2025-01-01", "2025-12-31", freq="D")


def temperatures(city: str) -> pd.DataFrame:
    """Daily record, normal and actual low/high temperatures of ``city`` (°C)."""
    mean, swing = CITIES[city]
    rng = np.random.default_rng(zlib.crc32(city.encode()))
    season = mean - swing * np.cos(2 * np.pi * (np.arange(len(DAYS)) - 15) / 365)
    weather = np.convolve(rng.normal(0, 3.0, len(DAYS) + 6), np.ones(7) / 7 * 2.2, mode="valid")
    return pd.DataFrame(
        {
            "date": DAYS,
            "record_min": season - 14 - rng.uniform(0, 3, len(DAYS)),
            "record_max": season + 14 + rng.uniform(0, 3, len(DAYS)),
            "average_min": season - 4.5,
            "average_max": season + 4.5,
            "actual_min": season - 4 + weather - rng.uniform(0, 2, len(DAYS)),
            "actual_max": season + 4 + weather + rng.uniform(0, 2, len(DAYS)),
        }
    )


def smoothed(frame: pd.DataFrame, days: int = 15) -> pd.DataFrame:
    """Every column but the date as a centred moving average of ``days`` days."""
    out = frame.copy()
    columns = [c for c in frame.columns if c != "date"]
    out[columns] = frame[columns].rolling(days, center=True, min_periods=1).mean()
    return out
