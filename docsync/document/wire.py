"""Models, documents and events to document JSON and back (values via serialization)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..exceptions import DeserializationError, PatchError, UnknownModelError
from ..serialization import Buffer, Decoder, Encoder
from ..serialization.decoder import plain_copy
from . import events as ev
from .model import Model, is_empty_default
from .registry import model_class

__all__ = [
    "MAX_MODELS_PER_MESSAGE",
    "DecodedPatch",
    "decode_attributes",
    "decode_patch",
    "definition_parts",
    "encode_events",
    "event_json",
    "instantiate_models",
    "model_definition",
    "parse_document",
    "resolver",
]

#: Most model definitions one message may hold.
MAX_MODELS_PER_MESSAGE = 100_000


def model_definition(model: Model, encoder: Encoder) -> dict[str, Any]:
    """Return ``{"type": "object", "name", "id", "attributes"}`` for ``model``."""
    # A model attached by a held event is defined as it was when the event happened.
    values = model._frozen_values if model._frozen_values is not None else model._values
    attributes = {
        attr: encoder.encode(value) for attr, value in values.items() if not is_empty_default(model, attr, value)
    }
    return {"type": "object", "name": model.__type_name__, "id": model._id, "attributes": attributes}


def instantiate_models(
    definitions: Any,
    known: Mapping[str, Model],
    buffers: Mapping[str, Buffer],
    *,
    max_array_elements: int,
    max_models: int = MAX_MODELS_PER_MESSAGE,
    keep_known: bool = False,
    reuse: Callable[[str], Model | None] | None = None,
) -> dict[str, Model]:
    """Build models from definitions; references may point at each other or ``known``.

    ``keep_known``: a definition of a model of ``known`` (same id and type) is skipped,
    the model held is kept; else it is a duplicate id. ``reuse``: finds a model out of
    ``known`` still held elsewhere (``Document.departed_model``); one of the definition's
    type is defined anew in place, not built (its values are the definition's once every
    definition is read: nothing changes if one cannot be), so that there is one object
    per id.
    """
    if type(definitions) is not list:
        raise DeserializationError("model definitions must be a list")
    if len(definitions) > max_models:
        raise DeserializationError(f"too many models: {len(definitions)} > {max_models}")
    created: dict[str, Model] = {}
    pending: list[tuple[Model, dict[str, Any]]] = []
    reused: list[tuple[Model, dict[str, Any], dict[str, Any]]] = []
    for definition in definitions:
        model_id, name, attributes = definition_parts(definition)
        held = known.get(model_id)
        if keep_known and held is not None and held.__type_name__ == name and model_id not in created:
            continue
        if model_id in created or held is not None:
            raise DeserializationError(f"duplicate model id {model_id!r:.60}")
        if type(attributes) is not dict:
            raise DeserializationError(f"attributes of {model_id!r:.40} must be an object")
        cls = model_class(name)
        out = reuse(model_id) if reuse is not None else None
        if out is not None and out.__type_name__ == name and out.document is None:
            created[model_id] = out
            reused.append((out, attributes, type(out)(id=model_id)._values))
            continue
        created[model_id] = model = cls(id=model_id)
        pending.append((model, attributes))

    decoder = Decoder(buffers, resolve_ref=resolver(created, known), max_array_elements=max_array_elements)
    for model, attributes in pending:
        decode_attributes(model, attributes, decoder, model._values)
    if reused:  # (rare: a model the application still holds, defined anew)
        for model, attributes, values in reused:
            # Validated against the values decoded before, as a model built would be.
            own, model._values = model._values, values
            try:
                decode_attributes(model, attributes, decoder, values)
            finally:
                model._values = own
        for model, _, values in reused:
            model._values = values
            if model._changed_out is not None:
                model._changed_out = {}  # the definition's values are the server's: none to send
    return created


def resolver(first: Mapping[str, Model], second: Mapping[str, Model]) -> Callable[[str], Model]:
    """A ``resolve_ref`` for a Decoder: the model of ``first``, else of ``second``; DeserializationError if neither."""

    def resolve(model_id: str) -> Model:
        model = first.get(model_id) or second.get(model_id)
        if model is None:
            raise DeserializationError(f"reference to unknown model id {model_id!r:.60}")
        return model

    return resolve


def definition_parts(definition: Any) -> tuple[str, str, Any]:
    """The id, type name and attributes of a model definition; DeserializationError if it is none."""
    if type(definition) is not dict or definition.get("type") != "object":
        raise DeserializationError(f"invalid model definition {definition!r:.80}")
    model_id, name = definition.get("id"), definition.get("name")
    if type(model_id) is not str or not model_id or type(name) is not str:
        raise DeserializationError(f"model definition needs a string id and name: {definition!r:.80}")
    return model_id, name, definition.get("attributes", {})


def decode_attributes(model: Model, attributes: dict[str, Any], decoder: Decoder, into: dict[str, Any]) -> None:
    """Decode and validate a definition's ``attributes`` for ``model`` into ``into`` (its values, being built)."""
    for attr, raw in attributes.items():
        prop = model._properties.get(attr)
        if prop is None:
            raise DeserializationError(f"{model.__type_name__} has no property {attr!r:.40}")
        try:
            # (A plain value, most of them, is what decoding it returns: no call.)
            value = model.validate_value(prop, raw if raw is None or type(raw) in _PLAIN else decoder.decode(raw))
        except ValueError as exc:
            raise DeserializationError(str(exc)) from None
        into[attr] = model._wrap(prop, value)


def parse_document(
    data: Any, buffers: Mapping[str, Buffer], *, max_array_elements: int
) -> tuple[str, dict[str, Model], list[Model]]:
    """Return the title, the models (by id) and the roots of document JSON, checking everything."""
    if type(data) is not dict or type(data.get("roots")) is not list:
        raise DeserializationError("document JSON must be an object with a 'roots' list")
    title = data.get("title", "")
    if type(title) is not str:
        raise DeserializationError("document title must be a string")
    models = instantiate_models(data.get("models", []), {}, buffers, max_array_elements=max_array_elements)
    roots: dict[str, Model] = {}
    for ref in data["roots"]:
        model_id = ref.get("id") if type(ref) is dict else None
        if model_id not in models:
            raise DeserializationError(f"root is not a defined model: {ref!r:.60}")
        roots.setdefault(model_id, models[model_id])
    return title, models, list(roots.values())


def _encode_index(index: Any) -> Any:
    if isinstance(index, slice):
        return {"type": "slice", "start": index.start, "stop": index.stop, "step": index.step}
    return index


def event_json(event: ev.DocumentEvent, encoder: Encoder) -> dict[str, Any]:
    """One event as PATCH-DOC content's JSON (its values through ``encoder``)."""
    kind = event.kind
    if type(event) is ev.ModelChangedEvent:  # the most common events first: one type check, not ten
        return {"kind": kind, "model": {"id": event.model._id}, "attr": event.attr, "new": encoder.encode(event.new)}
    if type(event) is ev.ColumnDataChangedEvent:
        columns = {name: encoder.encode(col) for name, col in event.columns.items()}
        return {"kind": kind, "model": {"id": event.model._id}, "attr": event.attr, "columns": columns}
    if type(event) is ev.ListSplicedEvent:
        items = encoder.encode(event.items)
        model = {"id": event.model._id}
        return {"kind": kind, "model": model, "attr": event.attr, "index": event.index, "delete": event.delete,
                "items": items}  # fmt: skip
    if type(event) is ev.DictItemsSetEvent:  # then the other common kinds, each by its type alone
        items = encoder.encode(dict(event.items))
        return {"kind": kind, "model": {"id": event.model._id}, "attr": event.attr, "items": items}
    if type(event) is ev.ColumnsStreamedEvent:
        data = {name: encoder.encode(col) for name, col in event.data.items()}
        return {"kind": kind, "model": {"id": event.model._id}, "attr": event.attr, "data": data,
                "rollover": event.rollover}  # fmt: skip
    if type(event) is ev.ColumnsPatchedEvent:
        patches = {
            name: [[_encode_index(i), encoder.encode(v)] for i, v in entries] for name, entries in event.patches.items()
        }
        return {"kind": kind, "model": {"id": event.model._id}, "attr": event.attr, "patches": patches}
    if type(event) is ev.DictItemsDeletedEvent:
        keys = encoder.encode(list(event.keys))
        return {"kind": kind, "model": {"id": event.model._id}, "attr": event.attr, "keys": keys}
    if isinstance(event, ev.TitleChangedEvent):
        return {"kind": kind, "title": event.title}
    if isinstance(event, ev.MessageSentEvent):
        out = {"kind": kind, "msg_type": event.msg_type, "msg_data": encoder.encode(event.msg_data)}
        if event.model is not None:
            out["model"] = {"id": event.model._id}
        return out
    out = {"kind": kind, "model": {"id": event.model._id}}  # type: ignore[attr-defined]
    if isinstance(event, ev.RootAddedEvent | ev.RootRemovedEvent):
        return out
    out["attr"] = event.attr  # type: ignore[attr-defined]
    if isinstance(event, ev.ModelChangedEvent):
        out["new"] = encoder.encode(event.new)
    elif isinstance(event, ev.ColumnDataChangedEvent):
        out["columns"] = {name: encoder.encode(col) for name, col in event.columns.items()}
    elif isinstance(event, ev.ColumnsStreamedEvent):
        out["data"] = {name: encoder.encode(col) for name, col in event.data.items()}
        out["rollover"] = event.rollover
    elif isinstance(event, ev.ColumnsPatchedEvent):
        out["patches"] = {
            name: [[_encode_index(i), encoder.encode(v)] for i, v in entries] for name, entries in event.patches.items()
        }
    elif isinstance(event, ev.ListSplicedEvent):
        out.update(index=event.index, delete=event.delete, items=encoder.encode(event.items))
    elif isinstance(event, ev.DictItemsSetEvent):
        out["items"] = encoder.encode(dict(event.items))
    elif isinstance(event, ev.DictItemsDeletedEvent):
        out["keys"] = encoder.encode(list(event.keys))
    return out


def encode_events(
    events: list[ev.DocumentEvent], encoder: Encoder, attached: Mapping[str, Model] | None = None
) -> dict[str, Any]:
    """Return ``{"events": [...], "references": [...]}`` for a batch of events.

    ``references`` holds the full definition of every model the events attached to
    the document and that ``attached`` (the document's index) still holds or that the
    encoded events refer to. Encode events when they are delivered: definitions and
    container values are read then.
    """
    encoded = [event_json(event, encoder) for event in events]
    candidates: dict[str, Model] = {}
    for event in events:
        target = getattr(event, "model", None)
        if target is not None:  # an event's own target is a reference too
            encoder.referenced.setdefault(target._id, target)
        for model in event.new_models:
            candidates.setdefault(model._id, model)
    references = []
    # A model the batch attached and then detached again is still needed when an
    # encoded event or definition refers to it, so ``encoder.referenced`` counts too;
    # definitions refer to further models, hence the loop until nothing is added.
    added = True
    while added:
        added = False
        for model_id, model in list(candidates.items()):
            if (attached is None or model_id in attached) or model_id in encoder.referenced:
                del candidates[model_id]
                references.append(model_definition(model, encoder))
                added = True
    return {"events": encoded, "references": references}


class DecodedPatch:
    """Events decoded from a PATCH-DOC, and the models its references created.

    ``skipped`` counts events left out because they name a model the document no
    longer holds (only when decoded with ``skip_unknown``); ``indices`` gives, for each
    event decoded, its place in the patch's ``events``; ``plain_lists`` (decoded with
    ``owned``), the lists of plain values the events took from the content, by id, and
    ``plain_types`` their item types.
    """

    __slots__ = ("events", "indices", "new_models", "plain_lists", "plain_types", "skipped")

    def __init__(
        self,
        events: list[ev.DocumentEvent],
        new_models: dict[str, Model],
        skipped: int = 0,
        indices: list[int] | None = None,
    ) -> None:
        self.events = events
        self.new_models = new_models
        self.skipped = skipped
        self.indices = indices if indices is not None else list(range(len(events)))
        self.plain_lists: dict[int, list[Any]] | None = None
        self.plain_types: dict[int, set[type]] | None = None


def _decode_index(raw: Any) -> Any:
    if type(raw) is dict and raw.get("type") == "slice":
        parts = [raw.get("start"), raw.get("stop"), raw.get("step")]
        if not all(p is None or type(p) is int for p in parts):
            raise DeserializationError(f"invalid slice {raw!r:.60}")
        return slice(*parts)
    if type(raw) is not int:
        raise DeserializationError(f"invalid patch index {raw!r:.40}")
    return raw


def _string(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if type(value) is not str:
        raise DeserializationError(f"event field {key!r} must be a string, got {value!r:.40}")
    return value


def _columns(raw: Any, decoder: Decoder, what: str) -> dict[str, Any]:
    if type(raw) is not dict:
        raise DeserializationError(f"{what} must be an object of columns")
    return {name: decoder.decode(value) for name, value in raw.items()}


#: ``references`` left out of a patch: it defines no model (a list, even empty, is read as given).
_NO_DEFINITIONS: Any = ()


def decode_patch(
    content: Any,
    known: Mapping[str, Model],
    buffers: Mapping[str, Buffer],
    *,
    setter: Any = None,
    max_array_elements: int = 100_000_000,
    max_new_models: int = MAX_MODELS_PER_MESSAGE,
    skip_unknown: bool = False,
    keep_known: bool = False,
    owned: bool = False,
    reuse: Callable[[str], Model | None] | None = None,
    revive: Callable[[str], Model | None] | None = None,
) -> DecodedPatch:
    """Decode PATCH-DOC content into events; nothing is applied yet.

    With ``skip_unknown``, an event that names a model the document does not hold is
    left out (and counted) instead of refusing the whole patch: in a shared session
    that model may have been removed by a change that won. With ``keep_known`` (a
    client reading the server's patches), definitions of models held are skipped: a
    correction defines every model its value reaches. With ``owned`` (content just read
    from a message, used for nothing else) the events take its lists of plain values as
    they are (``Decoder``'s ``owned``), noted in the result's ``plain_lists``. ``reuse``
    (a client's ``Document.departed_model``): a model defined anew that the application
    still holds is that object, its values the definition's (``instantiate_models``).
    ``revive`` (a client's ``Document.departed_model`` too): a reference in an event's value
    (a splice's items, a whole value) to a model neither held nor defined is that object,
    where the application still holds it out of every document: the server attaches the
    model it holds (another client moved it), which this client had taken out, its change
    unanswered. An event's own model is never looked up so: the events of a model out are
    skipped as before.
    """
    raws = content.get("events") if type(content) is dict else None
    if type(raws) is not list:
        raise DeserializationError("patch content must be an object with an 'events' list")
    definitions = content.get("references", _NO_DEFINITIONS)
    # Most patches define no model: building nothing costs nothing.
    new_models = (
        {}
        if definitions is _NO_DEFINITIONS or (type(definitions) is list and not definitions)
        else instantiate_models(
            definitions,
            known,
            buffers,
            max_array_elements=max_array_elements,
            max_models=max_new_models,
            keep_known=keep_known,
            reuse=reuse,
        )
    )

    # Made on first need, with the decoder: a patch of ModelChanged events to plain values
    # (most patches) is read below without either.
    resolve: Callable[[str], Model] | None = None
    decoder: Decoder | None = None
    events: list[ev.DocumentEvent] = []
    indices: list[int] | None = [] if skip_unknown else None
    for index, raw in enumerate(raws):
        # An event of one property of a model held (most events) has its model and attr
        # read here, inline (``_decode_event``, ``_target``, ``resolve`` and ``_string``
        # without their calls), and a ModelChanged to a plain value is made here too.
        # Anything else, or anything amiss, takes the general path below, which says
        # what is wrong exactly as before.
        if type(raw) is dict:
            kind = raw.get("kind")
            fast = _FAST_READERS.get(kind) if type(kind) is str else None
            ref, attr = raw.get("model"), raw.get("attr")
            if fast is not None and type(ref) is dict and len(ref) == 1 and type(attr) is str:
                rest, field, read_plain = fast
                model_id = ref.get("id")
                # (Most patches define no model: then only the document's index is asked.)
                model = (
                    None
                    if type(model_id) is not str
                    else (new_models.get(model_id) or known.get(model_id))
                    if new_models
                    else known.get(model_id)
                )
                if model is not None:
                    if rest is _model_changed_rest:
                        new = raw.get("new")
                        if new is None or type(new) in _PLAIN:
                            events.append(ev.ModelChangedEvent(model, attr, None, new, setter))
                            if indices is not None:
                                indices.append(index)
                            continue
                    # A short list or object of plain values (a splice's items, most of the
                    # rest) is read as a Decoder reads it, without making one.
                    if read_plain is not None:
                        value = plain_copy(raw.get(field))
                        if value is not None:
                            events.append(read_plain(raw, value, model, attr, setter))
                            if indices is not None:
                                indices.append(index)
                            continue
                    if decoder is None:
                        resolve = _patch_resolver(new_models, known)
                        decoder = Decoder(
                            buffers,
                            resolve_ref=resolve if revive is None else _revive_resolver(resolve, revive),
                            max_array_elements=max_array_elements,
                            owned=owned,
                        )
                    if indices is None:
                        events.append(rest(raw, decoder, model, attr, setter))
                        continue
                    try:  # (skipping, a value naming a model not held skips its event)
                        event = rest(raw, decoder, model, attr, setter)
                    except UnknownModelError:
                        continue
                    events.append(event)
                    indices.append(index)
                    continue
                if indices is not None and type(model_id) is str:
                    # Skipping: a model not held skips its event, as the general path's
                    # ``resolve`` would (UnknownModelError), without raising it.
                    continue
        if decoder is None:
            resolve = _patch_resolver(new_models, known)
            decoder = Decoder(
                buffers,
                resolve_ref=resolve if revive is None else _revive_resolver(resolve, revive),
                max_array_elements=max_array_elements,
                owned=owned,
            )
        if indices is None:
            events.append(_decode_event(raw, decoder, resolve, setter))
            continue
        try:
            event = _decode_event(raw, decoder, resolve, setter)
        except UnknownModelError:
            continue
        events.append(event)
        indices.append(index)
    if indices is None:
        decoded = DecodedPatch(events, new_models)
    else:
        decoded = DecodedPatch(events, new_models, len(raws) - len(events), indices)
    if decoder is not None and decoder.plain_lists:
        decoded.plain_lists, decoded.plain_types = decoder.plain_lists, decoder.plain_types
    return decoded


def _patch_resolver(new_models: Mapping[str, Model], known: Mapping[str, Model]) -> Callable[[str], Model]:
    """A patch's ``resolve_ref``: the model of ``new_models``, else of ``known``; UnknownModelError if neither."""

    def resolve(model_id: str) -> Model:
        model = new_models.get(model_id) or known.get(model_id)
        if model is None:
            raise UnknownModelError(f"unknown model id {model_id!r:.60}")
        return model

    return resolve


def _revive_resolver(resolve: Callable[[str], Model], revive: Callable[[str], Model | None]) -> Callable[[str], Model]:
    """``resolve``, else the model ``revive`` finds out of every document (``decode_patch``'s ``revive``)."""

    def resolve_or_revive(model_id: str) -> Model:
        try:
            return resolve(model_id)
        except UnknownModelError:
            model = revive(model_id)
            if model is None or model.document is not None:
                raise
            return model

    return resolve_or_revive


def _target(raw: dict[str, Any], resolve: Any) -> Model:
    ref = raw.get("model")
    # A reference is exactly {"id": <string>} (protocol.md §5); an object with more keys
    # is a plain mapping there, so it names no model here either.
    if type(ref) is not dict or len(ref) != 1 or type(ref.get("id")) is not str:
        raise DeserializationError(f"event without a model reference: {raw!r:.80}")
    model: Model = resolve(ref["id"])
    return model


def _decode_event(raw: Any, decoder: Decoder, resolve: Any, setter: Any) -> ev.DocumentEvent:
    if type(raw) is not dict:
        raise DeserializationError(f"event must be an object, got {raw!r:.60}")
    kind = raw.get("kind")
    # The kind is judged before the model: an event of no known kind cannot be read,
    # whatever model it names (else, naming an unknown model, it would merely lose), and
    # one without a kind is said to be so, not to lack a model reference.
    decode = _EVENT_DECODERS.get(kind) if type(kind) is str else None
    if decode is None:
        raise PatchError(f"unknown event kind {kind!r:.40}")
    return decode(raw, decoder, resolve, setter)


#: The JSON values that decode to themselves (with None), as ``Decoder.decode`` returns them.
_PLAIN = frozenset({bool, str, int, float})


def _title_changed(raw: dict[str, Any], decoder: Decoder, resolve: Any, setter: Any) -> ev.DocumentEvent:
    return ev.TitleChangedEvent(_string(raw, "title"), setter)


def _message_sent(raw: dict[str, Any], decoder: Decoder, resolve: Any, setter: Any) -> ev.DocumentEvent:
    model = _target(raw, resolve) if "model" in raw else None
    return ev.MessageSentEvent(_string(raw, "msg_type"), decoder.decode(raw.get("msg_data")), model, setter)


def _root_added(raw: dict[str, Any], decoder: Decoder, resolve: Any, setter: Any) -> ev.DocumentEvent:
    return ev.RootAddedEvent(_target(raw, resolve), setter)


def _root_removed(raw: dict[str, Any], decoder: Decoder, resolve: Any, setter: Any) -> ev.DocumentEvent:
    return ev.RootRemovedEvent(_target(raw, resolve), setter)


# The events of one property of a model: the model, then the attr, then the rest is read
# (by the ``_rest`` readers, which decode_patch calls itself for a model it holds).


def _model_changed_rest(raw: dict[str, Any], decoder: Decoder, model: Model, attr: str, setter: Any) -> Any:
    new = raw.get("new")
    if new is not None and type(new) not in _PLAIN:  # a scalar (most values) is itself: no call
        new = decoder.decode(new)
    return ev.ModelChangedEvent(model, attr, None, new, setter)


def _model_changed(raw: dict[str, Any], new: Any, model: Model, attr: str, setter: Any) -> Any:
    return ev.ModelChangedEvent(model, attr, None, new, setter)


def _column_data_changed_rest(raw: dict[str, Any], decoder: Decoder, model: Model, attr: str, setter: Any) -> Any:
    return ev.ColumnDataChangedEvent(model, attr, _columns(raw.get("columns"), decoder, "columns"), setter)


def _columns_streamed_rest(raw: dict[str, Any], decoder: Decoder, model: Model, attr: str, setter: Any) -> Any:
    rollover = raw.get("rollover")
    if rollover is not None and type(rollover) is not int:
        raise DeserializationError(f"invalid rollover {rollover!r:.40}")
    return ev.ColumnsStreamedEvent(model, attr, _columns(raw.get("data"), decoder, "data"), rollover, setter)


def _columns_patched_rest(raw: dict[str, Any], decoder: Decoder, model: Model, attr: str, setter: Any) -> Any:
    patches = raw.get("patches")
    if type(patches) is not dict:
        raise DeserializationError("patches must be an object of columns")
    decoded: dict[str, list[tuple[Any, Any]]] = {}
    for name, entries in patches.items():
        if type(entries) is not list:
            raise DeserializationError(f"patches of column {name!r:.40} must be [index, value] pairs")
        for entry in entries:  # (a loop, no generator: per column patched)
            if type(entry) is not list or len(entry) != 2:
                raise DeserializationError(f"patches of column {name!r:.40} must be [index, value] pairs")
        decoded[name] = [(_decode_index(i), decoder.decode(v)) for i, v in entries]
    return ev.ColumnsPatchedEvent(model, attr, decoded, setter)


def _list_spliced_rest(raw: dict[str, Any], decoder: Decoder, model: Model, attr: str, setter: Any) -> Any:
    return _list_spliced(raw, decoder.decode(raw.get("items")), model, attr, setter)


def _list_spliced(raw: dict[str, Any], items: Any, model: Model, attr: str, setter: Any) -> Any:
    """A ListSpliced of ``items`` (decoded): its index and delete are read and checked here."""
    index, delete = raw.get("index"), raw.get("delete")
    # Name the field at fault: the event's repr, cut, ended before it (its kind, model
    # and attr come first), so a bool or a float index got an error that hid why.
    if type(index) is not int:
        raise DeserializationError(f"invalid ListSpliced event: index must be an integer, got {index!r:.40}")
    if type(delete) is not int:
        raise DeserializationError(f"invalid ListSpliced event: delete must be an integer, got {delete!r:.40}")
    if type(items) is not list:
        raise DeserializationError("invalid ListSpliced event: items must be a list")
    return ev.ListSplicedEvent(model, attr, index, delete, items, setter)


def _dict_items_set_rest(raw: dict[str, Any], decoder: Decoder, model: Model, attr: str, setter: Any) -> Any:
    return _dict_items_set(raw, decoder.decode(raw.get("items")), model, attr, setter)


def _dict_items_set(raw: dict[str, Any], items: Any, model: Model, attr: str, setter: Any) -> Any:
    """A DictItemsSet of ``items`` (decoded)."""
    if type(items) is not dict:
        raise DeserializationError("DictItemsSet items must be a map")
    return ev.DictItemsSetEvent(model, attr, items, setter)


def _dict_items_deleted_rest(raw: dict[str, Any], decoder: Decoder, model: Model, attr: str, setter: Any) -> Any:
    raw_keys = raw.get("keys")
    if type(raw_keys) is not list:
        raise DeserializationError("DictItemsDeleted keys must be a list")
    # Keys as in a map: a tuple key travels as a list and must come back hashable.
    keys = [decoder.decode_key(key) for key in raw_keys]
    return ev.DictItemsDeletedEvent(model, attr, keys, setter)


_Rest = Callable[[dict[str, Any], Decoder, Model, str, Any], ev.DocumentEvent]
_Read = Callable[[dict[str, Any], Decoder, Any, Any], ev.DocumentEvent]

#: The event kinds of one property of a model, with the reader of what follows model and attr.
_PROPERTY_DECODERS: dict[str, _Rest] = {
    "ModelChanged": _model_changed_rest,
    "ColumnDataChanged": _column_data_changed_rest,
    "ColumnsStreamed": _columns_streamed_rest,
    "ColumnsPatched": _columns_patched_rest,
    "ListSpliced": _list_spliced_rest,
    "DictItemsSet": _dict_items_set_rest,
    "DictItemsDeleted": _dict_items_deleted_rest,
}


#: The property events whose value may be read without a Decoder (``plain_copy``): its field, the reader of
#: the event once its value is read.
_PLAIN_VALUED: dict[_Rest, tuple[str, Callable[[dict[str, Any], Any, Model, str, Any], ev.DocumentEvent]]] = {
    _model_changed_rest: ("new", _model_changed),
    _list_spliced_rest: ("items", _list_spliced),
    _dict_items_set_rest: ("items", _dict_items_set),
}

#: ``decode_patch``'s inline readers, by kind (one lookup per event): each property event's
#: ``_rest`` reader, and where its value may be read without a Decoder, its field and reader.
_FAST_READERS: dict[
    str, tuple[_Rest, str | None, Callable[[dict[str, Any], Any, Model, str, Any], ev.DocumentEvent] | None]
] = {kind: (rest, *_PLAIN_VALUED.get(rest, (None, None))) for kind, rest in _PROPERTY_DECODERS.items()}


def _property_event(rest: _Rest) -> _Read:
    """Return the general reader of a property event: its model, then its attr, then ``rest``."""

    def read(raw: dict[str, Any], decoder: Decoder, resolve: Any, setter: Any) -> ev.DocumentEvent:
        model = _target(raw, resolve)
        attr = _string(raw, "attr")
        return rest(raw, decoder, model, attr, setter)

    return read


#: Every event kind of protocol.md §8, with its reader: one lookup per event, no chain of comparisons.
_EVENT_DECODERS: dict[str, _Read] = {
    **{kind: _property_event(rest) for kind, rest in _PROPERTY_DECODERS.items()},
    "RootAdded": _root_added,
    "RootRemoved": _root_removed,
    "TitleChanged": _title_changed,
    "MessageSent": _message_sent,
}
