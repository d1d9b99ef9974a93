"""Describe a live Bokeh session for the admin's detail page."""

from __future__ import annotations

from typing import Any

from bokeh.models.widgets.inputs import PasswordInput

from ..server.admin_support.session_detail import Properties, describe_connections, describe_properties, document_page

__all__ = ["describe_bokeh_session"]


#: Properties whose values the admin's page hides: what a user typed into a PasswordInput.
_SECRET = frozenset({"value", "value_input"})


def _properties(model: Any, budget: int | None) -> tuple[Properties, int]:
    values = model.properties_with_values(include_defaults=False)
    secret = _SECRET if isinstance(model, PasswordInput) else frozenset()
    # Bokeh lets a browser set any property: every one is shown as client-writable.
    return describe_properties(sorted(values.items()), len(values), secret.__contains__, lambda name: True, budget)


def describe_bokeh_session(session: Any, page: int = 1, model: str | None = None) -> dict[str, Any]:
    """Return the admin's view of ``session``: a ``page`` of its models, or ``model`` alone (call holding its lock)."""
    document = session.document
    tree = document_page(
        document.models,
        len(document.models),
        {root.id for root in document.roots},
        page=page,
        model_id=model,
        find=document.get_model_by_id,
        describe=_properties,
        type_name=lambda m: type(m).__name__,
    )
    connections = describe_connections(session.connections)
    return {
        "id": session.id,
        "app": session.app_path,
        "seq": session.seq,
        "log_entries": 0,
        "keep_alive": session.keep_alive,
        "connections": connections,
        **tree,
        "callbacks": session.scheduled_callbacks(),
        "notices": list(session.notices),
    }
