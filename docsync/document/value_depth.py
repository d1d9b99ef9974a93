"""No value a document holds nests past what every client decodes: checked where values come in.

Each receiver decodes a property's value, or a message's data, with the Decoder's bound
(``MAX_VALUE_DEPTH``, 64 JSON levels, counted as serialization/depth.py says). An
application's value past it was taken: every tab was then sent a patch it could not
decode, no new tab could pull the document, nor a restore read its snapshot. So a value
past it is refused (ValueTooDeepError, a ValidationError) before anything changes,
whoever sets it and however: set whole, a list spliced, a dict's entries set or deleted,
rows streamed, cells patched.

Only properties whose values can nest past the bound are measured (``depth_bound``:
an Any_, not a Float), and a flat value in C-level passes (``nests_deeper``); column data
measures its own columns (``ColumnData.accepts_column``), in the pass that looks for
models in them.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterable, Mapping
from typing import Any

from ..exceptions import IntTooWideError, ValueTooDeepError
from ..serialization.depth import ITEM_LEVELS, MAP_LEVELS, MAX_VALUE_DEPTH, nests_deeper
from ..serialization.encoder import writes_as_map

__all__ = [
    "MAX_VALUE_DEPTH",
    "check_message",
    "column_levels",
    "column_nests_deeper",
    "deletion_nests_deeper",
    "entry_levels",
    "too_deep",
    "update_nests_deeper",
]


def too_deep(where: str) -> ValueTooDeepError:
    """The error refusing a value of ``where`` ("Model.attr") past the bound."""
    return ValueTooDeepError(f"{where} nested deeper than {MAX_VALUE_DEPTH} JSON levels")


def column_levels(data: Mapping[str, Any]) -> int:
    """The JSON levels between column data and its columns: an object's, or a map's (a column named "type")."""
    return MAP_LEVELS if writes_as_map(data) else ITEM_LEVELS


def column_nests_deeper(data: Mapping[str, Any], column: list[Any]) -> bool:
    """Tell whether ``column`` (or a list of new items of it) nests past the bound as ``data`` would hold it."""
    # First as deep as a column can be (a map's): a call for the many that fit even so.
    return nests_deeper(column, at=MAP_LEVELS) and nests_deeper(column, at=column_levels(data))


def entry_levels(current: Mapping[Any, Any], items: Mapping[Any, Any]) -> tuple[int, int]:
    """The JSON levels between dict ``current`` and its entries, before and after it is updated with ``items``."""
    before = MAP_LEVELS if writes_as_map(current) else ITEM_LEVELS
    if items.keys() <= current.keys():  # the same keys (a column replaced): written the same way
        return before, before
    # Its keys after, without making the dict (a "type" key, or one "id" key, makes a map).
    return before, MAP_LEVELS if writes_as_map(ChainMap(items, current)) else ITEM_LEVELS  # type: ignore[arg-type]


def update_nests_deeper(current: Mapping[Any, Any], items: Mapping[Any, Any]) -> bool:
    """Tell whether ``items`` set into dict ``current`` (within the bound) make it nest past the bound."""
    before, after = entry_levels(current, items)
    if after > before:  # now a map: every entry two levels deeper than it was
        return nests_deeper({**current, **items})
    # The entries set, as items of a list standing for them at the dict's own level.
    entries = [*items, *items.values()] if after == MAP_LEVELS else list(items.values())
    return nests_deeper(entries, at=after - ITEM_LEVELS)


def deletion_nests_deeper(current: Mapping[Any, Any], keys: Iterable[Any]) -> bool:
    """Tell whether deleting ``keys`` from dict ``current`` leaves one "id" entry past the bound (a map: deeper)."""
    gone = set(keys)
    if "id" not in current or "id" in gone or len(current) - len(gone) != 1 or writes_as_map(current):
        return False
    return nests_deeper(current["id"], at=MAP_LEVELS)


def check_message(msg_type: str, data: Any) -> None:
    """Refuse an application's message whose data nests past the bound, or holds an integer past 64 bits."""
    try:
        deeper = nests_deeper(data)
    except IntTooWideError as exc:  # (met by the same walk: no message could carry it)
        raise IntTooWideError(f"message {msg_type!r:.40} {exc}") from None
    if deeper:
        raise too_deep(f"message {msg_type!r:.40}")
