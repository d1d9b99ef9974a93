"""The datetime64 columns of a restored session's data sources, given back their dtype.

Bokeh writes a datetime64 column as the milliseconds since the epoch (float64: what
BokehJS holds) and reads them back as float64, so a session restored from Bokeh's JSON
held floats where its app had datetimes. What the app then wrote diverged from its tabs:
``np.datetime64("2026-12-07")`` patched into the float column became 20794.0 (its day
count) in the server's document, the tabs got its milliseconds. So a snapshot names the
datetime64 columns of its sources, and a journal record those of the sources its
transaction replaced the data of or brought in; a restore turns each back into its dtype
(``restore_datetimes``), after the records' milliseconds are applied.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from bokeh.models import ColumnDataSource

from .client_rows import datetimes_from_ms

__all__ = ["DatetimeColumns", "checked_datetimes", "datetime_columns", "restore_datetimes"]

#: Source id -> its datetime64 columns' names -> their dtype (``"datetime64[ns]"``).
DatetimeColumns = dict[str, dict[str, str]]

_MAX_DTYPE = 32  # characters of a dtype's name read from the store ("datetime64[ns]", "<M8[us]")


def datetime_columns(sources: Iterable[Any], *, with_none: bool) -> DatetimeColumns:
    """The datetime64 columns of each data source of ``sources`` (``with_none``: sources without any too)."""
    found: DatetimeColumns = {}
    for source in sources:
        if not isinstance(source, ColumnDataSource):
            continue
        columns = {
            name: str(column.dtype)
            for name, column in source.data.items()
            if isinstance(name, str) and isinstance(column, np.ndarray) and column.dtype.kind == "M"
        }
        if columns or with_none:
            found[str(source.id)] = columns
    return found


def checked_datetimes(value: Any) -> DatetimeColumns:
    """``value`` read from the store as DatetimeColumns; raise ValueError if it is not one."""
    if type(value) is not dict:
        raise ValueError("datetimes is not an object")
    for source_id, columns in value.items():
        if type(columns) is not dict:
            raise ValueError(f"datetimes of {source_id!r:.40} is not an object")
        for name, dtype in columns.items():
            if type(dtype) is not str or len(dtype) > _MAX_DTYPE:
                raise ValueError(f"bad dtype of column {name!r:.40}")
            try:
                is_datetime = np.dtype(dtype).kind == "M"
            except TypeError:
                is_datetime = False
            if not is_datetime:
                raise ValueError(f"column {name!r:.40} is not of a datetime64 dtype: {dtype!r}")
    return value


def restore_datetimes(document: Any, columns: DatetimeColumns) -> None:
    """Turn each named column of ``document`` (a restore's, that no one sees) from milliseconds back to its dtype.

    A column that is no longer an array of numbers (a later change made it something
    else) is left as it is.
    """
    for source_id, dtypes in columns.items():
        source = document.get_model_by_id(source_id)
        data = getattr(source, "data", None) if isinstance(source, ColumnDataSource) else None
        if not isinstance(data, dict):
            continue
        for name, dtype in dtypes.items():
            column = data.get(name)
            if isinstance(column, np.ndarray) and column.dtype.kind == "f":
                # As it was when the app held it: no event (nobody sees this document yet).
                dict.__setitem__(data, name, datetimes_from_ms(column, np.dtype(dtype)))
