"""Bokeh dialect: what one client patch attaches, each time with all it reaches (docsync/sync/attachments.py's bounds).

A BokehJS patch of ``[RootRemoved r, RootAdded r]`` pairs of a held root is applied pair
by pair, and each ``RootAdded`` defines the root again, with all it reaches, in a
PATCH-DOC of its own for every other connection: 50 pairs (5 KB) of a root whose Div the
application had padded to 100 KiB sent 5.1 MB to another tab. The same bounds as
docsync's dialect: models at most twice those of the document and the patch (or 1,000),
bytes at most twice those of the models attached, each once (or 1 MiB).
"""

from __future__ import annotations

from typing import Any

from bokeh.model import Model

from ..exceptions import PatchError
from ..sync.attachments import (
    MAX_ATTACH_FACTOR,
    MAX_ATTACHED_BYTES_FLOOR,
    MAX_ATTACHED_FLOOR,
    Attached,
    most_attached,
)
from .footprint import model_size

__all__ = ["check_attachments"]


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


def check_attachments(document: Any, new_models: list[Any], events: list[dict[str, Any]]) -> None:
    """Refuse (PatchError) a patch whose events attach more than the bounds allow, counted each time."""
    most = most_attached(len(document.models), len(new_models))
    found = Attached()
    times: dict[str, list[Any]] = {}  # model id -> [model, times attached]
    for event in events:
        kind = event.get("kind")
        if kind == "RootAdded":
            starts = _models_in(event.get("model"))
        elif kind == "ModelChanged" and isinstance(event.get("new"), list | tuple | dict | Model):
            starts = _models_in(event.get("new"))
        else:
            continue
        reached: set[Any] = set()
        for model in starts:
            reached |= model.references()  # (Bokeh's: every model it reaches, itself included)
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
    if not any(n > MAX_ATTACH_FACTOR for _, n in times.values()):
        return  # sent at most twice each: at most twice the models once
    for model, n in times.values():
        size = model_size(model)
        found.distinct += size
        found.sent += size * n
    if found.too_many_bytes():
        raise PatchError(
            f"too many bytes attached by one patch: {found.sent} > {found.bytes_bound()} (twice the models"
            f" it attaches, each once, or {MAX_ATTACHED_BYTES_FLOOR}; each attachment counts all it reaches)"
        )
