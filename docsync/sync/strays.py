"""Events on models a patch brought that never join the document (the event that would attach them lost)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..document import DocumentEvent, Model
from ..document import events as ev

__all__ = ["stray_events"]

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
