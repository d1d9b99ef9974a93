"""Lay a pulled document over the one a client holds, keeping the models they share.

A client that pulls the whole document again (a resume that answers with all of it, a
reset, a resync) must not leave the application with dead objects: a model it held
(``slider = document.get_model_by_name("s")``) would take changes that go nowhere. So a
model whose id and type are in the pulled document stays the same Python object and
takes the pulled values; models no longer there leave; new ones are built; references
point at the kept objects; roots and title follow. A model whose id now names another
type is replaced by a new object (its callbacks stay on the old one). A model that left
the document and that the application still holds (``Document.departed_model``: a view
it took out) is built in place: one object per id, as for a server patch's definitions.

Three steps, so that a client can do its own bookkeeping between the last two:
``PulledDocument.read`` decodes and checks everything and touches nothing (a document
that cannot be read leaves the document exactly as it was); ``apply`` installs it and
cannot fail; ``report`` tells what changed, as a server patch would: the title, the roots
removed, each property of a kept model whose value really changed (the document's
subscribers, then the model's ``on_change`` callbacks), the roots added, in that order
(as ``document.js``'s ``replaceWithJSON``). Nothing is reported for an unchanged value,
for a model dropped, or for a model built.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..exceptions import DeserializationError
from ..serialization import Buffer, Decoder
from .events import ModelChangedEvent, RootAddedEvent, RootRemovedEvent, TitleChangedEvent
from .model import Model
from .properties import Property, models_in
from .registry import model_class
from .wire import MAX_MODELS_PER_MESSAGE, decode_attributes, definition_parts

__all__ = ["PulledDocument", "definition_changes"]

#: One change of a kept model: the model, its property, the value before, the value after.
_Change = tuple[Model, Property, Any, Any]


def _equal(old: Any, new: Any) -> bool:
    """Tell whether ``new`` holds what ``old`` holds, as a receiver would see it.

    Models by identity (references are re-pointed at the kept objects first), arrays by
    dtype, shape and bytes (a NaN equals itself, 0.0 is not -0.0), containers item by
    item and in order. Anything else that cannot be compared is called changed.
    """
    if old is new:
        return True
    kind = type(old)
    if (kind is str or kind is int or kind is bool) and type(new) is kind:
        return bool(old == new)  # (what the checks below come to for these, without them)
    if isinstance(old, np.ndarray) or isinstance(new, np.ndarray):
        return _same_array(old, new)
    if isinstance(old, Model) or isinstance(new, Model):
        return False
    if isinstance(old, dict) and isinstance(new, dict):
        if len(old) != len(new) or list(old) != list(new):
            return False
        return all(_equal(value, new[key]) for key, value in old.items())
    if isinstance(old, list | tuple) and isinstance(new, list | tuple):
        if isinstance(old, tuple) != isinstance(new, tuple) or len(old) != len(new):
            return False
        return all(_equal(a, b) for a, b in zip(old, new, strict=True))
    if type(old) is not type(new):
        return False
    if type(old) is float:
        if math.isnan(old):
            return math.isnan(new)
        return bool(old == new) and math.copysign(1.0, old) == math.copysign(1.0, new)
    try:
        return bool(old == new)
    except (TypeError, ValueError):
        return False


def _same_array(old: Any, new: Any) -> bool:
    if not (isinstance(old, np.ndarray) and isinstance(new, np.ndarray)):
        return False
    if old.dtype != new.dtype or old.shape != new.shape or old.dtype.hasobject:
        return False
    if old.nbytes > _COPIED_UP_TO and old.flags.c_contiguous and new.flags.c_contiguous:
        # Byte views: no copy of a big column (``tobytes`` would make two).
        return bool(np.array_equal(old.reshape(-1).view(np.uint8), new.reshape(-1).view(np.uint8)))
    return old.tobytes() == new.tobytes()


#: Arrays of at most this many bytes are compared as copies of their bytes: a small column's
#: two copies cost less than ``np.array_equal``'s calls (the same answer: the same bytes).
_COPIED_UP_TO = 4096


class PulledDocument:
    """Document JSON read against the document it will replace in place; nothing applied yet."""

    __slots__ = ("_built", "_changes", "_document", "_index", "_old_roots", "_old_title", "_roots", "_setter",
                 "_step", "_title", "_values")  # fmt: skip

    def __init__(self) -> None:
        self._document: Any = None
        self._setter: Any = None
        self._title = ""
        self._old_title = ""
        #: Every model of the pulled document reachable from its roots, in the order defined.
        self._index: dict[str, Model] = {}
        #: The values each of them will hold, by id.
        self._values: dict[str, dict[str, Any]] = {}
        #: The models of the index built for it (the others are kept), by id.
        self._built: dict[str, Model] = {}
        self._roots: list[Model] = []
        self._old_roots: list[Model] = []
        self._changes: list[_Change] = []
        self._step = "read"  # then "applied", then "reported"

    @classmethod
    def read(
        cls,
        document: Any,
        data: Any,
        buffers: Mapping[str, Buffer],
        *,
        setter: Any = None,
        max_array_elements: int = 100_000_000,
    ) -> PulledDocument:
        """Decode and check document JSON against ``document``; raise DeserializationError, changing nothing."""
        if type(data) is not dict or type(data.get("roots")) is not list:
            raise DeserializationError("document JSON must be an object with a 'roots' list")
        title = data.get("title", "")
        if type(title) is not str:
            raise DeserializationError("document title must be a string")
        definitions = data.get("models", [])
        if type(definitions) is not list:
            raise DeserializationError("model definitions must be a list")
        if len(definitions) > MAX_MODELS_PER_MESSAGE:
            raise DeserializationError(f"too many models: {len(definitions)} > {MAX_MODELS_PER_MESSAGE}")
        held: Mapping[str, Model] = document._models
        models: dict[str, Model] = {}
        built: dict[str, Model] = {}
        pending: list[tuple[Model, dict[str, Any], dict[str, Any]]] = []
        for definition in definitions:
            model_id, name, attributes = definition_parts(definition)
            if model_id in models:
                raise DeserializationError(f"duplicate model id {model_id!r:.60}")
            if type(attributes) is not dict:
                raise DeserializationError(f"attributes of {model_id!r:.40} must be an object")
            model = held.get(model_id)
            if model is None:
                # One object per id: a model that left the document and that the application
                # still holds (taken out, say) takes the pulled values, as one built would.
                out = document.departed_model(model_id)
                if out is not None and out.__type_name__ == name and out.document is None:
                    models[model_id] = built[model_id] = out
                    pending.append((out, type(out)(id=model_id)._values, attributes))
                    continue
            if model is None or model.__type_name__ != name:
                model = built[model_id] = model_class(name)(id=model_id)
                start = model._values
            else:
                # What a model built from the definition starts with (its class may store a value).
                start = type(model)(id=model_id)._values
            models[model_id] = model
            pending.append((model, start, attributes))

        def resolve(model_id: str) -> Model:
            model = models.get(model_id)
            if model is None:
                raise DeserializationError(f"reference to unknown model id {model_id!r:.60}")
            return model

        decoder = Decoder(buffers, resolve_ref=resolve, max_array_elements=max_array_elements)
        values: dict[str, dict[str, Any]] = {}
        for model, start, attributes in pending:
            values[model._id] = _decoded(model, start, attributes, decoder)
        roots: dict[str, Model] = {}
        for ref in data["roots"]:
            root_id = ref.get("id") if type(ref) is dict else None
            if type(root_id) is not str or root_id not in models:
                raise DeserializationError(f"root is not a defined model: {ref!r:.60}")
            roots.setdefault(root_id, models[root_id])
        pulled = cls()
        pulled._document, pulled._setter, pulled._title = document, setter, title
        pulled._roots, pulled._old_roots = list(roots.values()), list(document._roots)
        reachable = _reachable(pulled._roots, values)
        # In the order defined: the server's own index order (``get_model_by_name`` finds what it finds there).
        pulled._index = {model_id: model for model_id, model in models.items() if model_id in reachable}
        pulled._built = {model_id: model for model_id, model in built.items() if model_id in reachable}
        pulled._values = {model_id: values[model_id] for model_id in pulled._index}
        for model_id, model in pulled._index.items():
            if model_id not in built:
                pulled._values[model_id] = _kept_values(model, pulled._values[model_id], pulled._changes)
        return pulled

    def apply(self) -> None:
        """Make the document hold what was read: values, index, roots and title; reports nothing, cannot fail."""
        if self._step != "read":
            raise RuntimeError("a pulled document is applied once")
        self._step = "applied"
        document = self._document
        index = self._index
        for model_id, model in document._models.items():
            if index.get(model_id) is not model:
                model._document = None
                # Still held by the application, maybe: ``Document.departed_model`` finds it, as after a removal.
                if document._departed is None:
                    document._departed = weakref.WeakValueDictionary()
                document._departed[model_id] = model
        owner = document._self_ref
        for model_id, model in index.items():
            model._values = self._values[model_id]
            model._document = owner
            if model._changed_out is not None:
                model._changed_out = {}  # (one held out, built anew in place: its values are the server's)
        document._new_index(dict(index))
        document._ledger = None  # made again from the new index on first use
        document._roots = list(self._roots)
        self._old_title, document._title = document._title, self._title

    def report(self) -> None:
        """Tell the document's subscribers and the kept models' callbacks what the pull changed (after ``apply``)."""
        if self._step != "applied":
            raise RuntimeError("a pulled document is reported once, after it is applied")
        self._step = "reported"
        document, setter = self._document, self._setter
        notify = document._notify
        if self._title != self._old_title:
            notify(TitleChangedEvent(self._title, setter))
        roots = self._roots
        for root in self._old_roots:
            if root not in roots:
                notify(RootRemovedEvent(root, setter))
        claimed: set[str] = set()
        # Each change as ``Model._store_value`` reports one, without what it does besides:
        # the values that follow another (a Markdown's html, a Tabs' active) are pulled too.
        for model, prop, old, new in self._changes:
            attr = prop.name
            attached = self._attached(models_in(new), claimed) if prop.may_hold_models else []
            notify(ModelChangedEvent(model, attr, old, new, setter, attached))
            model._trigger(attr, old, new)
        for root in roots:
            if root not in self._old_roots:
                notify(RootAddedEvent(root, setter, self._attached([root], claimed)))

    def _attached(self, start: Any, claimed: set[str]) -> list[Model]:
        """The built models first reached from ``start``: those its event attached, as a patch's would."""
        found: list[Model] = []
        built = self._built
        stack: list[Model] = list(start)
        while stack:
            model = stack.pop()
            model_id = model._id
            if model_id in claimed or model_id not in built or built[model_id] is not model:
                continue
            claimed.add(model_id)
            found.append(model)
            stack.extend(model.references())
        return found


def _decoded(model: Model, values: dict[str, Any], attributes: dict[str, Any], decoder: Decoder) -> dict[str, Any]:
    """``values`` with those of ``attributes`` for ``model``, validated as a model built from them would be."""
    own = model._values
    # A model's own check may read its other values (a Slider's value its start, end and
    # step): those decoded before, as for a model built from the definition, never the
    # values a kept model holds now.
    model._values = values
    try:
        decode_attributes(model, attributes, decoder, values)
    finally:
        model._values = own
    return values


def _reachable(roots: list[Model], values: Mapping[str, dict[str, Any]]) -> set[str]:
    """The ids of the models ``roots`` reach through the values read (a kept model's own are not its values then)."""
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        model = stack.pop()
        if model._id in seen:
            continue
        seen.add(model._id)
        own = values[model._id]
        for prop in model._model_properties:
            value = own.get(prop.name)
            if value is not None:
                stack.extend(prop.iter_models(value))
    return seen


def _kept_values(model: Model, pulled: dict[str, Any], changes: list[_Change]) -> dict[str, Any]:
    """The values a kept model will hold, noting in ``changes`` each property whose value really changes.

    A value equal to the one held keeps the object held (a list the application holds
    stays that list); a property the pulled definition leaves out goes back to its default.
    """
    own = model._values
    properties = model._properties
    values: dict[str, Any] = {}
    for attr, new in pulled.items():
        prop = properties[attr]
        old = own[attr] if attr in own else prop.default()
        if _equal(old, new):
            values[attr] = own.get(attr, new)
        else:
            values[attr] = new
            changes.append((model, prop, old, new))
    for attr, old in own.items():
        if attr in pulled:
            continue
        prop = properties[attr]
        default = prop.default()
        if _equal(old, default):
            values[attr] = old  # a default read (and stored) before
            continue
        if prop.mutable and default is not None:
            # Stored, as a read stores it: edits in place of the value reported stick.
            default = values[attr] = model._wrap(prop, default)
        changes.append((model, prop, old, default))
    return values


def definition_changes(model: Model, attributes: dict[str, Any], decoder: Decoder) -> list[tuple[str, Any]]:
    """The properties of held ``model`` whose values a definition of it changes, with the values it gives.

    As a pull lays that definition over the model (a property it leaves out goes back to
    its default); raise DeserializationError if it cannot be read, changing nothing.
    """
    values = _decoded(model, type(model)(id=model._id)._values, attributes, decoder)
    changes: list[_Change] = []
    _kept_values(model, values, changes)
    return [(prop.name, new) for _, prop, _, new in changes]
