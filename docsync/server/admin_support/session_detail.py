"""Describe a live session for the admin's detail page: connections, document tree, callbacks."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from typing import Any

import numpy as np

from ...document import Document
from ..session import ServerSession

__all__ = ["HIDDEN", "MAX_DESCRIBED", "describe_connections", "describe_session", "describe_value"]

_MAX_TEXT = 120
_MAX_ITEMS = 8
#: The most characters a property's value is described in on the admin's page (a preview).
MAX_DESCRIBED = 1000
#: What the page shows for a secret property's value (a PasswordInput's): neither the value nor its length.
HIDDEN = "(hidden: a secret, such as a password)"


def describe_value(value: Any) -> str:
    """Return a short text for a property value: collections and arrays cut, at most ``MAX_DESCRIBED`` characters.

    The text is made within that budget, so that a value of any size or nesting costs
    about what a small one does. Cutting each collection at 8 items bounded nothing for
    lists of 8 lists of 8 lists ... (5 deep): a client's 20 MB of them made a 23 MB page
    and held the session's process, every session of it, 6 s.
    """
    budget = [MAX_DESCRIBED]
    text = _describe(value, budget)
    return text if len(text) <= MAX_DESCRIBED else text[: MAX_DESCRIBED - 1] + "…"


def _describe(value: Any, budget: list[int]) -> str:
    """``value``'s text; each leaf's length is taken from ``budget[0]``: once it is spent, nothing more is described."""
    if isinstance(value, np.ndarray):
        head = ", ".join(_items(value.flat[:_MAX_ITEMS].tolist(), budget, short_floats=True))  # flat: no strided copy
        more = ", …" if value.size > _MAX_ITEMS else ""
        return f"ndarray {value.dtype}{list(value.shape)} [{head}{more}]"
    if getattr(type(value), "__docsync_ref__", False):
        return _leaf(f"→ {value.__type_name__} {value.id}", budget)
    if isinstance(value, dict) and value:
        pairs = itertools.islice(value.items(), _MAX_ITEMS)
        parts = _items((_Entry(k, v) for k, v in pairs), budget)
        more = f", … ({len(value)} entries)" if len(value) > _MAX_ITEMS else ""
        return "{" + ", ".join(parts) + more + "}"
    if isinstance(value, list | tuple | set | frozenset) and value:
        parts = _items(itertools.islice(value, _MAX_ITEMS), budget)
        more = f", … ({len(value)} items)" if len(value) > _MAX_ITEMS else ""
        opening, closing = "{}" if isinstance(value, set | frozenset) else "[]"
        return opening + ", ".join(parts) + more + closing
    if isinstance(value, str | bytes | bytearray):
        value = value[: _MAX_TEXT + 1]  # repr of the head only: a 16 MB string is not copied to be cut
    text = repr(value)
    return _leaf(text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…", budget)


class _Entry:
    """A dict's key and value, described as ``key: value``."""

    __slots__ = ("key", "value")

    def __init__(self, key: Any, value: Any) -> None:
        self.key, self.value = key, value


def _items(values: Iterable[Any], budget: list[int], *, short_floats: bool = False) -> list[str]:
    """The texts of ``values`` (a few already), until ``budget`` is spent: then "…" (an array's floats in 6 digits)."""
    parts = []
    for item in values:
        if budget[0] <= 0:
            parts.append("…")
            break
        if isinstance(item, _Entry):
            parts.append(f"{_describe(item.key, budget)}: {_describe(item.value, budget)}")
        elif short_floats and isinstance(item, float):
            parts.append(_leaf(f"{item:.6g}", budget))
        else:
            parts.append(_describe(item, budget))
    return parts


def _leaf(text: str, budget: list[int]) -> str:
    budget[0] -= len(text)
    return text


def describe_connections(connections: Iterable[Any]) -> list[dict[str, Any]]:
    """Return the admin's rows of a session's connections, direct or relayed (either dialect)."""
    return [
        {
            "remote": getattr(c, "remote", "?"),
            "user_agent": getattr(c, "user_agent", ""),
            "since": dt.datetime.fromtimestamp(getattr(c, "connected_at", 0), tz=dt.UTC),
            "client_id": getattr(c, "origin", ""),
            # Written to the socket (or, relayed, to Redis) after the messages before them.
            "queued_bytes": int(getattr(c, "queued_bytes", 0)),
        }
        for c in list(connections)
    ]


def _model_tree(document: Document) -> list[dict[str, Any]]:
    roots = {root.id for root in document.roots}
    tree = []
    for model in document.models.values():
        secret, writable = model.__secret__, model.__client_writable__
        properties = [
            (name, HIDDEN if name in secret else describe_value(getattr(model, name)), name in writable)
            for name in model.properties()
        ]
        tree.append({"id": model.id, "type": model.__type_name__, "root": model.id in roots, "properties": properties})
    return tree


def describe_session(session: ServerSession) -> dict[str, Any]:
    """Return what the admin's detail page shows of ``session`` (call on its loop)."""
    connections = describe_connections(session.connections)
    return {
        "id": session.id,
        "app": session.app_path,
        "seq": session.log.seq,
        "log_entries": len(session.log),
        "keep_alive": session.keep_alive,
        "connections": connections,
        "models": _model_tree(session.document),
        "callbacks": session.scheduled_callbacks(),
        "notices": list(session.notices),
    }
