"""A browser's event naming a model that the app's callback of an earlier event of its patch took out: left out.

Bokeh reads every reference of a patch before its first event runs. A patch whose first
event makes the app's callback take a view out (a Select showing one of two views) and
whose next adds that view as a root put the hidden view back, for every tab. From a
later patch the same reference names a model that left: Bokeh drops that patch whole
(crossed.py). Within the patch, the events before ran their callbacks already: the
event that names such a model is left out (and so is a later event of a property one
left out changed), and its sender is sent the server's values (``crossed_corrections``),
as for a dropped patch. A model the patch's own earlier event took out (a view moved
from one layout to another by two changes) may still be named.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bokeh.model import Model
from bokeh.model.util import collect_models

__all__ = ["Withdrawals"]


def _may_hold_models(model: Model, attr: Any) -> bool:
    """Whether ``model``'s property ``attr`` may hold models (a source's data may not: never walked)."""
    descriptor = model.lookup(attr, raises=False) if isinstance(attr, str) else None
    return descriptor is not None and bool(descriptor.property.has_ref)


def _attached(event: dict[str, Any]) -> list[Model]:
    """The models ``event`` attaches (a root, or those in a new value), and all they reach."""
    kind, target = event.get("kind"), event.get("model")
    if not isinstance(target, Model):
        return []
    if kind == "RootAdded":
        return list(target.references())
    if kind == "ModelChanged" and _may_hold_models(target, event.get("attr")):
        return collect_models(event.get("new"))
    return []


class Withdrawals:
    """While one patch applies: the models it names that others' changes (the app's callbacks) took out."""

    __slots__ = ("_document", "_lost", "_named", "_released", "_setter", "withdrawn")

    def __init__(self, document: Any, events: Iterable[dict[str, Any]], setter: Any) -> None:
        self._document, self._setter = document, setter
        # The models of the document the patch names: those it attaches by reference, and
        # those its events after the first change (the first runs before any callback).
        named: dict[str, Model] = {}
        for at, event in enumerate(events):
            for model in _attached(event):
                if model.document is document:
                    named[model.id] = model
            target = event.get("model")
            if at and isinstance(target, Model) and target.document is document:
                named[target.id] = target
        self._named = named
        #: Ids of the named models the patch's own events may have taken out (moved: theirs to name).
        self._released: set[str] = set()
        #: Ids of the named models another origin's change took out while the patch applied.
        self.withdrawn: set[str] = set()
        self._lost: set[tuple[str, str]] = set()

    def __bool__(self) -> bool:
        return bool(self._named)

    def changed(self, event: Any) -> None:
        """A document change (its listener): another origin's may have taken out a named model."""
        if getattr(event, "setter", None) is self._setter:
            return
        document, released = self._document, self._released
        for model_id, model in self._named.items():
            if model.document is not document and model_id not in released:
                self.withdrawn.add(model_id)

    def before(self, event: dict[str, Any]) -> None:
        """The patch's ``event`` is about to apply: what its own change may take out is its to name later."""
        kind, target = event.get("kind"), event.get("model")
        if not isinstance(target, Model):
            return
        if kind == "RootRemoved":
            reached = target.references()
        elif kind == "ModelChanged" and _may_hold_models(target, event.get("attr")):
            reached = set(collect_models(getattr(target, event["attr"], None)))
        else:
            return
        named = self._named
        self._released.update(model.id for model in reached if model.id in named)

    def names_withdrawn(self, event: dict[str, Any]) -> bool:
        """Whether ``event`` names a withdrawn model, or changes a property an event left out changed (to leave out)."""
        withdrawn, target = self.withdrawn, event.get("model")
        attr = event.get("attr")
        key = (target.id, attr) if isinstance(target, Model) and isinstance(attr, str) else None
        left_out = (
            (isinstance(target, Model) and target.id in withdrawn)
            or (key is not None and key in self._lost)
            or any(model.id in withdrawn for model in _attached(event))
        )
        if left_out and key is not None:
            self._lost.add(key)
        return left_out
