"""Typed property descriptors: declare, validate and store model attributes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from itertools import chain
from typing import Any, cast

import numpy as np

from ..exceptions import IntTooWideError, ValidationError, ValueTooDeepError
from ..serialization import ALLOWED_DTYPES, dtype_name
from ..serialization.depth import ITEM_LEVELS, MAP_LEVELS, MAX_VALUE_DEPTH, nests_deeper
from ..serialization.encoder import MAX_INT, MIN_INT, wide_int, wide_int_text, writes_as_map
from .registry import model_class
from .value_depth import too_deep

__all__ = [
    "AcceptedList",
    "Any_",
    "Bool",
    "Bytes",
    "Color",
    "ColumnData",
    "Date",
    "Datetime",
    "Dict",
    "Either",
    "Enum",
    "Float",
    "Instance",
    "Int",
    "List",
    "Nullable",
    "Property",
    "String",
    "Time",
    "Tuple",
    "base_property",
    "holds_models",
    "models_in",
]

_NO_DEFAULT = object()
#: ``Property.depth_bound`` of a property whose values may nest without bound (Any_, ColumnData).
_UNBOUNDED = 1 << 20


class Property:
    """A typed attribute of a model; subclasses say which values it accepts."""

    __slots__ = ("_default", "help", "name")

    #: How error messages name the expected type ("a float").
    expected = "a value"
    #: Whether values of this type may contain models (so the document indexes them).
    may_hold_models = False
    #: Whether a stored value is mutable in place (lists, dicts): defaults are copied.
    mutable = False
    #: The most JSON levels a value it accepts can nest (serialization/depth.py counts
    #: them): only a value of a property whose bound passes the Decoder's is measured.
    depth_bound = _UNBOUNDED

    def __init__(self, default: Any = _NO_DEFAULT, *, help: str = "") -> None:
        self.name = ""
        self.help = help
        self._default = self.implicit_default() if default is _NO_DEFAULT else default
        if self._default is not None:
            self._default = self._checked_default(self._default)

    def _checked_default(self, value: Any) -> Any:
        if callable(value):
            return value
        self.accepts(value)
        if self.depth_bound > MAX_VALUE_DEPTH and nests_deeper(value):
            raise ValidationError(f"a default nested deeper than {MAX_VALUE_DEPTH} JSON levels")
        return value

    def implicit_default(self) -> Any:
        """Return the default used when none is declared."""
        return None

    def default(self) -> Any:
        """Return a fresh default value."""
        value = self._default
        if callable(value):
            return value()
        return value

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        try:  # (``Model._get_value`` of a value held, inline: a call fewer per property read)
            return obj._values[self.name]
        except KeyError:
            return obj._get_value(self)

    def __set__(self, obj: Any, value: Any) -> None:
        obj._set_value(self, value, None)

    def fail(self, value: Any, model: str = "", attr: str = "") -> ValidationError:
        """Build the error for a refused ``value``, naming model and property."""
        where = f"{model}.{attr or self.name} " if model else ""
        return ValidationError(f"{where}expected {self.expected}, got {_show(value)}")

    def accepts(self, value: Any) -> Any:
        """Return ``value`` (maybe normalised) or raise ValidationError without context."""
        return value

    def validate(self, value: Any, model: str) -> Any:
        """Return the value to store, or raise a ValidationError naming ``model``."""
        try:
            return self.accepts(value)
        except ValueTooDeepError:
            raise too_deep(f"{model}.{self.name}") from None
        except IntTooWideError as exc:  # (an int of any wrapper: None or an int, a list of them)
            raise IntTooWideError(f"{model}.{self.name} {exc}") from None
        except ValidationError as exc:
            raise self.fail(value, model) from exc.__cause__

    def iter_models(self, value: Any) -> Iterator[Any]:
        """Yield the models directly held by ``value``."""
        return iter(())


def _show(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"ndarray(dtype={value.dtype}, shape={value.shape})"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _refuse(expected: str) -> ValidationError:
    return ValidationError(expected)


class Any_(Property):
    """Any value that can travel (checked when it is encoded)."""

    __slots__ = ()
    expected = "any value"
    may_hold_models = True

    def accepts(self, value: Any) -> Any:
        # An int past 64 bits, stored, could be neither sent nor pulled; one nested in a
        # list or a dict is met by the walk that measures its depth (nests_deeper).
        if type(value) is int and not MIN_INT <= value <= MAX_INT:
            raise IntTooWideError(wide_int_text(value))
        return value

    def iter_models(self, value: Any) -> Iterator[Any]:
        yield from models_in(value)


_PLAIN = frozenset({float, int, str, bool, type(None)})


def _plainly_free(value: Any) -> bool:
    """Tell, cheaply, that ``models_in(value)`` yields nothing: a plain value, an array, a list of them or of lines."""
    if type(value) in _PLAIN or isinstance(value, np.ndarray):  # (models_in does not look into arrays)
        return True
    if not isinstance(value, list | tuple):
        return False
    types = set(map(type, value))
    # A MultiLine's column (lines of numbers) in two C-level passes, not a walk of its
    # lines: 83,000 lines of 12 ints were 0.25 s a walk, and columns are walked twice.
    return types <= _PLAIN or (types == _LINES and set(map(type, chain.from_iterable(value))) <= _PLAIN)


_LINES = {list}
#: The key types of column data (its names are strings): told in one C-level pass.
_STR_KEYS = frozenset({str})


def holds_models(value: Any) -> bool:
    """Tell whether ``value`` is, or contains, a model (fast for lists of plain values and for column data)."""
    if _plainly_free(value):
        return False
    # Column data: string names, and arrays or lists of plain values (walking each list
    # item by item, as models_in does, showed in profiles of every column change).
    if isinstance(value, dict) and _STR_KEYS.issuperset(map(type, value)) and all(map(_plainly_free, value.values())):
        return False
    # What models_in looks into, walked with a stack of its own: a client's column of a
    # million one-item lists took 0.8 s through models_in's nested generators (a call per
    # item and per level, on the event loop), 0.07 s so.
    stack = [value]
    pop, extend, plain = stack.pop, stack.extend, _PLAIN
    while stack:
        item = pop()
        kind = type(item)
        if kind in plain:
            continue
        if kind is list or kind is tuple:
            # A longer list of plain values (a line of a MultiLine column) in one C-level
            # pass, not item by item: 100,000 lines of 40 ints took 0.38 s a walk, 0.05 s so.
            if len(item) < 8 or not set(map(type, item)) <= plain:
                extend(item)
        elif kind is dict:
            extend(item)
            extend(item.values())
        elif getattr(kind, "__docsync_ref__", False):
            return True
        elif isinstance(item, list | tuple | set | frozenset):
            extend(item)
        elif isinstance(item, dict):
            extend(item)
            extend(item.values())
    return False


def models_in(value: Any) -> Iterator[Any]:
    """Yield the models in ``value``, looking into lists, tuples, sets and dicts (keys too)."""
    if getattr(type(value), "__docsync_ref__", False):
        yield value
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from models_in(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from models_in(key)
            yield from models_in(item)


class Bool(Property):
    """True or False."""

    __slots__ = ()
    expected = "a bool"
    depth_bound = 0

    def implicit_default(self) -> Any:
        return False

    def accepts(self, value: Any) -> Any:
        if isinstance(value, bool | np.bool_):
            return bool(value)
        raise _refuse(self.expected)


class Int(Property):
    """An integer (not a bool)."""

    __slots__ = ()
    expected = "an int"
    depth_bound = 0

    def implicit_default(self) -> Any:
        return 0

    def accepts(self, value: Any) -> Any:
        if type(value) is int and MIN_INT <= value <= MAX_INT:  # the common case
            return value
        if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
            value = int(value)
            if MIN_INT <= value <= MAX_INT:
                return value
            # Stored, it could be neither sent nor pulled (every pull of the session failed).
            raise IntTooWideError(wide_int_text(value))
        raise _refuse(self.expected)


class Float(Property):
    """A real number; ints are accepted and stored as floats."""

    __slots__ = ()
    expected = "a float"
    depth_bound = 1  # (a NaN or an infinity: a typed object)

    def implicit_default(self) -> Any:
        return 0.0

    def accepts(self, value: Any) -> Any:
        if type(value) is float:  # the common case, one check
            return value
        if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_):
            return float(value)
        raise _refuse(self.expected)


class String(Property):
    """A text string."""

    __slots__ = ()
    expected = "a string"
    depth_bound = 0

    def implicit_default(self) -> Any:
        return ""

    def accepts(self, value: Any) -> Any:
        if type(value) is str:
            return value
        if isinstance(value, str):
            # A subclass (Django's SafeString from format_html, a StrEnum) is stored as the
            # plain string it is: the encoder writes exact types only.
            return str.__str__(value)
        raise _refuse(self.expected)


class Bytes(Property):
    """Binary data; bytearrays and memoryviews are stored as bytes. It travels as a binary buffer."""

    __slots__ = ()
    expected = "bytes"
    depth_bound = 1

    def implicit_default(self) -> Any:
        return b""

    def accepts(self, value: Any) -> Any:
        if isinstance(value, bytes):
            return value
        if isinstance(value, bytearray | memoryview):
            return bytes(value)
        raise _refuse(self.expected)


class Enum(Property):
    """One of a fixed set of strings; the first is the default."""

    __slots__ = ("values",)
    depth_bound = 0

    def __init__(self, *values: str, default: Any = _NO_DEFAULT, help: str = "") -> None:
        if not values:
            raise TypeError("Enum needs at least one value")
        self.values = values
        super().__init__(values[0] if default is _NO_DEFAULT else default, help=help)

    @property
    def expected(self) -> str:  # type: ignore[override]
        return "one of " + ", ".join(repr(v) for v in self.values)

    def accepts(self, value: Any) -> Any:
        if value in self.values and isinstance(value, str):
            return value
        raise _refuse(self.expected)


class Nullable(Property):
    """None, or a value of the wrapped type."""

    __slots__ = ("depth_bound", "inner", "may_hold_models")

    def __init__(self, inner: Property, default: Any = None, *, help: str = "") -> None:
        self.inner = inner
        self.may_hold_models = inner.may_hold_models  # asked per change: a slot, not a call
        self.depth_bound = inner.depth_bound
        super().__init__(default, help=help)

    @property
    def expected(self) -> str:  # type: ignore[override]
        return f"None or {self.inner.expected}"

    @property
    def mutable(self) -> bool:  # type: ignore[override]
        return self.inner.mutable

    def accepts(self, value: Any) -> Any:
        return None if value is None else self.inner.accepts(value)

    def iter_models(self, value: Any) -> Iterator[Any]:
        return iter(()) if value is None else self.inner.iter_models(value)


class Instance(Property):
    """A reference to another model of the given class (or class name)."""

    __slots__ = ("_target",)
    may_hold_models = True
    depth_bound = 1  # a reference

    def __init__(self, target: type | str, default: Any = None, *, help: str = "") -> None:
        self._target = target
        super().__init__(default, help=help)

    def _checked_default(self, value: Any) -> Any:
        if value is not None and not callable(value):
            raise TypeError("an Instance default must be None or a factory")
        return value

    @property
    def target(self) -> type:
        """The model class accepted, resolved lazily so classes may refer ahead."""
        if isinstance(self._target, str):
            self._target = model_class(self._target)
        assert isinstance(self._target, type)
        return self._target

    @property
    def expected(self) -> str:  # type: ignore[override]
        name = self._target if isinstance(self._target, str) else self._target.__name__
        return f"an instance of {name}"

    def accepts(self, value: Any) -> Any:
        if isinstance(value, self.target):
            return value
        raise _refuse(self.expected)

    def iter_models(self, value: Any) -> Iterator[Any]:
        if value is not None:
            yield value


class Color(Property):
    """A CSS colour: a named colour, #rgb, #rrggbb, #rrggbbaa, rgb() or rgba()."""

    __slots__ = ()
    expected = "a CSS color"
    depth_bound = 0
    _pattern = re.compile(
        r"^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{4}|#[0-9a-fA-F]{6}|#[0-9a-fA-F]{8}"
        r"|rgba?\(\s*[\d.]+%?\s*,\s*[\d.]+%?\s*,\s*[\d.]+%?\s*(,\s*[\d.]+\s*)?\)"
        r"|[a-zA-Z]{3,24})$"
    )

    def implicit_default(self) -> Any:
        return "black"

    def accepts(self, value: Any) -> Any:
        if isinstance(value, str) and self._pattern.match(value):
            return value
        raise _refuse(self.expected)


class Datetime(Property):
    """A datetime; ISO 8601 strings are accepted and parsed."""

    __slots__ = ()
    expected = "a datetime"
    depth_bound = 1

    def accepts(self, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            try:
                return dt.datetime.fromisoformat(value)
            except ValueError:
                pass
        raise _refuse(self.expected)


class Date(Property):
    """A calendar date; ISO 8601 strings are accepted and parsed."""

    __slots__ = ()
    expected = "a date"
    depth_bound = 1

    def accepts(self, value: Any) -> Any:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise _refuse(self.expected)


class Time(Property):
    """A time of day; ISO 8601 strings ("13:05", "13:05:07") are accepted and parsed."""

    __slots__ = ()
    expected = "a time"
    depth_bound = 1

    def accepts(self, value: Any) -> Any:
        if isinstance(value, dt.time):
            return value
        if isinstance(value, str):
            try:
                return dt.time.fromisoformat(value)
            except ValueError:
                pass
        raise _refuse(self.expected)


class Either(Property):
    """A value of any one of the given types, tried in order."""

    __slots__ = ("choices", "depth_bound", "may_hold_models")

    def __init__(self, *choices: Property, default: Any = _NO_DEFAULT, help: str = "") -> None:
        self.choices = choices
        # Asked on every change of the property (a slider's value): its choices never change.
        self.may_hold_models = any(choice.may_hold_models for choice in choices)
        self.depth_bound = max(choice.depth_bound for choice in choices)
        first = choices[0].default() if default is _NO_DEFAULT else default
        super().__init__(first, help=help)

    @property
    def expected(self) -> str:  # type: ignore[override]
        return " or ".join(choice.expected for choice in self.choices)

    @property
    def mutable(self) -> bool:  # type: ignore[override]
        return any(choice.mutable for choice in self.choices)

    def accepts(self, value: Any) -> Any:
        # An Int refuses every float: a number's usual Either(Int(), Float()) skips it for
        # one (a slider's value, set by every move) rather than raise and catch its refusal.
        skip_int = type(value) is float
        for choice in self.choices:
            if skip_int and type(choice) is Int:
                continue
            try:
                return choice.accepts(value)
            except ValidationError:
                continue
        raise _refuse(self.expected)

    def iter_models(self, value: Any) -> Iterator[Any]:
        return models_in(value)


class Tuple(Property):
    """A fixed-length tuple with a type per position."""

    __slots__ = ("depth_bound", "items", "may_hold_models")

    def __init__(self, *items: Property, default: Any = _NO_DEFAULT, help: str = "") -> None:
        self.items = items
        self.may_hold_models = any(item.may_hold_models for item in items)
        self.depth_bound = ITEM_LEVELS + max((item.depth_bound for item in items), default=0)
        first = tuple(item.default() for item in items) if default is _NO_DEFAULT else default
        super().__init__(first, help=help)

    @property
    def expected(self) -> str:  # type: ignore[override]
        return "a tuple of (" + ", ".join(item.expected for item in self.items) + ")"

    def accepts(self, value: Any) -> Any:
        if isinstance(value, tuple | list) and len(value) == len(self.items):
            return tuple(item.accepts(v) for item, v in zip(self.items, value, strict=True))
        raise _refuse(self.expected)

    def iter_models(self, value: Any) -> Iterator[Any]:
        return models_in(value)


class AcceptedList(list):  # type: ignore[type-arg]
    """A list whose every item its ``List`` property has accepted: a patch check's simulated list.

    A model that judges a list whole (a MultiChoice's ``max_items``) is asked again after
    each splice of it; checking every item again each time made one patch of many small
    splices cost the list's length times theirs.
    """


class List(Property):
    """A list of items of one type; edits in place travel as splices."""

    __slots__ = ("depth_bound", "item", "may_hold_models")
    mutable = True

    def __init__(self, item: Property, default: Any = _NO_DEFAULT, *, help: str = "") -> None:
        self.item = item
        self.may_hold_models = item.may_hold_models  # asked per change: a slot, not a call
        self.depth_bound = ITEM_LEVELS + item.depth_bound
        super().__init__(list if default is _NO_DEFAULT else default, help=help)

    @property
    def expected(self) -> str:  # type: ignore[override]
        return f"a list of {self.item.expected}"

    def accepts(self, value: Any) -> Any:
        if type(value) is AcceptedList:
            return value  # its items were accepted one by one as they came in
        if isinstance(value, list | tuple):
            # A long list of ints, floats or strings (a selection's indices) in one C-level
            # pass: 1,000,000 indices were a call each, 0.3 s. Only for these exact
            # property classes, whose ``accepts`` takes such items as they are.
            kept = _KEPT_AS_THEY_ARE.get(type(self.item))
            if kept is not None and len(value) >= 32 and set(map(type, value)) <= kept:
                return list(value)
            return [self.item.accepts(v) for v in value]
        raise _refuse(self.expected)

    def accepts_items(self, values: Any) -> list[Any]:
        """Validate items about to be inserted."""
        # Items its item property takes as they are (the strings of a list of tags: most
        # splices) in one C-level pass, without a call each.
        kept = _ITEMS_AS_THEY_ARE.get(type(self.item))
        if kept is not None and type(values) is list and kept.issuperset(map(type, values)):
            return list(values)
        return [self.item.accepts(v) for v in values]

    def iter_models(self, value: Any) -> Iterator[Any]:
        for item in value:
            yield from self.item.iter_models(item)


#: Item properties whose ``accepts`` returns an item of these types as it is.
_KEPT_AS_THEY_ARE: dict[type[Property], set[type]] = {Int: {int}, Float: {float}, String: {str}, Bool: {bool}}
#: Item properties whose ``accepts`` returns an item of this type as it is, whatever its value
#: (not Int's: an int past 64 bits is refused).
_ITEMS_AS_THEY_ARE: dict[type[Property], frozenset[type]] = {
    Float: frozenset({float}),
    String: frozenset({str}),
    Bool: frozenset({bool}),
}


class Dict(Property):
    """A dict with typed keys and values; edits in place travel per key."""

    __slots__ = ("depth_bound", "key", "may_hold_models", "value")
    mutable = True

    def __init__(self, key: Property, value: Property, default: Any = _NO_DEFAULT, *, help: str = "") -> None:
        self.key = key
        self.value = value
        self.may_hold_models = key.may_hold_models or value.may_hold_models
        self.depth_bound = MAP_LEVELS + max(key.depth_bound, value.depth_bound)  # (written as a map, or shallower)
        super().__init__(dict if default is _NO_DEFAULT else default, help=help)

    @property
    def expected(self) -> str:  # type: ignore[override]
        return f"a dict of {self.key.expected} to {self.value.expected}"

    def accepts(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {self.key.accepts(k): self.value.accepts(v) for k, v in value.items()}
        raise _refuse(self.expected)

    def accepts_item(self, key: Any, value: Any) -> tuple[Any, Any]:
        """Validate one entry about to be set."""
        return self.key.accepts(key), self.value.accepts(value)

    def iter_models(self, value: Any) -> Iterator[Any]:
        for key, item in value.items():
            yield from self.key.iter_models(key)
            yield from self.value.iter_models(item)


Column = np.ndarray | list[Any]


class ColumnData(Property):
    """Columns of a data source: a dict of name to numpy array or list of data (no models)."""

    __slots__ = ()
    expected = "a dict of column name to ndarray or list"
    mutable = True
    #: Its check refuses (ValueTooDeepError) a column deeper than every client decodes:
    #: measured there, in the pass that looks for models, not again.
    depth_bound = MAX_VALUE_DEPTH

    def __init__(self, default: Any = _NO_DEFAULT, *, help: str = "") -> None:
        super().__init__(dict if default is _NO_DEFAULT else default, help=help)

    def accepts(self, value: Any, plain: Mapping[int, list[Any]] | None = None) -> Any:
        if isinstance(value, dict):
            at = MAP_LEVELS if writes_as_map(value) else ITEM_LEVELS  # (a column named "type": a map)
            return {k: self.accepts_column(k, v, plain, at) for k, v in value.items()}
        raise _refuse(self.expected)

    def accepts_column(
        self, name: Any, column: Any, plain: Mapping[int, list[Any]] | None = None, at: int = ITEM_LEVELS
    ) -> Column:
        """Validate one column, ``at`` JSON levels into its data; tuples become lists.

        ``plain``: lists of plain values a decoder took from the message it read, by id
        (``Decoder``'s ``plain_lists``); one of them is stored as it is, without the scan
        for models in it (its item types were seen) and without a copy (it is nobody
        else's). ``at``: 1 in data written as an object, 3 in one written as a map
        (value_depth.column_levels); a column deeper than every client decodes there is
        refused (ValueTooDeepError).
        """
        if not isinstance(name, str):
            raise _refuse(self.expected)
        if isinstance(column, np.ndarray):
            if column.dtype.kind == "M":
                # Instants travel as float64 milliseconds since the epoch (UTC), as in Bokeh.
                ms = column.astype("datetime64[us]").astype(np.int64) / 1000.0
                column = np.where(np.isnat(column), np.nan, ms)
            # Refused here rather than when the document is sent: only these can travel.
            if dtype_name(column.dtype) not in ALLOWED_DTYPES or column.ndim == 0:
                raise _refuse(self.expected)
            return cast(np.ndarray, column)
        if isinstance(column, list | tuple):
            if plain is not None and plain.get(id(column)) is column:
                return column  # (a client's 1M floats: a pass and a copy of 8 MB fewer)
            # Plain values, or lines of them (nearly every column): no model, and a level or
            # two, told by their item types alone (holds_models' own first passes).
            if _plainly_free(column):
                _check_ints(name, column)
                return list(column)
            # A column holds data: a model in it would be a reference the document
            # does not index, which no receiver could resolve.
            if holds_models(column):
                raise _refuse(self.expected)
            if nests_deeper(column, at=at):  # (an int past 64 bits met on the way: IntTooWideError)
                raise ValueTooDeepError(f"column {name!r:.40}")
            return list(column)
        raise _refuse(self.expected)


def _check_ints(name: str, column: list[Any] | tuple[Any, ...]) -> None:
    """Refuse a column holding an integer past 64 bits: stored, no pull of the document could be encoded."""
    wide = wide_int(column)
    if wide is not None:
        raise IntTooWideError(f"column {name!r:.40}: {wide_int_text(wide)}")


def base_property(prop: Property) -> Property:
    """The property a ``Nullable`` wraps, or ``prop`` itself."""
    return prop.inner if isinstance(prop, Nullable) else prop
