"""Events on models a patch brought that never join the document, and events naming models that left it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..document import DocumentEvent, Model
from ..document import events as ev

__all__ = ["gone_properties", "left_out_targets", "names_unheld_model", "stray_events"]

#: The event fields whose values may hold models the event attaches.
_VALUE_FIELDS = ("new", "items", "columns", "data")


def _models(value: Any) -> Iterator[Model]:
    if isinstance(value, Model):
        yield value
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _models(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _models(key)
            yield from _models(item)


def stray_events(events: list[DocumentEvent], new_models: Mapping[str, Model]) -> list[DocumentEvent]:
    """Return the events of ``events`` on models of ``new_models`` that none of ``events`` attaches.

    A model a patch defines joins the document only through an event that attaches it
    (a RootAdded, or a value that holds it, directly or through other models the patch
    defines). When every such event lost, the patch's other events on that model would
    change nothing anyone holds: they lose too.
    """
    if not new_models:
        return []
    attached: set[str] = set()
    pending: list[Model] = []
    for event in events:
        if isinstance(event, ev.RootAddedEvent):
            pending.append(event.model)
        for name in _VALUE_FIELDS:
            pending.extend(_models(getattr(event, name, None)))
    while pending:
        model = pending.pop()
        if model.id in new_models and model.id not in attached:
            attached.add(model.id)
            pending.extend(model.references())
    strays = []
    for event in events:
        target = getattr(event, "model", None)
        if target is not None and target.id in new_models and target.id not in attached:
            strays.append(event)
    return strays


def left_out_targets(raws: list[Any], kept: list[int]) -> Iterator[tuple[Any, str | None, str | None]]:
    """The events of ``raws`` left out (not in ``kept``), in order: kind, model id and attr (None unless strings).

    Events that are not objects are passed over (the decoder refused those already).
    """
    for index in sorted(set(range(len(raws))).difference(kept)):
        raw = raws[index]
        if type(raw) is not dict:
            continue
        ref, attr = raw.get("model"), raw.get("attr")
        model_id = ref.get("id") if type(ref) is dict else None
        yield raw.get("kind"), model_id if type(model_id) is str else None, attr if type(attr) is str else None


def gone_properties(raws: list[Any], kept: list[int], *held: Mapping[str, Model]) -> tuple[bool, list[tuple[str, str]]]:
    """What the sender holds otherwise than the server, for the events of ``raws`` left out (not in ``kept``).

    An event is left out when it names a model the document does not hold (one that left
    it in a change its sender had not seen). A ``RootAdded`` of such a model leaves it a
    root in the sender's document (the first result: the roots); an event on a model held
    whose value names such a model (a model of ``held``: the document's, the patch's) leaves
    that value in the sender's (the properties, as ``(model id, attr)``). Each must be
    corrected; an event on a model gone need not be: the sender receives (or received) the
    change that removed it.
    """
    roots = False
    properties: list[tuple[str, str]] = []
    for kind, model_id, attr in left_out_targets(raws, kept):
        if kind == "RootAdded":
            roots = True
        elif model_id is not None and attr is not None and any(model_id in models for models in held):
            properties.append((model_id, attr))
    return roots, properties


def _referenced_ids(value: Any) -> Iterator[str]:
    if type(value) is list:
        for item in value:
            yield from _referenced_ids(item)
    elif type(value) is dict:
        if len(value) == 1 and type(value.get("id")) is str:  # a reference (protocol.md §5)
            yield value["id"]
            return
        for item in value.values():
            yield from _referenced_ids(item)


def names_unheld_model(definitions: Any, held: Mapping[str, Model]) -> bool:
    """Whether a definition of ``definitions`` (a PATCH-DOC's ``references``) names a model neither held nor defined."""
    if type(definitions) is not list:
        return False
    defined = {d.get("id") for d in definitions if type(d) is dict}
    return any(
        ref not in held and ref not in defined
        for definition in definitions
        if type(definition) is dict
        for ref in _referenced_ids(definition.get("attributes"))
    )
