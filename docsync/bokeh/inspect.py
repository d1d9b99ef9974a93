"""Describe a live Bokeh session for the admin's detail page."""

from __future__ import annotations

from typing import Any

from bokeh.models.widgets.inputs import PasswordInput

from ..server.admin_support.session_detail import HIDDEN, describe_connections, describe_value

__all__ = ["describe_bokeh_session"]

_MAX_MODELS = 400


#: Properties whose values the admin's page hides: what a user typed into a PasswordInput.
_SECRET = frozenset({"value", "value_input"})


def _properties(model: Any) -> list[tuple[str, str, bool]]:
    values = model.properties_with_values(include_defaults=False)
    secret = _SECRET if isinstance(model, PasswordInput) else frozenset()
    # Bokeh lets a browser set any property: every one is shown as client-writable.
    return [(name, HIDDEN if name in secret else describe_value(value), True) for name, value in sorted(values.items())]


def describe_bokeh_session(session: Any) -> dict[str, Any]:
    """Return the admin's view of ``session`` (call holding its lock)."""
    document = session.document
    roots = {root.id for root in document.roots}
    models = [
        {"id": m.id, "type": type(m).__name__, "root": m.id in roots, "properties": _properties(m)}
        for m in list(document.models)[:_MAX_MODELS]
    ]
    connections = describe_connections(session.connections)
    return {
        "id": session.id,
        "app": session.app_path,
        "seq": session.seq,
        "log_entries": 0,
        "keep_alive": session.keep_alive,
        "connections": connections,
        "models": models,
        "callbacks": session.scheduled_callbacks(),
        "notices": list(session.notices),
    }
