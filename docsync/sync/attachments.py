"""How many models one client patch attaches, each time with all it reaches: what it may make the server send.

A client may take a model the server holds out of the document and put it back by
reference (protocol.md §9): ``[RootRemoved x, RootAdded x]`` of the root. Each time the
model joins the document again the server defines it anew, with everything it reaches,
for every other connection, at a position of its own. A patch repeating that pair 500
times (50 KB) made the server encode a 450-model document 500 times: its event loop held
1.3 s, 185 MB more at its peak, and 22 MB queued for every other tab, which were closed
4009. So a client patch may attach, counted this way, at most ``MAX_ATTACH_FACTOR`` times
the models the document and the patch hold, or ``MAX_ATTACHED_FLOOR`` models: a move of
every root, or a reorder of every item, fits; the same move repeated does not.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..document import DocumentEvent, Model
from ..document import events as ev
from ..document.footprint import model_footprint
from ..document.properties import models_in
from .byte_bucket import ByteBucket

__all__ = [
    "MAX_ATTACHED_BYTES_FLOOR",
    "MAX_ATTACHED_FLOOR",
    "MAX_ATTACH_FACTOR",
    "Attached",
    "attached",
    "attached_count",
    "attached_ids",
    "holds_models",
    "most_attached",
    "put_back_bytes",
    "put_back_refusal",
    "puts_back",
    "reached_count",
]

#: A client patch attaches at most this many times the models the document and the patch hold ...
MAX_ATTACH_FACTOR = 2
#: ... or this many, whichever is more (a patch of a small document may still reorder often).
MAX_ATTACHED_FLOOR = 1000
#: The definitions a patch's attachments send, each time, are at most twice those of the
#: models once, or this many bytes: a root of ten models holding 1 MB of data, moved again
#: and again within the count's bound, sent 1 MB each time.
MAX_ATTACHED_BYTES_FLOOR = 1024 * 1024

#: The events that may attach models held already: a value of a property holding models.
_VALUE_EVENTS: dict[type, str] = {
    ev.ModelChangedEvent: "new",
    ev.ListSplicedEvent: "items",
    ev.DictItemsSetEvent: "items",
}


def holds_models(event: DocumentEvent) -> bool:
    """Whether the property ``event`` changes may hold models (False for one its model lacks: the checks refuse it)."""
    try:
        return bool(type(event.model).lookup(event.attr).may_hold_models)  # type: ignore[attr-defined]
    except AttributeError:
        return False


def attached_ids(event: DocumentEvent, defined: Mapping[str, Model]) -> set[str]:
    """The models ``event`` attaches without defining them (held ones): a RootAdded's, a model-holding value's."""
    kind = type(event)
    if kind is ev.RootAddedEvent:
        model_id = event.model.id  # type: ignore[attr-defined]
        return set() if model_id in defined else {model_id}
    field = _VALUE_EVENTS.get(kind)
    if field is None or not holds_models(event):
        return set()
    return {model.id for model in models_in(getattr(event, field)) if model.id not in defined}


def most_attached(held: int, defined: int) -> int:
    """The most models a client patch may attach (``attached_count``): ``held`` by the document, ``defined`` by it."""
    return max(MAX_ATTACHED_FLOOR, MAX_ATTACH_FACTOR * (held + defined))


def reached_count(models: Iterable[Model]) -> int:
    """How many models ``models`` reach (themselves included), each once."""
    seen: set[str] = set()
    stack = list(models)
    while stack:
        model = stack.pop()
        if model.id not in seen:
            seen.add(model.id)
            stack.extend(model.references())
    return len(seen)


def puts_back(events: Iterable[DocumentEvent], defined: Mapping[str, Model], held: Mapping[str, Model]) -> bool:
    """Whether ``events`` attach again, without defining it, a model that may have been out of the document.

    One the document does not hold (``held``: a model named back after its sender's own
    change took it out), or one an earlier event may have taken out (a root removed, a
    model-holding value replaced or spliced, dict items deleted): the server defines it
    again for every other connection. A lone change naming models the document keeps (a
    reorder) defines nothing again.
    """
    detaching = False
    for event in events:
        ids = attached_ids(event, defined)
        if ids and (detaching or any(model_id not in held for model_id in ids)):
            return True
        if not detaching:
            kind = type(event)
            detaching = kind is ev.RootRemovedEvent or (
                (kind in _VALUE_EVENTS or kind is ev.DictItemsDeletedEvent) and holds_models(event)
            )
    return False


def put_back_bytes(events: Iterable[DocumentEvent], defined: Mapping[str, Model], held: Mapping[str, Model]) -> int:
    """The bytes (estimated, erring large) that the put-backs of ``events`` make the server define again for others.

    The events ``puts_back`` tells (0: none puts a model back), each with all the models
    it attaches and all they reach, at their size in a pull (``model_footprint``), once
    per event: the session's bucket is asked for them before the patch is applied
    (protocol.md §13), what is sent being known only after.
    """
    total = 0
    detaching = False
    for event in events:
        ids = attached_ids(event, defined)
        if ids and (detaching or any(model_id not in held for model_id in ids)):
            kind = type(event)
            if kind is ev.RootAddedEvent:
                starts: list[Model] = [event.model]  # type: ignore[attr-defined]
            else:
                starts = [m for m in models_in(getattr(event, _VALUE_EVENTS[kind])) if m.id in ids]
            seen: set[str] = set()
            while starts:
                model = starts.pop()
                if model.id not in seen:
                    seen.add(model.id)
                    total += model_footprint(model).total
                    starts.extend(model.references())
        if not detaching:
            kind = type(event)
            detaching = kind is ev.RootRemovedEvent or (
                (kind in _VALUE_EVENTS or kind is ev.DictItemsDeletedEvent) and holds_models(event)
            )
    return total


def put_back_refusal(size: int, bucket: ByteBucket) -> str | None:
    """Why a patch whose put-backs define ``size`` bytes again (estimated) is refused now, or None: it is taken.

    ``bucket``: its session's (protocol.md §13). Owing, no put-back is taken. Full, one of
    any size is (charged with ``owe(at_most_a_burst=True)``): a plot whose source is over
    twice the burst must still move between layouts. Between, one of at most what it
    holds and a burst owed. Either way a refused patch applies nothing and owes nothing.
    """
    wait = bucket.owed_seconds()
    if wait > 0:
        return (
            "too many models attached again in this session: at most"
            f" {bucket.burst} bytes at once, then {bucket.rate} a second, for every connection;"
            f" try again in {wait:.1f} s"
        )
    room = bucket.room()
    if size <= room:
        return None
    wait = math.ceil(bucket.room_seconds(size) * 10) / 10  # (never "0.0": it does not fit now)
    return (
        f"too many bytes put back by one patch: {size} to define again for every connection (estimated),"
        f" more than the {int(room)} this session allows now (what it holds and {bucket.burst} owed,"
        f" then {bucket.rate} a second; any size once it holds {bucket.burst}, full); try again in {wait:.1f} s"
    )


@dataclass(slots=True)
class Attached:
    """What a patch's events attach: models counted each time (``count``), and their bytes, each time and once."""

    count: int = 0
    #: The estimated bytes of their definitions, each time a model is attached (what is sent).
    sent: int = 0
    #: The same, each model once (what the document holds of them).
    distinct: int = 0

    def bytes_bound(self) -> int:
        """The most bytes the definitions may send: twice those of the models once, or ``MAX_ATTACHED_BYTES_FLOOR``."""
        return max(MAX_ATTACHED_BYTES_FLOOR, MAX_ATTACH_FACTOR * self.distinct)

    def too_many_bytes(self) -> bool:
        """Whether the definitions sent pass ``bytes_bound``."""
        return self.sent > self.bytes_bound()


def attached(events: Iterable[DocumentEvent], cap: int) -> Attached:
    """What ``events`` attach (a RootAdded's model, a model-holding value's), with all they reach, per event.

    Counting stops once past ``cap`` models: the walk costs at most what the bound allows.
    A model already in the document counts too (nothing tells, before the patch is
    applied, whether an earlier event of it took the model out): an over-count that a
    patch of ordinary moves stays far from. Bytes are estimated as for a pull
    (``model_footprint``), each model's once.
    """
    found = Attached()
    times: dict[str, list[Any]] = {}  # model id -> [model, times attached]
    for event in events:
        kind = type(event)
        if kind is ev.RootAddedEvent:
            starts: list[Model] = [event.model]  # type: ignore[attr-defined]
        else:
            field = _VALUE_EVENTS.get(kind)
            if field is None or not holds_models(event):
                continue
            starts = list(models_in(getattr(event, field)))
        seen: set[str] = set()
        while starts:
            model = starts.pop()
            if model.id in seen:
                continue
            seen.add(model.id)
            entry = times.get(model.id)
            if entry is None:
                times[model.id] = [model, 1]
            else:
                entry[1] += 1
            found.count += 1
            if found.count > cap:
                return found
            starts.extend(model.references())
    # Sent at most twice each, what is sent is at most twice the models once: bytes are
    # measured only when some model is attached more often (nearly never).
    if any(n > MAX_ATTACH_FACTOR for _, n in times.values()):
        for model, n in times.values():
            size = model_footprint(model).total
            found.distinct += size
            found.sent += size * n
    return found


def attached_count(events: Iterable[DocumentEvent], cap: int) -> int:
    """The models ``events`` attach, counted as ``attached`` does (stopping past ``cap``)."""
    return attached(events, cap).count
