"""Callbacks registered on a document, kept as data for the server to schedule."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["CallbackKind", "SessionCallback"]

CallbackKind = Literal["next_tick", "timeout", "periodic"]
_callback_ids = itertools.count(1)


@dataclass(slots=True, eq=False)
class SessionCallback:
    """One next-tick, timeout or periodic callback; ``delay`` is in seconds."""

    callback: Callable[[], Any]
    kind: CallbackKind
    delay: float = 0.0
    #: Run with the session lock held (the default) or without it.
    locked: bool = True
    id: int = field(default_factory=lambda: next(_callback_ids))

    def describe(self) -> str:
        """Return a short text for logs and the admin."""
        name = getattr(self.callback, "__qualname__", repr(self.callback))
        if self.kind == "next_tick":
            return f"next tick: {name}"
        return f"{self.kind} {self.delay:g}s: {name}"
