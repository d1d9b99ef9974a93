"""What a document costs on the wire: bytes of JSON, bytes of arrays, number of buffers.

A pull sends the document's JSON in one content frame and each array (or bytes value)
in a binary frame of its own, so these three measures are what the frame, message and
buffer limits of a receiver bound. Sizes are estimated from the values, never by
encoding the document, and err on the large side: a number counts as the longest one
JSON can hold, a string as its exact JSON text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

import numpy as np
import orjson

from .model import Model, is_empty_default
from .properties import ColumnData, base_property

__all__ = ["Footprint", "FootprintLedger", "derived_column_size", "id_json", "measure", "model_footprint"]

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


#: Per column data property of a model, per column: the column object and its measures.
ColumnSizes = dict[str, dict[str, tuple[Any, "_ColumnSize"]]]


class _ColumnSize:
    """What ``measure`` makes of one column, alone (``own``) and as part of its dict's plain JSON."""

    __slots__ = ("own", "plain_json", "plain_nulls")

    def __init__(self, own: Footprint, plain_json: int | None, plain_nulls: int) -> None:
        self.own = own
        #: The column's JSON text length when orjson writes it (None: it cannot), and the
        #: ``null``s in that text (what ``_plain_json`` of the whole dict counts).
        self.plain_json = plain_json
        self.plain_nulls = plain_nulls


def _column_size(column: Any) -> _ColumnSize:
    own = Footprint()
    if isinstance(column, list | tuple):
        try:
            text = orjson.dumps(column)
        except TypeError:
            measure(column, own)
            return _ColumnSize(own, None, 0)
        nulls = text.count(b"null")
        # As _plain_json: a list's own None items are nulls it writes as they are (and
        # without a ``null`` in the text there is none to count: no pass over the column).
        own.json = len(text) + _SPECIAL_FLOAT_EXTRA * (
            nulls - column.count(None) if nulls and isinstance(column, list) else nulls
        )
        return _ColumnSize(own, len(text), nulls)
    measure(column, own)
    return _ColumnSize(own, None, 0)


def _item_json(value: Any) -> tuple[int, int, int] | None:
    """One list item's part of ``_column_size``: (its JSON text's length, the ``null``s in it, 1 if None).

    Measured as the one item of a list (so that orjson refuses it where it would refuse it
    in the column); None if orjson cannot write it.
    """
    try:
        text = orjson.dumps([value])
    except TypeError:
        return None
    return len(text) - 2, text.count(b"null"), [value].count(None)


def derived_column_size(
    size: _ColumnSize, old_length: int, removed: Iterable[Any], added: Iterable[Any], new_length: int
) -> _ColumnSize | None:
    """The ``_column_size`` of a list column made from one of size ``size`` by removing and adding items.

    Exact, not an estimate: orjson writes a list as ``[`` + its items' texts joined by
    ``,`` + ``]``, each item's text as it writes the item alone in a list, so the text's
    length is 2 + the items' lengths + (items - 1) commas; a ``null`` never spans an
    item's text and a separator (neither holds an ``n`` or an ``l``), so the text's
    ``null``s are the sum of its items'; and ``list.count(None)`` is a sum over items.
    None (measure it whole) when the column was not plain JSON or an added item is not.
    """
    if size.plain_json is None:
        return None
    nulls = size.plain_nulls
    nones = nulls - (size.own.json - size.plain_json) // _SPECIAL_FLOAT_EXTRA
    items = size.plain_json - 2 - max(old_length - 1, 0)
    for sign, values in ((-1, removed), (1, added)):
        for value in values:
            part = _item_json(value)
            if part is None:
                return None
            items += sign * part[0]
            nulls += sign * part[1]
            nones += sign * part[2]
    plain = 2 + items + max(new_length - 1, 0)
    return _ColumnSize(Footprint(plain + _SPECIAL_FLOAT_EXTRA * (nulls - nones)), plain, nulls)


#: Sizes worked out from a column's known size and a change (FootprintLedger.derive), by the column's id.
Derived = dict[int, tuple[Model, str, str, Any, _ColumnSize]]


def _measure_columns(
    data: dict[str, Any],
    into: Footprint,
    known: dict[str, tuple[Any, _ColumnSize]],
    derived: Derived | None = None,
) -> dict[str, tuple[Any, _ColumnSize]]:
    """``measure(data, into)`` for column data, reusing the sizes of columns ``known`` (the very objects).

    A column is never changed in place (a patch or a stream makes a new one), so a column
    measured before is measured again only if it was replaced: a one-cell patch of one
    column of a large source costs that column, not every column. Returns the sizes
    now known (``data``'s columns only).
    """
    sizes: dict[str, tuple[Any, _ColumnSize]] = {}
    for name, column in data.items():
        entry = known.get(name)
        if entry is None or entry[0] is not column:
            made = derived.get(id(column)) if derived else None
            entry = (column, made[4] if made is not None and made[3] is column else _column_size(column))
        sizes[name] = entry
    if data and all(entry[1].plain_json is not None for entry in sizes.values()):
        # What orjson writes for the whole dict: {"name":column,...}, and its nulls.
        json = 1 + len(data)
        nulls = 0
        for name, (_, size) in sizes.items():
            key = orjson.dumps(name)
            json += len(key) + 1 + cast(int, size.plain_json)
            nulls += key.count(b"null") + size.plain_nulls
        into.json += json + _SPECIAL_FLOAT_EXTRA * nulls
        return sizes
    if not data:
        into.json += 2
        return sizes
    into.json += 32 + 4 * len(data)
    for name, (_, size) in sizes.items():
        measure(name, into)
        into.json += size.own.json
        into.arrays += size.own.arrays
        into.buffers += size.own.buffers
        into.largest = max(into.largest, size.own.largest)
    return sizes


def _is_column_data(model: Model, attr: str, value: Any) -> bool:
    if not isinstance(value, dict) or not isinstance(base_property(model._properties[attr]), ColumnData):
        return False
    return all(type(name) is str for name in value)


def model_footprint(
    model: Model,
    values: Mapping[str, Any] | None = None,
    columns: ColumnSizes | None = None,
    derived: Derived | None = None,
) -> Footprint:
    """Return the footprint of ``model``'s definition (with ``values`` instead of its own).

    ``columns``: the sizes of ``model``'s columns measured before (by column data
    property), reused for the columns that are the same objects; updated in place.
    ``derived``: sizes of columns worked out from a change (``FootprintLedger.derive``).
    """
    footprint = Footprint(_DEFINITION + len(model.__type_name__) + id_json(model.id))
    for attr, value in (model._values if values is None else values).items():
        if not is_empty_default(model, attr, value):
            footprint.json += len(attr) + 4
            if columns is not None and _is_column_data(model, attr, value):
                columns[attr] = _measure_columns(value, footprint, columns.get(attr, {}), derived)
            else:
                measure(value, footprint)
    return footprint


class FootprintLedger:
    """The footprint of every model of a document, each measured again only after it changed."""

    __slots__ = ("_columns", "_derived", "_dirty", "_sizes", "_total")

    def __init__(self) -> None:
        self._sizes: dict[str, Footprint] = {}
        self._dirty: dict[str, Model] = {}
        self._total = Footprint()
        # The sizes of the columns of the models that have column data, by model id.
        self._columns: dict[str, ColumnSizes] = {}
        #: Sizes of list columns a patch or a stream made, worked out from the sizes of the
        #: columns they were made from (so a one-cell patch costs its cell, not its column).
        self._derived: Derived = {}

    @property
    def derived(self) -> Derived:
        """The sizes of columns worked out from changes (for ``model_footprint``)."""
        return self._derived

    def known_column(self, column: Any) -> _ColumnSize | None:
        """The size of list column ``column`` if known without measuring it (a column of the model or one derived)."""
        made = self._derived.get(id(column))
        return made[4] if made is not None and made[3] is column else None

    def measured(self, model: Model, attr: str, name: str, column: Any) -> _ColumnSize:
        """The size of column ``name`` of ``model.attr`` after a change: known, or measured and kept.

        Kept (for a list) so that the footprint check of the change and the ledger's next
        total take it instead of encoding the column again: a client's new 1,000,000-float
        column was encoded three times. ``prune`` forgets it unless the model comes to hold it.
        """
        size = self.known_column(column)
        if size is None:
            size = _column_size(column)
            if type(column) is list:
                self._derived[id(column)] = (model, attr, name, column, size)
        return size

    def derive(
        self, model: Model, attr: str, name: str, old: Any, new: Any, removed: Iterable[Any], added: Iterable[Any]
    ) -> None:
        """Know list column ``new`` (column ``name`` of ``model.attr``), made from ``old`` by removing and adding items.

        Only if ``old``'s size is known (the model's column, or derived itself): else
        ``new`` is measured whole when it is met.
        """
        if type(old) is not list or type(new) is not list:
            return
        size = self.known_column(old)
        if size is None:
            entry = self._columns.get(model.id, {}).get(attr, {}).get(name)
            if entry is None or entry[0] is not old:
                return
            size = entry[1]
        made = derived_column_size(size, len(old), removed, added, len(new))
        if made is not None:
            self._derived[id(new)] = (model, attr, name, new, made)

    def prune(self, model: Model | None = None, values: Callable[[Model, str], Any] | None = None) -> None:
        """Forget derived sizes of columns their model does not hold (all models', or ``model``'s).

        ``values``: what a model's property will hold (a checked change about to apply), else what it holds.
        """
        for key, (owner, attr, name, column, _) in list(self._derived.items()):
            if model is None or owner is model:
                data = owner._values.get(attr) if values is None else values(owner, attr)
                if not isinstance(data, dict) or data.get(name) is not column:
                    del self._derived[key]

    def columns_of(self, model: Model) -> ColumnSizes:
        """The sizes of ``model``'s columns measured so far (to pass to ``model_footprint``, which updates them)."""
        columns = self._columns.get(model.id)
        if columns is None:
            columns = {}
            if any(isinstance(base_property(prop), ColumnData) for prop in model._properties.values()):
                self._columns[model.id] = columns
        return columns

    def changed(self, model: Model) -> None:
        """Measure ``model`` again before the next total."""
        self._dirty[model.id] = model
        if self._derived:
            self.prune(model)
        columns = self._columns.get(model.id)
        if columns:
            # Forget the columns the model no longer holds now: kept, a column the
            # application replaced would stay in memory until the next client change.
            values = model._values
            for attr, known in columns.items():
                data = values.get(attr)
                for name in [
                    n for n, (column, _) in known.items() if not isinstance(data, dict) or data.get(n) is not column
                ]:
                    del known[name]

    def attached(self, models: Iterable[Model]) -> None:
        """Count models that joined the document."""
        for model in models:
            self._dirty[model.id] = model

    def detached(self, model: Model) -> None:
        """Stop counting a model that left the document."""
        self._dirty.pop(model.id, None)
        self._columns.pop(model.id, None)
        if self._derived:
            self._derived = {k: e for k, e in self._derived.items() if e[0] is not model}
        size = self._sizes.pop(model.id, None)
        if size is not None:
            self._total.remove(size)

    def of(self, model: Model) -> Footprint:
        """Return ``model``'s footprint as of the last :meth:`total`."""
        size = self._sizes.get(model.id)
        return (
            size
            if size is not None and model.id not in self._dirty
            else model_footprint(model, None, self.columns_of(model), self._derived)
        )

    def total(self) -> Footprint:
        """Return the footprint of every model counted, measuring the changed ones."""
        dirty, self._dirty = self._dirty, {}
        for key, model in dirty.items():
            old = self._sizes.get(key)
            if old is not None:
                self._total.remove(old)
            size = self._sizes[key] = model_footprint(model, None, self.columns_of(model), self._derived)
            self._total.add(size)
        return self._total.copy()
