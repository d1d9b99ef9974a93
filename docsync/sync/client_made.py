"""The models clients defined that a session's document holds: what ``MAX_CLIENT_MODELS`` bounds."""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

from ..document import Document, Model

__all__ = ["ClientMadeModels"]


class ClientMadeModels:
    """The models clients defined that the document still holds, each counted once.

    A model counts from the change that defines it until it leaves the document. A
    client sends a model it detached and attached again in one batch as two patches,
    the second defining it again (the first detached it): counted by definitions, it
    took two of the budget, and every model a client ever removed kept its place. The
    document remembers nothing of a model that left it, so nothing grows with churn.
    """

    __slots__ = ("_counted", "_document", "_models")

    def __init__(self, document: Document) -> None:
        self._document = document
        # Weak: a model that left the document is not kept alive by being counted. None
        # until a client defines one: most sessions' clients never do, and an empty
        # WeakValueDictionary is 728 bytes per session (bench/budget.py).
        self._models: weakref.WeakValueDictionary[str, Model] | None = None
        # The last count, and the document's change it was made at (``count``'s ``version``).
        self._counted: tuple[Any, int] | None = None

    def count(self, version: Any = None) -> int:
        """How many of them the document holds now (at most ``MAX_CLIENT_MODELS``; those gone are forgotten).

        ``version``: the document's changes counted so far (None: not known). Asked again at
        the same one, the last count is the answer: every patch defining a model asked,
        and each walked every model clients made (1,000: 0.24 ms for a 214-byte patch).
        """
        last = self._counted
        if version is not None and last is not None and last[0] == version:
            return last[1]
        counted = self._models
        if counted is None:
            return 0
        held = self._document.models
        for model_id, model in list(counted.items()):
            if held.get(model_id) is not model:
                del counted[model_id]
        if version is not None:
            self._counted = (version, len(counted))
        return len(counted)

    def add(self, models: Mapping[str, Model]) -> None:
        """Count ``models``, defined by a client's change (those it did not attach go at the next count)."""
        if self._models is None:
            self._models = weakref.WeakValueDictionary()
        self._models.update(models)
        self._counted = None

    def replace(self, models: Mapping[str, Model]) -> None:
        """Count ``models`` alone: a pushed document's, or those a restored session's clients had defined."""
        self._models = weakref.WeakValueDictionary(models) if models else None
        self._counted = None
