"""The one place where document events become PATCH-DOC messages (a client's are decoded by ``Document.decode_patch``).

Also what two changes conflict on: each event names the keys it touches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from ..document import DocumentEvent, Model, ModelChangedEvent
from ..document import events as ev
from ..document.footprint import Footprint, measure, model_footprint
from ..document.wire import event_json, model_definition
from ..protocol import PATCH_DOC, Message, new_message
from ..protocol.message import Frame, with_content_frame
from ..protocol.wire_json import dumpb
from ..serialization import Buffer, Encoder, frozen_buffer
from ..serialization.encoder import MAX_INT as _MAX_INT
from ..serialization.encoder import MIN_INT as _MIN_INT

__all__ = [
    "MAX_PATCH_EVENTS",
    "EncodedEvent",
    "FrozenMessage",
    "Key",
    "bounded_correction",
    "conflict_keys",
    "correction",
    "correction_size",
    "defined_once",
    "encode_event",
    "keys_overlap",
    "patch_message",
]

#: The most events one client PATCH-DOC may carry. Each is checked against the document
#: as the earlier ones leave it, on the event loop and under the session's lock: some
#: checks (a splice of a list a model validates whole) cost as much as the list, so one
#: message of many small events could hold the process for minutes. Clients send a
#: longer batch of changes as several patches of the same base (Outbox.take).
MAX_PATCH_EVENTS = 1000

Key = tuple[Any, ...]
#: Patching more single cells than this in one column counts as touching the column.
_MAX_CELL_KEYS = 64


class EncodedEvent:
    """An event frozen in wire form: later edits of live values cannot change it (its buffers are immutable)."""

    __slots__ = ("_json", "_references", "buffers", "data", "keys", "kind", "nbytes", "origin", "references_data")

    origin: str | None
    buffers: list[tuple[str, Buffer]]
    keys: tuple[Key, ...]
    nbytes: int
    #: ``json`` and ``references`` as the wire has them (UTF-8 JSON, the references
    #: comma-separated), encoded once for the log's size and every PATCH-DOC that
    #: carries the event; None if they could not be (the PATCH-DOC then says why).
    data: bytes | None
    references_data: bytes | None
    #: ``json["kind"]``, read without the JSON (which a logged event may no longer hold decoded).
    kind: Any

    def __init__(
        self,
        origin: str | None,
        json: dict[str, Any],
        references: list[dict[str, Any]],
        buffers: list[tuple[str, Buffer]],
        keys: tuple[Key, ...],
        nbytes: int,
        data: bytes | None = None,
        references_data: bytes | None = None,
    ) -> None:
        self.origin = origin
        self._json: dict[str, Any] | None = json
        self._references: list[dict[str, Any]] | None = references
        self.kind = json.get("kind")
        # Its buffers are its own: bytes, or read-only views over bytes (a column decoded
        # from a frame). A view of a writable array (a live column, an app's array) is
        # copied, so no later write reaches the log, a resend or a journal record.
        if buffers:  # most events (a scalar's change) hold none
            buffers = [(buffer_id, frozen_buffer(data)) for buffer_id, data in buffers]
        self.buffers = buffers
        self.keys = keys
        self.nbytes = nbytes
        self.data = data
        self.references_data = references_data

    @property
    def json(self) -> dict[str, Any]:
        """The event as the wire has it (decoded again from ``data`` once ``compact`` dropped it)."""
        body = self._json
        if body is None:
            body = orjson.loads(self.data)  # type: ignore[arg-type]  # (compact keeps no event without it)
        return body

    @property
    def references(self) -> list[dict[str, Any]]:
        """The definitions of the models it attaches (decoded again from ``references_data`` once compacted)."""
        references = self._references
        if references is None:
            data = self.references_data
            references = orjson.loads(b"[%b]" % data) if data else []
        return references

    def compact(self) -> None:
        """Keep ``json`` and ``references`` as their bytes alone, decoded again when asked for.

        A session's log holds its events' dicts (a model definition's lists of values:
        several Python objects per value) besides their bytes: 8 times the bytes
        PATCH_LOG_BYTES counts of definitions. The log asks a logged event for them seldom
        (a resume's replay, its splices and references read once per entry).
        """
        if self._json is None:
            return
        if self.data is None or self.references_data is None:
            try:  # (events laid again from a journal's records are not encoded yet)
                data = dumpb(self._json)
                references = self._references or []
                references_data = b",".join([dumpb(r) for r in references]) if references else b""
            except (TypeError, ValueError):  # not sendable as it is: kept decoded, for the wire layer to say why
                return
            self.data, self.references_data = data, references_data
        self._json = self._references = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EncodedEvent):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"EncodedEvent{self._fields()!r}"

    def _fields(self) -> tuple[Any, ...]:
        return (self.origin, self.json, self.references, self.buffers, self.keys, self.nbytes, self.data,
                self.references_data)  # fmt: skip


def _hashable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def conflict_keys(event: DocumentEvent) -> tuple[Key, ...]:
    """Return the keys ``event`` touches; two changes conflict when keys overlap."""
    if type(event) is ModelChangedEvent:  # the most common events first: one type check, not ten
        return ((event.model.id, event.attr),)
    if type(event) is ev.ColumnDataChangedEvent:
        model_id, attr = event.model.id, event.attr
        return tuple([(model_id, attr, name) for name in event.columns])  # a list: no generator resumed per column
    if type(event) is ev.ListSplicedEvent or type(event) is ev.ColumnsStreamedEvent:
        return ((event.model.id, event.attr),)  # the whole property (see the end)
    if type(event) is ev.DictItemsSetEvent:  # (by its type alone, as above: before the chain below)
        model_id, attr = event.model.id, event.attr
        return tuple([(model_id, attr, _hashable(k)) for k in event.items])
    if type(event) is ev.ColumnsPatchedEvent:
        return _cell_keys(event.model.id, event.attr, event)
    if isinstance(event, ev.MessageSentEvent):
        return ()
    if isinstance(event, ev.TitleChangedEvent):
        return (("title",),)
    if isinstance(event, ev.RootAddedEvent | ev.RootRemovedEvent):
        return (("roots",),)
    model_id, attr = event.model.id, event.attr  # type: ignore[attr-defined]
    if isinstance(event, ev.DictItemsSetEvent):
        return tuple((model_id, attr, _hashable(k)) for k in event.items)
    if isinstance(event, ev.DictItemsDeletedEvent):
        return tuple((model_id, attr, _hashable(k)) for k in event.keys)
    if isinstance(event, ev.ColumnDataChangedEvent):
        return tuple((model_id, attr, name) for name in event.columns)
    if isinstance(event, ev.ColumnsPatchedEvent):
        return _cell_keys(model_id, attr, event)
    # Whole-value sets, list splices (indices shift) and streams (rows shift with
    # rollover) touch the whole property.
    return ((model_id, attr),)


def _cell_keys(model_id: str, attr: str, event: ev.ColumnsPatchedEvent) -> tuple[Key, ...]:
    """The keys of a ColumnsPatched event: each cell, or its whole column when it patches a slice or many cells."""
    keys: list[Key] = []
    for name, entries in event.patches.items():
        if len(entries) > _MAX_CELL_KEYS or any([isinstance(i, slice) for i, _ in entries]):
            keys.append((model_id, attr, name))
        else:
            keys += [(model_id, attr, name, i) for i, _ in entries]
    return tuple(keys)


def keys_overlap(a: Key, b: Key) -> bool:
    """Tell whether two keys overlap: one is a prefix of the other."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def correction(model: Model, attr: str) -> ModelChangedEvent:
    """Return the correction of ``model.attr``: its whole current value, defining every model it reaches.

    The client whose change lost may have dropped those models (a Title replaced by a
    string is nowhere in its document any more), so the PATCH-DOC's ``references``
    define them again; a client that holds a model keeps its own (protocol.md, §13).
    """
    value = getattr(model, attr)
    event = ModelChangedEvent(model, attr, value, value)
    reached: dict[str, Model] = {}
    prop = model.lookup(attr)
    # (A property that holds no model is not walked: a list of 1,000,000 numbers was, for
    # every stale change of it, most of 86 ms of the event loop for a 123-byte patch.)
    stack = list(prop.iter_models(value)) if prop.may_hold_models else []
    while stack:
        held = stack.pop()
        if held.id not in reached:
            reached[held.id] = held
            stack.extend(held.references())
    event.new_models = list(reached.values())
    return event


def bounded_correction(model: Model, attr: str, most: int) -> tuple[ModelChangedEvent | None, int]:
    """``correction(model, attr)`` and its ``correction_size``, or None once that size passes ``most``.

    With None, the size is the part measured before it passed ``most`` (less than the whole).
    What reaches many models is walked and measured only up to ``most`` bytes of them:
    a stale 146-byte change of a list of 20,000 Divs walked and measured them all to reset
    its sender, 72 ms of the event loop, at every such patch.
    """
    value = getattr(model, attr)
    footprint = Footprint()
    measure(value, footprint)
    fixed = 96 + len(model.id) + len(attr) + 200  # (as correction_size counts them)
    if footprint.total + fixed > most:
        return None, footprint.total + fixed
    reached: dict[str, Model] = {}
    prop = model.lookup(attr)
    stack = list(prop.iter_models(value)) if prop.may_hold_models else []
    while stack:
        held = stack.pop()
        if held.id not in reached:
            reached[held.id] = held
            footprint.add(model_footprint(held))
            if footprint.total + fixed > most:
                return None, footprint.total + fixed
            stack.extend(held.references())
    event = ModelChangedEvent(model, attr, value, value)
    event.new_models = list(reached.values())
    return event, footprint.total + fixed


def correction_size(event: ModelChangedEvent) -> int:
    """Return about how many bytes a correction takes on the wire (erring large), without encoding it."""
    footprint = Footprint()
    measure(event.new, footprint)
    for held in event.new_models:
        footprint.add(model_footprint(held))
    # The event's own keys and punctuation, and the 200 bytes encode_event adds to every event.
    return footprint.total + 96 + len(event.model.id) + len(event.attr) + 200


def encode_event(
    event: DocumentEvent,
    buffer_prefix: str,
    models: Mapping[str, Model],
    item_types: Mapping[int, tuple[list[Any], set[type]]] | None = None,
) -> EncodedEvent:
    """Freeze ``event`` in wire form; buffer ids start with ``buffer_prefix``.

    ``item_types``: lists whose item types are known, as ``Encoder`` takes them.
    """
    if type(event) is ModelChangedEvent and not event.new_models:
        new = event.new
        kind = type(new)
        # A scalar (a slider's value: most changes) is its own JSON, as Encoder.encode
        # returns it: no encoder, no buffers, no references to walk.
        if (
            kind is str
            or kind is bool
            or new is None
            or (kind is float and new - new == 0.0)  # finite (math.isfinite without its call): inf - inf is NaN
            or (kind is int and _MIN_INT <= new <= _MAX_INT)
        ):
            # (``_scalar_change``, inline: one call fewer for most events.)
            model_id, attr = event.model.id, event.attr
            body = {"kind": "ModelChanged", "model": {"id": model_id}, "attr": attr, "new": new}
            try:
                encoded = dumpb(body)
            except (TypeError, ValueError):  # a lone surrogate: the wire layer refuses it, and says why
                return _scalar_change(event)
            setter = event.setter
            return EncodedEvent(
                setter if type(setter) is str or isinstance(setter, str) else None,
                body,
                [],
                [],
                ((model_id, attr),),
                len(encoded) + 200,
                encoded,
                b"",
            )
    if not event.new_models and (type(event) is ev.ListSplicedEvent or type(event) is ev.DictItemsSetEvent):
        plain = _plain_change(event)
        if plain is not None:
            return plain
    encoder = Encoder(buffer_prefix=buffer_prefix, item_types=item_types)
    body = event_json(event, encoder)
    # (No list made for an event defining no model: most.)
    references = [model_definition(m, encoder) for m in event.new_models if m.id in models] if event.new_models else []
    nbytes = 0
    for _, buffer in encoder.buffers:  # (a loop: no list and sum for the one buffer most events hold)
        nbytes += buffer.nbytes if type(buffer) is memoryview else len(buffer)
    # The JSON counts too (a long string, a list of values): PATCH_LOG_BYTES bounds what
    # the log holds, and 1000 entries of 60 KiB strings were once counted as 200 bytes each.
    # Encoded once, here: the PATCH-DOCs that carry the event reuse these bytes.
    data: bytes | None
    references_data: bytes | None
    try:
        data = dumpb(body)
        references_data = b",".join([dumpb(r) for r in references]) if references else b""
        nbytes += len(data) + len(references_data)
    except (TypeError, ValueError):  # not sendable as it is: the wire layer refuses it, and says why
        data = references_data = None
    origin = event.setter if isinstance(event.setter, str) else None
    return EncodedEvent(
        origin, body, references, encoder.buffers, conflict_keys(event), nbytes + 200, data, references_data
    )


#: Item types a list of which ``Encoder.encode`` copies as it is (a splice's items).
_STR_ONLY = frozenset({str})
#: Value types ``Encoder.encode`` returns as they are, but for ints past 64 bits and non-finite floats.
_PLAIN_SCALARS = frozenset({str, bool, int, float, type(None)})


def _plain_change(event: ev.ListSplicedEvent | ev.DictItemsSetEvent) -> EncodedEvent | None:
    """``encode_event`` of a splice of strings, or a set of dict items of plain values, defining no model; else None.

    Most splices are of a list of strings (tags, names), most dict items numbers or
    strings: their JSON is themselves, as ``Encoder`` writes them (copied), byte for byte,
    without an encoder, a call per value or the general ``event_json``.
    """
    model_id, attr = event.model.id, event.attr
    body: dict[str, Any]
    if type(event) is ev.ListSplicedEvent:
        items = event.items
        if type(items) is not list or not _STR_ONLY.issuperset(map(type, items)):
            return None
        body = {"kind": "ListSpliced", "model": {"id": model_id}, "attr": attr, "index": event.index,
                "delete": event.delete, "items": list(items)}  # fmt: skip
        keys: tuple[Key, ...] = ((model_id, attr),)
    else:
        entries = event.items
        # Written as a plain object (``writes_as_map``): string keys, none read as a type or a reference.
        if (
            type(entries) is not dict
            or "type" in entries
            or (len(entries) == 1 and "id" in entries)
            or not _STR_ONLY.issuperset(map(type, entries))
            or not _PLAIN_SCALARS.issuperset(map(type, entries.values()))
        ):
            return None
        for value in entries.values():
            kind = type(value)
            # Ints past 64 bits refused, non-finite floats written as typed values: the encoder's.
            if (kind is int and not _MIN_INT <= value <= _MAX_INT) or (kind is float and value - value != 0.0):
                return None
        body = {"kind": "DictItemsSet", "model": {"id": model_id}, "attr": attr, "items": dict(entries)}
        keys = tuple([(model_id, attr, key) for key in entries])
    try:
        data = dumpb(body)
    except (TypeError, ValueError):  # a lone surrogate: the general way, where the wire layer says why
        return None
    setter = event.setter
    return EncodedEvent(setter if isinstance(setter, str) else None, body, [], [], keys, len(data) + 200, data, b"")


def _scalar_change(event: ModelChangedEvent) -> EncodedEvent:
    """``encode_event`` of a ModelChanged to a scalar defining no model, byte for byte."""
    model_id, attr = event.model.id, event.attr
    body = {"kind": event.kind, "model": {"id": model_id}, "attr": attr, "new": event.new}
    data: bytes | None
    try:
        data = dumpb(body)
        nbytes = len(data) + 200
    except (TypeError, ValueError):  # a lone surrogate: the wire layer refuses it, and says why
        data, nbytes = None, 200
    origin = event.setter if isinstance(event.setter, str) else None
    return EncodedEvent(origin, body, [], [], ((model_id, attr),), nbytes, data, b"" if data is not None else None)


class FrozenMessage(Message):
    """A message whose frames are built at most once, for sending the same patch to many sockets."""

    __slots__ = ("_content_data", "_frames", "_sizes")

    def __init__(self, message: Message, content_data: bytes | str | None = None) -> None:
        super().__init__(message.header, message.metadata, message.content, message.buffers)
        # Built when first asked for: a message that is never written to a socket (the
        # in-memory tests hand messages over as they are) is never encoded.
        self._frames: list[Frame] | None = None
        self._sizes: list[int] | None = None
        #: The content frame already encoded, as text or UTF-8 (exactly what encoding ``content`` gives), or None.
        self._content_data = content_data

    def to_frames(self, content: str | None = None) -> list[Frame]:
        """Return the frames, built on the first call (do not mutate the message after it is frozen)."""
        frames = self._frames
        if frames is None:
            data = self._content_data
            if data is not None:
                content = data if isinstance(data, str) else data.decode()
            frames = self._frames = Message.to_frames(self, content)
        return frames

    def sized_frames(self) -> tuple[list[Frame], list[int]]:
        """Return the frames and their sizes on the wire, counted on the first call."""
        sizes = self._sizes
        if sizes is None:
            frames, sizes = Message.sized_frames(self)
            self._sizes = sizes
            return frames, sizes
        return self.to_frames(), sizes


def patch_message(events: Sequence[EncodedEvent], seq: int) -> Message:
    """Build one PATCH-DOC carrying ``events`` at server position ``seq``."""
    if len(events) == 1:  # most patches (an app's one change): its lists as they are, not gathered
        only = events[0]
        content_events, references, buffers = [only.json], list(only.references), list(only.buffers)
    else:
        content_events = [e.json for e in events]
        references = [r for e in events for r in e.references]
        buffers = [b for e in events for b in e.buffers]
    twice = False
    if len(references) > 1 and len({r["id"] for r in references}) < len(references):  # (rare: no call per patch)
        references = defined_once(references)
        twice = True
    content = {"events": content_events, "references": references, "seq": seq}
    data = _content_data(events, seq, references if twice else None)
    if data is None or not _distinct_ids(buffers):  # the general way raises the wire layer's error
        return FrozenMessage(new_message(PATCH_DOC, content, buffers=buffers), data)
    # Nearly every PATCH-DOC: its frames built directly around the events' own bytes.
    return with_content_frame(PATCH_DOC, content, data, buffers)


def defined_once(references: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The definitions of one position's events, each model once (``references`` itself if none is twice).

    (Rare) a model defined by two events of a position: an event attaching it and a
    correction whose value reaches it (a lost splice of the list it joined). A patch
    defines a model once (receivers refuse it: "duplicate model id"): the first, as of the
    event that attached it, the later events applying on top of it. A live PATCH-DOC and
    a resume's replay of the position both define it so.
    """
    if len(references) < 2 or len({r["id"] for r in references}) == len(references):
        return references
    first: dict[Any, dict[str, Any]] = {}
    for reference in references:
        first.setdefault(reference["id"], reference)
    return list(first.values())


def _distinct_ids(buffers: list[tuple[str, Buffer]]) -> bool:
    if not buffers:
        return True
    if len(buffers) == 1:
        return type(buffers[0][0]) is str
    ids = {buffer_id for buffer_id, _ in buffers}
    return len(ids) == len(buffers) and _STR_ONLY.issuperset(map(type, ids))


def _content_data(
    events: Sequence[EncodedEvent], seq: int, references: list[dict[str, Any]] | None = None
) -> bytes | None:
    """The PATCH-DOC content's JSON, byte for byte what encoding its dict gives, from the events' own bytes.

    ``references``: the definitions, when not those the events hold one after another.
    """
    if references is not None:
        if any(event.data is None for event in events):
            return None  # encoded whole, to raise the wire layer's error
        body = b",".join([event.data for event in events])  # type: ignore[misc]
        return b'{"events":[%b],"references":[%b],"seq":%d}' % (body, b",".join([dumpb(r) for r in references]), seq)
    if len(events) == 1:
        data = events[0].data
        if data is None:
            return None  # encoded whole, to raise the wire layer's error
        return b'{"events":[%b],"references":[%b],"seq":%d}' % (data, events[0].references_data or b"", seq)
    parts = [b'{"events":[']
    for i, event in enumerate(events):
        if event.data is None:
            return None  # encoded whole, to raise the wire layer's error
        parts.append(b"," + event.data if i else event.data)
    parts.append(b'],"references":[')
    first = True
    for event in events:
        if event.references_data:
            parts.append(event.references_data if first else b"," + event.references_data)
            first = False
    parts.append(b'],"seq":%d}' % seq)
    return b"".join(parts)
