"""The Model base class: typed properties, change callbacks, and change reporting."""

from __future__ import annotations

import itertools
import logging
import math
import secrets
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

import numpy as np

from ..exceptions import IntTooWideError, ValidationError, ValueTooDeepError
from ..serialization.depth import ITEM_LEVELS, nests_deeper
from .collections import ColumnDataDict, TrackedDict, TrackedList
from .events import (
    ColumnDataChangedEvent,
    DictItemsDeletedEvent,
    DictItemsSetEvent,
    DocumentEvent,
    ListSplicedEvent,
    ModelChangedEvent,
)
from .properties import ColumnData, Dict, List, Nullable, Property, String, base_property, models_in
from .registry import register_model_class
from .value_depth import MAX_VALUE_DEPTH, deletion_nests_deeper, entry_levels, too_deep, update_nests_deeper

__all__ = ["MAX_CLIENT_MODEL_ID_LENGTH", "Model", "ModelMeta", "is_empty_default", "is_unissued_id", "new_model_id"]

logger = logging.getLogger("docsync.document")

# Ids only need to be unique within a document; a random per-process prefix keeps the
# ids of a client process apart from the server's when both create models.
_ID_PREFIX = secrets.token_hex(3)
_id_counter = itertools.count(1)
_SCALARS = (bool, int, float, str, type(None))
#: Values that nest no deeper than a level: their depth is not measured.
_FLAT = frozenset({bool, int, float, str, type(None), np.ndarray})


#: The longest id a client may give a model it defines: the pull of a document writes an
#: id at every reference to it, so a long one multiplies (the server's own are ~10 characters).
MAX_CLIENT_MODEL_ID_LENGTH = 128

#: The highest number ``new_model_id`` has issued (a race may leave it lower: never higher).
_issued = [0]


def new_model_id() -> str:
    """Return a fresh model id."""
    number = next(_id_counter)
    _issued[0] = max(_issued[0], number)
    return f"{_ID_PREFIX}{number}"


def is_unissued_id(model_id: str) -> bool:
    """Tell whether ``new_model_id`` would issue ``model_id`` later in this process.

    A client that defined a model under such an id (the prefix is in every id it sees)
    would make the application's next models collide with it: their attaching fails.
    """
    if not model_id.startswith(_ID_PREFIX):
        return False
    number = model_id[len(_ID_PREFIX) :]
    # Only the generator's own spelling (no sign, no leading zero, ASCII digits); a long
    # one is never reached (and int() refuses over 4,300 digits).
    if not (0 < len(number) <= 19 and number.isascii() and number.isdigit() and number[0] != "0"):
        return False
    return int(number) > _issued[0]


class ModelMeta(type):
    """Collect a model class's properties, keep instances slotted, register the type."""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any) -> ModelMeta:
        # Every model class is slotted so that an instance costs a few pointers.
        namespace.setdefault("__slots__", ())
        namespace.setdefault("__abstract__", False)
        namespace.setdefault("__type_name__", name)
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        properties: dict[str, Property] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                if isinstance(value, Property):
                    properties[attr] = value
        cls._properties = properties  # type: ignore[attr-defined]
        cls._model_properties = tuple(p for p in properties.values() if p.may_hold_models)  # type: ignore[attr-defined]
        for declared in ("__client_writable__", "__secret__"):
            unknown = frozenset(getattr(cls, declared, frozenset())) - properties.keys()
            if unknown:
                raise TypeError(f"{name}.{declared} names unknown properties {sorted(unknown)}")
        # Asked on every change: worked out once per class (Model itself refines nothing).
        root: Any = globals().get("Model")
        made: Any = cls
        made._refines = root is not None and made.validate_value is not root.validate_value
        made._keeps = made._refines and made.kept_valid is not root.kept_valid
        made._checks_client = root is not None and made.check_client_values is not root.check_client_values
        if not namespace["__abstract__"]:
            register_model_class(namespace["__type_name__"], cls)
        return cls


def _same(old: Any, new: Any) -> bool:
    """Tell whether setting ``new`` over ``old`` changes nothing a receiver could see."""
    if old is new:
        return True
    if type(old) is float and type(new) is float:
        if math.isnan(old):
            return math.isnan(new)
        # 0.0 == -0.0, yet the sign is seen (1/x, Object.is): a change to send.
        return old == new and math.copysign(1.0, old) == math.copysign(1.0, new)
    if type(old) in _SCALARS and type(new) is type(old):
        return bool(old == new)
    if type(old) in (list, tuple, TrackedList) and type(new) in (list, tuple, TrackedList):
        # (``map`` over both, no generator resumed per item: asked for every list set.)
        return len(old) == len(new) and all(map(_same_item, old, new))
    return False


def _same_item(old: Any, new: Any) -> bool:
    if type(old) in _SCALARS or type(new) in _SCALARS:
        return _same(old, new)
    if old is new:
        return True
    try:
        return bool(old == new)
    except (ValueError, TypeError):  # arrays compare element-wise: call them different
        return False


def is_empty_default(model: Model, attr: str, value: Any) -> bool:
    """Tell whether ``value`` is an empty list or dict standing for an empty default.

    Reading a property whose default is an empty list or dict stores that default, so
    that edits in place stick; it is still the default, and definitions leave it out:
    a document's JSON depends on its values, never on which of them were read.
    """
    if not isinstance(value, list | dict) or value:
        return False
    prop = model._properties.get(attr)
    if prop is None or not prop.mutable:
        return False
    default = prop.default()
    return type(default) in (list, dict) and not default


_UNKNOWN: Any = object()
#: Per property, the container type its values are tracked in: (the plain type, the tracking type).
_WRAPPERS: dict[Property, tuple[type, type] | None] = {}


def _wrapper_of(prop: Property) -> tuple[type, type] | None:
    base = base_property(prop)
    if isinstance(base, ColumnData):
        return (dict, ColumnDataDict)
    if isinstance(base, List):
        return (list, TrackedList)
    if isinstance(base, Dict):
        return (dict, TrackedDict)
    return None


def keeps_valid(cls: type[Model]) -> bool:
    """Tell whether ``cls`` refines validation and changes other values after one changed (``kept_valid``)."""
    return cls._keeps


def refines_validation(cls: type[Model]) -> bool:
    """Tell whether ``cls`` refines ``validate_value`` (by its other values: a Tabs' ``active`` by its tabs)."""
    return cls._refines


class _ValuesView(Mapping[str, Any]):
    """A model's values, a missing one read as its default (without storing it)."""

    __slots__ = ("_model",)

    def __init__(self, model: Model) -> None:
        self._model = model

    def __getitem__(self, attr: str) -> Any:
        values = self._model._values
        return values[attr] if attr in values else self._model._properties[attr].default()

    def __iter__(self) -> Iterator[str]:
        return iter(self._model._properties)

    def __len__(self) -> int:
        return len(self._model._properties)


class Model(metaclass=ModelMeta):
    """A piece of a document: typed properties, callbacks, and a unique id.

    Subclasses declare properties as class attributes and may set:
    ``__client_writable__`` (properties a browser may change),
    ``__client_events__`` (UI events a browser may send, e.g. ``"button_click"``),
    ``__view_module__`` (the static URL of a JavaScript module that renders it),
    ``__type_name__`` (the name on the wire; defaults to the class name),
    ``__secret__`` (properties whose values are shown nowhere but in the document,
    such as a password: the admin's session page hides them).
    """

    __slots__ = (
        "__weakref__",
        "_callbacks",
        "_changed_out",
        "_document",
        "_event_callbacks",
        "_frozen_values",
        "_id",
        "_values",
    )
    __abstract__ = True
    __docsync_ref__: ClassVar[bool] = True
    __type_name__: ClassVar[str]
    __client_writable__: ClassVar[frozenset[str]] = frozenset()
    __client_events__: ClassVar[frozenset[str]] = frozenset()
    __secret__: ClassVar[frozenset[str]] = frozenset()
    __view_module__: ClassVar[str | None] = None
    _properties: ClassVar[dict[str, Property]]
    _model_properties: ClassVar[tuple[Property, ...]]
    #: Whether the class refines ``validate_value`` (``refines_validation``), and keeps values valid (``keeps_valid``).
    _refines: ClassVar[bool]
    _keeps: ClassVar[bool]
    #: Whether the class judges what a browser leaves in it (``check_client_values``).
    _checks_client: ClassVar[bool]

    name = Nullable(String(), help="A name to find this model by, from Python or JavaScript.")

    def __init__(self, *, id: str | None = None, **properties: Any) -> None:
        self._id = id or new_model_id()
        self._values: dict[str, Any] = {}
        self._callbacks: dict[str, list[Callable[..., Any]]] | None = None
        self._event_callbacks: dict[str, list[Callable[..., Any]]] | None = None
        self._document: Any = None  # a weak reference to the owning document
        # While a held event that attached this model is reported: its values then.
        self._frozen_values: dict[str, Any] | None = None
        # While a local change has taken it out of its client's document (``track_changes_out``):
        # the names of the properties changed since, in order (no values: nothing is copied).
        self._changed_out: dict[str, None] | None = None
        for attr, value in properties.items():
            prop = self.lookup(attr)
            value = self.validate_value(prop, value)
            if prop.depth_bound > MAX_VALUE_DEPTH and type(value) not in _FLAT and self._measure(prop, value):
                raise too_deep(f"{self.__type_name__}.{attr}")  # (as _set_value)
            self._values[attr] = self._wrap(prop, value)

    def __repr__(self) -> str:
        return f"{self.__type_name__}(id={self._id!r})"

    @property
    def id(self) -> str:
        """The model's id, unique within its document."""
        return self._id

    @property
    def document(self) -> Any:
        """The document this model belongs to, or None."""
        return self._document() if self._document is not None else None

    def track_changes_out(self) -> None:
        """Note, from now on, which properties change while the model is in no document (``changed_out``).

        Names noted already (since an earlier call, not asked for since) stay noted.
        """
        if self._changed_out is None:
            self._changed_out = {}

    def changed_out(self) -> list[str] | None:
        """The properties changed out of a document since ``track_changes_out``, in order; stop noting them.

        None when they were not noted. A client's outbox asks, for a model a local change
        took out, when a local change puts it back: only the names are noted, never the
        values (a swapped-out data source's columns are neither copied nor kept).
        """
        names, self._changed_out = self._changed_out, None
        return None if names is None else list(names)

    def splice_out(self, attr: str, index: int, delete: int, items: list[Any], setter: Any = None) -> None:
        """Splice list ``attr`` of this model, in no document, with another origin's change, not noted as changed out.

        A client applies so a server's splice it skipped (the model out of its document) to
        the object its application holds: the server's value, not one to send at a put-back.
        """
        noted = self._changed_out
        was_noted = noted is not None and attr in noted
        prop = type(self).properties()[attr]
        self._list_splice(prop, self._get_value(prop), index, delete, items, setter)
        if noted is not None and not was_noted:
            noted.pop(attr, None)

    def change_out(self, attr: str, change: Callable[[], Any]) -> None:
        """Run ``change``, another origin's change of ``attr`` of this model in no document, not noted as changed out.

        A client applies so a server's change it skipped (the model out of its document)
        to the object its application holds, as ``splice_out`` a splice: the server's
        value, not one to send at a put-back.
        """
        noted = self._changed_out
        was_noted = noted is not None and attr in noted
        try:
            change()
        finally:
            if noted is not None and not was_noted:
                noted.pop(attr, None)

    def _owner(self) -> Any:
        # ``document`` without a property's descriptor call: read on every change.
        ref = self._document
        return ref() if ref is not None else None

    @classmethod
    def lookup(cls, attr: str) -> Property:
        """Return the descriptor of property ``attr``."""
        try:
            return cls._properties[attr]
        except KeyError:
            raise AttributeError(f"{cls.__type_name__} has no property {attr!r}") from None

    @classmethod
    def has_property(cls, attr: str) -> bool:
        """Tell whether the class has a property ``attr``."""
        return attr in cls._properties

    @classmethod
    def properties(cls) -> dict[str, Property]:
        """Return every property of the class, by name."""
        return dict(cls._properties)

    def properties_with_values(self, *, include_defaults: bool = True) -> dict[str, Any]:
        """Return the current value of each property."""
        if include_defaults:
            return {attr: getattr(self, attr) for attr in self._properties}
        return dict(self._values)

    # -- storing values -------------------------------------------------------------

    def _wrap(self, prop: Property, value: Any) -> Any:
        wrapper = _WRAPPERS.get(prop, _UNKNOWN)
        if wrapper is _UNKNOWN:
            wrapper = _WRAPPERS[prop] = _wrapper_of(prop)
        if wrapper is not None and isinstance(value, wrapper[0]):
            return wrapper[1](value, self, prop)
        return value

    def _get_value(self, prop: Property) -> Any:
        try:
            return self._values[prop.name]
        except KeyError:
            value = prop.default()
            if prop.mutable and value is not None:
                # Mutable defaults are stored on first read so that edits in place stick.
                value = self._values[prop.name] = self._wrap(prop, value)
            return value

    def validate_value(self, prop: Property, value: Any) -> Any:
        """Return ``value`` as this model stores it in ``prop``, or raise ValidationError.

        The property's own check; a model may refine it with its other values (a
        Spinner's ``mode`` makes its value an int or a float), read from ``self._values``:
        while a patch is checked, that holds the values its earlier events leave. Every
        way in goes through here: construction, Python assignment, client patches and
        document JSON.
        """
        return prop.validate(value, self.__type_name__)

    def check_client_event(self, event: Any, scratch: dict[str, Any]) -> None:
        """Raise PatchError if a browser's UI event aimed at this model must be refused.

        Called while a client patch is checked, before anything of it is applied.
        ``scratch`` belongs to this model for the rest of that check: an event records
        there what it will change, so that the events after it in the same patch are
        judged against that.
        """

    def check_client_values(self, values: Mapping[str, Any], new: bool) -> None:
        """Raise ValidationError if a browser's patch leaves values its widget never sends.

        Called for client patches only (the application may set anything), once the
        patch's every event is checked: ``values`` are the model's values as the patch
        leaves them, while ``self`` still holds those before it (``new``: the patch
        defines the model, there were none). A Select refuses a value not among its
        options; a value the model held already is kept (the application set it).
        """

    def _measure(self, prop: Property, value: Any) -> bool:
        """Tell whether ``value`` of ``prop`` nests past the bound; refuse one holding an int past 64 bits."""
        try:
            return nests_deeper(value)
        except IntTooWideError as exc:  # (met by the same walk: stored, no pull could write it)
            raise IntTooWideError(f"{self.__type_name__}.{prop.name} {exc}") from None

    def _set_value(self, prop: Property, value: Any, setter: Any) -> None:
        value = self.validate_value(prop, value)
        # No deeper than every client decodes (value_depth.py), measured only where a value
        # can nest that deep (a slider's value cannot: not even a call) and is not flat.
        if prop.depth_bound > MAX_VALUE_DEPTH and type(value) not in _FLAT and self._measure(prop, value):
            raise too_deep(f"{self.__type_name__}.{prop.name}")
        self._store_value(prop, self._wrap(prop, value), setter)

    def _store_value(self, prop: Property, value: Any, setter: Any) -> None:
        """Store ``value``, which ``validate_value`` and ``_wrap`` made what it is, and report the change.

        A model that does more when a value changes (Markdown renders its html) does it
        here: a patch stores the values its check returned through here, never failing.
        """
        attr = prop.name
        old = self._values[attr] if attr in self._values else prop.default()
        # Two floats that differ (a slider's values: most changes) told apart without ``_same``;
        # a NaN (never equal to itself) and 0.0 against -0.0 are left to it.
        differ = type(old) is float and type(value) is float and old != value and value == value
        if not differ and _same(old, value):
            self._values[attr] = value
            return
        ref = self._document  # (``_owner``, inline)
        document = ref() if ref is not None else None
        new_models = self._attach_added(document, prop, value) if prop.may_hold_models else []
        self._values[attr] = value
        if document is not None:
            event = ModelChangedEvent(self, attr, old, value, setter, new_models)
            document._model_changed(event, prop, old, None)
        elif self._changed_out is not None:
            self._changed_out[attr] = None
        if self._callbacks is not None:
            self._trigger(attr, old, value)
        if self._keeps:  # most models (a Slider) keep nothing: no view built per change
            self._keep_valid(attr, setter)

    def kept_valid(self, attr: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Return the values to change after ``attr`` changed so that every value passes the check.

        ``values`` are the model's values (the missing ones at their defaults). A model
        whose ``validate_value`` judges one value by another returns what follows: a
        Tabs' ``active`` when its tabs shrink. Pure, so that a patch's check can ask too.
        """
        return {}

    def _keep_valid(self, attr: str, setter: Any) -> None:
        for name, value in self.kept_valid(attr, _ValuesView(self)).items():
            self._set_value(self._properties[name], value, setter)

    def _attach_added(self, document: Any, prop: Property, added: Any) -> list[Model]:
        """Index the models a change brings in, before it is made.

        If one of them cannot join the document (it belongs to another, or its id is
        taken), the error comes while this model is still unchanged.
        """
        if document is None or not prop.may_hold_models:
            return []
        attached: list[Model] = document._attach(models_in(added))
        return attached

    def _old_copy(self, attr: str, container: Any) -> Any:
        # Copy the old collection only when a callback will look at it.
        if self._callbacks and attr in self._callbacks:
            # The plain list or dict (a ColumnDataDict's first base is TrackedDict, which needs an owner).
            return (dict if isinstance(container, dict) else list)(container)
        return container

    def _list_splice(
        self,
        prop: Property,
        container: TrackedList,
        index: int,
        delete: int,
        items: list[Any],
        setter: Any,
        *,
        checked: bool = False,
    ) -> None:
        """Replace ``delete`` items at ``index`` with ``items`` (``checked``: as ``accepts_items`` returned them)."""
        if not checked:
            base = base_property(prop)
            assert isinstance(base, List)
            try:
                items = base.accepts_items(items)
            except IntTooWideError as exc:
                raise IntTooWideError(f"{self.__type_name__}.{prop.name} {exc}") from None
            except ValidationError:
                raise prop.fail(items, self.__type_name__) from None
            if prop.depth_bound > MAX_VALUE_DEPTH and self._measure(prop, items):  # (the rest of the list was taken)
                raise too_deep(f"{self.__type_name__}.{prop.name}")
            if self._refines:  # judged as the whole list it leaves (a group's active)
                after = list(container)
                after[index : index + delete] = items
                self.validate_value(prop, after)
        attr = prop.name
        old = self._old_copy(attr, container) if self._callbacks else container
        removed = list.__getitem__(container, slice(index, index + delete))
        ref = self._document  # (``_owner``, inline: read on every change)
        document = ref() if ref is not None else None
        new_models = self._attach_added(document, prop, items) if prop.may_hold_models else []
        list.__setitem__(container, slice(index, index + delete), items)
        if document is not None:
            event = ListSplicedEvent(self, attr, index, delete, items, setter, new_models)
            document._model_changed(event, prop, removed, None)
        elif self._changed_out is not None:
            self._changed_out[attr] = None
        if self._callbacks is not None:
            self._trigger(attr, old, container)
        if self._keeps:
            self._keep_valid(attr, setter)

    def _dict_set(
        self, prop: Property, container: TrackedDict, items: dict[Any, Any], setter: Any, *, checked: bool = False
    ) -> None:
        """Set ``items`` of a dict or column data (``checked``: as the property's checks returned them)."""
        base = base_property(prop)
        if not checked:
            try:
                if isinstance(base, ColumnData):
                    # Each column measured as the data will hold it (value_depth.py).
                    before, after = entry_levels(container, items)
                    items = {k: base.accepts_column(k, v, None, after) for k, v in items.items()}
                    if after > before and nests_deeper(list(container.values()), at=after - ITEM_LEVELS):
                        raise ValueTooDeepError  # (now a map: every column two levels deeper)
                else:
                    assert isinstance(base, Dict)
                    items = dict([base.accepts_item(k, v) for k, v in items.items()])
                    if prop.depth_bound > MAX_VALUE_DEPTH and update_nests_deeper(container, items):
                        raise ValueTooDeepError
            except ValueTooDeepError:
                raise too_deep(f"{self.__type_name__}.{prop.name}") from None
            except IntTooWideError as exc:
                raise IntTooWideError(f"{self.__type_name__}.{prop.name} {exc}") from None
            except ValidationError:
                raise prop.fail(items, self.__type_name__) from None
        attr = prop.name
        old = self._old_copy(attr, container) if self._callbacks else container
        replaced = [container[k] for k in items if k in container]
        ref = self._document  # (``_owner``, inline: read on every change)
        document = ref() if ref is not None else None
        new_models = self._attach_added(document, prop, items) if prop.may_hold_models else []
        dict.update(container, items)
        if document is not None:
            event: DocumentEvent
            if isinstance(base, ColumnData):
                event = ColumnDataChangedEvent(self, attr, items, setter, new_models)
            else:
                event = DictItemsSetEvent(self, attr, items, setter, new_models)
            document._model_changed(event, prop, replaced, None)
        elif self._changed_out is not None:
            self._changed_out[attr] = None
        if self._callbacks is not None:
            self._trigger(attr, old, container)

    def _dict_delete(self, prop: Property, container: TrackedDict, keys: list[Any], setter: Any) -> None:
        # (Column data too: its columns are at the bound, and one "id" left makes it a map.)
        if prop.depth_bound >= MAX_VALUE_DEPTH and deletion_nests_deeper(container, keys):
            raise too_deep(f"{self.__type_name__}.{prop.name}")
        attr = prop.name
        old = self._old_copy(attr, container) if self._callbacks else container
        removed = [dict.pop(container, key) for key in keys]
        ref = self._document  # (``_owner``, inline: read on every change)
        document = ref() if ref is not None else None
        if document is not None:
            event = DictItemsDeletedEvent(self, attr, keys, setter)
            document._model_changed(event, prop, removed, None)
        elif self._changed_out is not None:
            self._changed_out[attr] = None
        self._trigger(attr, old, container)

    def _column_event(self, event: DocumentEvent) -> None:
        """Report a stream or patch that was applied to this model's columns."""
        ref = self._document  # (``_owner``, inline: read on every change)
        document = ref() if ref is not None else None
        attr = event.attr  # type: ignore[attr-defined]
        if document is not None:
            document._model_changed(event, self.lookup(attr), None, None)
        elif self._changed_out is not None:
            self._changed_out[attr] = None
        if self._callbacks is not None:
            self._trigger(attr, None, self._values.get(attr))

    # -- references -----------------------------------------------------------------

    def references(self) -> Iterator[Model]:
        """Yield the models this model's properties hold directly."""
        values = self._values
        for prop in self._model_properties:
            value = values.get(prop.name)
            if value is not None:
                yield from prop.iter_models(value)

    # -- callbacks ------------------------------------------------------------------

    def on_change(self, attr: str, *callbacks: Callable[[str, Any, Any], Any]) -> None:
        """Call ``callback(attr, old, new)`` whenever ``attr`` changes."""
        self.lookup(attr)
        if self._callbacks is None:
            self._callbacks = {}
        self._callbacks.setdefault(attr, []).extend(callbacks)

    def remove_on_change(self, attr: str, *callbacks: Callable[[str, Any, Any], Any]) -> None:
        """Stop calling the given callbacks when ``attr`` changes."""
        if self._callbacks and attr in self._callbacks:
            remaining = [cb for cb in self._callbacks[attr] if cb not in callbacks]
            if remaining:
                self._callbacks[attr] = remaining
            else:
                del self._callbacks[attr]

    def on_event(self, event_name: str, *callbacks: Callable[[Any], Any]) -> None:
        """Call ``callback(event)`` when a UI event named ``event_name`` arrives for this model."""
        if self._event_callbacks is None:
            self._event_callbacks = {}
        self._event_callbacks.setdefault(event_name, []).extend(callbacks)

    def has_callbacks(self, attr: str) -> bool:
        """Tell whether any change callback watches ``attr``."""
        return bool(self._callbacks and attr in self._callbacks)

    def change_callbacks(self, attr: str) -> tuple[Callable[..., Any], ...]:
        """The callbacks watching changes of ``attr``."""
        return tuple(self._callbacks.get(attr, ())) if self._callbacks else ()

    def event_callbacks(self, event_name: str) -> tuple[Callable[..., Any], ...]:
        """The callbacks of UI event ``event_name``."""
        return tuple(self._event_callbacks.get(event_name, ())) if self._event_callbacks else ()

    def clear_callbacks(self) -> None:
        """Drop every change and event callback (the model's document is going away)."""
        self._callbacks = None
        self._event_callbacks = None

    def _trigger(self, attr: str, old: Any, new: Any) -> None:
        if self._callbacks is None:
            return
        for callback in tuple(self._callbacks.get(attr, ())):
            self._invoke(callback, attr, old, new)

    def _trigger_event(self, event: Any) -> None:
        if self._event_callbacks is None:
            return
        for callback in tuple(self._event_callbacks.get(event.msg_type, ())):
            self._invoke(callback, event)

    def _invoke(self, callback: Callable[..., Any], *args: Any) -> None:
        try:
            result = callback(*args)
        except Exception as exc:
            # A failing user callback must not break the change that triggered it.
            logger.exception("error in callback %r of %r", callback, self)
            document = self.document
            if document is not None:
                document.callback_failed(exc)
            return
        if result is not None and hasattr(result, "__await__"):
            document = self.document
            if document is not None:
                document.pending_coroutines.append(result)
            else:
                result.close()
                logger.warning("coroutine callback %r of %r needs a document", callback, self)
