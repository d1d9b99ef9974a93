"""Rows and cells a client writes into a data source's array columns, as BokehJS holds them.

BokehJS holds a datetime64 column as the milliseconds since the epoch (Bokeh sends it so)
and a str column as a plain array of strings. Bokeh's server writes what a browser sends
into the numpy array with numpy's rules: milliseconds streamed into a datetime64 column
failed to append (refused, where the browser had appended them), milliseconds patched
into one were read as nanoseconds (2024-01-05 became 1970-01-01T00:28), a string
patched into a str column longer than its items was cut to their length ("zed" into an
array of one-letter strings became "z"), and 0.25 patched into an int64 column beyond
32 bits (a plain array in BokehJS) became 0; the browser held what it wrote.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["datetimes_from_ms", "held_dtype", "read_datetime_rows", "widen_patched_columns"]

#: The 32-bit type Bokeh sends a 64-bit integer array as when its values fit (its ``transform_array``).
_NARROWED = {np.dtype(np.int64): np.dtype(np.int32), np.dtype(np.uint64): np.dtype(np.uint32)}

#: The largest milliseconds a datetime64[ns] holds (about 292 years either side of 1970):
#: numbers past them are left as sent, and refused by the checks as not joining the column.
_MAX_MS = 9.2e15


def held_dtype(column: Any) -> np.dtype[Any] | None:
    """The dtype of the typed array BokehJS holds ``column`` in (None: a plain array)."""
    if not (isinstance(column, np.ndarray) and column.ndim == 1 and column.dtype.kind in "biuf"):
        return None
    dtype: np.dtype[Any] = column.dtype
    narrow = _NARROWED.get(dtype)
    if narrow is None:
        return dtype
    # Bokeh sends a 64-bit integer column as 32-bit when every value fits, else as a list
    # of numbers, which BokehJS holds in a plain array (0.5 streamed into one was refused
    # as not an int64, where BokehJS held 0.5 and Bokeh's append made the column float64).
    info = np.iinfo(narrow)
    if column.size == 0 or (info.min <= column.min() and column.max() <= info.max):
        return narrow
    return None


def datetimes_from_ms(values: Any, dtype: np.dtype[Any]) -> Any:
    """``values`` (milliseconds since the epoch, NaN for none) as an array of ``dtype``, or as they were."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":
        return values
    try:
        ms = np.asarray(values)
    except Exception:
        return values
    if ms.ndim > 1 or ms.dtype.kind not in "iuf":
        return values
    ms = ms.astype(np.float64)
    missing = np.isnan(ms)
    if np.any(np.abs(ms[~missing]) >= _MAX_MS):
        return values
    ns = np.where(missing, 0, np.round(ms * 1e6)).astype(np.int64).view("datetime64[ns]")
    ns[missing] = np.datetime64("NaT")
    converted = ns.astype(dtype)
    return converted if isinstance(values, list | np.ndarray) else converted[()]


def _datetime_column(model: Any, name: Any) -> np.dtype[Any] | None:
    column = model.data.get(name) if isinstance(name, str) else None
    if isinstance(column, np.ndarray) and column.ndim == 1 and column.dtype.kind == "M":
        dtype: np.dtype[Any] = column.dtype
        return dtype
    return None


def read_datetime_rows(events: list[dict[str, Any]]) -> None:
    """Read the numbers a patch streams or writes into a datetime64 column as the milliseconds they are (in place).

    Only for a source whose data no earlier event of the patch replaced (the checks judge
    the rest against what that event leaves).
    """
    replaced: set[int] = set()
    for event in events:
        kind, model, attr = event.get("kind"), event.get("model"), event.get("attr")
        if not isinstance(kind, str) or not isinstance(attr, str):
            continue  # not an event (the checks refuse it): an array compared with a name raised ValueError
        if kind in ("ColumnDataChanged", "ModelChanged"):
            replaced.add(id(model))
            continue
        if id(model) in replaced or attr != "data" or not isinstance(getattr(model, "data", None), dict):
            continue
        if kind == "ColumnsStreamed" and isinstance(event.get("data"), dict):
            for name, values in event["data"].items():
                dtype = _datetime_column(model, name)
                if dtype is not None:
                    event["data"][name] = datetimes_from_ms(values, dtype)
        elif kind == "ColumnsPatched" and isinstance(event.get("patches"), dict):
            for name, cells in event["patches"].items():
                dtype = _datetime_column(model, name)
                if dtype is not None and isinstance(cells, list):
                    event["patches"][name] = [
                        [cell[0], datetimes_from_ms(cell[1], dtype)]
                        if isinstance(cell, list | tuple) and len(cell) == 2
                        else cell
                        for cell in cells
                    ]


def widen_patched_columns(event: dict[str, Any]) -> None:
    """Widen each array column a checked cell patch writes values into that numpy would cut (in place).

    A str column takes longer strings, and an integer column BokehJS holds as a plain
    array (a 64-bit one beyond 32 bits) numbers that are not integers, as Bokeh's append
    does for streamed rows. The column is replaced by a wider copy of itself without an
    event: it holds the same values, which the browsers hold already.
    """
    if event.get("kind") != "ColumnsPatched":
        return
    data = event["model"].data
    for name, cells in event["patches"].items():
        column = data[name]
        if not isinstance(column, np.ndarray) or column.ndim != 1:
            continue
        written = [np.asarray(cell[1]) for cell in cells]
        wider: Any = None
        if column.dtype.kind == "U":
            longest = max((value.dtype.itemsize // 4 for value in written if value.dtype.kind == "U"), default=0)
            if longest > column.dtype.itemsize // 4:
                wider = f"<U{longest}"
        elif (
            column.dtype.kind in "iu"
            and held_dtype(column) is None
            and any(value.dtype.kind == "f" and not np.all(np.mod(value, 1) == 0) for value in written)
        ):
            wider = np.float64
        if wider is not None:
            # dict's own __setitem__: Bokeh's would notify a change of the whole column.
            dict.__setitem__(data, name, column.astype(wider))
