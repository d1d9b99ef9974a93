"""A Bokeh app given as ``module:modify_doc`` (FunctionHandler), using the session context."""

from __future__ import annotations

from typing import Any

from bokeh.models import Button, Div


def modify_doc(doc: Any) -> None:
    """A button whose Python callback writes the request's arguments and user into a Div."""
    request = doc.session_context.request
    shown = Div(text="", name="shown")
    button = Button(label="show", name="show")

    def show(event: Any) -> None:
        who = doc.session_context.user
        args = {k: [v.decode() for v in vs] for k, vs in request.arguments.items()}
        shown.text = f"args={sorted(args.items())} user={getattr(who, 'username', '') or 'anonymous'}"

    button.on_event("button_click", show)
    doc.add_root(button)
    doc.add_root(shown)
