"""A Bokeh app with a document-level ``on_session_destroyed`` callback (test_bokeh_session_end.py)."""

from __future__ import annotations

import logging
from typing import Any

#: What the callback logs (at WARNING, which the test sites' log keeps), then the session id.
SAID = "bokeh test app: on_session_destroyed of"


def session_end(doc: Any) -> None:
    """Log the end of each session from ``doc.on_session_destroyed``, as Bokeh apps clean up."""
    from bokeh.models import Div

    def ended(session_context: Any) -> None:
        logging.getLogger("docsync").warning("%s %s", SAID, session_context.id)

    doc.on_session_destroyed(ended)
    doc.add_root(Div(text="ends", name="div"))
