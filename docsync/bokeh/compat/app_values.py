"""The application's values: what a pull can write (Bokeh's property setters and column edits wrapped).

No deeper than ``MAX_VALUE_DEPTH``, and no int past ``INT_BOUND`` (one Bokeh cannot
write even as a float), found in the same walk.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from bokeh.core.has_props import HasProps
from bokeh.core.property.bases import Property
from bokeh.core.property.descriptors import PropertyDescriptor
from bokeh.core.property.wrappers import PropertyValueColumnData
from bokeh.document.events import ColumnsPatchedEvent, ColumnsStreamedEvent

from ...exceptions import IntTooWideError, ValueTooDeepError
from ..value_depth import INT_BOUND, MAX_VALUE_DEPTH, int_too_wide, nests_deeper

__all__ = ["install_value_depth_bound"]


_original_prepare = Property.prepare_value
_original_notify_mutated = PropertyDescriptor._notify_mutated
_original_stream = PropertyValueColumnData._stream
_original_patch = PropertyValueColumnData._patch
_SCALARS = frozenset({str, int, float, bool, type(None)})
#: Hints of changes whose new rows or cells were measured before they were written.
_MEASURED = frozenset({ColumnsStreamedEvent, ColumnsPatchedEvent})
#: JSON levels between column data, as Bokeh writes it (a map), and a column's items.
_DATA, _IN_LIST, _IN_ARRAY = 3, 1, 2


def _too_deep(owner: Any, name: str) -> ValueTooDeepError:
    shown = _shown(owner)
    why = f"value nested deeper than {MAX_VALUE_DEPTH} JSON levels (as Bokeh writes it)"
    return ValueTooDeepError(f"failed to validate {shown}.{name}: {why}")  # (Bokeh's own words around it)


def _shown(owner: Any) -> Any:
    return owner if isinstance(owner, HasProps) else getattr(owner, "__name__", owner)


def _too_wide(owner: Any, name: str, exc: IntTooWideError) -> IntTooWideError:
    return IntTooWideError(f"failed to validate {_shown(owner)}.{name}: {exc}")


def _measured(value: Any, owner: Any, name: str, at: int = 0) -> bool:
    """``nests_deeper(value, at=at)``; an int Bokeh cannot write, met on the way, refused naming the property."""
    try:
        return nests_deeper(value, at=at)
    except IntTooWideError as exc:
        raise _too_wide(owner, name, exc) from None


def _prepare_value(self: Any, owner: Any, name: str, value: Any, *, hint: Any = None) -> Any:
    """``Property.prepare_value``, refusing a value deeper than ``MAX_VALUE_DEPTH``, or an int past ``INT_BOUND``."""
    value = _original_prepare(self, owner, name, value, hint=hint)
    kind = type(value)
    if kind in _SCALARS:
        if kind is int and not -INT_BOUND < value < INT_BOUND:
            raise _too_wide(owner, name, int_too_wide(value))
        return value
    if type(hint) in _MEASURED or not _measured(value, owner, name):
        return value
    raise _too_deep(owner, name)


def _notify_mutated(self: Any, obj: Any, old: Any, hint: Any = None) -> None:
    """``PropertyDescriptor._notify_mutated``; a container changed in place past the bound is put back first."""
    try:
        _original_notify_mutated(self, obj, old, hint=hint)
    except (ValueTooDeepError, IntTooWideError):
        # Bokeh changed it, then asked: as it was (``old``, its copy), nothing reported.
        container = self.__get__(obj, type(obj))
        if isinstance(container, list):
            list.__setitem__(container, slice(None), old)
        elif isinstance(container, dict):
            dict.clear(container)
            dict.update(container, old)
        elif isinstance(container, set):
            set.clear(container)
            set.update(container, old)
        raise


def _stream(self: Any, doc: Any, source: Any, new_data: Any, rollover: Any = None, setter: Any = None) -> None:
    """``PropertyValueColumnData._stream``, its rows measured first (its columns are extended in place)."""
    for name, rows in new_data.items():
        # List rows joining an array: written as the array's items.
        into_array = isinstance(self.get(name), np.ndarray) and not isinstance(rows, np.ndarray)
        if _measured(rows, source, "data", _DATA + into_array):
            raise _too_deep(source, "data")
    _original_stream(self, doc, source, new_data, rollover, setter)


def _patch(self: Any, doc: Any, source: Any, patches: Any, setter: Any = None) -> None:
    """``PropertyValueColumnData._patch``, its cells measured first (its columns are written in place)."""
    for name, entries in patches.items():
        at = _DATA + (_IN_ARRAY if isinstance(self.get(name), np.ndarray) else _IN_LIST)
        for index, value in entries:
            if isinstance(index, slice):
                cells = value.tolist() if isinstance(value, np.ndarray) else list(value)
                deeper = _measured(cells, source, "data", at - _IN_LIST)
            else:  # a cell (or, of an array of arrays, a part of one: numbers)
                deeper = _measured(value, source, "data", at)
            if deeper:
                raise _too_deep(source, "data")
    _original_patch(self, doc, source, patches, setter)


def install_value_depth_bound() -> None:
    """Refuse an application's value deeper than a pull can write, before it changes anything (see above).

    Set whole, changed in place, streamed or patched: each reaches ``prepare_value``
    (after an in-place change, which is put back) or is measured before it is written.
    Without it a value ~85 dicts deep was stored, the change's own encoding raised in the
    application's callback, and every pull of the session failed (1011).
    """
    if Property.prepare_value is _original_prepare:
        Property.prepare_value = _prepare_value  # type: ignore[method-assign]
        PropertyDescriptor._notify_mutated = _notify_mutated  # type: ignore[method-assign]
        PropertyValueColumnData._stream = _stream  # type: ignore[method-assign]
        PropertyValueColumnData._patch = _patch  # type: ignore[method-assign]
