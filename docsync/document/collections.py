"""List and dict values of model properties that report edits in place.

Changing one item of a big list or one key of a big dict must travel as that change,
not as the whole collection, so these containers tell their model what was edited.
They hold their model by weak reference: no cycle of docsync's own making.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any, SupportsIndex

__all__ = ["ColumnDataDict", "TrackedDict", "TrackedList"]


class TrackedList(list[Any]):
    """A list that reports splices to its owning model."""

    __slots__ = ("_owner", "_prop")

    def __init__(self, items: Iterable[Any], owner: Any, prop: Any) -> None:
        super().__init__(items)
        self._owner: weakref.ReferenceType[Any] = weakref.ref(owner)
        self._prop = prop

    def _splice(self, index: int, delete: int, items: list[Any]) -> None:
        owner = self._owner()
        if owner is None:  # the model is gone; behave as a plain list
            list.__setitem__(self, slice(index, index + delete), items)
            return
        owner._list_splice(self._prop, self, index, delete, items, None)

    def _replace_all(self, items: list[Any]) -> None:
        owner = self._owner()
        if owner is None:
            list.__setitem__(self, slice(None), items)
        else:
            owner._set_value(self._prop, items, None)

    def _position(self, index: SupportsIndex, *, insert: bool = False) -> int:
        i = index.__index__()
        size = len(self)
        if i < 0:
            i += size
        if insert:
            return min(max(i, 0), size)
        if not 0 <= i < size:
            raise IndexError("list index out of range")
        return i

    def append(self, item: Any) -> None:
        self._splice(len(self), 0, [item])

    def extend(self, items: Iterable[Any]) -> None:
        self._splice(len(self), 0, list(items))

    def insert(self, index: SupportsIndex, item: Any) -> None:
        self._splice(self._position(index, insert=True), 0, [item])

    def pop(self, index: SupportsIndex = -1) -> Any:
        i = self._position(index)
        item = self[i]
        self._splice(i, 1, [])
        return item

    def remove(self, item: Any) -> None:
        self._splice(self.index(item), 1, [])

    def clear(self) -> None:
        self._splice(0, len(self), [])

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step == 1:
                self._splice(start, max(stop - start, 0), list(value))
                return
            items = list(self)
            items[key] = value
            self._replace_all(items)
            return
        self._splice(self._position(key), 1, [value])

    def __delitem__(self, key: Any) -> None:
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step == 1:
                self._splice(start, max(stop - start, 0), [])
                return
            items = list(self)
            del items[key]
            self._replace_all(items)
            return
        self._splice(self._position(key), 1, [])

    def __iadd__(self, items: Iterable[Any]) -> TrackedList:  # type: ignore[misc]
        self.extend(items)
        return self

    def __imul__(self, count: SupportsIndex) -> TrackedList:
        self._replace_all(list(self) * count.__index__())
        return self

    def sort(self, *args: Any, **kwargs: Any) -> None:
        items = list(self)
        items.sort(*args, **kwargs)
        self._replace_all(items)

    def reverse(self) -> None:
        self._replace_all(list(reversed(self)))

    def __reduce__(self) -> Any:
        return (list, (list(self),))


class TrackedDict(dict[Any, Any]):
    """A dict that reports entries set and deleted to its owning model."""

    __slots__ = ("_owner", "_prop")

    def __init__(self, items: Any, owner: Any, prop: Any) -> None:
        super().__init__(items)
        self._owner: weakref.ReferenceType[Any] = weakref.ref(owner)
        self._prop = prop

    def _set_items(self, items: dict[Any, Any]) -> None:
        owner = self._owner()
        if owner is None:
            dict.update(self, items)
        elif items:
            owner._dict_set(self._prop, self, items, None)

    def _delete_keys(self, keys: list[Any]) -> None:
        owner = self._owner()
        if owner is None:
            for key in keys:
                dict.__delitem__(self, key)
        elif keys:
            owner._dict_delete(self._prop, self, keys, None)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._set_items({key: value})

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._set_items(dict(*args, **kwargs))

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self._set_items({key: default})
        return self[key]

    def __delitem__(self, key: Any) -> None:
        if key not in self:
            raise KeyError(key)
        self._delete_keys([key])

    def pop(self, key: Any, *default: Any) -> Any:
        if key not in self:
            if default:
                return default[0]
            raise KeyError(key)
        value = self[key]
        self._delete_keys([key])
        return value

    def popitem(self) -> tuple[Any, Any]:
        if not self:
            raise KeyError("popitem(): dictionary is empty")
        key = next(reversed(self))
        value = self[key]
        self._delete_keys([key])
        return key, value

    def clear(self) -> None:
        self._delete_keys(list(self))

    def __ior__(self, other: Any) -> TrackedDict:  # type: ignore[misc]
        self.update(other)
        return self

    def __reduce__(self) -> Any:
        return (dict, (dict(self),))


class ColumnDataDict(TrackedDict):
    """The columns of a data source; replacing a column sends only that column."""

    __slots__ = ()
