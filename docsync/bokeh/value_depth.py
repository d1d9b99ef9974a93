"""How deep a value nests as Bokeh writes it back: one count for a client's patch and for the application's writes.

Bokeh's serializer writes a list as an array (a level), a dict as ``{"type": "map",
"entries": [[key, value], ...]}`` (three), a set as ``{"type": "set", "entries": [...]}``
(two), an ndarray as ``{"type": "ndarray", "array": ...}`` (one, and its array: bytes or,
of objects, a list); a model where it is referred to as a reference (its attributes are
counted afresh: how deep models nest is nesting.py's). A value may nest at most
``MAX_VALUE_DEPTH`` (128) levels so: a pull then stays under the 255 levels orjson (and
Bokeh's recursive serializer) can write, ~6 + 64 (models) + 128.

``compat.BoundedDeserializer`` counts a client's JSON with ``TYPED_LEVELS``;
:func:`nests_deeper` counts a Python value the same way, for the application's writes
(``compat.install_value_depth_bound``).
"""

from __future__ import annotations

import dataclasses
from itertools import repeat
from types import SimpleNamespace
from typing import Any

import numpy as np
from bokeh.core.has_props import HasProps
from bokeh.model import Model

from ..exceptions import IntTooWideError

__all__ = ["INT_BOUND", "MAX_VALUE_DEPTH", "TYPED_LEVELS", "int_too_wide", "nests_deeper"]

#: How deep a value may nest, in JSON levels as Bokeh writes it back.
MAX_VALUE_DEPTH = 128

#: JSON levels a typed value adds where Bokeh writes it back, before the values it holds
#: (a list's level is counted where the list is met).
TYPED_LEVELS = {
    "map": 3,  # {"type": "map", "entries": [[key, value], ...]}
    "set": 2,  # {"type": "set", "entries": [...]}
    "array": 1,  # decoded to a list, written as one
    "ndarray": 1,  # {"type": "ndarray", "array": [...]}
    "typed_array": 1,
    "bytes": 1,
    "slice": 1,
    "value": 1,
    "field": 1,
    "expr": 1,
    "event": 1,
}

_LIST = TYPED_LEVELS["array"]
_MAP = TYPED_LEVELS["map"]
_SET = TYPED_LEVELS["set"]
_NDARRAY = TYPED_LEVELS["ndarray"]
_BYTES = TYPED_LEVELS["bytes"]
_OBJECT = 2  # another object (a dataclass, properties that are no model): {"type": "object", "attributes": {...}}
#: Written as themselves (or as a number or a string: no level).
_SCALARS = frozenset({str, int, float, bool, type(None)})
#: Bokeh writes an int past 2**53 as a float: one whose float() overflows (about 1024
#: bits) raised OverflowError in every pull of the session (1011 for every new tab).
INT_BOUND = 2**1024 - 2**970


def int_too_wide(value: int) -> IntTooWideError:
    """The error refusing ``value``, an int past ``INT_BOUND``."""
    bits = value.bit_length()
    return IntTooWideError(f"integer of {bits} bits is too large to write even as a float (at most 1024 bits)")


def _refuse_wide(items: Any) -> None:
    ints = [item for item in items if type(item) is int]
    if ints and not -INT_BOUND < min(ints) <= max(ints) < INT_BOUND:
        raise int_too_wide(next(i for i in ints if not -INT_BOUND < i < INT_BOUND))


def nests_deeper(value: Any, levels: int = MAX_VALUE_DEPTH, *, at: int = 0) -> bool:
    """Tell whether ``value``, written by Bokeh ``at`` levels into a value, nests past ``levels``.

    Counted as ``compat.BoundedDeserializer`` counts a client's value. A list of plain
    values is looked at in one C-level pass over its item types, not walked. Raises
    ``IntTooWideError`` for an int met on the way that Bokeh cannot write (``INT_BOUND``).
    """
    stack: list[tuple[Any, int]] = [(value, at)]
    pop, extend = stack.pop, stack.extend
    while stack:
        item, depth = pop()
        kind = type(item)
        if kind in _SCALARS or isinstance(item, np.generic):
            if kind is int and not -INT_BOUND < item < INT_BOUND:
                raise int_too_wide(item)
            continue
        if kind is list or kind is tuple or (kind is not dict and isinstance(item, list | tuple)):
            depth += _LIST
            if depth > levels:
                return True
            types = set(map(type, item))
            if not types <= _SCALARS:
                extend(zip(item, repeat(depth)))
            elif int in types:
                _refuse_wide(item)
        elif isinstance(item, dict | SimpleNamespace):
            entries = vars(item) if isinstance(item, SimpleNamespace) else item
            depth += _MAP
            if depth > levels:
                return True
            for part in (entries.values(), entries):
                types = set(map(type, part))
                if not types <= _SCALARS:
                    extend(zip(part, repeat(depth)))
                elif int in types:
                    _refuse_wide(part)
        elif isinstance(item, set | frozenset):
            depth += _SET
            if depth > levels:
                return True
            extend(zip(item, repeat(depth)))
        elif isinstance(item, np.ndarray):
            depth += _NDARRAY + (_LIST if item.dtype == object else _BYTES)
            if depth > levels:
                return True
            if item.dtype == object:
                extend(zip(item.ravel().tolist(), repeat(depth)))
        elif isinstance(item, Model):
            continue  # a reference
        elif isinstance(item, HasProps) or (dataclasses.is_dataclass(item) and not isinstance(item, type)):
            depth += _OBJECT
            if depth > levels:
                return True
            if isinstance(item, HasProps):
                extend((v, depth) for v in item.properties_with_values(include_defaults=False).values())
            else:
                extend((getattr(item, f.name), depth) for f in dataclasses.fields(item))
        elif isinstance(item, bytes | bytearray | memoryview) and depth + _BYTES > levels:
            return True
    return False
