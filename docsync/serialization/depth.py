"""How deep a value nests, counted in the JSON levels the Decoder counts: one rule for reading and writing.

A value is decoded at depth 0. A list or a plain object is a level, its items (values)
one level below it (``ITEM_LEVELS``); a set's entries are two below its object (its
object, its entries: ``SET_LEVELS``); a map's keys and values three (its object, its
entries, the pair: ``MAP_LEVELS``). Every other typed value (a reference, an ndarray,
bytes, a date, a NaN) is an object with nothing decoded below it. The Decoder refuses a
value that puts any of these objects or arrays at depth ``max_depth`` (64,
``MAX_VALUE_DEPTH``) or deeper; :func:`nests_deeper` tells, of a Python value, whether
it would, as the Encoder writes it.

Every client decodes each property value it pulls or is sent with that bound; so does a
restored snapshot. A value the document holds past it is one no client can load again.
So is one holding an integer past 64 bits, which no pull could even write: the walk that
measures a value refuses one on its way (``IntTooWideError``), not a second walk.
"""

from __future__ import annotations

import datetime as dt
import math
from itertools import repeat
from typing import Any

import numpy as np

from ..exceptions import IntTooWideError
from .encoder import MAX_INT, MIN_INT, wide_int, wide_int_text, writes_as_map
from .lines import item_types

__all__ = ["ITEM_LEVELS", "MAP_LEVELS", "MAX_VALUE_DEPTH", "SET_LEVELS", "nests_deeper"]

#: The deepest a value may nest, in JSON levels (the Decoder's default ``max_depth``).
MAX_VALUE_DEPTH = 64
#: JSON levels between a list (or plain object) and its items (values).
ITEM_LEVELS = 1
#: JSON levels between a set and its entries: its object, its entries.
SET_LEVELS = 2
#: JSON levels between a map and its keys and values: its object, its entries, the pair.
MAP_LEVELS = 3

#: Types written as themselves: never a level.
_LEAVES = frozenset({str, int, bool, type(None)})
#: Those and the types written as a typed object with nothing below it (a float only
#: when it is not finite): a level each, no more.
_FLAT = _LEAVES | {float, np.ndarray, bytes, dt.datetime, dt.date, dt.time}
_LINES = {list}


def _typed(item: Any) -> bool:
    """Tell whether the Encoder writes ``item`` (no list, dict or set) as an object: a level."""
    if isinstance(item, np.generic):
        item = item.item()  # (as the Encoder: its Python value)
    if item is None or isinstance(item, bool | int | str):
        return False
    if isinstance(item, float):
        return not math.isfinite(item)
    if isinstance(item, np.ndarray | bytes | bytearray | memoryview | dt.date | dt.time):
        return True
    return getattr(type(item), "__docsync_ref__", False) is True  # a model: {"id": ...}


def nests_deeper(value: Any, levels: int = MAX_VALUE_DEPTH, *, at: int = 0) -> bool:
    """Tell whether ``value``, written ``at`` levels into a value, nests past ``levels`` as the Decoder counts.

    True exactly when a Decoder of ``max_depth=levels`` would refuse it as too deep.
    Flat values cost no walk: a scalar or an array is looked at once, a list of plain
    values (or of lines of them) in C-level passes over its item types. Raises
    ``IntTooWideError`` for an integer past 64 bits met on the way (one the Encoder
    refuses): where a value is measured, it is about to be stored.
    """
    # Items of types all in _LEAVES put nothing at any depth; of types all in _FLAT, nothing
    # past their own level (a NaN, an array): such lists and objects are not walked.
    stack: list[tuple[Any, int]] = [(value, at)]
    pop, extend = stack.pop, stack.extend
    while stack:
        item, depth = pop()
        kind = type(item)
        if kind in _LEAVES:
            if kind is int and not MIN_INT <= item <= MAX_INT:
                raise IntTooWideError(wide_int_text(item))
            continue
        if kind is list or kind is tuple or (kind is not dict and isinstance(item, list | tuple)):
            if depth >= levels:
                return True
            below = depth + ITEM_LEVELS
            types = set(map(type, item))
            if types <= _LEAVES or (below < levels and types <= _FLAT):
                if int in types:
                    _refuse_wide(item)
                continue
            if types == _LINES and below < levels:
                # Lines of plain values (a MultiLine's column): their items in one pass over all lines.
                types = item_types(item)
                if types <= _LEAVES or (below + ITEM_LEVELS < levels and types <= _FLAT):
                    if int in types:
                        _refuse_wide(item)
                    continue
            extend(zip(item, repeat(below)))
        elif isinstance(item, dict):
            if depth >= levels:
                return True
            if writes_as_map(item):
                below = depth + MAP_LEVELS
                extend(zip(item, repeat(below)))
            else:
                below = depth + ITEM_LEVELS
                types = set(map(type, item.values()))
                if types <= _LEAVES or (below < levels and types <= _FLAT):
                    if int in types:
                        _refuse_wide(list(item.values()))
                    continue
            extend(zip(item.values(), repeat(below)))
        elif isinstance(item, set | frozenset):
            if depth >= levels:
                return True
            extend(zip(item, repeat(depth + SET_LEVELS)))
        elif depth >= levels and _typed(item):
            return True
    return False


def _refuse_wide(items: list[Any] | tuple[Any, ...]) -> None:
    """Raise ``IntTooWideError`` if ``items`` (plain values, or lines of them) hold an integer past 64 bits."""
    wide = wide_int(items)  # (C-level passes: min and max of the ints)
    if wide is not None:
        raise IntTooWideError(wide_int_text(wide))
