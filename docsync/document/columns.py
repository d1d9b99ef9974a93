"""Streaming rows into, and patching cells of, column data (checked, then applied)."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..exceptions import IntTooWideError, ValidationError
from .events import ColumnsPatchedEvent, ColumnsStreamedEvent
from .properties import holds_models
from .value_depth import column_nests_deeper, too_deep

__all__ = [
    "apply_patches",
    "apply_stream",
    "check_patches",
    "check_stream",
    "column_made_here",
    "patch_checked",
    "stream_checked",
]

Column = Any  # np.ndarray | list
_FLOAT64 = np.dtype(np.float64)
# What values of a numpy kind are, in a refusal: a user streams text, not "<U1".
_KIND_WORDS = {"U": "text", "S": "bytes", "O": "values that are not numbers", "M": "datetimes", "m": "time deltas"}


def _described(dtype: np.dtype[Any]) -> str:
    """Name the values of ``dtype`` for an error: numbers by their dtype, other kinds in words."""
    return _KIND_WORDS.get(dtype.kind, str(dtype))


def _cast(values: Any, dtype: np.dtype[Any]) -> tuple[np.ndarray | None, str]:
    """Return ``values`` as an array of ``dtype``, or None and what is wrong with them.

    Values must keep their meaning: no floats into integer columns, no numbers into
    bool columns, no integers outside the column's range (numpy would wrap them).
    """
    try:
        array = np.asarray(values)
    except (ValueError, TypeError, OverflowError):
        return None, "has ragged or mixed values"
    kind = array.dtype.kind
    if array.size == 0:
        return array.astype(dtype), ""
    if kind not in "biuf" or (dtype.kind == "b" and kind != "b") or (dtype.kind in "iu" and kind == "f"):
        return None, f"of {_described(array.dtype)} cannot join {dtype}"
    if dtype.kind in "iu" and kind in "iu":
        info = np.iinfo(dtype)
        if int(array.min()) < info.min or int(array.max()) > info.max:
            return None, f"has values out of range of {dtype}"
    return array.astype(dtype, copy=False), ""


def _as_rows(name: str, existing: Column, rows: Any) -> Column:
    if isinstance(existing, np.ndarray):
        array, why = _cast(rows, existing.dtype)
        if array is None:
            raise ValidationError(f"streamed column {name!r} {why}")
        if array.ndim != existing.ndim or array.shape[1:] != existing.shape[1:]:
            raise ValidationError(f"streamed column {name!r} has shape {array.shape}")
        return array
    if isinstance(rows, np.ndarray):
        if rows.ndim == 0:  # one value, not rows: tolist() would give a scalar, which has no len()
            raise ValidationError(f"streamed column {name!r} must be rows, got a 0-d array")
        return rows.tolist()
    if isinstance(rows, list | tuple):
        if holds_models(rows):
            raise ValidationError(f"streamed column {name!r} holds models: columns hold data")
        return list(rows)
    raise ValidationError(f"streamed column {name!r} must be a list or ndarray")


def check_stream(data: Mapping[str, Column], new: Mapping[str, Any], rollover: int | None) -> dict[str, Column]:
    """Return the rows to stream, normalised, or raise ValidationError."""
    if not (type(new) is dict or isinstance(new, Mapping)) or not new:
        raise ValidationError("stream needs a dict of column name to new rows")
    if set(new) != set(data):
        missing = sorted(set(data) - set(new))
        extra = sorted(set(new) - set(data), key=str)
        raise ValidationError(f"stream must supply every column: missing {missing}, extra {extra}")
    if rollover is not None and (type(rollover) is not int or rollover < 0):
        raise ValidationError(f"rollover must be a non-negative int, got {rollover!r}")
    rows = {name: _as_rows(name, data[name], new[name]) for name in new}
    lengths = {len(column) for column in rows.values()}
    if len(lengths) > 1:
        raise ValidationError(f"streamed columns have different lengths: {sorted(lengths)}")
    for name, column in rows.items():
        # The rows as items of their column (an array's are cast to its dtype: flat).
        if type(column) is list and _nests_deeper(f"streamed column {name!r}", data, column):
            raise too_deep(f"streamed column {name!r}")
    return rows


def _nests_deeper(where: str, data: Mapping[str, Column], values: list[Any]) -> bool:
    """``column_nests_deeper``; an integer past 64 bits, met by the same walk, refused (no pull could write it)."""
    try:
        return column_nests_deeper(data, values)
    except IntTooWideError as exc:
        raise IntTooWideError(f"{where}: {exc}") from None


def _joined(old: Column, new: Column, rollover: int | None) -> Column:
    keep = len(old)
    if rollover is not None:
        keep = max(0, min(len(old), rollover - len(new)))
        if len(new) > rollover:
            new = new[len(new) - rollover :]
    head = old[len(old) - keep :] if keep else old[:0]
    if isinstance(old, np.ndarray):
        return _made(np.concatenate((head, new)))
    # One copy of the kept rows (the slice), the new ones appended: a one-row stream on a
    # 500,000-row list column copied its rows three times (slice, list(), +).
    joined = head if type(head) is list else list(head)
    joined.extend(new)
    return joined


#: Told of a list column made from another: (name, old column, new column, items removed, items added).
Derive = Callable[[str, Column, Column, list[Any], list[Any]], None]
#: Columns a check already made by the same change, by name. A list column's: what
#: ``Derive`` was told of it. An array column's (a stream's): ``(old, new, None, writes)``,
#: ``writes`` the count of ``_writes_in_place`` when it was made.
Made = Mapping[str, tuple[Column, Column, list[Any] | None, Any]]

#: How many times apply_patches wrote into an array in place: an array a check made by
#: joining rows to a column holds that column's cells as they were then (``_made_already``).
_writes_in_place = 0


def _made_already(data: dict[str, Column], name: str, made: Made | None, derive: Derive | None) -> bool:
    """Put in the column a check made of ``data[name]`` by this change, if it did (no copy, no writes)."""
    done = made.get(name) if made is not None else None
    if done is None or done[0] is not data[name]:
        return False
    old, new, removed, added = done
    if removed is None:  # an array the check joined: unless a patch wrote into one since (its old cells, say)
        if added != _writes_in_place:
            return False
        dict.__setitem__(data, name, new)
        return True
    dict.__setitem__(data, name, new)
    if derive is not None:
        derive(name, old, new, removed, added)
    return True


def apply_stream(
    data: dict[str, Column],
    rows: Mapping[str, Column],
    rollover: int | None,
    derive: Derive | None = None,
    made: Made | None = None,
    keep: dict[str, Any] | None = None,
) -> None:
    """Append checked rows to every column, in place in ``data`` (``derive``: told of each list column made).

    ``made``: columns the check of this stream already made (taken as they are).
    ``keep``: told the array columns made, for the apply of the same stream to take
    (``made``): a stream's check joins the rows to a copy of the columns, and joining
    them again to a column of 500,000 rows, on the server and on every client, copied
    the whole column twice per stream.
    """
    for name, new in rows.items():
        if made is not None and _made_already(data, name, made, derive):
            continue
        old = data[name]
        joined = _joined(old, new, rollover)
        dict.__setitem__(data, name, joined)
        if keep is not None and isinstance(old, np.ndarray):
            keep[name] = (old, joined, None, _writes_in_place)
        if derive is not None and type(old) is list:
            # _joined keeps old's last items and appends new's last ones: the rest is removed.
            kept = len(joined) - min(len(new), len(joined))
            derive(name, old, joined, old[: len(old) - kept], list(new[len(new) - (len(joined) - kept) :]))


def _check_index(name: str, index: Any, length: int) -> Any:
    if isinstance(index, slice):
        start, stop, step = index.indices(length)
        if step <= 0 or (index.start is not None and not 0 <= index.start <= length):
            raise ValidationError(f"patch slice {index} out of range for column {name!r}")
        if index.stop is not None and not 0 <= index.stop <= length:
            raise ValidationError(f"patch slice {index} out of range for column {name!r}")
        return slice(start, stop, step)
    if type(index) is not int or not 0 <= index < length:
        raise ValidationError(f"patch index {index!r} out of range for column {name!r}")
    return index


def check_patches(data: Mapping[str, Column], patches: Mapping[str, Any]) -> dict[str, list[tuple[Any, Any]]]:
    """Return the checked patches, or raise ValidationError."""
    # (A dict, nearly always, told by its type: no abstract-class check per patch.)
    if not (type(patches) is dict or isinstance(patches, Mapping)) or not patches:
        raise ValidationError("patch needs a dict of column name to [(index, value), ...]")
    checked: dict[str, list[tuple[Any, Any]]] = {}
    for name, entries in patches.items():
        if name not in data:
            raise ValidationError(f"cannot patch unknown column {name!r}")
        if not (type(entries) is list or isinstance(entries, list | tuple)):
            raise ValidationError(f"patches of column {name!r} must be a list")
        column = data[name]
        items = []
        cells: list[Any] = []  # the new cells of a list column, as items of it
        for entry in entries:
            if not (type(entry) is tuple or type(entry) is list or isinstance(entry, list | tuple)) or len(entry) != 2:
                raise ValidationError(f"patch of column {name!r} must be (index, value) pairs")
            index = _check_index(name, entry[0], len(column))
            value = entry[1]
            if isinstance(index, slice):
                count = len(range(*index.indices(len(column))))
                # A 0-d array is one value, not a sequence: len() of it raises TypeError.
                sized = isinstance(value, list | tuple) or (isinstance(value, np.ndarray) and value.ndim > 0)
                if not sized or len(value) != count:
                    raise ValidationError(f"patch slice of column {name!r} needs {count} values")
                value = list(value) if not isinstance(value, np.ndarray) else value
            if isinstance(column, np.ndarray):
                if type(value) is float and column.dtype is _FLOAT64 and column.ndim == 1 and type(index) is int:
                    # One float into a cell of a float64 column, the common patch: what
                    # _cast would find (a 0-d float64 array) without building it.
                    items.append((index, value))
                    continue
                array, _ = _cast(value, column.dtype)
                shape = column.shape[1:]
                if isinstance(index, slice):
                    shape = (len(range(*index.indices(len(column)))), *shape)
                if array is None or array.shape != shape:
                    raise ValidationError(f"patch value {value!r:.40} does not fit column {name!r}")
            elif holds_models(value):
                raise ValidationError(f"patch value of column {name!r} holds models: columns hold data")
            elif isinstance(index, slice):
                cells.extend(value)
            else:
                cells.append(value)
            items.append((index, value))
        if cells and _nests_deeper(f"patch of column {name!r}", data, cells):
            raise too_deep(f"patch of column {name!r}")
        checked[name] = items
    return checked


#: The column arrays apply_patches and apply_stream made, by id, each with a weak reference
#: to it (an id is another array's once it is freed: the reference tells). Patches write
#: these in place. Any other array is copied before its first patch: a read-only one (a
#: view of a received frame), a view, an array the app put in (it may still hold it).
#: Encoded events never hold a column's memory (EncodedEvent and the client's outbox
#: freeze their buffers), so writing a column made here changes no event. Plain
#: references, not a WeakValueDictionary: that ran a Python callback for every array
#: freed (every stream and patch frees the column it replaces); the entries of freed
#: arrays go when the index has doubled since it was last swept (``_made``).
_MADE: dict[int, weakref.ReferenceType[np.ndarray]] = {}
#: How many entries ``_MADE`` may hold before the next sweep.
_SWEEP_AT = 1024
_sweep_bound = _SWEEP_AT


def _made(array: np.ndarray) -> np.ndarray:
    global _sweep_bound
    made = _MADE
    made[id(array)] = weakref.ref(array)
    if len(made) >= _sweep_bound:
        # (A thread may add one meanwhile and see it dropped: that array is merely copied before its next patch.)
        for key, ref in list(made.items()):
            if ref() is None:
                made.pop(key, None)
        _sweep_bound = max(_SWEEP_AT, 2 * len(made))
    return array


def column_made_here(column: Column) -> bool:
    """Tell whether apply_patches would write ``column`` in place (an array this module made, still writable)."""
    if not isinstance(column, np.ndarray) or not column.flags.writeable:
        return False
    ref = _MADE.get(id(column))
    return ref is not None and ref() is column


def apply_patches(
    data: dict[str, Column],
    patches: Mapping[str, list[tuple[Any, Any]]],
    derive: Derive | None = None,
    made: Made | None = None,
) -> None:
    """Write checked patches into the columns of ``data`` (an array made elsewhere is copied first).

    ``derive``: told of each list column made, with the cells it replaced and their new values.
    ``made``: list columns the check of these patches already made (taken as they are: a
    list column is copied to be patched, and the check's copy is the same list).
    """
    global _writes_in_place
    for name, entries in patches.items():
        if made is not None and _made_already(data, name, made, derive):
            continue
        old = column = data[name]
        removed: list[Any] = []
        added: list[Any] = []
        if isinstance(column, np.ndarray):
            if not column_made_here(column):
                column = _made(column.copy())
            else:  # written in place: an array a check joined to it holds its cells as they were
                _writes_in_place += 1
        else:
            column = list(column)
        tell = derive is not None and type(old) is list
        for index, value in entries:
            if tell:
                # The cells as they are now (an earlier entry may have written one).
                if isinstance(index, slice):
                    removed.extend(column[index])
                    added.extend(value)
                else:
                    removed.append(column[index])
                    added.append(value)
            column[index] = value
        dict.__setitem__(data, name, column)
        if derive is not None and tell:
            derive(name, old, column, removed, added)


def _ledger_derive(model: Any, attr: str) -> Derive | None:
    """What tells ``model``'s document's footprint ledger (if it keeps one) of a list column made."""
    ledger = getattr(model.document, "_ledger", None)
    if ledger is None:
        return None
    return lambda name, old, new, removed, added: ledger.derive(model, attr, name, old, new, removed, added)


def stream_checked(
    model: Any, attr: str, rows: dict[str, Column], rollover: int | None, setter: Any, made: Made | None = None
) -> None:
    """Stream rows that ``check_stream`` returned for the current columns of ``model.attr``, and report it."""
    apply_stream(getattr(model, attr), rows, rollover, _ledger_derive(model, attr), made)
    model._column_event(ColumnsStreamedEvent(model, attr, rows, rollover, setter))


def patch_checked(
    model: Any, attr: str, patches: dict[str, list[tuple[Any, Any]]], setter: Any, made: Made | None = None
) -> None:
    """Write patches that ``check_patches`` returned for the current columns of ``model.attr``, and report it."""
    apply_patches(getattr(model, attr), patches, _ledger_derive(model, attr), made)
    model._column_event(ColumnsPatchedEvent(model, attr, patches, setter))
