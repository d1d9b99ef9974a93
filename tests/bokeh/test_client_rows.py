"""What a client writes into a datetime64, str or wide int column, read as BokehJS holds it (``client_rows``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

from bokeh.models import ColumnDataSource

from docsync.bokeh.client_rows import held_dtype, read_datetime_rows, widen_patched_columns

DAYS = np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[ns]")
JAN_5_MS = 1704412800000.0


def test_milliseconds_streamed_into_a_datetime_column_are_datetimes() -> None:
    """BokehJS holds the column as milliseconds: numpy's append of them failed (refused)."""
    source = ColumnDataSource(data={"t": DAYS})
    event: dict[str, Any] = {
        "kind": "ColumnsStreamed",
        "model": source,
        "attr": "data",
        "data": {"t": [JAN_5_MS, float("nan")]},
    }
    read_datetime_rows([event])
    rows = event["data"]["t"]
    assert rows.dtype == DAYS.dtype and rows[0] == np.datetime64("2024-01-05") and np.isnat(rows[1])


def test_milliseconds_patched_into_a_datetime_column_are_not_nanoseconds() -> None:
    source = ColumnDataSource(data={"t": DAYS})
    patches = {"t": [[0, JAN_5_MS], [{"start": 0, "stop": 1}, [JAN_5_MS]]]}
    read_datetime_rows([{"kind": "ColumnsPatched", "model": source, "attr": "data", "patches": patches}])
    assert patches["t"][0][1] == np.datetime64("2024-01-05")
    assert list(patches["t"][1][1]) == [np.datetime64("2024-01-05", "ns")]


@pytest.mark.parametrize("rows", [[1e20], ["2024"], [[1.0, 2.0]]])
def test_what_is_not_milliseconds_is_left_for_the_checks(rows: list[Any]) -> None:
    source = ColumnDataSource(data={"t": DAYS})
    event: dict[str, Any] = {"kind": "ColumnsStreamed", "model": source, "attr": "data", "data": {"t": rows}}
    read_datetime_rows([event])
    assert event["data"]["t"] is rows


def test_a_source_an_earlier_event_replaced_is_left_as_sent() -> None:
    source = ColumnDataSource(data={"t": DAYS})
    replace = {"kind": "ModelChanged", "model": source, "attr": "data", "new": {"t": [1.0]}}
    stream: dict[str, Any] = {"kind": "ColumnsStreamed", "model": source, "attr": "data", "data": {"t": [2.0]}}
    read_datetime_rows([replace, stream])
    assert stream["data"]["t"] == [2.0]


@pytest.mark.parametrize(
    ("column", "held"),
    [
        (np.array([1, 2**31 - 1], dtype=np.int64), np.dtype(np.int32)),
        (np.array([1, 2**31], dtype=np.int64), None),
        (np.array([2**32 - 1], dtype=np.uint64), np.dtype(np.uint32)),
        (np.zeros(2, dtype=np.float32), np.dtype(np.float32)),
        (np.array(["a"]), None),
        ([1, 2], None),
    ],
)
def test_held_dtype_is_the_type_bokeh_sends(column: Any, held: Any) -> None:
    assert held_dtype(column) == held


@pytest.mark.parametrize(
    ("column", "value", "after"),
    [
        (np.array(["a", "b"]), "zed", ["zed", "b"]),  # was cut to "z"
        (np.array([2**40, 2], dtype=np.int64), 0.25, [0.25, 2]),  # was 0
        (np.array([1, 2], dtype=np.int64), 0.25, [0, 2]),  # an Int32Array in BokehJS truncates it too
    ],
)
def test_a_cell_patch_widens_what_numpy_would_cut(column: Any, value: Any, after: list[Any]) -> None:
    source = ColumnDataSource(data={"x": column})
    event = {"kind": "ColumnsPatched", "model": source, "attr": "data", "patches": {"x": [[0, value]]}}
    widen_patched_columns(event)
    source.patch({"x": [(0, value)]})
    assert source.data["x"].tolist() == after
