"""Decode typed JSON plus binary buffers back into Python values.

A value's depth (``max_depth``, 64) counts the JSON levels it is written in, not its
Python nesting, by the rule of ``depth.py`` (which :func:`~.depth.nests_deeper` applies to
Python values): a list or an object is one, a set two (its object and its entries), a
map entry three (its object, its entries, the pair). A value a client sent then stays
within the 128 levels every receiver parses (``wire_json.MAX_DEPTH``) wherever the
server writes it again, a few levels deeper than it came (a pull's
``{"doc": {"models": [{"attributes": {"data": {column: [...]}}}]}}``, a replay's
``{"patches": [{"events": [...]}]}``): counted in values, 41 nested maps (123 levels,
three levels deeper in a pull) made a document no client could pull again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from ..exceptions import DeserializationError
from .arrays import Buffer, array_from_buffer, decode_base64
from .depth import ITEM_LEVELS, MAP_LEVELS, MAX_VALUE_DEPTH, SET_LEVELS
from .lines import copy_lines, item_types

__all__ = ["Decoder", "plain_copy"]

#: The JSON values that decode to themselves (with None).
_PLAIN = frozenset({bool, str, int, float})
#: Those and None's: the types of a list that decodes to a copy of itself.
_PLAIN_ITEMS = _PLAIN | {type(None)}
#: From this many items, a list's item types are checked in one C-level pass first
#: (``set(map(type, ...))``): a list of plain values (a selection's indices, a column of
#: numbers) is then copied whole, 7 M ints in 0.05 s instead of 0.38 s item by item.
_SCAN_FROM = 32
_LINES = {list}
_SPECIAL_FLOATS = {"nan": float("nan"), "+inf": float("inf"), "-inf": float("-inf")}
#: The buffers of a decoder given none (read only).
_NO_BUFFERS: Mapping[str, Buffer] = MappingProxyType({})


def _no_references(model_id: str) -> Any:
    raise DeserializationError(f"reference to unknown model id {model_id!r:.60}")


def _hashable(key: Any) -> Any:
    # Tuples travel as JSON lists and frozensets as sets; as map keys and set entries
    # they come back as tuples and frozensets.
    if type(key) is list:
        return tuple(_hashable(item) for item in key)
    if type(key) is set:
        return frozenset(key)
    return key


def plain_copy(value: Any) -> list[Any] | dict[Any, Any] | None:
    """Return what a Decoder of the default depth makes of ``value`` if it is a short list or object of plain values.

    That is a copy (the ``decode`` comprehensions' own), owned or not; None for anything
    else. A patch of such values (a client's splice of plain items, most patches) is
    then read without making a Decoder for it.
    """
    kind = type(value)
    if kind is list:
        items = value
    elif kind is dict:
        if "type" in value or (len(value) == 1 and "id" in value):  # a typed value, a reference
            return None
        items = value.values()
    else:
        return None
    if len(value) >= _SCAN_FROM:  # (``decode`` scans it another way, and may take an owned list as it is)
        return None
    for item in items:
        if type(item) not in _PLAIN and item is not None:
            return None
    return value.copy()  # type: ignore[no-any-return]


class Decoder:
    """Turn typed JSON back into values, trusting nothing it is given.

    ``resolve_ref`` maps a model id to the model (it raises
    :class:`DeserializationError` for an unknown id); ``buffers`` maps buffer ids to
    the binary payloads that arrived with the message.

    ``owned``: the value decoded is the caller's to give away (a message just read, used
    for nothing else): a list of plain values is then taken as it is, not copied, and
    noted in :attr:`plain_lists` (whoever checks it next need not look for models in it),
    its item types in :attr:`plain_types` (whoever encodes it unchanged need not scan them).
    """

    __slots__ = ("_buffers", "_max_depth", "_max_elements", "_resolve_ref", "plain_lists", "plain_types")

    def __init__(
        self,
        buffers: Mapping[str, Buffer] | None = None,
        *,
        resolve_ref: Callable[[str], Any] | None = None,
        max_array_elements: int = 100_000_000,
        max_depth: int = MAX_VALUE_DEPTH,
        owned: bool = False,
    ) -> None:
        #: With ``owned``, the lists of plain values taken as they are, by id (holding them:
        #: no id is reused while this lives); None otherwise.
        self.plain_lists: dict[int, list[Any]] | None = {} if owned else None
        #: With ``owned``, the item types of each of ``plain_lists``, by the same ids.
        self.plain_types: dict[int, set[type]] = {}
        # (No empty dict of its own: a patch's decoder is made per patch, and most carry no buffer.)
        self._buffers = buffers if buffers else _NO_BUFFERS
        self._resolve_ref = resolve_ref or _no_references
        self._max_elements = max_array_elements
        self._max_depth = max_depth

    def decode(self, value: Any, _depth: int = 0) -> Any:
        """Return the Python value of the JSON-able ``value``."""
        kind = type(value)
        # Containers first: callers (and the comprehensions below) take plain values
        # without a call, so most values that come here are lists and objects.
        if (
            kind is not list
            and kind is not dict
            and (value is None or kind is bool or kind is str or kind is int or kind is float)
        ):
            return value
        if _depth >= self._max_depth:
            raise DeserializationError(f"value nested deeper than {self._max_depth} levels")
        if kind is list:
            if len(value) >= _SCAN_FROM:
                types = set(map(type, value))
                if types <= _PLAIN_ITEMS:
                    plain = self.plain_lists
                    if plain is None or id(value) in plain:  # (met twice: only JSON built in Python can)
                        return value[:]
                    # The caller's own (a client's column of 1M numbers: a copy of 8 MB
                    # less, and the check that stores it skips the scan for models).
                    plain[id(value)] = value
                    self.plain_types[id(value)] = types
                    return value
                # Lines of plain values (a MultiLine's column): their items checked in one
                # C-level pass over all lines, each line then copied whole (99,000 lines of
                # 20 ints were a Python-level look at every item, 0.3 s). Lines are a level
                # too: taken so only where one is allowed (as the JavaScript decoder counts).
                if types == _LINES and _depth + ITEM_LEVELS < self._max_depth and item_types(value) <= _PLAIN_ITEMS:
                    return copy_lines(value)
            # Plain items (most are) are taken as they are, without a call each.
            return [
                item if type(item) in _PLAIN or item is None else self.decode(item, _depth + ITEM_LEVELS)
                for item in value
            ]
        if kind is dict:
            if "type" in value:
                return self._decode_typed(value, _depth)
            if len(value) == 1 and "id" in value:
                model_id = value["id"]
                if type(model_id) is not str:
                    raise DeserializationError(f"invalid reference {value!r:.60}")
                return self._resolve_ref(model_id)
            # An object of plain values copied whole, as a list of them is: 1.2 M members
            # were 0.69 s through the comprehension below, 0.14 s so.
            if len(value) >= _SCAN_FROM and set(map(type, value.values())) <= _PLAIN_ITEMS:
                return value.copy()
            return {
                key: item if type(item) in _PLAIN or item is None else self.decode(item, _depth + ITEM_LEVELS)
                for key, item in value.items()
            }
        raise DeserializationError(f"cannot decode value of type {kind.__name__}")

    def decode_key(self, value: Any) -> Any:
        """Return the value of a dict key or set entry: lists become tuples, sets frozensets."""
        return _hashable(self.decode(value))

    def _decode_typed(self, value: dict[str, Any], depth: int) -> Any:
        kind = value["type"]
        if kind == "ndarray":  # (the most common typed value: a column)
            return self._decode_array(value)
        if kind == "number":
            special = value.get("value")
            # A list or an object there (unhashable) is as invalid as any other non-string.
            if type(special) is not str or special not in _SPECIAL_FLOATS:
                raise DeserializationError(f"invalid number {special!r:.40}")
            return _SPECIAL_FLOATS[special]
        if kind == "map":
            return self._decode_map(value.get("entries", []), depth)
        if kind == "set":
            entries = value.get("entries", [])
            if type(entries) is not list:
                raise DeserializationError("set entries must be a list")
            try:
                # Two JSON levels below the set: its object and its entries.
                return {_hashable(self.decode(item, depth + SET_LEVELS)) for item in entries}
            except TypeError as exc:
                raise DeserializationError("unhashable set entry") from exc
        if kind == "bytes":
            return bytes(self._payload(value))
        if kind == "datetime" or kind == "date" or kind == "time":
            return self._decode_time(kind, value.get("iso"))
        raise DeserializationError(f"unknown value type {kind!r:.40}")

    def _decode_map(self, entries: Any, depth: int) -> dict[Any, Any]:
        if type(entries) is not list:
            raise DeserializationError("map entries must be a list")
        result: dict[Any, Any] = {}
        for entry in entries:
            if type(entry) is not list or len(entry) != 2:
                raise DeserializationError(f"map entry must be a [key, value] pair: {entry!r:.60}")
            # A key and a value sit three JSON levels below the map: its object, its
            # entries, the pair (depth counts JSON levels, module docstring).
            key = _hashable(self.decode(entry[0], depth + MAP_LEVELS))
            try:
                result[key] = self.decode(entry[1], depth + MAP_LEVELS)
            except TypeError as exc:
                raise DeserializationError("unhashable map key") from exc
        return result

    def _payload(self, value: dict[str, Any]) -> Buffer:
        if "buffer" in value and "base64" in value:
            # protocol.md §7: one of the two, never both; taking either would leave the
            # sender's other bytes unread, and two senders could disagree on which.
            raise DeserializationError("binary value with both 'buffer' and 'base64'")
        if "buffer" in value:
            buffer_id = value["buffer"]
            if type(buffer_id) is not str or buffer_id not in self._buffers:
                raise DeserializationError(f"missing buffer {buffer_id!r:.40}")
            return self._buffers[buffer_id]
        if "base64" in value:
            return decode_base64(value["base64"])
        raise DeserializationError("binary value without 'buffer' or 'base64'")

    def _decode_array(self, value: dict[str, Any]) -> np.ndarray:
        data = self._payload(value)
        return array_from_buffer(data, value.get("dtype"), value.get("shape"), value.get("order"), self._max_elements)

    @staticmethod
    def _decode_time(kind: str, iso: object) -> dt.date | dt.time:
        if not isinstance(iso, str):
            raise DeserializationError(f"{kind} without an ISO string")
        try:
            if kind == "datetime":
                return dt.datetime.fromisoformat(iso)
            if kind == "time":
                return dt.time.fromisoformat(iso)
            return dt.date.fromisoformat(iso)
        except ValueError as exc:
            raise DeserializationError(f"invalid {kind} {iso!r:.40}") from exc
