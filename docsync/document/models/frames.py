"""Columns from a pandas DataFrame (when pandas is installed) or a numpy structured array.

pandas is never imported here unless the caller hands in a pandas object: it stays an
optional dependency. Datetimes become float64 milliseconds since 1970 (UTC), as Bokeh
stores them, shown by a DateFormatter; missing values become NaN (numbers, datetimes)
or None (text).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from ...serialization import ALLOWED_DTYPES

__all__ = ["columns_of"]

Columns = dict[str, Any]


def _is_pandas(value: Any) -> bool:
    return type(value).__module__.split(".")[0] == "pandas"


def _datetime_ms(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "M":
        missing = np.isnat(values)
        ms = values.astype("datetime64[ms]").astype(np.int64).astype(np.float64)
        ms[missing] = np.nan
        return ms
    return np.array([np.nan if v is None else v.timestamp() * 1000 for v in values], dtype=np.float64)


def _column(values: Any) -> tuple[Any, str]:
    """Return one column as it can travel, and its kind (int, float, bool, datetime, date, text)."""
    array = np.asarray(values)
    kind = array.dtype.kind
    if kind == "M":
        return _datetime_ms(array), "datetime"
    if kind in "iu":
        return (array if array.dtype.name in ALLOWED_DTYPES else array.astype(np.int64)), "int"
    if kind == "f":
        return array.astype(np.float64) if array.dtype.name not in ALLOWED_DTYPES else array, "float"
    if kind == "b":
        return array, "bool"
    items = [_plain(v) for v in array.tolist()]
    present = [v for v in items if v is not None]
    if present and all(isinstance(v, dt.datetime) for v in present):
        return _datetime_ms(np.array(items, dtype=object)), "datetime"
    if present and all(isinstance(v, dt.date) for v in present):
        return items, "date"
    return [v if v is None or isinstance(v, str | int | float | bool) else str(v) for v in items], "text"


def _plain(value: Any) -> Any:
    """Turn pandas' and numpy's missing values and scalars into plain Python ones."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _from_pandas(frame: Any) -> list[tuple[str, Any]]:
    import pandas as pd

    pairs: list[tuple[str, Any]] = []
    if not isinstance(frame.index, pd.RangeIndex):
        pairs.append((str(frame.index.name or "index"), frame.index))
    for name, series in frame.items():
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        elif series.dtype.kind in "iuf" and series.hasnans:
            series = series.astype(np.float64)
        elif not isinstance(series.dtype, np.dtype):  # extension types: Int64 with NA, category, string
            numeric = pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
            series = series.astype(np.float64) if numeric else series.astype(object)
        pairs.append((str(name), series.to_numpy()))
    return pairs


def columns_of(data: Any) -> tuple[Columns, dict[str, str]]:
    """Return ({name: column}, {name: kind}) of a DataFrame, a structured array, or a dict of columns."""
    if _is_pandas(data) and hasattr(data, "items") and hasattr(data, "index"):
        pairs = _from_pandas(data)
    elif isinstance(data, np.ndarray) and data.dtype.names:
        pairs = [(name, data[name]) for name in data.dtype.names]
    elif isinstance(data, dict):
        pairs = [(str(name), values) for name, values in data.items()]
    else:
        raise TypeError(f"expected a pandas DataFrame, a numpy structured array or a dict, got {type(data).__name__}")
    columns: Columns = {}
    kinds: dict[str, str] = {}
    for name, values in pairs:
        columns[name], kinds[name] = _column(values)
    return columns, kinds
