"""Which connection's change last detached each model that left the document, for its own references back.

A client that takes a model out of a layout and puts it back (children reordered by a
removal and an insertion) refers to it, since the server holds it: in one patch the
reference is read while the model is still in the document; in a later patch of that
client (the removal answered, or sent ahead) it has left it. A reference from the
client whose own change detached it then names the model the document last held under
that id, still held by the application (``Document.departed_model``). From anyone else
it names a model that left in a change they had not seen, and loses (protocol.md §13).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..document import Document, Model

__all__ = ["MAX_DETACHED_KEPT", "DetachedBy"]

#: Most detachers kept; past it, those of models no longer held anywhere are forgotten
#: (and the bound grows to twice those still held, so that a sweep costs once per as many records).
MAX_DETACHED_KEPT = 4096

_MISSING = object()


class DetachedBy:
    """The origin (a connection's id, or None for the application) of the change that last detached each model."""

    __slots__ = ("_by", "_document", "_limit", "_origins")

    def __init__(self, document: Document) -> None:
        self._document = document
        self._by: dict[str, Any] = {}
        # How many of ``_by`` each origin detached: a patch asks whether its origin detached
        # any at every patch (``known_to``); scanning ``_by`` for it cost 0.8 ms a patch
        # once a client had taken out the root of an application holding 5,000 models.
        self._origins: dict[Any, int] = {}
        self._limit = MAX_DETACHED_KEPT

    def __bool__(self) -> bool:
        return bool(self._by)

    def record(self, origin: Any, departed: tuple[str, ...]) -> None:
        """``origin``'s change detached the models of ``departed``."""
        by, origins = self._by, self._origins
        for model_id in departed:
            before = by.get(model_id, _MISSING)
            if before is not _MISSING:
                _forget(origins, before)
            by[model_id] = origin
            origins[origin] = origins.get(origin, 0) + 1
        if len(by) > self._limit:
            # Swept at most once per as many records as it keeps: when every model it
            # kept was still held (the application keeps them), each detaching event
            # swept them all again (a 45 KB patch of 450 such events: 1.2 s, not 0.05 s).
            held = self._document.departed_model
            self._by = {i: o for i, o in by.items() if held(i) is not None}
            self._origins = {}
            for kept in self._by.values():
                self._origins[kept] = self._origins.get(kept, 0) + 1
            self._limit = max(MAX_DETACHED_KEPT, 2 * len(self._by))

    def attached(self, models: list[Any]) -> None:
        """These models are in the document again (a change attached them)."""
        by, origins = self._by, self._origins
        for model in models:
            before = by.pop(model.id, _MISSING)
            if before is not _MISSING:
                _forget(origins, before)

    def known_to(self, origin: Any) -> Mapping[str, Model]:
        """The models a patch of ``origin`` may name: the document's, and those its own change detached."""
        if origin is None or origin not in self._origins:
            return self._document.models
        return _WithOwnDetached(self._document, self._by, origin)


def _forget(origins: dict[Any, int], origin: Any) -> None:
    left = origins[origin] - 1
    if left:
        origins[origin] = left
    else:
        del origins[origin]


class _WithOwnDetached(Mapping[str, Model]):
    """The document's models, and the held ones that left it by ``origin``'s change."""

    __slots__ = ("_by", "_document", "_models", "_origin", "departed_named")

    def __init__(self, document: Document, by: dict[str, Any], origin: Any) -> None:
        self._document, self._models, self._by, self._origin = document, document.models, by, origin
        #: The models out of the document this mapping gave, by id (the patch names them to put them back).
        self.departed_named: dict[str, Model] = {}

    def get(self, key: str, default: Any = None) -> Any:
        model = self._models.get(key)
        if model is None and self._by.get(key, self) == self._origin:
            model = self._document.departed_model(key)
            if model is not None:
                self.departed_named[key] = model
        return model if model is not None else default

    def __getitem__(self, key: str) -> Model:
        model = self.get(key)
        if model is None:
            raise KeyError(key)
        return model  # type: ignore[no-any-return]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._models)

    def __len__(self) -> int:
        return len(self._models)
