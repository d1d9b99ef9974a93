"""What a document costs on the wire: bytes of JSON, bytes of arrays, number of buffers.

A pull sends the document's JSON in one content frame and each array (or bytes value)
in a binary frame of its own, so these three measures are what the frame, message and
buffer limits of a receiver bound. Sizes are estimated from the values, never by
encoding the document, and err on the large side: a number counts as the longest one
JSON can hold, a string as its exact JSON text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import orjson

from .model import Model, is_empty_default

__all__ = ["Footprint", "FootprintLedger", "id_json", "measure", "model_footprint"]

#: The longest text of a JSON number docsync writes (a float's repr, or any int64).
_NUMBER = 24
#: ``{"type":"number","value":"-inf"}`` against the ``null`` orjson writes for it.
_SPECIAL_FLOAT_EXTRA = 28
#: An ndarray's JSON description (type, buffer id, dtype, shape, order), at most.
_ARRAY_DESCRIPTION = 120
#: A model definition's keys and punctuation, besides its type name and id.
_DEFINITION = 48


class Footprint:
    """Bytes of JSON and of arrays, and the number of binary buffers, of some values."""

    __slots__ = ("arrays", "buffers", "json", "largest")

    def __init__(self, json: int = 0, arrays: int = 0, buffers: int = 0) -> None:
        self.json = json
        self.arrays = arrays
        self.buffers = buffers
        #: The largest single buffer met (not kept through ``add``/``remove``).
        self.largest = 0

    def __repr__(self) -> str:
        return f"Footprint(json={self.json}, arrays={self.arrays}, buffers={self.buffers})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Footprint):
            return NotImplemented
        return (self.json, self.arrays, self.buffers) == (other.json, other.arrays, other.buffers)

    def copy(self) -> Footprint:
        """Return an independent copy."""
        return Footprint(self.json, self.arrays, self.buffers)

    def add(self, other: Footprint) -> None:
        """Count ``other`` in."""
        self.json += other.json
        self.arrays += other.arrays
        self.buffers += other.buffers

    def remove(self, other: Footprint) -> None:
        """Count ``other`` out."""
        self.json -= other.json
        self.arrays -= other.arrays
        self.buffers -= other.buffers

    @property
    def total(self) -> int:
        """JSON and array bytes together: about the size of a message carrying them."""
        return self.json + self.arrays


def _plain_json(value: Any) -> int | None:
    """Return the JSON length of a value orjson can write as docsync would, else None."""
    try:
        text = orjson.dumps(value)
    except TypeError:  # models, arrays, sets, bytes, huge integers: measured one by one
        return None
    # orjson writes NaN and infinities as null, docsync as a longer typed value.
    nulls = text.count(b"null")
    if nulls and isinstance(value, list):
        nulls -= value.count(None)
    return len(text) + _SPECIAL_FLOAT_EXTRA * nulls


def id_json(model_id: str) -> int:
    """Return the length of a model id's JSON string (control characters take six bytes)."""
    # Exact, not len(id): a client may choose ids of characters JSON escapes.
    return len(orjson.dumps(model_id))


def measure(value: Any, into: Footprint) -> None:
    """Add the footprint of ``value`` (as the encoder would write it) to ``into``."""
    kind = type(value)
    if value is None or kind is bool:
        into.json += 5
    elif kind is int or kind is float:
        into.json += _NUMBER
    elif kind is str:
        plain = _plain_json(value)
        into.json += plain if plain is not None else 6 * len(value) + 2
    elif isinstance(value, np.ndarray):
        _buffer(into, value.nbytes)
    elif isinstance(value, bytes | bytearray | memoryview):
        _buffer(into, memoryview(value).nbytes)
    elif isinstance(value, list | tuple | dict):
        plain = _plain_json(value)
        if plain is not None:
            into.json += plain
        elif isinstance(value, dict):
            into.json += 32 + 4 * len(value)  # a map's wrapper, a pair's brackets and commas
            for key, item in value.items():
                measure(key, into)
                measure(item, into)
        else:
            into.json += 2 + len(value)
            for item in value:
                measure(item, into)
    elif isinstance(value, set | frozenset):
        into.json += 32 + len(value)
        for item in value:
            measure(item, into)
    elif isinstance(value, Model):
        into.json += 8 + id_json(value.id)
    elif isinstance(value, dt.date):
        into.json += 64
    else:  # numpy scalars and other numbers
        into.json += _NUMBER


def _buffer(into: Footprint, nbytes: int) -> None:
    into.json += _ARRAY_DESCRIPTION
    into.arrays += nbytes
    into.buffers += 1
    into.largest = max(into.largest, nbytes)


def model_footprint(model: Model, values: Mapping[str, Any] | None = None) -> Footprint:
    """Return the footprint of ``model``'s definition (with ``values`` instead of its own)."""
    footprint = Footprint(_DEFINITION + len(model.__type_name__) + id_json(model.id))
    for attr, value in (model._values if values is None else values).items():
        if not is_empty_default(model, attr, value):
            footprint.json += len(attr) + 4
            measure(value, footprint)
    return footprint


class FootprintLedger:
    """The footprint of every model of a document, each measured again only after it changed."""

    __slots__ = ("_dirty", "_sizes", "_total")

    def __init__(self) -> None:
        self._sizes: dict[str, Footprint] = {}
        self._dirty: dict[str, Model] = {}
        self._total = Footprint()

    def changed(self, model: Model) -> None:
        """Measure ``model`` again before the next total."""
        self._dirty[model.id] = model

    def attached(self, models: Iterable[Model]) -> None:
        """Count models that joined the document."""
        for model in models:
            self._dirty[model.id] = model

    def detached(self, model: Model) -> None:
        """Stop counting a model that left the document."""
        self._dirty.pop(model.id, None)
        size = self._sizes.pop(model.id, None)
        if size is not None:
            self._total.remove(size)

    def of(self, model: Model) -> Footprint:
        """Return ``model``'s footprint as of the last :meth:`total`."""
        size = self._sizes.get(model.id)
        return size if size is not None and model.id not in self._dirty else model_footprint(model)

    def total(self) -> Footprint:
        """Return the footprint of every model counted, measuring the changed ones."""
        dirty, self._dirty = self._dirty, {}
        for key, model in dirty.items():
            old = self._sizes.get(key)
            if old is not None:
                self._total.remove(old)
            size = self._sizes[key] = model_footprint(model)
            self._total.add(size)
        return self._total.copy()
