"""A server patch that defines a model this client still holds: the model was made anew there.

The server defines a model in a patch only where an event attaches one its document
does not hold (or in a correction, which defines every model its value reaches, held or
not). A client holds such a model where its own unanswered changes kept it: it skipped
the server's removal of it (its own splices of that list conflicted, their list's whole
value following), or its own put-back of it waits. Keeping its own (as for a correction)
left it with the values it had before the removal, where the server and every other
client had the definition's: the model was put back by the client that took it out,
made anew from that client's copy (convergence in memory with child moves, seed
4000000111: a card's label and value differed for good). So a definition that a RootAdded,
ListSpliced or DictItemsSet attaches is laid over the model held, as changes right after
that event, which the client's pending changes of those properties then lose to.

But not where the client holds the model where the server does too (no list of its own
unanswered changes, nor one left stale, keeps it there): the server held it, the event
naming it moved it (into a second layout), and the definition is a correction's later in
the patch, as the patch's end left it (child moves in memory, seed 65476519: laid over, a
splice of its tags after the move was applied twice, and the client's own lost).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from typing import Any

from ..document import DocumentEvent, Model
from ..document import events as ev
from ..document.properties import models_in
from ..document.pulled import definition_changes
from ..document.wire import definition_parts, resolver
from ..exceptions import DeserializationError
from ..serialization import Buffer, Decoder

__all__ = ["redefined"]

#: The events whose definitions name models the server did not hold (a whole value may be a correction).
_ATTACHING_ANEW = (ev.RootAddedEvent, ev.ListSplicedEvent, ev.DictItemsSetEvent)


def redefined(
    events: list[DocumentEvent],
    definitions: Any,
    held: Mapping[str, Model],
    new_models: Mapping[str, Model],
    buffers: Mapping[str, Buffer],
    *,
    setter: Any,
    max_array_elements: int,
    missed: Set[str] = frozenset(),
    server_held: Callable[[], Set[str]] | None = None,
    laid: list[DocumentEvent] | None = None,
) -> list[DocumentEvent]:
    """``events`` with the changes a definition makes to a held model after the event attaching it.

    ``missed``: held models whose server changes this client skipped (it had taken them
    out, its change unanswered); a correction's definition of those is laid over them too.
    ``server_held``: returns the models the client holds where the server holds them too;
    a definition of one of those (not missed) is a correction's, as the patch's end left
    it, not one made anew: the event naming it before moved it, and is kept as it is.
    ``laid``: where given, gets the changes made laying a whole value's definition over a
    missed model: the server's state before this client's unanswered changes of it, which
    apply after them (they do not lose to them, unlike a definition an attaching event made).
    """
    if type(definitions) is not list:
        return events
    kept: dict[str, dict[str, Any]] = {}
    for definition in definitions:
        try:
            model_id, name, attributes = definition_parts(definition)
        except DeserializationError:
            continue
        model = held.get(model_id)
        if model is None or model_id in new_models or model.__type_name__ != name or type(attributes) is not dict:
            continue
        kept[model_id] = attributes
    if kept and server_held is not None:
        # A model the server held too, moved by the event that names it (into a second
        # layout, say) and reached by a correction later in the patch, is defined by that
        # correction, with the patch's later changes of it: laid over, a splice of its
        # list after the move was applied twice (child moves in memory, seed 65476519).
        there = server_held()
        kept = {model_id: values for model_id, values in kept.items() if model_id in missed or model_id not in there}
    if not kept:  # (nearly always: a server patch defines models the client does not hold)
        return events

    decoder = Decoder(buffers, resolve_ref=resolver(new_models, held), max_array_elements=max_array_elements)
    done: set[str] = set()
    held_on = _held_on(events, kept)
    result: list[DocumentEvent] = []
    for event in events:
        result.append(event)
        whole = False
        if isinstance(event, ev.ModelChangedEvent) and missed:
            # A whole value (a correction, or a whole-list set) reaching a model whose
            # server changes this client skipped: only those take the definition.
            try:
                if not type(event.model).lookup(event.attr).may_hold_models:
                    continue
            except AttributeError:
                continue
            stack: list[Any] = [m for m in models_in(event.new) if m.id in missed]
            whole = True
        elif not isinstance(event, _ATTACHING_ANEW):
            continue
        elif isinstance(event, ev.RootAddedEvent):
            if id(event) in held_on:
                continue  # (the server held it elsewhere: the definition is a later correction's)
            stack = [event.model]
        else:
            try:
                if not type(event.model).lookup(event.attr).may_hold_models:
                    continue
            except AttributeError:
                continue
            stack = list(models_in(event.items))
        while stack:  # what the event attaches: the models it names, and those they reach
            model = stack.pop()
            model_id = model.id
            if model_id in done:
                continue
            done.add(model_id)
            attributes = kept.get(model_id)
            if attributes is None:
                if model_id in new_models:
                    stack.extend(model.references())
                continue
            stack.extend(model.references())
            try:
                changes = definition_changes(model, attributes, decoder)
            except DeserializationError:
                continue  # (not readable against this document: the server's corrections follow)
            for attr, value in changes:
                result.append(ev.ModelChangedEvent(model, attr, None, value, setter))
                if whole and laid is not None:
                    laid.append(result[-1])
                prop = type(model).lookup(attr)
                if prop.may_hold_models:
                    stack.extend(prop.iter_models(value))
    return result


def _held_on(events: list[DocumentEvent], kept: Mapping[str, Any]) -> set[int]:
    """The RootAddedEvents (by ``id``) of a defined model the server held elsewhere before them.

    The server defines no model an earlier event of the same patch detached (§9): it gives
    the changes from such an attachment another position. So where a root added is removed
    again in the patch and a later whole value (a correction) still reaches it, the removal
    detached nothing: the server held the model elsewhere all along, the root added did not
    make it anew, and the definition is that correction's, as the patch's end left it. Laid
    over right after the root added, the patch's later changes of the model applied twice
    (child moves in memory, seed 948610247: a client reaching it through a list left stale).
    """
    added: dict[str, int] = {}
    removed: dict[str, int] = {}
    result: set[int] = set()
    for event in events:
        if isinstance(event, ev.RootAddedEvent):
            if event.model.id in kept:
                added[event.model.id] = id(event)
        elif isinstance(event, ev.RootRemovedEvent):
            if event.model.id in added:
                removed[event.model.id] = added.pop(event.model.id)
        elif added or removed:
            value = event.new if isinstance(event, ev.ModelChangedEvent) else getattr(event, "items", None)
            for model in models_in(value) if value is not None else ():
                if model.id in removed and isinstance(event, ev.ModelChangedEvent):
                    result.add(removed.pop(model.id))
                # Attached in a second place meanwhile: the removal may have detached nothing
                # because of that one; the root added may have made it anew (nothing said).
                added.pop(model.id, None)
    return result
