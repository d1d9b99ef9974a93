"""Apply a list of incoming events atomically: check every one, then apply them all."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from ..exceptions import (
    IntTooWideError,
    NotWritableError,
    PatchError,
    UnknownModelError,
    UnknownPropertyError,
    ValidationError,
    ValueTooDeepError,
)
from ..serialization.depth import ITEM_LEVELS, nests_deeper
from . import events as ev
from .columns import Derive, apply_patches, apply_stream, check_patches, check_stream, patch_checked, stream_checked
from .integrity import ChangeOutcome, DocumentLimits, check_outcome
from .model import Model
from .properties import (
    AcceptedList,
    Any_,
    Bool,
    ColumnData,
    Dict,
    Float,
    List,
    Nullable,
    Property,
    String,
    base_property,
    models_in,
)
from .value_depth import MAX_VALUE_DEPTH, deletion_nests_deeper, entry_levels, too_deep, update_nests_deeper

__all__ = ["DocumentLimits", "apply_events"]

Apply = Callable[[], None]
#: Values ``Model._wrap`` returns as they are (it wraps lists and dicts).
_SCALARS: frozenset[type] = frozenset({bool, int, float, str, type(None)})
#: The check of one event that changes a property: (checker, model, property, event, setter) -> its apply.
_PropertyCheck = Callable[["_Checker", Model, Property, Any, Any], Apply]
#: No columns made or vetted (``ChangeOutcome``'s, read only).
_NONE: Mapping[Any, Any] = MappingProxyType({})


def _returning(checker: _Checker, model: Model) -> bool:
    """Whether ``model`` left the document and an earlier event of the patch attaches it again.

    Only the client whose own change took it out may name it (sync/detached.py); as a
    model of the document's, it is not one of the patch's own (every property writable).
    """
    joining = checker.joining
    return joining is not None and joining.get(model._id) is model


class _Checker:
    """Checks events in order against a simulation of the state they will meet."""

    # (Slots: its fields are read and written for every event of every patch.)
    __slots__ = (
        "allow_structure",
        "dicts",
        "document",
        "from_client",
        "joining",
        "lists",
        "made_columns",
        "models",
        "new_models",
        "plain_lists",
        "pushed",
        "roots",
        "scratch",
        "title",
        "touched",
        "values",
        "vetted_columns",
    )

    def __init__(
        self,
        document: Any,
        new_models: Mapping[str, Model],
        from_client: bool,
        allow_structure: bool,
        pushed: bool = False,
        plain_lists: Mapping[int, list[Any]] | None = None,
    ) -> None:
        # Made for every patch, most of one event: what few patches need is made on
        # first need (``own_roots``, ``joining``, ``scratch``, ``made_columns``, ``vetted_columns``).
        self.document = document
        self.models: Mapping[str, Model] = document._models  # live, read per event (never written here)
        self.new_models = new_models
        self.from_client = from_client
        self.allow_structure = allow_structure
        self.pushed = pushed  # a whole document a client pushed: no model of the app's left to pose as
        self.lists: dict[tuple[str, str], list[Any] | None] = {}
        self.dicts: dict[tuple[str, str], dict[Any, Any] | None] = {}
        #: Whole values set by ModelChanged events, by (model id, attr).
        self.values: dict[tuple[str, str], Any] = {}
        #: Models whose properties the events set, with those properties.
        self.touched: dict[str, tuple[Model, set[str]]] = {}
        #: The roots as the events checked so far leave them; None: the document's, unchanged (``roots_after``).
        self.roots: list[Model] | None = None
        self.title = document._title
        # Per model id: what the UI events checked so far will change (check_client_event); None: nothing yet.
        self.scratch: dict[str, dict[str, Any]] | None = None
        #: Models the events bring into the document, by id (as Document._attach will index them); None: none.
        self.joining: dict[str, Model] | None = None
        #: List columns the simulation made by patching or streaming another (``ChangeOutcome.made_columns``);
        #: None: none.
        self.made_columns: dict[int, tuple[Any, Any, list[Any]]] | None = None
        #: List columns ColumnData's own check passed (no model in them), by id (``ChangeOutcome.vetted_columns``);
        #: None: none.
        self.vetted_columns: dict[int, Any] | None = None
        #: Lists of plain values the events took from the message they were read from (``DecodedPatch.plain_lists``).
        self.plain_lists = plain_lists

    def roots_after(self) -> list[Model]:
        """Return the roots as the events checked so far leave them (the document's own list: read it only)."""
        roots = self.roots
        return self.document._roots if roots is None else roots

    def own_roots(self) -> list[Model]:
        """Return the simulated roots, to change: copied from the document's on first need."""
        roots = self.roots
        if roots is None:
            roots = self.roots = list(self.document._roots)
        return roots

    def attachable(self, value: Any) -> None:
        """Refuse a value holding a model of another document, or two new models sharing an id."""
        models, joining = self.models, self.joining
        stack = list(models_in(value))
        while stack:
            model = stack.pop()
            key = model._id
            if models.get(key) is model:
                continue
            if joining is None:
                joining = self.joining = {}
            elif joining.get(key) is model:
                continue
            if key in joining:
                raise PatchError(f"two models share the id {key!r:.40}")
            # A model of the document with the same id may be gone by then: an earlier
            # event may drop it, as a push drops every root. If it is still held, the
            # document would refuse the newcomer halfway through the patch.
            held = models.get(key)
            if held is not None and self.reachable(held):
                raise PatchError(f"two models share the id {key!r:.40}")
            owner = model.document
            if owner is not None and owner is not self.document:
                raise PatchError(f"{model!r} already belongs to another document")
            joining[key] = model
            stack.extend(model.references())

    def reachable(self, target: Model) -> bool:
        """Tell whether ``target`` is held by the roots as the events checked so far leave them."""
        seen: set[int] = set()
        stack = list(self.roots_after())
        while stack:
            model = stack.pop()
            if model is target:
                return True
            if id(model) in seen:
                continue
            seen.add(id(model))
            for prop in model._model_properties:
                value = self.value_after(model, prop.name)
                if value is not None:
                    stack.extend(prop.iter_models(value))
        return False

    def model(self, model: Model) -> Model:
        model_id = model._id
        if model_id in self.new_models or self.models.get(model_id) is model or _returning(self, model):
            return model
        raise UnknownModelError(f"unknown model id {model_id!r}")

    def prop(self, model: Model, attr: str) -> Property:
        """Return ``model``'s property ``attr`` (the model checked as by ``model``); mark it touched where read."""
        model_id = model._id
        if not (model_id in self.new_models or self.models.get(model_id) is model or _returning(self, model)):
            raise UnknownModelError(f"unknown model id {model_id!r}")
        prop = model._properties.get(attr)
        if prop is None:
            raise UnknownPropertyError(f"{model.__type_name__} has no property {attr!r:.40}")
        if self.from_client:
            if not (attr in model.__client_writable__ or model_id in self.new_models):
                raise NotWritableError(f"{model.__type_name__}.{attr} is not writable from the client")
        elif not model._refines:
            return prop  # what is touched is read by a client's outcome check and a refining model's alone
        touched = self.touched.get(model_id)
        if touched is None:
            self.touched[model_id] = (model, {attr})
        else:
            touched[1].add(attr)
        return prop

    def value_after(self, model: Model, attr: str) -> Any:
        """Return the simulated value of ``attr``: as the events checked so far leave it."""
        key = (model._id, attr)
        # (Unrolled: asked for most events, and by the outcome's checks.)
        lists, dicts, values = self.lists, self.dicts, self.values
        if key in lists:
            return lists[key]
        if key in dicts:
            return dicts[key]
        if key in values:
            return values[key]
        own = model._values
        return own[attr] if attr in own else model._properties[attr].default()

    @staticmethod
    def current(model: Model, attr: str) -> Any:
        """Return the value of ``attr`` now, without storing a default (checking changes nothing)."""
        values = model._values
        return values[attr] if attr in values else model._properties[attr].default()

    def structure(self, what: str) -> None:
        if self.from_client and not self.allow_structure:
            raise NotWritableError(f"{what} is not allowed from the client")

    def sim_dict(self, model: Model, attr: str) -> dict[Any, Any] | None:
        """Return the simulated dict (or column data) of ``attr``; None if it is None."""
        key = (model._id, attr)
        if key not in self.dicts:
            value = self.value_after(model, attr)
            self.dicts[key] = None if value is None else dict(value)
        return self.dicts[key]


def _validate_after(checker: _Checker, model: Model, prop: Property, value: Any) -> Any:
    """Return ``model.validate_value(prop, value)`` as it will run when the event is applied.

    The model's refinement reads its other values from ``_values``: for the check, that
    holds what the patch's earlier events leave (a Tabs' ``active`` is judged against the
    tabs the same patch set before it), then the model's own values again.
    """
    model_id = model._id
    attrs = checker.touched[model_id][1]
    own = model._values
    key = (model_id, prop.name)
    if (
        len(attrs) == 1
        and prop.name in attrs  # (Model.kept_valid's followers are judged before they are touched)
        and prop.name in own
        and key not in checker.values
        and key not in checker.lists
        and key not in checker.dicts
    ):
        # The patch changed nothing of this model before (a slider's value, alone): its
        # values after are its own. Still a copy, as the check may store a default it reads.
        model._values = own.copy()
    else:
        model._values = {**own, **{attr: checker.value_after(model, attr) for attr in attrs}}
    try:
        return model.validate_value(prop, value)
    finally:
        model._values = own


def _kept_valid(checker: _Checker, model: Model, attr: str) -> None:
    """Simulate what applying will change next to ``attr`` (Model.kept_valid): a Tabs' active.

    A client's patch must leave every value valid by itself: its changes are not echoed
    to it, so a value the server brought back within its check would differ on its side.
    """
    view = _SimulatedValues(checker, model)
    follow = model.kept_valid(attr, view)
    if follow and checker.from_client:
        for name in follow:
            _validate_after(checker, model, model._properties[name], view[name])  # raises, and says why
    for name, value in follow.items():
        key = (model.id, name)
        checker.values[key] = value
        checker.lists.pop(key, None)
        if isinstance(value, list):
            checker.lists[key] = list(value)
        checker.touched[model.id][1].add(name)


class _SimulatedValues(Mapping[str, Any]):
    """A model's values as the events checked so far leave them."""

    def __init__(self, checker: _Checker, model: Model) -> None:
        self.checker, self.model = checker, model

    def __getitem__(self, attr: str) -> Any:
        return self.checker.value_after(self.model, attr)

    def __iter__(self) -> Iterator[str]:
        return iter(self.model._properties)

    def __len__(self) -> int:
        return len(self.model._properties)


class _ValuesAfter(dict[str, Any]):
    """A model's values as a patch leaves them, a missing one read as its default (a plain dict's reads)."""

    __slots__ = ("model",)
    model: Model

    def __missing__(self, attr: str) -> Any:
        return self.model._properties[attr].default()


def _check_client_values(checker: _Checker) -> None:
    """Refuse what a browser's widget never sends (Model.check_client_values), as the patch leaves it."""
    new_models = checker.new_models
    for model, attrs in checker.touched.values():
        if model._checks_client and model._id not in new_models:
            values = _ValuesAfter(model._values)
            values.model = model
            for attr in attrs:
                values[attr] = checker.value_after(model, attr)
            model.check_client_values(values, False)
    for model in new_models.values():
        name = model._values.get("name")
        if name is not None and not checker.pushed:
            # An app finds its own models by name (get_model_by_name, select): a client's model
            # so named would stand in for the app's, with values of the offer its client chose.
            raise NotWritableError(
                f"new {model.__type_name__} named {name!r:.40}: a client may not name a model it creates"
            )
        if model._checks_client:
            values = _ValuesAfter(model._values)
            values.model = model
            entry = checker.touched.get(model._id)
            for attr in entry[1] if entry is not None else ():
                values[attr] = checker.value_after(model, attr)
            model.check_client_values(values, True)


def _value_error(exc: ValueError) -> PatchError:
    return PatchError(str(exc))


def _check(checker: _Checker, event: ev.DocumentEvent, setter: Any) -> Apply:
    check = _PROPERTY_CHECKS.get(type(event))
    if check is not None:  # most of a patch: one property of a model changes
        return _check_property(checker, event, setter, check)
    document = checker.document
    if isinstance(event, ev.TitleChangedEvent):
        checker.structure("changing the title")
        checker.title = event.title
        return lambda: document.set_title(event.title, setter)
    if isinstance(event, ev.MessageSentEvent):
        target = event.model
        if target is not None:
            checker.model(target)
            if checker.from_client:
                if event.msg_type not in target.__client_events__:
                    raise NotWritableError(f"{target.__type_name__} does not accept {event.msg_type!r:.40} events")
                scratch = checker.scratch
                if scratch is None:
                    scratch = checker.scratch = {}
                target.check_client_event(event, scratch.setdefault(target.id, {}))
        elif checker.from_client and not document.accepts_message(event.msg_type):
            raise PatchError(f"no handler for messages of type {event.msg_type!r:.40}")
        return lambda: document._message_received(event)
    if isinstance(event, ev.RootAddedEvent):
        checker.structure("adding a root")
        model = event.model
        if model in checker.roots_after():
            raise PatchError(f"{model!r} is already a root")
        # Attachable first: a model that left the document, named by the client whose own
        # change took it out (sync/detached.py), is known to the patch once it joins here.
        checker.attachable(model)
        checker.model(model)
        checker.own_roots().append(model)
        return lambda: document.add_root(model, setter)
    if isinstance(event, ev.RootRemovedEvent):
        checker.structure("removing a root")
        model = checker.model(event.model)
        if model not in checker.roots_after():
            raise PatchError(f"{model!r} is not a root")
        checker.own_roots().remove(model)
        return lambda: document.remove_root(model, setter)
    return _check_property(checker, event, setter, _property_check(type(event)))


def _check_property(checker: _Checker, event: ev.DocumentEvent, setter: Any, check: _PropertyCheck) -> Apply:
    model = event.model  # type: ignore[attr-defined]
    attr = event.attr  # type: ignore[attr-defined]
    # _Checker.prop, inline (as in _check_changed): asked for every event of a patch.
    model_id = model._id
    new_models = checker.new_models
    prop = model._properties.get(attr)
    from_client = checker.from_client
    if (
        prop is None
        or not (model_id in new_models or checker.models.get(model_id) is model or _returning(checker, model))
        or (from_client and not (attr in model.__client_writable__ or model_id in new_models))
    ):
        checker.prop(model, attr)  # refuses it, and says why
        raise AssertionError("unreachable: _Checker.prop refuses what the condition refused")
    if from_client or model._refines:
        touched = checker.touched.get(model_id)
        if touched is None:
            checker.touched[model_id] = (model, {attr})
        else:
            touched[1].add(attr)
    try:
        return check(checker, model, prop, event, setter)
    except ValueError as exc:
        raise _value_error(exc) from None


def _property_check(kind: type) -> _PropertyCheck:
    """Return the check of events of class ``kind`` (a subclass's: its base's)."""
    check = _PROPERTY_CHECKS.get(kind)
    if check is not None:
        return check
    for known, check in _PROPERTY_CHECKS.items():
        if issubclass(kind, known):
            return check
    return _check_other


def _check_other(checker: _Checker, model: Model, prop: Property, event: ev.DocumentEvent, setter: Any) -> Apply:
    _column_data(checker, model, prop)
    raise PatchError(f"cannot apply {event.kind} events")


#: Per property: the property a Nullable wraps (or itself) and what kind of container
#: that holds, worked out once (properties never change): no isinstance chain per event.
_SHAPES: dict[Property, tuple[Property, bool, bool, bool]] = {}


def _shape(prop: Property) -> tuple[Property, bool, bool, bool]:
    """Return ``(base, is a List, is a Dict, is ColumnData)`` of ``prop``."""
    shape = _SHAPES.get(prop)
    if shape is None:
        base = base_property(prop)
        shape = _SHAPES[prop] = (base, isinstance(base, List), isinstance(base, Dict), isinstance(base, ColumnData))
    return shape


def _check_model_changed(
    checker: _Checker, model: Model, prop: Property, event: ev.ModelChangedEvent, setter: Any
) -> Apply:
    if model._refines:
        value = _validate_after(checker, model, prop, event.new)
    else:  # Model.validate_value: the property's own check, without the call around it
        value = prop.validate(event.new, model.__type_name__)
    if type(value) not in _SCALARS:  # a scalar is stored as it is: nothing to wrap
        value = model._wrap(prop, value)
    if prop in model._model_properties:  # a tuple: no call for the many that hold none
        checker.attachable(value)
    key = (model._id, prop.name)
    checker.values[key] = value
    checker.lists.pop(key, None)
    checker.dicts.pop(key, None)
    _, is_list, is_dict, is_columns = _shape(prop)
    if is_list:
        checker.lists[key] = None if value is None else list(value)
    elif is_dict or is_columns:
        checker.dicts[key] = None if value is None else dict(value)
    if model._keeps:  # Model.kept_valid keeps nothing: no simulated view per value
        _kept_valid(checker, model, prop.name)
    # Stored as checked: the check judged it against the values it will meet.
    return lambda: model._store_value(prop, value, setter)


#: Per property: the value types its check returns as they are (a Float's floats), the
#: check itself, and whether it holds a list, or a dict or column data. Worked out once
#: per property (properties never change), so that a ModelChanged of a plain value is
#: checked without calls (``_check_changed``).
_PLANS: dict[Property, tuple[frozenset[type], Callable[[Any], Any] | None, bool, bool]] = {}
#: Property classes whose own check returns these value types unchanged (not their subclasses:
#: a subclass may check more).
_KEEPS_AS_IS: dict[type, frozenset[type]] = {
    Float: frozenset({float}),
    String: frozenset({str}),
    Bool: frozenset({bool}),
    Any_: _SCALARS - {int},  # (an int past 64 bits is refused)
}


def _plan(prop: Property) -> tuple[frozenset[type], Callable[[Any], Any] | None, bool, bool]:
    """Return ``_PLANS[prop]``, worked out on first use."""
    plan = _PLANS.get(prop)
    if plan is None:
        base, is_list, is_dict, is_columns = _shape(prop)
        own_check = type(prop).validate is Property.validate  # else its validate is called as it is
        as_is = _KEEPS_AS_IS.get(type(base), frozenset()) if own_check else frozenset()
        if as_is and base is not prop:
            as_is = as_is | {type(None)} if type(prop) is Nullable else frozenset()
        plan = _PLANS[prop] = (as_is, prop.accepts if own_check else None, is_list, is_dict or is_columns)
    return plan


def _check_changed(checker: _Checker, event: ev.ModelChangedEvent, setter: Any) -> Apply:
    """``_check`` of a ModelChanged: ``_check_property``, ``_Checker.prop`` and ``_check_model_changed`` in one call.

    A patch is mostly these; for a plain value its property keeps as it is (a float of
    a Float), no call at all until the apply. Anything refused is refused by the same
    code as before, with the same error.
    """
    model = event.model
    attr = event.attr
    model_id = model._id
    new_models = checker.new_models
    prop = model._properties.get(attr)
    from_client = checker.from_client
    if (
        prop is None
        or not (model_id in new_models or checker.models.get(model_id) is model or _returning(checker, model))
        or (from_client and not (attr in model.__client_writable__ or model_id in new_models))
    ):
        checker.prop(model, attr)  # refuses it, and says why
        raise AssertionError("unreachable: _Checker.prop refuses what the condition refused")
    refines = model._refines
    if from_client or refines:  # as _Checker.prop: what is touched is read there alone
        touched = checker.touched.get(model_id)
        if touched is None:
            checker.touched[model_id] = (model, {attr})
        else:
            touched[1].add(attr)
    plan = _PLANS.get(prop)
    if plan is None:
        plan = _plan(prop)
    as_is, accepts, is_list, is_dictlike = plan
    value = event.new
    try:
        if refines:
            value = _validate_after(checker, model, prop, value)
        elif type(value) not in as_is:
            if accepts is None:
                value = prop.validate(value, model.__type_name__)
            else:  # Property.validate, without the call around it
                try:
                    plain = checker.plain_lists
                    base = _shape(prop)[0] if plain and is_dictlike else None
                    if type(base) is ColumnData and type(value) is dict:
                        # A client's columns the decoder took as they were: not scanned for models again, not copied.
                        value = base.accepts(value, plain)
                    else:
                        value = accepts(value)
                except ValueTooDeepError:
                    raise too_deep(f"{model.__type_name__}.{attr}") from None
                except IntTooWideError as exc:
                    raise IntTooWideError(f"{model.__type_name__}.{attr} {exc}") from None
                except ValidationError as exc:
                    raise prop.fail(value, model.__type_name__) from exc.__cause__
                if is_dictlike and from_client and type(value) is dict and type(_shape(prop)[0]) is ColumnData:
                    _vetted(checker, value)
        if type(value) not in _SCALARS:  # a scalar is stored as it is: nothing to wrap
            value = model._wrap(prop, value)
        if prop in model._model_properties:  # a tuple: no call for the many that hold none
            checker.attachable(value)
        key = (model_id, attr)
        checker.values[key] = value
        lists, dicts = checker.lists, checker.dicts
        if key in lists:
            del lists[key]
        if key in dicts:
            del dicts[key]
        if is_list:
            lists[key] = None if value is None else list(value)
        elif is_dictlike:
            dicts[key] = None if value is None else dict(value)
        if model._keeps:  # Model.kept_valid keeps nothing: no simulated view per value
            _kept_valid(checker, model, attr)
    except ValueError as exc:
        raise _value_error(exc) from None
    # Stored as checked: the check judged it against the values it will meet.
    return lambda: model._store_value(prop, value, setter)


def _check_splice(checker: _Checker, model: Model, prop: Property, event: ev.ListSplicedEvent, setter: Any) -> Apply:
    base, is_list, _, _ = _shape(prop)
    name = model.__type_name__
    if not is_list:
        raise PatchError(f"{name}.{prop.name} is not a list")
    assert isinstance(base, List)
    # (``_Checker.sim_list``, inline: the list is copied once, into the AcceptedList itself.)
    key = (model._id, prop.name)
    lists = checker.lists
    if key in lists:
        items = lists[key]
        if items is not None and type(items) is not AcceptedList:  # its items are valid: checked
            items = lists[key] = AcceptedList(items)
    else:
        value = checker.value_after(model, prop.name)
        # Its items are valid: the model's values, or checked.
        items = lists[key] = None if value is None else AcceptedList(value)
    if items is None:
        raise PatchError(f"{name}.{prop.name} is None, not a list")
    if not (0 <= event.index <= len(items) and 0 <= event.delete <= len(items) - event.index):
        raise PatchError(f"splice at {event.index} deleting {event.delete} out of range of {name}.{prop.name}")
    try:
        checked = base.accepts_items(event.items)
    except ValidationError:
        raise prop.fail(event.items, name) from None
    if prop in model._model_properties:  # a tuple: no call for the many that hold none
        checker.attachable(checked)
    items[event.index : event.index + event.delete] = checked
    if model._refines:  # the whole list, as the splice leaves it (a group's active)
        _validate_after(checker, model, prop, items)  # no copy: read, never kept
        if model._keeps:
            _kept_valid(checker, model, prop.name)
    return lambda: model._list_splice(
        prop, model._get_value(prop), event.index, event.delete, checked, setter, checked=True
    )


def _vetted(checker: _Checker, columns: dict[str, Any]) -> None:
    """Note the list columns of ``columns``, which ColumnData's check passed (the references check skips them)."""
    vetted = checker.vetted_columns
    if vetted is None:
        vetted = checker.vetted_columns = {}
    for column in columns.values():
        if type(column) is list:
            vetted[id(column)] = column  # holds it: its id is not reused during the check


def _check_dict_set(
    checker: _Checker,
    model: Model,
    prop: Property,
    event: ev.DictItemsSetEvent | ev.ColumnDataChangedEvent,
    setter: Any,
) -> Apply:
    entries = event.items if type(event) is ev.DictItemsSetEvent else event.columns  # type: ignore[union-attr]
    base, _, is_dict, is_columns = _shape(prop)
    name = model.__type_name__
    if not (is_dict or is_columns):
        raise PatchError(f"{name}.{prop.name} is not a dict")
    current = checker.sim_dict(model, prop.name)
    if current is None:
        raise PatchError(f"{name}.{prop.name} is None, not a dict")
    # Each entry was decoded within the bound by itself, not as the dict holds it: a
    # column one level down, an entry of a map three (value_depth.py).
    try:
        if is_columns:
            accepts_column = base.accepts_column  # type: ignore[attr-defined]
            plain = checker.plain_lists
            before, after = entry_levels(current, entries)
            if plain and type(base) is ColumnData:  # (a subclass's own check may differ)
                checked_items = {k: accepts_column(k, v, plain, after) for k, v in entries.items()}
            else:
                checked_items = {k: accepts_column(k, v, None, after) for k, v in entries.items()}
            if after > before and nests_deeper(list(current.values()), at=after - ITEM_LEVELS):
                raise ValueTooDeepError  # (now a map: every column two levels deeper)
            if checker.from_client and type(base) is ColumnData:  # (a subclass's own check may differ)
                _vetted(checker, checked_items)
        else:
            accepts_item = base.accepts_item  # type: ignore[attr-defined]
            checked_items = dict([accepts_item(k, v) for k, v in entries.items()])
            if prop.depth_bound > MAX_VALUE_DEPTH and update_nests_deeper(current, checked_items):
                raise ValueTooDeepError
    except ValueTooDeepError:
        raise too_deep(f"{name}.{prop.name}") from None
    except IntTooWideError as exc:
        raise IntTooWideError(f"{name}.{prop.name} {exc}") from None
    except ValidationError:
        raise prop.fail(entries, name) from None
    if prop in model._model_properties:  # a tuple: no call for the many that hold none
        checker.attachable(checked_items)
    current.update(checked_items)
    if model._refines:
        _validate_after(checker, model, prop, dict(current))
    return lambda: model._dict_set(prop, model._get_value(prop), checked_items, setter, checked=True)


def _check_dict_delete(
    checker: _Checker, model: Model, prop: Property, event: ev.DictItemsDeletedEvent, setter: Any
) -> Apply:
    _, _, is_dict, is_columns = _shape(prop)
    name = model.__type_name__
    if not (is_dict or is_columns):
        raise PatchError(f"{name}.{prop.name} is not a dict")
    current = checker.sim_dict(model, prop.name)
    for key in event.keys:  # in order, so that a key named twice is missing the second time
        try:
            present = current is not None and key in current
        except TypeError:  # unhashable: cannot be a key
            present = False
        if not present:
            raise PatchError(f"{name}.{prop.name} has no key {key!r:.40}")
        assert current is not None
        current.pop(key)
    # (As it was: the keys deleted are back. Column data too: one "id" column left is a map.)
    if (
        prop.depth_bound >= MAX_VALUE_DEPTH
        and current is not None
        and deletion_nests_deeper({**current, **dict.fromkeys(event.keys)}, event.keys)
    ):
        raise too_deep(f"{name}.{prop.name}")
    if model._refines and current is not None:
        _validate_after(checker, model, prop, dict(current))
    return lambda: model._dict_delete(prop, model._get_value(prop), list(event.keys), setter)


def _column_data(checker: _Checker, model: Model, prop: Property) -> dict[str, Any]:
    """Return the simulated columns of ``prop``; refuse a property that holds none."""
    name = model.__type_name__
    if not _shape(prop)[3]:
        raise PatchError(f"{name}.{prop.name} is not column data")
    columns = checker.sim_dict(model, prop.name)
    if columns is None:
        raise PatchError(f"{name}.{prop.name} is None, not column data")
    return columns


def _derive(checker: _Checker, model: Model, prop: Property, kept: dict[str, Any]) -> Derive:
    """What keeps a simulated list column a change made (and, a client's, tells the footprint ledger).

    Each goes to ``kept``, by name, for the event's apply to take instead of making it
    again, and a client's to ``made_columns`` (the references check looks at what it added only).
    """
    if not checker.from_client:  # only a client's change is checked against the rules of ``integrity``

        def keep(name: str, old: Any, new: Any, removed: list[Any], added: list[Any]) -> None:
            kept[name] = (old, new, removed, added)

        return keep
    ledger = getattr(checker.document, "_ledger", None)
    made, attr = checker.made_columns, prop.name
    if made is None:
        made = checker.made_columns = {}

    def derive(name: str, old: Any, new: Any, removed: list[Any], added: list[Any]) -> None:
        made[id(new)] = (new, old, added)  # holds ``new``: its id is not reused during the check
        kept[name] = (old, new, removed, added)
        if ledger is not None:
            ledger.derive(model, attr, name, old, new, removed, added)

    return derive


def _check_stream(
    checker: _Checker, model: Model, prop: Property, event: ev.ColumnsStreamedEvent, setter: Any
) -> Apply:
    columns = _column_data(checker, model, prop)
    rows = check_stream(columns, event.data, event.rollover)
    made: dict[str, Any] = {}
    # On the simulation's own dict; the apply takes the columns made here (``keep``, ``made``).
    apply_stream(columns, rows, event.rollover, _derive(checker, model, prop, made), keep=made)
    return lambda: stream_checked(model, prop.name, rows, event.rollover, setter, made)


def _check_cells(checker: _Checker, model: Model, prop: Property, event: ev.ColumnsPatchedEvent, setter: Any) -> Apply:
    columns = _column_data(checker, model, prop)
    patches = check_patches(columns, event.patches)
    # Cells of list columns change the document's size: the simulation patches copies
    # of them (apply_patches copies lists); arrays keep their size, and stay untouched.
    made: dict[str, Any] = {}
    apply_patches(
        columns,
        {n: e for n, e in patches.items() if not isinstance(columns[n], np.ndarray)},
        _derive(checker, model, prop, made),
    )
    # The apply takes the lists made here: the model's column is what the simulation
    # started from (the checks and the applies run in one go, in the same order).
    return lambda: patch_checked(model, prop.name, patches, setter, made)


#: The check of each event kind that changes one property of a model.
_PROPERTY_CHECKS: dict[type, _PropertyCheck] = {
    ev.ModelChangedEvent: _check_model_changed,
    ev.ListSplicedEvent: _check_splice,
    ev.DictItemsSetEvent: _check_dict_set,
    ev.ColumnDataChangedEvent: _check_dict_set,
    ev.DictItemsDeletedEvent: _check_dict_delete,
    ev.ColumnsStreamedEvent: _check_stream,
    ev.ColumnsPatchedEvent: _check_cells,
}


def apply_events(
    document: Any,
    events: list[ev.DocumentEvent],
    *,
    setter: Any = None,
    new_models: Mapping[str, Model] | None = None,
    from_client: bool = False,
    allow_structure: bool = True,
    max_models: int | None = None,
    limits: DocumentLimits | None = None,
    pushed: bool = False,
    plain_lists: Mapping[int, list[Any]] | None = None,
    withdrawn: set[str] | None = None,
) -> list[ev.DocumentEvent]:
    """Check every event, then apply them all; on any error apply none.

    From a client, the outcome must also keep the rules of ``integrity``: no stray or
    cyclic references, and (with ``limits``) a document that a pull can still carry.
    ``pushed``: the events replace the whole document with one a client pushed (PUSH-DOC),
    whose models are all its own, names included. ``plain_lists``: lists of plain values
    the events took from the message they were decoded from (``DecodedPatch.plain_lists``),
    stored as they are in column data.

    ``withdrawn``: the ids of the models that changes made meanwhile by others than
    ``setter`` took out of the document (the application's callbacks of the earlier
    events: the caller fills it as it hears of them). The events were checked while those
    models were in it; an event that names one (changes it, or attaches it in its value or
    as a root, or a model of ``new_models`` reaching it) is left out, and so is a later
    event of a property an event left out changed (it was made on top of it). The models
    of ``new_models`` are the events' own: naming one is not refused. Returns the events
    left out (most often none).
    """
    new_models = new_models or {}
    if max_models is not None and len(document.models) + len(new_models) > max_models:
        raise PatchError(f"too many models: the document may hold at most {max_models}")
    if from_client and not allow_structure and new_models:
        raise NotWritableError("creating models is not allowed from the client")
    checker = _Checker(document, new_models, from_client, allow_structure, pushed, plain_lists)
    steps: list[Apply] = []
    for event in events:  # (the common kinds straight to their checks: one call fewer each)
        kind = type(event)
        if kind is ev.ModelChangedEvent:
            steps.append(_check_changed(checker, event, setter))  # type: ignore[arg-type]
            continue
        check = _PROPERTY_CHECKS.get(kind)
        steps.append(
            _check(checker, event, setter) if check is None else _check_property(checker, event, setter, check)
        )
    if from_client:
        try:
            _check_client_values(checker)
        except ValueError as exc:
            raise _value_error(exc) from None
        outcome = ChangeOutcome(
            document,
            new_models,
            checker.touched,
            checker.value_after,
            checker.roots_after(),
            checker.title,
            _NONE if checker.made_columns is None else checker.made_columns,
            _NONE if checker.vetted_columns is None else checker.vetted_columns,
        )
        check_outcome(outcome, limits)
    left_out: list[ev.DocumentEvent] = []
    if withdrawn is None:
        for step in steps:
            step()
        return left_out
    for at, step in enumerate(steps):
        # (Empty but where a callback of an earlier event took a model out: no call per event.)
        if withdrawn and _names_withdrawn(events[at], withdrawn.difference(new_models), left_out):
            left_out.append(events[at])
        else:
            step()
    return left_out


#: The events whose value may attach models, and the field holding it.
_VALUE_FIELDS: dict[type, str] = {
    ev.ModelChangedEvent: "new",
    ev.ListSplicedEvent: "items",
    ev.DictItemsSetEvent: "items",
}


def _names_withdrawn(event: ev.DocumentEvent, withdrawn: set[str], left_out: list[ev.DocumentEvent]) -> bool:
    """Whether ``event`` names a model of ``withdrawn``, or changes a property an event of ``left_out`` changed."""
    model = getattr(event, "model", None)
    if model is None:  # the title, a message to the document
        return False
    if model._id in withdrawn:
        return True
    attr = getattr(event, "attr", None)
    if attr is None:  # a root added or removed, a UI event
        return isinstance(event, ev.RootAddedEvent) and any(m._id in withdrawn for m in _reaches(model))
    if any(getattr(other, "model", None) is model and getattr(other, "attr", None) == attr for other in left_out):
        return True
    field = _VALUE_FIELDS.get(type(event))
    prop = model._properties.get(attr)
    if field is None or prop is None or not prop.may_hold_models:
        return False
    return any(m._id in withdrawn for value in models_in(getattr(event, field)) for m in _reaches(value))


def _reaches(model: Model) -> Iterator[Model]:
    """``model`` and every model it references, each once."""
    seen: set[int] = set()
    stack = [model]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(current.references())
