"""Bokeh dialect: what one client patch attaches, each time with all it reaches (docsync/sync/attachments.py's bounds).

A BokehJS patch of ``[RootRemoved r, RootAdded r]`` pairs of a held root is applied pair
by pair, and each ``RootAdded`` defines the root again, with all it reaches, in a
PATCH-DOC of its own for every other connection: 50 pairs (5 KB) of a root whose Div the
application had padded to 100 KiB sent 5.1 MB to another tab. The same bounds as
docsync's dialect: models at most twice those of the document and the patch (or 1,000),
bytes at most twice those of the models attached, each once (or 1 MiB).

Nor patch after patch: each one-move patch (100 bytes) of that root sent 100 KiB to
every other tab, 100 of them 10.3 MB in a quarter of a second. As in docsync's dialect
(protocol.md §13), what a session's put-backs make it define again for the other tabs
takes from a bucket of 1 MiB at once, then 256 KiB a second (``Reattachments``); while it
owes, a patch attaching a model the document holds is refused. A put-back of any size is
taken while the bucket is full, and leaves it owing a burst at most (a plot whose source
is over 2 MiB still moves between layouts; one 20 MB put-back had left it owing 80 s);
otherwise one past what it holds and a burst owed is refused (``ByteBucket.room``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from bokeh.model import Model

from ..exceptions import PatchError
from ..sync.attachments import (
    MAX_ATTACH_FACTOR,
    MAX_ATTACHED_BYTES_FLOOR,
    MAX_ATTACHED_FLOOR,
    Attached,
    most_attached,
    put_back_refusal,
)
from ..sync.byte_bucket import ByteBucket
from ..sync.sequencer import CORRECTION_BURST, MAX_CORRECTION_BYTES
from .footprint import model_size

__all__ = ["Reattachments", "check_attachments"]


class Reattachments:
    """A session's bucket of what its browsers' put-backs make it send every other tab (protocol.md §13)."""

    __slots__ = ("_new", "bucket")

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.bucket = ByteBucket(MAX_CORRECTION_BYTES, CORRECTION_BURST * MAX_CORRECTION_BYTES, clock)
        # The ids of the models the patch being applied defines, once it attaches a model the
        # document held (``check``); None: nothing to charge.
        self._new: frozenset[str] | None = None

    def check(self, new_models: list[Any], size: int) -> None:
        """Refuse (PatchError) a patch attaching a model the document holds while the bucket owes, or past its room.

        ``size``: what the patch's put-backs define again, estimated (erring large): any
        size while the bucket is full, else what it holds and a burst owed (``ByteBucket.room``).
        """
        refusal = put_back_refusal(size, self.bucket)
        if refusal is not None:
            raise PatchError(refusal)
        self._new = frozenset(model.id for model in new_models)

    def charge(self, encoded: Iterable[Any], origin: Any) -> None:
        """Take from the bucket what ``origin``'s patch, checked, made the session define again (may owe)."""
        new, self._new = self._new, None
        if new is None:  # (nearly every patch: it attached no model the document held)
            return
        owed = sum(e.nbytes for e in encoded if e.origin is origin and e.defines and not new.issuperset(e.defines))
        if owed:
            self.bucket.owe(owed, at_most_a_burst=True)  # (taken while full, of any size: ``room``)


def _models_in(value: Any) -> list[Model]:
    if isinstance(value, Model):
        return [value]
    found: list[Model] = []
    if isinstance(value, list | tuple | set | frozenset):
        for item in value:
            found += _models_in(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            found += _models_in(key)
            found += _models_in(item)
    return found


def check_attachments(
    document: Any, new_models: list[Any], events: list[dict[str, Any]], reattachments: Reattachments | None = None
) -> None:
    """Refuse (PatchError) a patch whose events attach more than the bounds allow, counted each time.

    With ``reattachments``: also one attaching again, while its bucket owes, a model the
    document holds that an earlier event of the patch may have taken out (a move, a put-back:
    defined again for every other tab). A lone change naming models the document keeps (a
    toolbar's active tool, a reorder) defines nothing again, and is never refused so.
    """
    most = most_attached(len(document.models), len(new_models))
    held = False  # whether it attaches again a model an earlier event may have taken out
    put_back = 0  # the bytes (estimated) of what those attachments define again
    detaching = False  # whether an earlier event may take models out
    found = Attached()
    times: dict[str, list[Any]] = {}  # model id -> [model, times attached]
    for event in events:
        kind = event.get("kind")
        if kind == "RootAdded":
            starts = _models_in(event.get("model"))
        elif kind == "ModelChanged" and isinstance(event.get("new"), list | tuple | dict | Model):
            starts = _models_in(event.get("new"))
        else:
            detaching = detaching or kind == "RootRemoved"
            continue
        reached: set[Any] = set()
        puts_back = False
        for model in starts:
            reached |= model.references()  # (Bokeh's: every model it reaches, itself included)
            puts_back = puts_back or (detaching and model.id in document.models)
        if puts_back and reattachments is not None:
            held = True
            put_back += sum(model_size(model) for model in reached)
        detaching = detaching or kind == "ModelChanged"  # (the value it replaces may have held models)
        for model in reached:
            entry = times.get(model.id)
            if entry is None:
                times[model.id] = [model, 1]
            else:
                entry[1] += 1
        found.count += len(reached)
        if found.count > most:
            raise PatchError(
                f"too many models attached by one patch: more than {most}"
                f" (twice the models of the document and the patch, or {MAX_ATTACHED_FLOOR};"
                " each attachment counts all the models it reaches)"
            )
    if any(n > MAX_ATTACH_FACTOR for _, n in times.values()):  # (else at most twice the models once)
        for model, n in times.values():
            size = model_size(model)
            found.distinct += size
            found.sent += size * n
        if found.too_many_bytes():
            raise PatchError(
                f"too many bytes attached by one patch: {found.sent} > {found.bytes_bound()} (twice the models"
                f" it attaches, each once, or {MAX_ATTACHED_BYTES_FLOOR}; each attachment counts all it reaches)"
            )
    if held and reattachments is not None:
        reattachments.check(new_models, put_back)
