"""Local changes waiting to be sent, encoded as they are made; the mirror of outbox.js.

A whole new value of a property supersedes the changes of that property still waiting,
so that a value set a hundred times while a patch is in flight goes out once. Encoding
at once freezes each change as it was: a later edit of the same value cannot leak into
an earlier event, and the definition of a model a change attaches is its state then.

Every change remembers ``base``, the last server position applied when it was made. A
patch carries one base, so ``take`` sends the oldest changes that share it: changes made
after a server patch was applied go out in a patch of their own, judged (and, for list
splices, transformed) against what their maker had really seen.

A model the server holds (``server_ids``: pulled, or defined by the server's patches or
by this client's answered ones) is never defined, only referred to: the server refuses
a definition of a model it holds. One a change detached and a later one attaches again
(children reordered by removing and inserting) goes as a reference; what changed while
it was out of the document, which no event told, follows as changes of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..document import DocumentEvent, ListSplicedEvent, Model, ModelChangedEvent, encode_events
from ..document.model import is_empty_default
from ..document.wire import event_json
from ..protocol import Buffer
from ..serialization import Encoder, frozen_buffer
from ..serialization.encoder import MAX_INT as _MAX_INT
from ..serialization.encoder import MIN_INT as _MIN_INT
from .patches import MAX_PATCH_EVENTS
from .splices import Splice

__all__ = ["Batch", "Outbox", "OutboxEntry"]


@dataclass(slots=True, eq=False)
class OutboxEntry:
    """One local change: its wire JSON, the definitions and buffers it needs, and its base.

    For a list splice, ``splice`` is where it stands now: shifted by the server's splices
    of that list applied since it was made (its JSON keeps the indices it was made with,
    which the server transforms itself). ``doomed`` marks a change known to lose.
    """

    event: DocumentEvent
    key: tuple[str, str] | None
    json: dict[str, Any]
    references: list[dict[str, Any]]
    buffers: list[tuple[str, Buffer]]
    base: int
    splice: Splice | None = None
    doomed: bool = False
    #: Ids of the models the change detached (with those of the changes it superseded).
    departed: tuple[str, ...] = ()


@dataclass(slots=True)
class Batch:
    """Waiting changes taken as one PATCH-DOC body."""

    content: dict[str, Any]
    buffers: list[tuple[str, Buffer]]
    base: int
    entries: list[OutboxEntry] = field(default_factory=list)
    #: Superseded changes whose definitions (and buffers) the batch carries.
    carried: list[OutboxEntry] = field(default_factory=list)


class Outbox:
    """Local changes waiting to be sent, in the order they were made."""

    def __init__(self) -> None:
        self._entries: list[OutboxEntry] = []
        # Definitions (and their buffers) of superseded changes: the models they
        # attached may still be referred to by what is sent.
        self._carried: list[OutboxEntry] = []
        self._serial = 0
        #: The ids of the models the server holds, as far as this client knows: referred
        #: to, never defined (its client keeps it: ``hold``, ``forget``, ``held``).
        self.server_ids: set[str] = set()
        # The values of such models a local change detached, as they were then, until a
        # local change attaches them again (by reference): what differs then is sent.
        self._left: dict[str, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def entries(self) -> tuple[OutboxEntry, ...]:
        """The waiting changes, oldest first."""
        return tuple(self._entries)

    def held(self, model_ids: Any) -> None:
        """The server holds the models of ``model_ids`` now (the document pulled: replaces what was known)."""
        self.server_ids = set(model_ids)
        self._left.clear()

    def hold(self, model_ids: Any) -> None:
        """The server holds these models too (its patch defined them, or it took this client's)."""
        self.server_ids.update(model_ids)

    def forget(self, model_ids: Any) -> None:
        """The server's change detached these models: it may no longer hold them."""
        self.server_ids.difference_update(model_ids)
        for model_id in model_ids:
            self._left.pop(model_id, None)

    def add(
        self,
        event: DocumentEvent,
        *,
        base: int,
        attached: Mapping[str, Model],
        departed: Callable[[str], Model | None] | None = None,
    ) -> OutboxEntry:
        """Queue ``event``, made on top of server position ``base``; return its entry.

        ``attached`` is the document's index: definitions are sent for the models it
        still holds, unless the server holds them (``server_ids``). ``departed`` finds
        a model that left the document (``Document.departed_model``): the values of one
        the server holds are kept when a change detaches it.
        """
        self._serial += 1
        if type(event) is ModelChangedEvent and not event.new_models:
            new = event.new
            kind = type(new)
            # A scalar (a slider's value: most changes) is its own JSON, as Encoder.encode
            # returns it (the test of encode_event's shortcut): no encoder, no buffers.
            if (
                kind is str
                or kind is bool
                or new is None
                or (kind is float and new - new == 0.0)  # finite: inf - inf and NaN - NaN are NaN
                or (kind is int and _MIN_INT <= new <= _MAX_INT)
            ):
                key = (event.model.id, event.attr)
                json = {"kind": "ModelChanged", "model": {"id": key[0]}, "attr": key[1], "new": new}
                entry = OutboxEntry(event, key, json, [], [], base)
                entry.departed = self._superseded_departures(key)
                self._entries.append(entry)
                return entry
        # Buffer ids must be unique in a message that gathers several encoded changes.
        encoder = Encoder(buffer_prefix=f"c{self._serial}.")
        if event.new_models:
            encoded = encode_events([event], encoder, attached)
            json, references = encoded["events"][0], encoded["references"]
        else:  # nearly every change attaches no model: no definitions to gather
            json, references = event_json(event, encoder), []
        # Its buffers are its own (see EncodedEvent): a later patch of the column in place
        # must not change a change waiting here, or in flight and resent after a resume.
        buffers = [(buffer_id, frozen_buffer(data)) for buffer_id, data in encoder.buffers] if encoder.buffers else []
        returning: list[str] = []
        if references and self.server_ids:
            # The server holds these: referred to (the JSON already does), not defined again.
            returning = [r["id"] for r in references if r["id"] in self.server_ids]
            if returning:
                references = [r for r in references if r["id"] not in self.server_ids]
        entry = OutboxEntry(event, event.property_key(), json, references, buffers, base)
        entry.departed = event.departed
        if event.departed and departed is not None and self.server_ids:
            self._keep_left(event.departed, departed)
        if isinstance(event, ListSplicedEvent):
            entry.splice = Splice(event.index, event.delete, len(event.items))
        if isinstance(event, ModelChangedEvent) and entry.key is not None:
            defined = {r["id"] for r in references}
            if not any(defined.intersection(e.departed) for e in self._entries if e.key == entry.key):
                entry.departed = (*entry.departed, *self._superseded_departures(entry.key))
            # (Else both go: the model an earlier value of it detached, the server still
            # holds, and takes its definition in a later patch, after that value: ``take``.)
        self._entries.append(entry)
        for model_id in returning:
            self._changed_while_out(model_id, attached, base)
        return entry

    def _keep_left(self, model_ids: tuple[str, ...], departed: Callable[[str], Model | None]) -> None:
        """Keep the values of the models of ``model_ids`` the server holds, as they left the document."""
        for model_id in model_ids:
            if model_id in self.server_ids and model_id not in self._left:
                model = departed(model_id)
                if model is not None:
                    values = model.properties_with_values(include_defaults=False)
                    self._left[model_id] = {attr: _copy(value) for attr, value in values.items()}

    def _changed_while_out(self, model_id: str, attached: Mapping[str, Model], base: int) -> None:
        """Queue a change for each value of model ``model_id`` (back in the document) that changed while it was out."""
        before = self._left.pop(model_id, None)
        model = attached.get(model_id)
        if before is None or model is None:
            return
        for attr in [*before, *(a for a in model.properties_with_values(include_defaults=False) if a not in before)]:
            now = getattr(model, attr)
            if attr in before:
                if _same(before[attr], now):
                    continue
            elif is_empty_default(model, attr, now):  # (a default list first read while out)
                continue
            self.add(ModelChangedEvent(model, attr, before.get(attr), now), base=base, attached=attached)

    def _superseded_departures(self, key: tuple[str, str]) -> tuple[str, ...]:
        """Drop the waiting changes of ``key`` (``supersede``); return the ids of the models they detached."""
        dropped = self.supersede(key)
        if not dropped:  # (nearly always)
            return ()
        return tuple([i for e in dropped for i in e.departed])

    def supersede(self, key: tuple[str, str]) -> list[OutboxEntry]:
        """Drop the waiting changes of property ``key`` (it has a whole new value); return them."""
        for entry in self._entries:  # (a loop, no generator: most often nothing to drop)
            if entry.key == key:
                break
        else:
            return []
        kept, dropped = [], []
        for entry in self._entries:
            if entry.key != key:
                kept.append(entry)
                continue
            dropped.append(entry)
            if entry.references:
                self._carried.append(entry)
        self._entries = kept
        return dropped

    def take(self, most: int = MAX_PATCH_EVENTS) -> Batch | None:
        """Take the oldest waiting changes that share one base, ``most`` at most, as a PATCH-DOC body, or None."""
        if not self._entries:
            return None
        waiting = self._entries
        base = waiting[0].base
        count = len(waiting)
        for i, entry in enumerate(waiting):  # (a loop, no generator: per patch sent)
            if entry.base != base:
                count = i
                break
        count = max(1, min(count, most, MAX_PATCH_EVENTS))  # the rest follows in a patch of the same base
        departed: set[str] = set()
        for i in range(count):
            entry = waiting[i]
            if departed and entry.references and any(r["id"] in departed for r in entry.references):
                # It defines a model an earlier change of the batch detached: the server holds
                # that one until the batch is applied, and refuses a patch defining a model it
                # holds (or one twice). The rest follows in a patch of its own, of the same base.
                count = i
                break
            if entry.departed:
                departed.update(entry.departed)
        entries, self._entries = waiting[:count], waiting[count:]
        carried, self._carried = self._carried, []
        sources = [*carried, *entries] if carried else entries
        seen: set[str] = set()
        references = []
        for entry in sources:
            for definition in entry.references:
                # The server refuses a model defined twice in one patch.
                if definition["id"] not in seen:
                    references.append(definition)
                seen.add(definition["id"])
        buffers = [buffer for entry in sources for buffer in entry.buffers]
        content = {"events": [e.json for e in entries], "references": references, "base": base}
        return Batch(content, buffers, base, entries, carried)

    def restore(self, batch: Batch) -> None:
        """Put a batch ``take`` returned back, first, as if it had not been taken."""
        self._entries = [*batch.entries, *self._entries]
        self._carried = [*batch.carried, *self._carried]

    def drain(self) -> list[OutboxEntry]:
        """Remove and return every waiting change (the document is being replaced)."""
        entries, self._entries, self._carried = self._entries, [], []
        self._left.clear()
        return entries


def _copy(value: Any) -> Any:
    """A value as it is now: a copy of a list, dict or array (changed in place later), else the value."""
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def _same(before: Any, now: Any) -> bool:
    """Whether a value kept by ``_copy`` is the value now."""
    if before is now:
        return True
    if isinstance(before, np.ndarray) or isinstance(now, np.ndarray):
        return isinstance(before, np.ndarray) and isinstance(now, np.ndarray) and np.array_equal(before, now)
    if isinstance(before, list) and isinstance(now, list):
        return len(before) == len(now) and all(_same(b, n) for b, n in zip(before, now, strict=True))
    if isinstance(before, dict) and isinstance(now, dict):
        return before.keys() == now.keys() and all(_same(before[k], now[k]) for k in before)
    try:
        return bool(before == now)
    except (TypeError, ValueError):  # (values that do not compare: taken as changed)
        return False
