"""Describe a live session for the admin's detail page: connections, document tree, callbacks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import numpy as np

from ...document import Document
from ..session import ServerSession

__all__ = ["HIDDEN", "describe_connections", "describe_session", "describe_value"]

_MAX_TEXT = 120
_MAX_ITEMS = 8
#: What the page shows for a secret property's value (a PasswordInput's): neither the value nor its length.
HIDDEN = "(hidden: a secret, such as a password)"


def describe_value(value: Any) -> str:
    """Return a short text for a property value, truncating big collections and arrays."""
    if isinstance(value, np.ndarray):
        head = ", ".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in value.ravel()[:_MAX_ITEMS].tolist())
        more = ", …" if value.size > _MAX_ITEMS else ""
        return f"ndarray {value.dtype}{list(value.shape)} [{head}{more}]"
    if getattr(type(value), "__docsync_ref__", False):
        return f"→ {value.__type_name__} {value.id}"
    if isinstance(value, dict) and value:
        parts = [f"{k!r}: {describe_value(v)}" for k, v in list(value.items())[:_MAX_ITEMS]]
        more = f", … ({len(value)} entries)" if len(value) > _MAX_ITEMS else ""
        return "{" + ", ".join(parts) + more + "}"
    if isinstance(value, list | tuple) and value:
        parts = [describe_value(v) for v in list(value)[:_MAX_ITEMS]]
        more = f", … ({len(value)} items)" if len(value) > _MAX_ITEMS else ""
        return "[" + ", ".join(parts) + more + "]"
    text = repr(value)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


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
