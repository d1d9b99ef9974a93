"""Checks of a Bokeh patch's events (``event_checks``) that no real server is needed to show.

A stream's rows are checked against the columns they join as BokehJS appends them:
it keeps a typed array's type when rows are streamed into it, and makes a plain column
the streamed array's type; numpy's append promotes instead. Where the two differ (a
string into a float column, 0.5 into an int column, an array into a column of
strings), the server's document and the other tabs' no longer agreed. A bokeh_event's
model must be a model.
"""

from __future__ import annotations

import re
from array import array
from typing import Any

import numpy as np
import pytest

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

from bokeh.events import MenuItemClick
from bokeh.models import ColumnDataSource

from docsync.bokeh.event_checks import check_event
from docsync.exceptions import PatchError


def stream(source: ColumnDataSource, **columns: Any) -> dict[str, Any]:
    return {"kind": "ColumnsStreamed", "model": source, "attr": "data", "data": columns, "rollover": None}


def made() -> ColumnDataSource:
    return ColumnDataSource(
        data={
            "f": np.zeros(2),
            "i": np.zeros(2, dtype=np.int32),
            "s": ["a", "b"],
            "n": [1.5, 2],
        }
    )


ACCEPTED = [
    {"f": [1, True, 0.5, float("nan")], "i": [1, 2, 3, -4], "s": ["x", 1, None, {}], "n": [0.5, 1, 2, 3]},
    {"f": np.arange(2, dtype=np.int32), "i": np.arange(2, dtype=np.int8), "s": ["x", "y"], "n": np.ones(2)},
    {"f": [], "i": [], "s": [], "n": np.zeros(0)},
]
REFUSED = [
    ({"f": ["a"], "i": [1], "s": ["x"], "n": [1]}, "column 'f' must be numbers its float64 array holds"),
    ({"f": [None], "i": [1], "s": ["x"], "n": [1]}, "column 'f' must be numbers its float64 array holds"),
    ({"f": [[1.0, 2.0]], "i": [1], "s": ["x"], "n": [1]}, "column 'f' must be numbers its float64 array holds"),
    ({"f": [1.0], "i": [0.5], "s": ["x"], "n": [1]}, "column 'i' must be numbers its int32 array holds"),
    ({"f": [1.0], "i": [2**31], "s": ["x"], "n": [1]}, "column 'i' must be numbers its int32 array holds"),
    ({"f": [1.0], "i": [1], "s": np.ones(1), "n": [1]}, "an array streamed into column 's'"),
    ({"f": [1.0], "i": [1], "s": ["x"], "n": np.ones(1, dtype=np.int32)}, "an array streamed into column 'n'"),
]


@pytest.mark.parametrize("columns", ACCEPTED)
def test_rows_the_columns_hold_as_they_are_are_accepted(columns: dict[str, Any]) -> None:
    source = made()
    check_event(stream(source, **columns))


@pytest.mark.parametrize(("columns", "why"), REFUSED)
def test_rows_a_typed_array_would_change_are_refused(columns: dict[str, Any], why: str) -> None:
    source = made()
    with pytest.raises(PatchError, match=why):
        check_event(stream(source, **columns))


@pytest.mark.parametrize(
    ("column", "rows"),
    [
        (np.zeros(2, dtype=np.float32), [0.1, 1e300, float("nan")]),
        (np.zeros(2, dtype=np.float32), np.array([0.1])),
        ([0.1, 2], np.zeros(1, dtype=np.float32)),
    ],
)
def test_numbers_a_float_array_rounds_are_accepted(column: Any, rows: Any) -> None:
    """BokehJS rounds them to the array's precision, as it does the app's own streams: 0.1 was refused."""
    check_event(stream(ColumnDataSource(data={"x": column}), x=rows))


@pytest.mark.parametrize(
    ("column", "rows"),
    [
        (np.array(["2026-12-06"], dtype="datetime64[ns]"), [1.8e12]),
        (np.array(["a"], dtype=object), [[1, 2], [3]]),
        (np.array(["a"]), [["b", "c"], ["d"]]),
    ],
)
def test_rows_numpy_cannot_append_to_another_array_are_refused(column: Any, rows: Any) -> None:
    """Bokeh's append raised once the events before it were applied (a pandas datetime column, say).

    The check's own refusal: over the wire numbers for a datetime column arrive already read as
    the milliseconds BokehJS holds (client_rows.py; tests/bokeh/test_client_rows.py).
    """
    source = ColumnDataSource(data={"x": column})
    with pytest.raises(
        PatchError, match=re.escape(f"rows streamed into column 'x' do not join its {column.dtype} array")
    ):
        check_event(stream(source, x=rows))
    check_event(
        stream(source, x=np.array(["2026-12-07"], dtype="datetime64[ns]") if column.dtype.kind == "M" else ["b"])
    )


def test_against_the_columns_an_earlier_event_of_the_patch_leaves() -> None:
    source = made()
    after = {"f": ["now", "strings"], "i": [1, 2], "s": ["a", "b"], "n": [1.0, 2.0]}
    check_event(stream(source, f=["x"], i=[0.5], s=["y"], n=[1]), after)


@pytest.mark.parametrize("model", [5, "p1001", {"id": "p1001"}])
def test_an_event_whose_model_is_not_a_model_is_refused(model: Any) -> None:
    """A menu item click does not check its model's class; dispatched to a subscribed Dropdown, it read the id."""
    event = {"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": MenuItemClick(model=model, item="one")}
    with pytest.raises(PatchError, match="a menu_item_click event's model must be a model"):
        check_event(event)


@pytest.mark.parametrize(
    ("index", "value", "why"),
    [
        # BokehJS patches an array cell by looping to each slice's stop: 2**63 hung every tab;
        # past the row's end it wrote into the next row, where numpy clips.
        ([0, {"stop": 2**63}, 1], [5.0, 6.0], "patch sub-index slice stop 9223372036854775808 out of range"),
        ([0, 1, {"stop": 5}], [5.0, 6.0, 7.0], "patch sub-index slice stop 5 out of range"),
        # BokehJS writes item[-3 + j] (nothing), numpy the last row.
        ([0, -1, 1], 5.0, "patch sub-index -1 out of range"),
        ([0, 2, 1], 5.0, "patch sub-index 2 out of range"),
    ],
)
def test_a_cell_patch_stays_within_its_array_cell(index: list[Any], value: Any, why: str) -> None:
    source = ColumnDataSource(data={"img": [np.zeros((2, 3)), np.zeros((2, 3))]})
    parts = [slice(p.get("start"), p["stop"], p.get("step")) if isinstance(p, dict) else p for p in index]
    event = {"kind": "ColumnsPatched", "model": source, "attr": "data", "patches": {"img": [[parts, value]]}}
    with pytest.raises(PatchError, match=why):
        check_event(event)
    parts[1:] = [slice(0, 2), 1] if isinstance(parts[1], slice) else [1, slice(0, 3)]
    check_event({**event, "patches": {"img": [[parts, [5.0] * (2 if isinstance(parts[1], slice) else 3)]]}})


@pytest.mark.parametrize(
    ("column", "rows"),
    [
        (np.array([2**40, 2], dtype=np.int64), [0.5]),  # a plain array in BokehJS (Bokeh sends it as a list)
        (np.zeros(2), array("d", [0.1])),  # a JavaScript Float64Array a CustomJS made
        ([1, 2], array("d", [3.0])),
    ],
)
def test_rows_bokehjs_holds_as_sent_are_accepted(column: Any, rows: Any) -> None:
    """0.5 into an int64 column beyond 32 bits, and any typed array that is not an ndarray, were refused."""
    check_event(stream(ColumnDataSource(data={"x": column}), x=rows))


def test_an_int64_column_within_32_bits_takes_what_its_int32_array_holds() -> None:
    """Bokeh sends it as int32: 2**40 streamed into it was taken, and every open tab wrapped it to 0."""
    source = ColumnDataSource(data={"x": np.array([1, 2], dtype=np.int64)})
    with pytest.raises(PatchError, match="numbers its int32 array holds"):
        check_event(stream(source, x=[2**40]))


@pytest.mark.parametrize(
    ("column", "index", "value"),
    [
        (np.array(["a", "b"], dtype=object), 1, "zed"),  # refused: a str item read as an array had no dtype
        (np.zeros(3), {"start": 0, "stop": 2}, array("d", [1.0, 2.0])),  # refused: a typed array, not a list
    ],
)
def test_cells_bokehjs_writes_are_accepted(column: Any, index: Any, value: Any) -> None:
    source = ColumnDataSource(data={"x": column})
    cell = slice(index["start"], index["stop"]) if isinstance(index, dict) else index
    check_event({"kind": "ColumnsPatched", "model": source, "attr": "data", "patches": {"x": [[cell, value]]}})


def patch(column: Any, index: Any, value: Any) -> dict[str, Any]:
    """A cell patch of ``column`` (the one column ``x`` of a new source)."""
    source = ColumnDataSource(data={"x": column})
    return {"kind": "ColumnsPatched", "model": source, "attr": "data", "patches": {"x": [[index, value]]}}


SMALL = np.array([1, 2], dtype=np.int64)  # an Int32Array in BokehJS


@pytest.mark.parametrize(
    ("column", "index", "value", "why"),
    [
        # BokehJS's Int32Array wrapped 2**40 to 0, numpy's int64 kept it; NaN is 0 in BokehJS.
        (SMALL, 0, 2**40, "column 'x' must be numbers its int32 array holds"),
        (SMALL, 0, float("nan"), "column 'x' must be numbers its int32 array holds"),
        (np.array([1, 2], dtype=np.uint8), slice(0, 2), [1, 300], "its uint8 array holds"),
        # A bool column is bytes in BokehJS (2 stays 2, 0.5 is 0), numpy's holds True.
        (np.array([True, False]), 0, 2, "column 'x' must be 0, 1, true or false"),
        (np.array([True, False]), 0, 0.5, "column 'x' must be 0, 1, true or false"),
        # JavaScript's Number() and numpy read strings otherwise ("inf", "1_0"); null is 0 there, NaN here.
        (np.zeros(2), 0, "inf", "column 'x' must be numbers"),
        (np.zeros(2), 0, None, "column 'x' must be numbers"),
        (np.array([2**40, 2]), 0, "7", "column 'x' must be numbers"),
        # A str column is a plain array in BokehJS: a number stays one, numpy makes it text.
        (np.array(["a", "b"]), 0, 5, "column 'x' must be strings"),
        (np.array(["a", "b"]), slice(0, 2), array("d", [1.0, 2.0]), "column 'x' must be strings"),
        # BokehJS holds a datetime64 column as milliseconds: a string is NaN there, numpy parses it.
        (np.array(["2024-01-01"], dtype="datetime64[ns]"), 0, "2024-01-05", "column 'x' must be numbers"),
    ],
)
def test_cells_bokehjs_holds_otherwise_are_refused(column: Any, index: Any, value: Any, why: str) -> None:
    """Taken before: the server held what it wrote, every tab the patch went to something else."""
    with pytest.raises(PatchError, match=re.escape(why)):
        check_event(patch(column, index, value))


@pytest.mark.parametrize(
    ("column", "value"),
    [
        (SMALL, 0.5),
        (SMALL, -2.5),
        (np.array([True, False]), 1),
        (np.zeros(2), True),
        (np.array(["a"], dtype=object), 5),
    ],
)
def test_cells_bokehjs_holds_as_numpy_does_are_accepted(column: Any, value: Any) -> None:
    """Each truncates 0.5 into an integer array, 1 is true in a bool one, anything goes in an object one."""
    check_event(patch(column, 0, value))


@pytest.mark.parametrize(
    ("rows", "why"),
    [([5], "rows streamed into column 'x' must be strings"), (array("d", [5.0]), "an array streamed into column 'x'")],
)
def test_numbers_streamed_into_a_str_column_are_refused(rows: Any, why: str) -> None:
    """numpy appended a list's as text ("5"), BokehJS as numbers (a typed array's was refused already)."""
    with pytest.raises(PatchError, match=why):
        check_event(stream(ColumnDataSource(data={"x": np.array(["a"])}), x=rows))
