"""Check a BokehJS patch's every event before the first is applied (all or nothing).

Bokeh applies events one by one and checks a stream or a cell patch only when it
reaches it, some of it (a cell of the wrong type, a value of the wrong size) only while
writing it: a bad event after a good one would leave the good one applied, and its
callbacks run. These checks refuse (PatchError) whatever would fail there.
"""

from __future__ import annotations

from array import array as TypedArray
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from bokeh.events import Event, ModelEvent
from bokeh.model import Model

from ..exceptions import PatchError
from .client_rows import held_dtype

__all__ = ["check_event", "check_events"]

#: Each event kind's fields besides ``kind``: (required, optional). Bokeh builds the
#: event from them as keyword arguments, so any other key would fail while applying.
_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "ModelChanged": (frozenset({"model", "attr", "new"}), frozenset()),
    "ColumnDataChanged": (frozenset({"model", "attr", "data"}), frozenset({"cols"})),
    "ColumnsStreamed": (frozenset({"model", "attr", "data"}), frozenset({"rollover"})),
    "ColumnsPatched": (frozenset({"model", "attr", "patches"}), frozenset()),
    "TitleChanged": (frozenset({"title"}), frozenset()),
    "RootAdded": (frozenset({"model"}), frozenset()),
    "RootRemoved": (frozenset({"model"}), frozenset()),
    # Bokeh makes the event with its msg_data (BokehJS always sends one): without, TypeError.
    "MessageSent": (frozenset({"msg_type", "msg_data"}), frozenset()),
}


def _is_index(value: Any) -> bool:
    return type(value) is int and value >= 0


def _check_value(model: Any, attr: Any, value: Any) -> None:
    lookup = getattr(model, "lookup", None)
    descriptor = lookup(attr, raises=False) if lookup is not None and isinstance(attr, str) else None
    if descriptor is None:
        raise PatchError(f"unknown property {attr!r:.60} of {type(model).__name__}")
    # Read-only properties are BokehJS's to report (a plot's inner_width, say): accepted.
    try:
        descriptor.property.prepare_value(model, attr, value)
    except Exception as exc:
        raise PatchError(f"invalid value for {type(model).__name__}.{attr}: {str(exc)[:200]}") from exc


def _columns(model: Any, attr: Any, data: Any = None) -> Mapping[str, Any]:
    if data is None:
        data = getattr(model, "data", None) if attr == "data" else None
    if not isinstance(model, Model) or attr != "data" or not isinstance(data, Mapping) or not hasattr(model, "patch"):
        raise PatchError(f"{type(model).__name__}.{attr!s:.60} is not a data source's data")
    return data


def _check_stream(model: Any, attr: Any, new: Any, rollover: Any, data: Any = None) -> None:
    data = _columns(model, attr, data)
    if not isinstance(new, dict) or (data and set(new) != set(data)):
        raise PatchError("a stream must name every column of the source")
    if rollover is not None and not _is_index(rollover):
        raise PatchError(f"rollover must be a non-negative int, got {rollover!r:.40}")
    lengths = set()
    for name, values in new.items():
        if isinstance(values, TypedArray):
            # A JavaScript typed array (not an ndarray: one a CustomJS made), which Bokeh
            # decodes as an array.array and appends as it does a list: refused as neither.
            values = np.asarray(values)
        if isinstance(values, np.ndarray) and values.ndim == 1:
            lengths.add(values.shape[0])
        elif isinstance(values, list):
            lengths.add(len(values))
        else:
            raise PatchError(f"streamed column {name!r:.40} must be a list or a 1-d array")
        if data:
            _check_joins(name, data[name], values)
            _check_kind("rows streamed into", name, data[name], values)
    if len(lengths) > 1:
        raise PatchError("streamed columns must have the same length")


def _holds(dtype: np.dtype[Any], values: Any) -> bool:
    """Tell whether an array of ``dtype`` holds ``values`` as they are (numbers; exactly, in an integer one)."""
    try:
        source = np.asarray(values)
    except Exception:
        return False
    if source.ndim != 1:
        return False  # rows of lists: numpy flattens them into more rows, BokehJS reads each as NaN
    if source.size == 0:
        return True
    if source.dtype.kind not in "biuf":
        return False  # strings, None, dicts: NaN or 0 in a typed array
    if np.issubdtype(dtype, np.floating):
        # BokehJS rounds any number to a float array's precision (0.1 into a float32
        # column), as it does the app's own streams: refused, a float32 column took no
        # client stream of a JavaScript number that float32 does not hold exactly.
        return True
    with np.errstate(all="ignore"):
        cast = source.astype(dtype)
    return bool(np.array_equal(cast, source, equal_nan=source.dtype.kind == dtype.kind == "f"))


def _check_joins(name: str, column: Any, values: Any) -> None:
    # BokehJS appends streamed rows to a typed array of the column's type, and makes a
    # plain column the streamed array's type; Bokeh's numpy append promotes instead. A
    # string streamed into a float column was taken: the server's whole column became
    # strings, the other tabs' held NaN for it; the session no longer converged.
    dtype = held_dtype(column)
    if dtype is not None:
        if not _holds(dtype, values):
            raise PatchError(
                f"rows streamed into column {name!r:.40} must be numbers its {dtype} array holds as they are"
            )
        return
    dtype = held_dtype(values)
    if dtype is not None and not _holds(dtype, column):
        raise PatchError(
            f"an array streamed into column {name!r:.40} must hold the column's values as they are"
            f" (a {dtype} array, as BokehJS makes the column)"
        )
    if isinstance(column, np.ndarray):
        # Bokeh appends to any other array with numpy, which fails (once the events
        # before it are applied) on rows it cannot join: numbers into a datetime64
        # column, ragged lists into an object one. Its dtype follows from the dtypes
        # alone, so appending to none of the column's rows tells.
        try:
            np.append(column[:0], values)
        except Exception as exc:
            raise PatchError(
                f"rows streamed into column {name!r:.40} do not join its {column.dtype} array: {str(exc)[:80]}"
            ) from exc


def _is_number(value: Any) -> bool:
    return isinstance(value, bool | int | float | np.bool_ | np.number) and not isinstance(value, np.datetime64)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_datetime(value: Any) -> bool:
    return isinstance(value, np.datetime64)


def _check_kind(written: str, name: str, column: Any, values: Any) -> None:
    """Refuse ``values`` written into the array ``column`` unless BokehJS holds them as the server's numpy does.

    BokehJS holds a str column as a plain array (a number stays a number, numpy makes
    it text: 5 became "5"), a datetime64 one as milliseconds in a Float64Array (a
    string is NaN there, numpy parsed it as a date) and any numeric one in a typed or
    plain array of numbers (a string or null is whatever JavaScript's Number() makes of
    it there, numpy parsed "inf" or "1_0", and read null as NaN).
    """
    if not isinstance(column, np.ndarray) or column.ndim != 1:
        return
    kind = column.dtype.kind
    fits: Callable[[Any], bool]
    if kind == "U":
        what, array_fits = "strings", "U"
        fits = _is_str
    elif kind == "M":
        # Numbers are datetimes of the column's unit by now (client_rows.read_datetime_rows).
        what, array_fits = "numbers (milliseconds since the epoch)", "M"
        fits = _is_datetime
    elif kind in "biuf":
        what, array_fits = "numbers", "biuf"
        fits = _is_number
    else:
        return
    if isinstance(values, np.ndarray):
        if values.dtype.kind not in array_fits:
            raise PatchError(f"{written} column {name!r:.40} must be {what}, not a {values.dtype} array")
        return
    if isinstance(values, TypedArray):  # numbers
        if kind in "biuf":
            return
        raise PatchError(f"{written} column {name!r:.40} must be {what}, not a typed array of numbers")
    for value in values:
        if not fits(value):
            raise PatchError(
                f"{written} column {name!r:.40} must be {what}: BokehJS holds {value!r:.40} otherwise than numpy does"
            )


def _check_cells_held(name: str, column: Any, values: Any) -> None:
    """Refuse numbers patched into a column BokehJS holds as a typed integer array that it stores otherwise than numpy.

    An Int32Array (an int64 column within 32 bits, as Bokeh sends it) wraps 2**40 to 0
    where numpy's int64 kept it, and a bool column's Uint8Array holds 2 or 0.5 where
    numpy's holds True: every tab the patch went to diverged from the server.
    """
    dtype = held_dtype(column)
    if dtype is None or dtype.kind not in "biu":
        return
    cells = np.asarray(values, dtype=np.float64).ravel()
    if dtype.kind == "b":
        fits = np.all((cells == 0) | (cells == 1))
        what = "0, 1, true or false (BokehJS holds a bool column as bytes)"
    else:
        info = np.iinfo(dtype)
        with np.errstate(all="ignore"):
            whole = np.trunc(cells)
        fits = np.all(np.isfinite(cells) & (info.min <= whole) & (whole <= info.max))
        what = f"numbers its {dtype} array holds (BokehJS wraps others, numpy does not)"
    if not fits:
        raise PatchError(f"cells patched into column {name!r:.40} must be {what}")


def _writes(target: Any, value: Any) -> None:
    """Refuse ``value`` unless it fits ``target`` (an array cell or region) as assignment needs."""
    try:
        np.asarray(value, dtype=target.dtype).reshape(np.shape(target))
    except Exception as exc:
        raise PatchError(f"patch value does not fit its cells: {str(exc)[:120]}") from exc


def _check_slice(part: Any) -> None:
    if not isinstance(part, slice):
        raise PatchError(f"invalid patch index {part!r:.60}")
    if not all(bound is None or _is_index(bound) for bound in (part.start, part.stop, part.step)) or part.step == 0:
        raise PatchError(f"invalid slice {part!r:.80}: bounds and step are non-negative ints, step > 0")


def _check_cell(column: Any, index: Any, value: Any) -> None:
    length = len(column)
    if type(index) is int:
        if not 0 <= index < length:
            raise PatchError(f"patch index {index} out of range")
        # An object array's item takes any value (a str read as an array had no dtype: refused).
        if isinstance(column, np.ndarray) and column.dtype != object:
            _writes(column[index], value)
    elif isinstance(index, slice):
        _check_slice(index)
        if index.stop is not None and index.stop > length:  # Bokeh refuses it only while applying
            raise PatchError(f"patch slice stop {index.stop} out of range")
        count = len(range(*index.indices(length)))
        if not isinstance(value, list | np.ndarray | TypedArray) or len(value) != count:
            raise PatchError(f"a patch of slice {index!r:.80} needs {count} values")
        if isinstance(column, np.ndarray):
            _writes(column[index], value)
    elif isinstance(index, list | tuple) and len(index) > 1 and type(index[0]) is int and 0 <= index[0] < length:
        item = column[index[0]]
        if not isinstance(item, np.ndarray) or item.ndim != len(index) - 1:
            raise PatchError("a multi-index patches an array cell of as many dimensions")
        # BokehJS writes item[i * row + j] for each i, j up to each slice's stop, where numpy
        # clips and reads a negative index from the end: a stop of 2**63 hung every other
        # tab, one past a row's end wrote into the next row there.
        for length, part in zip(item.shape, index[1:], strict=True):
            if type(part) is int:
                if not 0 <= part < length:
                    raise PatchError(f"patch sub-index {part} out of range")
            else:
                _check_slice(part)
                if part.stop is not None and part.stop > length:
                    raise PatchError(f"patch sub-index slice stop {part.stop} out of range")
        try:
            target = item[tuple(index[1:])]
        except IndexError as exc:
            raise PatchError(f"patch sub-index out of range: {exc}") from exc
        _writes(target, value)
    else:
        raise PatchError(f"invalid patch index {index!r:.60}")


def _check_patches(model: Any, attr: Any, patches: Any, data: Any = None) -> None:
    data = _columns(model, attr, data)
    if not isinstance(patches, dict):
        raise PatchError("patches must map column names to lists of [index, value]")
    for name, cells in patches.items():
        if name not in data:
            raise PatchError(f"no column {name!r:.40} to patch")
        if not isinstance(cells, list):
            raise PatchError(f"patches of column {name!r:.40} must be a list")
        for cell in cells:
            if not isinstance(cell, list | tuple) or len(cell) != 2:
                raise PatchError(f"a patch of column {name!r:.40} is an [index, value] pair")
            index, value = cell
            # A cell or slice of the column (not of an array cell): its kind first, the column named.
            if type(index) is int or (isinstance(index, slice) and isinstance(value, list | np.ndarray | TypedArray)):
                values = value if isinstance(index, slice) else [value]
                _check_kind("cells patched into", name, data[name], values)
                if all(_is_number(item) for item in values):
                    _check_cells_held(name, data[name], values)
            _check_cell(data[name], index, value)


def _check_model(event: dict[str, Any]) -> None:
    if not isinstance(event.get("model"), Model):
        raise PatchError(f"{event['kind']} needs a model")


_CHECKS: dict[str, Callable[[dict[str, Any], Any], None]] = {
    "ModelChanged": lambda e, _: _check_value(e["model"], e["attr"], e["new"]),
    "ColumnDataChanged": lambda e, _: _check_value(e["model"], e["attr"], e["data"]),
    "ColumnsStreamed": lambda e, data: _check_stream(e["model"], e["attr"], e["data"], e.get("rollover"), data),
    "ColumnsPatched": lambda e, data: _check_patches(e["model"], e["attr"], e["patches"], data),
    "RootAdded": lambda e, _: _check_model(e),
    "RootRemoved": lambda e, _: _check_model(e),
}

_ROWS = ("ColumnsStreamed", "ColumnsPatched")


def check_events(events: list[dict[str, Any]]) -> None:
    """Refuse (PatchError) a patch any event of which Bokeh would fail to apply, each judged after those before it.

    A stream or cell patch is checked against the source's data as the patch's earlier
    events leave it (a new whole value of it), not as it is: checked against the old
    columns, a stream after a change of the column set, or a cell patch after the rows
    shrank, failed only while being applied, the earlier events applied. One after
    another stream or cell patch of the same source (rows whose count or cells changed)
    is refused: each goes in a patch of its own.
    """
    data_after: dict[int, Any] = {}  # id(source) -> its data after the events so far (None: rows changed)
    for event in events:
        _check_names(event)
        kind = event.get("kind")
        key = id(event.get("model"))
        data = data_after.get(key)
        if kind in _ROWS and key in data_after and data is None:
            model = event["model"]
            raise PatchError(
                f"{kind} of {type(model).__name__} {model.id!r:.40} after another stream or cell patch of it"
                " in the same patch: send each in a patch of its own"
            )
        check_event(event, data)
        if kind == "ColumnDataChanged" or (kind == "ModelChanged" and event.get("attr") == "data"):
            data_after[key] = event["data" if kind == "ColumnDataChanged" else "new"]
        elif kind in _ROWS:
            data_after[key] = None


def _check_bokeh_event(data: Any) -> None:
    if not isinstance(data, Event):
        # Bokeh hands it to trigger_event, which fails on anything but an event (a
        # number, a map) only once the events before it are applied.
        raise PatchError('a bokeh_event message carries an event ({"type": "event", ...})')
    model = getattr(data, "model", None) if isinstance(data, ModelEvent) else None
    if model is not None and not isinstance(model, Model):
        # Most events check their model's class; a menu or legend item click does not,
        # and the dispatch to a subscribed model's callbacks read its id: AttributeError.
        raise PatchError(f"a {data.event_name} event's model must be a model, got {model!r:.40}")


def _check_names(event: dict[str, Any]) -> None:
    # Decoded like any value, a kind or attr may be an array, whose comparisons with the
    # kinds raised ValueError (answered as the app's callback error, a traceback logged).
    kind = event.get("kind")
    if not isinstance(kind, str):
        raise PatchError(f"unknown event kind {kind!r:.40}")
    if "attr" in event and not isinstance(event["attr"], str):
        raise PatchError(f"{kind} event's attr must be a string, got {event['attr']!r:.40}")
    # A model that is no reference (null, an id as a bare string) decodes as itself: the
    # property checks then answered `unknown property 'value' of NoneType`.
    if kind in _CHECKS and "attr" in event and "model" in event and not isinstance(event["model"], Model):
        raise PatchError(f'{kind} event\'s model must be a model reference {{"id": ...}}, got {event["model"]!r:.40}')


def check_event(event: dict[str, Any], data: Any = None) -> None:
    """Refuse (PatchError) an event Bokeh would fail to apply, or apply only in part.

    ``data``: for a stream or cell patch, the source's data as the patch's earlier events
    leave it (None: as the source holds it).
    """
    _check_names(event)
    kind = event["kind"]
    fields = _FIELDS.get(kind)
    if fields is None:
        raise PatchError(f"unknown event kind {kind!r:.40}")
    required, optional = fields
    keys = set(event) - {"kind"}
    if not required <= keys or not keys <= required | optional:
        raise PatchError(f"{kind} event needs the fields {sorted(required)} (and may have {sorted(optional)})")
    if kind == "TitleChanged" and not isinstance(event["title"], str):
        raise PatchError("a title must be a string")
    if kind == "MessageSent" and not isinstance(event["msg_type"], str):
        raise PatchError("msg_type must be a string")
    if kind == "MessageSent" and event["msg_type"] == "bokeh_event":
        _check_bokeh_event(event["msg_data"])
    check = _CHECKS.get(str(kind))
    if check is not None:
        check(event, data)
