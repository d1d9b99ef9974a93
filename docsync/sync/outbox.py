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
it was out of the document, which no event told, follows as changes of its own: the
model notes the names of the properties changed while it is out (``Model.changed_out``),
never their values, so that taking out a data source of a million rows copies nothing
and keeps nothing of it.

Whether a model is defined is decided when the change is made, and again when it is
sent: a change queued while the patch defining its model was unanswered defines it, and
the answer (or a resume's) may make the server hold it before the change goes. ``take``
then sends it as a reference, and what changed while the model was out follows it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..document import DocumentEvent, ListSplicedEvent, Model, ModelChangedEvent, encode_events
from ..document.model import is_empty_default
from ..document.properties import models_in
from ..document.wire import event_json
from ..protocol import Buffer
from ..serialization import Encoder, frozen_buffer
from ..serialization.encoder import MAX_INT as _MAX_INT
from ..serialization.encoder import MIN_INT as _MIN_INT
from .patches import MAX_PATCH_EVENTS
from .splices import Splice

__all__ = ["Batch", "Outbox", "OutboxEntry"]

#: Most models a local change detached that are remembered (ids: ``Outbox._keep_left``);
#: past it, those of models the server does not hold are forgotten first.
MAX_LEFT_KEPT = 1024

#: ``server_ids`` past this many (and past twice as many as after the last look) drops the
#: ids of models nothing here holds any more (``Outbox._drop_gone``).
MIN_IDS_LOOKED_AT = 1024

#: The item types of a splice whose JSON is written without an encoder (``add``).
_STR_ONLY = frozenset({str})


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
    #: For a model the change defines that a local change took out before: what changed
    #: while it was out, as changes, sent after this one if the definition is not (``take``).
    while_out: dict[str, list[OutboxEntry]] | None = None
    #: Superseded (carried) with ``while_out``: the waiting change that came after it, before
    #: which what changed while out goes if the definition is not sent (None: the end).
    anchor: OutboxEntry | None = None
    #: The models a local change had taken out that this one attached again (put back):
    #: out again should the server's value supersede it (``supersede``).
    put_back: tuple[Model, ...] = ()
    #: Definitions of this client's own models the change puts back (``Outbox._own``): sent
    #: with it if a taken change of this client took them out of the server's document
    #: before (``take``: nothing there may hold them), else left out (they are referred to).
    redefine: tuple[dict[str, Any], ...] = ()
    #: Those of ``redefine`` the patch carrying the change sent (``take``).
    redefined: tuple[dict[str, Any], ...] = ()
    #: The models a whole value holds that a change it superseded defined (carried): the
    #: server makes them from the carried definitions, and holds them once it takes this.
    adopted: tuple[str, ...] = ()
    #: When the change was made (``Outbox._serial`` then): the order of the definitions of
    #: a batch and of those carried (``take``).
    made: int = 0


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

    def __init__(self, alive: Callable[[str], bool] | None = None) -> None:
        #: The waiting changes, oldest first: read, never changed, outside (the outbox puts
        #: a new list here as it takes and drops changes). A client reads it on every server
        #: patch, where ``entries`` copied it and ``len`` was a call.
        self.waiting: list[OutboxEntry] = []
        # Whether a model of an id is in the document, or out of it and still held by
        # something (the application, a change waiting or in flight): one that is neither
        # can never be attached by a change of this client again (``_drop_gone``).
        self._alive = alive
        self._look_at = MIN_IDS_LOOKED_AT
        # Definitions (and their buffers) of superseded changes: the models they
        # attached may still be referred to by what is sent.
        self._carried: list[OutboxEntry] = []
        self._serial = 0
        #: The ids of the models the server holds, as far as this client knows: referred
        #: to, never defined (its client keeps it: ``hold``, ``forget``, ``held``).
        self.server_ids: set[str] = set()
        # The ids of the models a local change detached, until a local change attaches
        # them again (the oldest first). Each such model notes the names of the properties
        # changed while it is out (``Model.track_changes_out``): their values then are
        # sent (or kept with the change that defines the model, should the server hold it
        # when it is sent). Noted for models the server does not hold too: the patch
        # defining one may be unanswered, and its answer make the server hold it before
        # it is put back. Values used to be copied here as each model left: a page swapping
        # out big data sources copied every column and kept up to 1,024 of them.
        self._left: dict[str, None] = {}
        # How many waiting changes (and carried ones) define models, and whether the server
        # came to hold more models since ``take`` last looked at them: it decides again
        # whether each definition goes only then (most patches define none).
        self._defining = 0
        self._newly_held = False
        # The models this client defined that the server took (its answered patches: a
        # subset of ``server_ids``, bounded with it), and those of them that a change of this client the
        # server took has taken out since: nothing on the server may hold those any more (the
        # application may), and a put-back defines them again (``redefine``), where a
        # reference would name nothing and lose, its sender reset (protocol.md §9).
        self._own: set[str] = set()
        self._let_go: set[str] = set()
        # The models a server's change detached that were never this client's own (the
        # server's, another client's; the oldest first, as bounded as ``_left``): a put-back
        # of one refers to it, to lose, never defines it. The application may still hold it
        # (a client's take-out of one of two places it held it in, say, left it in the
        # document until the server's change detached it): defined, it was refused with the
        # whole patch (an id the server reserves, or a name a client may not give; seed
        # 3875583031).
        self._foreign: dict[str, None] = {}

    def __len__(self) -> int:
        return len(self.waiting)

    @property
    def entries(self) -> tuple[OutboxEntry, ...]:
        """The waiting changes, oldest first (a copy)."""
        return tuple(self.waiting)

    def held(self, model_ids: Any) -> None:
        """The server holds the models of ``model_ids`` now (the document pulled: replaces what was known)."""
        self.server_ids = set(model_ids)
        if self._foreign:
            self._foreign = {i: v for i, v in self._foreign.items() if i not in self.server_ids}
        self._left.clear()
        self._own.clear()
        self._let_go.clear()
        self._newly_held = True
        self._look_at = max(MIN_IDS_LOOKED_AT, 2 * len(self.server_ids))

    def hold(self, model_ids: Any) -> None:
        """The server holds these models too (its patch defined them, or it took this client's)."""
        self.server_ids.update(model_ids)
        if self._let_go:
            self._let_go.difference_update(model_ids)
        if self._foreign:
            for model_id in model_ids:
                self._foreign.pop(model_id, None)
        self._newly_held = True
        if len(self.server_ids) > self._look_at:
            self._drop_gone()

    def _drop_gone(self) -> None:
        """Forget the models nothing here holds any more (neither the document nor anything else).

        The server's change detaching a model makes this client forget it (``forget``);
        this client's own does not: it may attach the model again, a reference. One whose
        object is gone never comes back (a server's definition of its id would make a new
        one, held anew): without this, ``server_ids`` and ``_own`` kept every model this
        client took out for the whole session. Amortized: looked at once the ids have
        doubled since the last look.
        """
        alive = self._alive
        if alive is not None:
            gone = [model_id for model_id in self.server_ids if not alive(model_id)]
            if gone:
                self.server_ids.difference_update(gone)
                if self._own:
                    self._own.difference_update(gone)
                    self._let_go.difference_update(gone)
        self._look_at = max(MIN_IDS_LOOKED_AT, 2 * len(self.server_ids))

    def settle(self, taken: list[OutboxEntry]) -> None:
        """The server took these changes: it holds what they defined, and let go of this client's own they took out.

        Not what a later change of the batch took out again: only the document held those,
        and a put-back must define them (a reference to a model nothing holds loses).
        """
        held: dict[str, None] = {}
        own, let_go = self._own, self._let_go
        for entry in taken:
            for model_id in entry.departed:
                held.pop(model_id, None)
                if model_id in own:
                    let_go.add(model_id)
            for model in entry.put_back:
                let_go.discard(model.id)
            for definition in entry.references:
                held[definition["id"]] = None
            for definition in entry.redefined:
                held[definition["id"]] = None
            for model_id in entry.adopted:
                held[model_id] = None
        own.update(held)
        self.hold(held)

    def forget(self, model_ids: Any) -> None:
        """The server's change detached these models: it may no longer hold them.

        One a local change had taken out already (it notes what changes on it while out)
        stays among them: it is the server's, never this client's own, and a put-back of it
        goes as a reference (which loses if the server holds it no longer). Defined, it was refused with the
        whole patch: the application's id, or a name a client may not give (seed 5027).
        """
        left = self._left
        if left:
            model_ids = [model_id for model_id in model_ids if model_id not in left]
        foreign, own = self._foreign, self._own
        for model_id in model_ids:  # (a loop: per model a server's change detached)
            if model_id in self.server_ids and model_id not in own:
                foreign[model_id] = None
        if len(foreign) > MAX_LEFT_KEPT:
            for model_id in list(foreign)[: len(foreign) - MAX_LEFT_KEPT]:
                del foreign[model_id]
        self.server_ids.difference_update(model_ids)
        if self._own:
            self._own.difference_update(model_ids)
            self._let_go.difference_update(model_ids)

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
        still holds, unless the server holds them (``server_ids``); it is read only for an
        event that attaches models (``new_models``). ``departed`` finds a model that left the
        document (``Document.departed_model``), only for an event that detaches some: one the
        server holds, or may hold when the change attaching it again is sent, notes what
        changes while it is out when a change detaches it.
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
                entry = OutboxEntry(event, key, json, [], [], base, made=self._serial)
                for waiting in self.waiting:  # (a loop, no call: most often no change of this key waits)
                    if waiting.key == key:
                        entry.departed = self._superseded_departures(key, entry)
                        break
                self.waiting.append(entry)
                return entry
        made = self._serial  # (the changes noted while out, queued below, are made after it)
        entry_key: tuple[str, str] | None
        references: list[dict[str, Any]]
        buffers: list[tuple[str, Buffer]]
        if (
            type(event) is ListSplicedEvent
            and not event.new_models
            and type(event.items) is list
            and set(map(type, event.items)) <= _STR_ONLY
        ):
            # A splice of strings (a list of tags: most splices) is its JSON with its items
            # copied, as ``event_json`` writes it: no encoder, no buffers, no definitions.
            entry_key = (event.model.id, event.attr)
            json = {"kind": "ListSpliced", "model": {"id": entry_key[0]}, "attr": entry_key[1],
                    "index": event.index, "delete": event.delete, "items": list(event.items)}  # fmt: skip
            references, buffers = [], []
        else:
            entry_key = event.property_key()
            # Buffer ids must be unique in a message that gathers several encoded changes.
            encoder = Encoder(buffer_prefix=f"c{self._serial}.")
            if event.new_models:
                encoded = encode_events([event], encoder, attached)
                json, references = encoded["events"][0], encoded["references"]
            else:  # nearly every change attaches no model: no definitions to gather
                json, references = event_json(event, encoder), []
            # Its buffers are its own (see EncodedEvent): a later patch of the column in place
            # must not change a change waiting here, or in flight and resent after a resume.
            buffers = (
                [(buffer_id, frozen_buffer(data)) for buffer_id, data in encoder.buffers] if encoder.buffers else []
            )
        returning: list[str] = []
        redefine: tuple[dict[str, Any], ...] = ()
        if references and self.server_ids:
            # The server holds these: referred to (the JSON already does), not defined again.
            returning = [r["id"] for r in references if r["id"] in self.server_ids]
            if returning:
                own, left = self._own, self._left
                if own and left:  # (its own models taken out: their definitions kept aside, ``take``)
                    redefine = tuple(r for r in references if r["id"] in own and r["id"] in left)
                references = [r for r in references if r["id"] not in self.server_ids]
        if references and self._foreign:
            # Not held, yet never this client's: referred to (and lose), not defined.
            references = [r for r in references if r["id"] not in self._foreign]
        entry = OutboxEntry(event, entry_key, json, references, buffers, base, made=made)
        entry.redefine = redefine
        entry.departed = event.departed
        if references:
            self._defining += 1
            left = self._left
            if left:
                for definition in references:  # (a loop, no generator: per change attaching models)
                    if definition["id"] in left:
                        self._keep_while_out(entry, attached)
                        break
        if event.departed and departed is not None:
            self._keep_left(event.departed, departed)
        if isinstance(event, ListSplicedEvent):
            entry.splice = Splice(event.index, event.delete, len(event.items))
        if isinstance(event, ModelChangedEvent) and entry.key is not None:
            defined = {r["id"] for r in references}
            if not any(defined.intersection(e.departed) for e in self.waiting if e.key == entry.key):
                entry.departed = (*entry.departed, *self._superseded_departures(entry.key, entry))
            # (Else both go: the model an earlier value of it detached, the server still
            # holds, and takes its definition in a later patch, after that value: ``take``.)
        self.waiting.append(entry)
        for model_id in returning:
            if model_id in self._left:
                model = attached.get(model_id)
                if model is not None:
                    entry.put_back = (*entry.put_back, model)
            self._changed_while_out(model_id, attached, base)
        return entry

    def _keep_left(self, model_ids: tuple[str, ...], departed: Callable[[str], Model | None]) -> None:
        """Remember the models of ``model_ids`` as out of the document; each notes what changes on it while out."""
        left = self._left
        for model_id in model_ids:
            # (Remembered already, it may be another object of that id: a server's patch
            # defined it anew meanwhile, and this one notes nothing yet.)
            model = departed(model_id)
            if model is not None:
                model.track_changes_out()  # (names only: nothing copied, whatever its size)
                left[model_id] = None
        if len(left) > MAX_LEFT_KEPT:  # (bounded: models taken out and never put back)
            held = self.server_ids
            self._left = left = {i: v for i, v in left.items() if i in held}
            while len(left) > MAX_LEFT_KEPT:
                del left[next(iter(left))]
            self._let_go.intersection_update(left)

    def _changed_while_out(self, model_id: str, attached: Mapping[str, Model], base: int) -> None:
        """Queue a change for each value of model ``model_id`` (back in the document) that changed while it was out."""
        model = attached.get(model_id)
        self._left.pop(model_id, None)
        if model is None:
            return
        for event in _changes_out(model):
            self.add(event, base=base, attached=attached)

    def _keep_while_out(self, entry: OutboxEntry, attached: Mapping[str, Model]) -> None:
        """Keep with ``entry`` what changed on each model it defines since a local change took it out."""
        for definition in entry.references:
            model_id = definition["id"]
            was_left = model_id in self._left
            self._left.pop(model_id, None)
            model = attached.get(model_id)
            if model is None:
                continue
            if was_left:
                entry.put_back = (*entry.put_back, model)
            events = _changes_out(model)
            if not events:
                continue
            # Encoded now, as every change is, into a list of their own (not queued).
            waiting, self.waiting = self.waiting, []
            try:
                for event in events:
                    self.add(event, base=entry.base, attached=attached)
            finally:
                changes, self.waiting = self.waiting, waiting
            if changes:
                if entry.while_out is None:
                    entry.while_out = {}
                entry.while_out[model_id] = changes
                # (Counted when they are queued, if they are: ``_refer_to_held``.)
                self._defining -= sum(1 for change in changes if change.references)

    def _superseded_departures(self, key: tuple[str, str], following: OutboxEntry) -> tuple[str, ...]:
        """Drop the waiting changes of ``key`` (``supersede``); return the ids of the models they detached."""
        dropped = self.supersede(key, following)
        if not dropped:  # (nearly always)
            return ()
        carried = {definition["id"] for entry in dropped for definition in entry.references}
        carried.update(model_id for entry in dropped for model_id in entry.adopted)
        if carried:
            # Counted only by the changes' own definitions, such a model was not held: a later
            # put-back of it defined it again, refused with the whole patch (seed 4119971791).
            new = getattr(following.event, "new", None)
            following.adopted = tuple(dict.fromkeys(m.id for m in models_in(new) if m.id in carried))
        return tuple([i for e in dropped for i in e.departed])

    def supersede(self, key: tuple[str, str], following: OutboxEntry | None = None) -> list[OutboxEntry]:
        """Drop the waiting changes of property ``key`` (it has a whole new value); return them.

        ``following``: the change about to be queued after them (the new value), if any;
        None for the server's value, which wins over them: a model one of them put back is
        out again (``_left``), as the local change that took it out left it. One that took
        out a model a later waiting change of another property puts back (a move: out of
        this list, into another or the roots) stays, to lose at the server (``_doom``) with
        the patch of the put-back: there an event attaching a model an earlier rejected
        event of the patch was to take out loses too (§13 rule 7). Dropped, the put-back
        alone went, and the model was in two places (child moves, seed 6633).
        """
        for entry in self.waiting:  # (a loop, no generator: most often nothing to drop)
            if entry.key == key:
                break
        else:
            return []
        moves = self._moves_out_of(key) if following is None else ()
        # A carried change with ``while_out`` keeps its place (``anchor``): what changed while
        # its model was out goes there if the server comes to hold the model (``_refer_to_held``).
        anchored = [c for c in self._carried if c.while_out] if self._carried else []
        kept, dropped = [], []
        placing: list[OutboxEntry] = []
        for entry in self.waiting:
            if entry.key != key or (moves and entry in moves):
                kept.append(entry)
                if placing:
                    for carried in placing:
                        carried.anchor = entry
                    placing = []
                continue
            dropped.append(entry)
            if entry.references:
                self._carried.append(entry)
                if entry.while_out:  # (rare: a put-back of a model taken out, queued unanswered)
                    placing.append(entry)
            if anchored:
                placing += [carried for carried in anchored if carried.anchor is entry]
        for carried in placing:
            carried.anchor = following
        self.waiting = kept
        if following is None:
            for entry in dropped:
                if entry.put_back:  # (rare: a put-back lost to the server's value)
                    self._out_again(entry.put_back)
        return dropped

    def _moves_out_of(self, key: tuple[str, str]) -> list[OutboxEntry]:
        """The waiting changes of ``key`` that took out a model a later waiting change of another property puts back."""
        moves: list[OutboxEntry] = []
        put_back: set[str] = set()
        for entry in reversed(self.waiting):
            if entry.key != key:
                if entry.put_back:
                    put_back.update(model.id for model in entry.put_back)
            elif put_back and not put_back.isdisjoint(entry.departed):
                moves.append(entry)
        return moves

    def _out_again(self, models: tuple[Model, ...]) -> None:
        """The put-back of ``models`` lost to the server's value: they are out of the document again.

        The server's value takes them out of this client's list, where only the put-back had
        put them: that tells nothing of whether the server holds them (``forget`` leaves
        the ids of models out among those it holds). Forgotten, a model the server came to
        hold as the put-back waited (this client's new root, its defining patch answered by a
        resume's reply first) was defined again by a carried definition, and the server
        refused the whole patch (``duplicate model id``; child moves, seed 5201).
        """
        found = {model.id: model for model in models}
        self._keep_left(tuple(found), found.get)

    def _refer_to_held(self) -> None:
        """Send as references the definitions of waiting changes of models the server holds now.

        A change keeps the definitions decided when it was made: one made while the patch
        defining its model was unanswered (a model taken out and put back meanwhile, across
        a resume too) defines it, and the answer may make the server hold it before the
        change goes. The server refuses a definition of a model it holds (``duplicate model
        id``, the whole patch): the JSON of the change refers to the model by id already, so
        the definition is dropped, and what changed while the model was out (``while_out``)
        follows the change, as it does for a change made once the model was held.
        """
        held = self.server_ids
        following: list[tuple[int, list[OutboxEntry]]] = []  # (where, what changed while out)
        for index, entry in enumerate(self.waiting):
            if entry.references and self._refer(entry, held) and entry.while_out is not None:
                following += self._held_while_out(entry, index + 1, held)
        anchored: list[tuple[int, list[OutboxEntry]]] = []
        for entry in self._carried:
            if entry.references and self._refer(entry, held) and entry.while_out:
                # Superseded: what changed while out goes where the change was (before its anchor).
                where = next((i for i, e in enumerate(self.waiting) if e is entry.anchor), len(self.waiting))
                anchored += self._held_while_out(entry, where, held)
        if anchored:  # (at one place, a change's own go before those of carried ones, which came after it)
            following = sorted([*following, *anchored], key=lambda placed: placed[0])
        for index, changes in reversed(following):
            self.waiting[index:index] = changes

    def _held_while_out(self, entry: OutboxEntry, where: int, held: set[str]) -> list[tuple[int, list[OutboxEntry]]]:
        """Take from ``entry.while_out`` the changes of models in ``held``, to be queued at ``where``."""
        placed: list[tuple[int, list[OutboxEntry]]] = []
        while_out = entry.while_out or {}
        for model_id in [i for i in while_out if i in held]:
            changes = while_out.pop(model_id)
            placed.append((where, changes))
            self._defining += sum(1 for change in changes if change.references)
        return placed

    def _refer(self, entry: OutboxEntry, held: set[str]) -> bool:
        """Drop the definitions of ``entry`` of models in ``held``; tell whether it had any."""
        for definition in entry.references:  # (a loop, no generator: per waiting definition)
            if definition["id"] in held:
                break
        else:
            return False
        own = self._own
        if own and entry.put_back:
            # A put-back of its own model, now held: its definition kept aside, as ``add`` keeps it (``take``).
            back = {model.id for model in entry.put_back}
            kept = [r for r in entry.references if r["id"] in held and r["id"] in own and r["id"] in back]
            if kept:
                entry.redefine = (*entry.redefine, *kept)
        entry.references = [r for r in entry.references if r["id"] not in held]
        if not entry.references:
            self._defining -= 1
        return True

    def take(self, most: int = MAX_PATCH_EVENTS) -> Batch | None:
        """Take the oldest waiting changes that share one base, ``most`` at most, as a PATCH-DOC body, or None."""
        if not self.waiting:
            return None
        if self._newly_held:
            self.refer_to_held()
        waiting = self.waiting
        base = waiting[0].base
        most = min(most, MAX_PATCH_EVENTS)  # the rest follows in a patch of the same base
        count = 0
        departed: set[str] = set()
        for entry in waiting:  # (a loop, no generator: per patch sent)
            if entry.base != base or count >= most:
                break
            if departed and entry.references and any(r["id"] in departed for r in entry.references):
                # It defines a model an earlier change of the batch detached: the server holds
                # that one until the batch is applied, and refuses a patch defining a model it
                # holds (or one twice). The rest follows in a patch of its own, of the same base.
                break
            if entry.departed:
                departed.update(entry.departed)
            count += 1
        count = count or 1  # (at least the first)
        entries, self.waiting = waiting[:count], waiting[count:]
        if self._let_go:  # (rare: this client took out its own models, and the server took that)
            self._redefine(entries)
        carried: list[OutboxEntry] = []  # (a list of the batch's own: ``_carried`` grows on)
        if self._carried:
            # A carried definition goes with the first batch holding a change made after it:
            # only such a change may refer to its model. Sent with a batch of older changes
            # alone, it named a model nothing there attached (the server makes nothing of it),
            # and the batch of the later changes defined the model only by a later change
            # (child moves, seed 5700000727).
            last = max(entry.made for entry in entries)
            carried = [c for c in self._carried if c.made < last]
            self._carried = [c for c in self._carried if c.made >= last]  # (kept, never dropped)
        sources = [*carried, *entries] if carried else entries
        seen: dict[str, int] = {}
        references: list[dict[str, Any]] = []
        # A model defined both by a change of the batch and by a carried definition is defined
        # as the one made first had it: the batch's changes of it made after that apply on top.
        # The batch's own may be the later (a model attached by a change of the batch, changed
        # by the next, taken out and put back by a change the server's value superseded: the
        # carried definition had the change, applied twice; child moves, seed 3591), or the
        # carried one (a model a splice attached, changed by the batch's next changes, then
        # attached again by one of them, the splice superseded by a whole value: the batch's
        # own definition had the changes, and deleting a tag was out of range; seed 5700000727).
        made: list[int] = []  # (when each of ``references`` was made)
        for index, entry in enumerate([*entries, *carried] if carried else entries):
            if entry.references:
                self._defining -= 1
            for definition in (*entry.references, *entry.redefined) if entry.redefined else entry.references:
                # The server refuses a model defined twice in one patch.
                at = seen.get(definition["id"])
                if at is None:
                    seen[definition["id"]] = len(references)
                    references.append(definition)
                    made.append(entry.made)
                elif index >= count and entry.made < made[at]:  # (a carried one, made first)
                    references[at], made[at] = definition, entry.made
        buffers = [buffer for entry in sources for buffer in entry.buffers]
        content = {"events": [e.json for e in entries], "references": references, "base": base}
        return Batch(content, buffers, base, entries, carried)

    def refer_to_held(self) -> None:
        """Refer to the models the server came to hold since a waiting change defined them (``take`` does too)."""
        if self._newly_held:
            # A definition decided when its change was made may name a model the server has
            # come to hold since (an answer, a resume's): sent, the server would refuse the
            # whole patch (``duplicate model id``; convergence workload, seed 5118).
            self._newly_held = False
            if self._defining:  # (rare: most waiting changes define nothing)
                self._refer_to_held()

    def _redefine(self, entries: list[OutboxEntry]) -> None:
        """Send with each change the definitions of the models it puts back that the server let go of (``_let_go``).

        Nothing on the server may hold such a model: a reference would name nothing and
        lose. The server reads a definition of one the application still holds as the
        reference (what changed while out follows either way). Not one an earlier change of
        the batch took out: the server holds it while it reads the definitions.
        """
        let_go = self._let_go
        out: set[str] = set()
        for entry in entries:
            if entry.redefine:
                entry.redefined = tuple(d for d in entry.redefine if d["id"] in let_go and d["id"] not in out)
            if entry.departed:
                out.update(entry.departed)

    @property
    def redefining(self) -> bool:
        """Tell whether a waiting change keeps definitions of this client's own models it puts back."""
        if not self._own or not self.waiting:  # (most often: nothing waits, or nothing of its own)
            return False
        for entry in self.waiting:  # (a loop, no generator: per server patch and splice)
            if entry.redefine:
                break
        else:
            return False
        return True

    def redefining_at(self, model_id: str) -> list[tuple[int, OutboxEntry]]:
        """The waiting changes keeping a definition of ``model_id`` (a put-back), with their places."""
        return [(i, e) for i, e in enumerate(self.waiting) if any(d["id"] == model_id for d in e.redefine)]

    def position(self, entry: OutboxEntry) -> int:
        """Where ``entry`` stands among the waiting changes (-1: taken, in flight, before them all)."""
        for i, waiting in enumerate(self.waiting):
            if waiting is entry:
                return i
        return -1

    def refresh_redefined(
        self, events: list[DocumentEvent], at_put_backs: dict[tuple[int, int], Splice] | None = None
    ) -> None:
        """Bring the kept definitions of waiting put-backs (``redefine``) up to date with the server's ``events``.

        Such a definition is the model's state when the put-back was made; a server change
        of the model applied after it (a correction of a change of it that lost) changes
        the model here, and the server, which makes the model anew from the definition,
        would never see it: the client kept the correction, the server the state before it
        (child moves in memory, seed 1414213825). Each property the server changed is
        written again from the model, unless a waiting change of it follows the put-back
        (it would apply twice): a whole value of the server's superseded those (``supersede``).
        """
        waiting = self.waiting
        for index, entry in enumerate(waiting):
            if not entry.redefine:
                continue
            kept = {definition["id"]: definition for definition in entry.redefine}
            for event in events:
                key = event.property_key()
                if key is None or key[0] not in kept:
                    continue
                model = getattr(event, "model", None)
                if model is None:
                    continue
                if any(later.key == key for later in waiting[index + 1 :]):
                    # The model's value has those later changes: the server's splice goes into
                    # the definition where it stood at the put-back (seed 3141594177).
                    at = (at_put_backs or {}).get((id(event), id(entry)))
                    if at is None or not isinstance(event, ListSplicedEvent):
                        continue
                    self._serial += 1
                    encoder = Encoder(buffer_prefix=f"c{self._serial}.")
                    definition = kept[key[0]]
                    attributes = dict(definition["attributes"])
                    items = list(attributes.get(key[1], []))
                    items[at.index : at.index + at.delete] = [encoder.encode(item) for item in event.items]
                    attributes[key[1]] = items
                    kept[key[0]] = {**definition, "attributes": attributes}
                    if encoder.buffers:
                        entry.buffers = [*entry.buffers, *((i, frozen_buffer(d)) for i, d in encoder.buffers)]
                    continue
                self._serial += 1
                encoder = Encoder(buffer_prefix=f"c{self._serial}.")
                value = getattr(model, key[1])
                definition = kept[key[0]]
                attributes = dict(definition["attributes"])
                if is_empty_default(model, key[1], value):
                    attributes.pop(key[1], None)
                else:
                    attributes[key[1]] = encoder.encode(value)
                kept[key[0]] = {**definition, "attributes": attributes}
                if encoder.buffers:
                    entry.buffers = [*entry.buffers, *((i, frozen_buffer(d)) for i, d in encoder.buffers)]
            entry.redefine = tuple(kept.values())

    def splice_redefined(
        self,
        key: tuple[str, str],
        placed: list[tuple[OutboxEntry, Splice]],
        items: list[Any],
        buffers: Mapping[str, Buffer],
    ) -> None:
        """Splice the server's ``items`` (wire JSON) of list ``key``, skipped here, into waiting put-backs' definitions.

        ``placed``: each put-back with the splice where it stands there. The model was out
        of the document when the splice came (taken out again by a later waiting change), so
        it does not have it; the server made the model from the definition, and shifted this
        client's later splices of the list past the server's: its next one was refused as
        out of range (child moves in memory, seed 2869534871). The model's object, out, takes
        the splice where it stands now (``ClientProtocol._splice_departed``, seed 2138669479).
        """
        model_id, attr = key
        for entry, at in placed:
            kept = list(entry.redefine)
            for i, definition in enumerate(kept):
                if definition["id"] != model_id:
                    continue
                attributes = dict(definition["attributes"])
                values = attributes.get(attr, [])
                if type(values) is not list or at.index + at.delete > len(values):
                    continue  # (not the list the splice was made on: the server's correction follows)
                self._serial += 1
                taken: list[tuple[str, Buffer]] = []
                values = list(values)
                values[at.index : at.index + at.delete] = _rekeyed(items, buffers, f"c{self._serial}.", taken)
                attributes[attr] = values
                kept[i] = {**definition, "attributes": attributes}
                if taken:
                    entry.buffers = [*entry.buffers, *taken]
            entry.redefine = tuple(kept)

    def restore(self, batch: Batch) -> None:
        """Put a batch ``take`` returned back, first, as if it had not been taken."""
        for entry in batch.entries:
            entry.redefined = ()
        self.waiting = [*batch.entries, *self.waiting]
        self._carried = [*batch.carried, *self._carried]
        self._defining += sum(1 for entry in [*batch.entries, *batch.carried] if entry.references)

    def drain(self) -> list[OutboxEntry]:
        """Remove and return every waiting change (the document is being replaced)."""
        entries, self.waiting, self._carried = self.waiting, [], []
        self._left.clear()
        self._own.clear()
        self._let_go.clear()
        self._defining = 0
        return entries


def _rekeyed(value: Any, buffers: Mapping[str, Buffer], prefix: str, taken: list[tuple[str, Buffer]]) -> Any:
    """A copy of wire JSON ``value`` whose binary values name buffers of their own (``prefix``), added to ``taken``."""
    kind = type(value)
    if kind is list:
        return [_rekeyed(item, buffers, prefix, taken) for item in value]
    if kind is not dict:
        return value
    copied = {name: _rekeyed(item, buffers, prefix, taken) for name, item in value.items()}
    buffer_id = value.get("buffer")
    if "type" in value and type(buffer_id) is str and buffer_id in buffers:  # (a typed value's, never a plain object's)
        copied["buffer"] = f"{prefix}{len(taken)}"
        taken.append((copied["buffer"], frozen_buffer(buffers[buffer_id])))
    return copied


def _changes_out(model: Model) -> list[ModelChangedEvent]:
    """A change for each property of ``model`` changed while it was out of the document, with its value now.

    A value set while out and set back goes too, with the value the server has: where the
    change that took the model out reached the server, it touched all of the model, and
    another origin's change of it crossing the move loses anyway (protocol.md §9).
    """
    names = model.changed_out()
    if not names:
        return []
    return [ModelChangedEvent(model, attr, None, getattr(model, attr)) for attr in names]
