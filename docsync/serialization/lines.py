"""Lists of lists of plain values (a MultiLine's column, one line a row), checked and copied in bulk."""

from __future__ import annotations

import gc
from itertools import chain
from typing import Any

__all__ = ["PAUSE_GC_FROM", "copy_lines", "item_types"]

#: Copies of this many lines or more are made with the cyclic garbage collector paused:
#: every new list is tracked, and collections (full ones, over the whole process's heap,
#: once the new lists outnumber a quarter of it) ran all through the copy.
PAUSE_GC_FROM = 4096


def item_types(lines: list[Any] | tuple[Any, ...]) -> set[type]:
    """The types of the items of all ``lines`` (lists), in one C-level pass."""
    return set(map(type, chain.from_iterable(lines)))


def copy_lines(lines: list[Any] | tuple[Any, ...]) -> list[list[Any]]:
    """A new list of a new copy of each line."""
    if len(lines) < PAUSE_GC_FROM or not gc.isenabled():
        return list(map(list, lines))
    gc.disable()
    try:
        return list(map(list, lines))
    finally:
        gc.enable()
