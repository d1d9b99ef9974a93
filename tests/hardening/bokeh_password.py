"""A Bokeh app whose PasswordInput holds a value (as if typed): the admin's session page must not show it."""

from __future__ import annotations

from typing import Any

#: What the app puts in its PasswordInput (and, to tell the two apart, in a TextInput).
PASSWORD = "hunter2-bokeh-secret"
TYPED = "Ada typed this"


def password(doc: Any) -> None:
    """A PasswordInput holding ``PASSWORD`` in ``value`` and ``value_input``, beside a TextInput holding ``TYPED``."""
    from bokeh.layouts import column
    from bokeh.models import PasswordInput, TextInput

    secret = PasswordInput(title="Password", name="password", value=PASSWORD, value_input=PASSWORD)
    doc.add_root(column(secret, TextInput(title="Name", name="name", value=TYPED)))
