"""Encode Python values into typed JSON plus binary buffers."""

from __future__ import annotations

import base64
import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from itertools import chain
from typing import Any

import numpy as np

from ..exceptions import SerializationError
from .arrays import Buffer, array_to_buffer
from .lines import copy_lines, item_types

__all__ = ["Encoder", "is_reference_type", "wide_int", "wide_int_text", "writes_as_map"]


# What JSON text on the wire may carry (orjson's range): int64 and uint64.
MIN_INT = _MIN_INT = -(2**63)
MAX_INT = _MAX_INT = 2**64 - 1


#: The types of list items :meth:`Encoder.encode` may copy as they are (numbers once
#: checked: ints in range, floats finite).
_TEXT_ITEMS = frozenset({str, bool, type(None)})
_NUMBER_ITEMS = frozenset({int, float, bool})
#: From this many items, a list's item types are checked in one C-level pass first: a
#: list of plain values is then copied whole (3.5 M ints in 0.05 s instead of 1.2 s).
_SCAN_FROM = 32


def _plain_copy(value: list[Any] | tuple[Any, ...], types: set[type] | None = None) -> list[Any] | None:
    """``list(value)`` when every item encodes to itself, else None (a cheap, C-level check).

    ``types``: the types of the items, when known (else scanned here).

    A list of lists of such items (a MultiLine's column, one line a row) is copied line
    by line, its items checked in the same C-level passes over all lines at once: 99,000
    lines of 20 ints were a call per item, 76,000 lines of 100 four passes per line.
    """
    if types is None:
        types = set(map(type, value))
    if types == _LINES:
        lines = value
        return copy_lines(lines) if _encode_themselves(item_types(lines), lambda: chain.from_iterable(lines)) else None
    return list(value) if _encode_themselves(types, lambda: value) else None


_LINES = {list}


def _encode_themselves(types: set[type], items: Callable[[], Iterable[Any]]) -> bool:
    """Tell whether ``items()``, of ``types``, all encode to themselves (each pass a new iterable)."""
    if types <= _TEXT_ITEMS:
        return True
    if not types <= _NUMBER_ITEMS:
        return False
    # The range first: then every item converts to a float (isfinite raises
    # OverflowError past 1e308); a NaN or an infinity fails either test.
    if int in types and not _MIN_INT <= min(items()) <= max(items()) <= _MAX_INT:
        return False
    if float not in types:
        return True
    # Finite, from one C-level sum rather than a call per item (1M floats: ~5 ms, not
    # ~40): a NaN or an infinity makes the sum one, and only then (or when finite floats
    # sum past 1e308) does the walk decide.
    return math.isfinite(sum(items())) or all(map(math.isfinite, items()))


def wide_int(items: list[Any] | tuple[Any, ...]) -> int | None:
    """The first integer among ``items`` (or the items of its lines) that the wire cannot carry (past 64 bits), if any.

    C-level passes over the item types, then over the ints alone: a column of a million
    ints is two passes of ``min`` and ``max``, not a call per item.
    """
    types = set(map(type, items))
    if types == _LINES:
        items = list(chain.from_iterable(items))
        types = set(map(type, items))
    if int not in types:
        return None
    ints = items if types == _INTS else [item for item in items if type(item) is int]
    if min(ints) >= _MIN_INT and max(ints) <= _MAX_INT:
        return None
    return next(item for item in ints if not _MIN_INT <= item <= _MAX_INT)


_INTS = {int}


def wide_int_text(value: int) -> str:
    """Say that ``value`` does not fit in 64 bits, its digits shown only while few (a million-digit int is 1 MB)."""
    bits = value.bit_length() if value >= 0 else (~value).bit_length() + 1  # (a negative one: its sign bit too)
    if bits > 256:
        return f"integer of {bits} bits does not fit in 64 bits"
    return f"integer {value} does not fit in 64 bits ({bits} bits)"


def is_reference_type(value: object) -> bool:
    """Tell whether ``value`` travels as a reference ``{"id": ...}`` (a model)."""
    return getattr(type(value), "__docsync_ref__", False) is True


def writes_as_map(value: Mapping[Any, Any]) -> bool:
    """Tell whether a dict is written as a ``map`` (else as a plain JSON object)."""
    # A plain JSON object is only unambiguous when it cannot be mistaken for a typed
    # value (a "type" key) or a reference (exactly one "id" key).
    if "type" in value or (len(value) == 1 and "id" in value):
        return True
    # The key types in one C-level pass (a generator was a Python-level step per key).
    return not set(map(type, value)) <= _STR_KEYS


_STR_KEYS = {str}


class Encoder:
    """Turn values into JSON-able objects, collecting buffers and referenced models.

    With ``use_buffers`` false (for places that cannot carry binary frames) arrays and
    bytes are written as base64 instead. ``item_types``: lists whose item types are known
    (a decoder saw them, and nothing could change the list since), by id, with the list
    and those types: such a list's types are not scanned again.
    """

    __slots__ = ("_buffer_prefix", "_item_types", "_next_buffer", "buffers", "referenced", "use_buffers")

    def __init__(
        self,
        *,
        use_buffers: bool = True,
        buffer_prefix: str = "",
        item_types: Mapping[int, tuple[list[Any], set[type]]] | None = None,
    ) -> None:
        self.use_buffers = use_buffers
        self._item_types = item_types
        # A prefix keeps buffer ids unique when separately encoded parts share a message.
        self._buffer_prefix = buffer_prefix
        self.buffers: list[tuple[str, Buffer]] = []
        #: Models met while encoding, by id, in the order first met.
        self.referenced: dict[str, Any] = {}
        self._next_buffer = 0

    def add_buffer(self, data: Buffer) -> str:
        """Queue ``data`` as a binary buffer and return its id."""
        buffer_id = f"{self._buffer_prefix}{self._next_buffer}"
        self._next_buffer += 1
        self.buffers.append((buffer_id, data))
        return buffer_id

    def encode(self, value: Any) -> Any:
        """Return the JSON-able form of ``value``."""
        kind = type(value)
        if value is None or kind is bool or kind is str:
            return value
        if kind is int:
            if not _MIN_INT <= value <= _MAX_INT:
                raise SerializationError(wide_int_text(value))
            return value
        if kind is float:
            return value if math.isfinite(value) else self._encode_special_float(value)
        if kind is np.ndarray:  # (a column: told by its type, before the isinstance checks below)
            return self._encode_array(value)
        if kind is list or kind is tuple or isinstance(value, list | tuple):
            if len(value) >= _SCAN_FROM:
                known = self._item_types.get(id(value)) if self._item_types else None
                copied = _plain_copy(value, known[1] if known is not None and known[0] is value else None)
                if copied is not None:
                    return copied
            # Strings (most items are) are taken as they are, without a call each.
            return [item if type(item) is str else self.encode(item) for item in value]
        if isinstance(value, dict):
            return self._encode_dict(value)
        if isinstance(value, np.ndarray):
            return self._encode_array(value)
        if is_reference_type(value):
            self.referenced.setdefault(value.id, value)
            return {"id": value.id}
        return self._encode_other(value)

    def _encode_other(self, value: Any) -> Any:
        if isinstance(value, bool | int):
            return bool(value) if isinstance(value, bool) else self.encode(int(value))
        if isinstance(value, float):
            return self.encode(float(value))
        if isinstance(value, np.generic):
            return self.encode(value.item())
        if isinstance(value, set | frozenset):
            return {"type": "set", "entries": [self.encode(item) for item in value]}
        if isinstance(value, bytes | bytearray | memoryview):
            return {"type": "bytes", **self._payload(value)}
        if isinstance(value, dt.datetime):
            return {"type": "datetime", "iso": value.isoformat()}
        if isinstance(value, dt.date):
            return {"type": "date", "iso": value.isoformat()}
        if isinstance(value, dt.time):
            return {"type": "time", "iso": value.isoformat()}
        raise SerializationError(f"cannot encode value of type {type(value).__name__}")

    @staticmethod
    def _encode_special_float(value: float) -> dict[str, str]:
        if math.isnan(value):
            return {"type": "number", "value": "nan"}
        return {"type": "number", "value": "+inf" if value > 0 else "-inf"}

    def _encode_dict(self, value: dict[Any, Any]) -> Any:
        if writes_as_map(value):
            entries = [[self.encode(key), self.encode(item)] for key, item in value.items()]
            return {"type": "map", "entries": entries}
        return {key: self.encode(item) for key, item in value.items()}

    def _encode_array(self, value: np.ndarray) -> dict[str, Any]:
        try:
            data, description = array_to_buffer(value)
        except ValueError as exc:
            raise SerializationError(str(exc)) from exc
        return {"type": "ndarray", **self._payload(data), **description}

    def _payload(self, data: Buffer) -> dict[str, str]:
        if self.use_buffers:
            return {"buffer": self.add_buffer(data)}
        return {"base64": base64.b64encode(data).decode("ascii")}
