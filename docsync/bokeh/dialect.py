"""The Bokeh dialect: what docsync's server needs to serve Bokeh apps to BokehJS."""

from __future__ import annotations

import contextlib
from typing import Any

import bokeh
from django.http import HttpRequest, HttpResponse

from .. import __version__
from ..protocol import Message, error, server_info_reply
from ..protocol.msgtypes import ACK, ERROR, OK, PATCH_DOC, PULL_DOC_REQ, PUSH_DOC, SERVER_INFO_REQ
from . import pages
from .application import load_bokeh_application
from .compat import (
    check_version,
    install_changes_told_despite_callback_errors,
    install_lean_models,
    install_lean_serialization,
    install_thread_safe_curdoc,
    install_value_depth_bound,
)
from .context import BokehApplicationContext

__all__ = ["PUSH_REFUSAL", "BokehDialect", "dialect"]

#: The ERROR text answering any client's PUSH-DOC (docs/bokeh.md, "What a browser may send").
PUSH_REFUSAL = "PUSH-DOC not allowed: a Bokeh app's document is made by its code; no client replaces it"


class BokehDialect:
    """Real Bokeh documents, spoken by BokehJS (subprotocol ``bokeh``)."""

    name = "bokeh"
    subprotocol = "bokeh"

    def __init__(self) -> None:
        check_version()
        install_thread_safe_curdoc()
        install_lean_serialization()
        install_lean_models()
        install_value_depth_bound()
        install_changes_told_despite_callback_errors()
        # Bokeh imports pandas lazily, from whichever worker thread first streams or
        # sets a DataFrame; two threads doing it at once saw a half-imported module.
        with contextlib.suppress(ImportError):
            import pandas  # noqa: F401

    def load_application(self, target: Any) -> Any:
        """Load a Bokeh app (script, directory, ``module:modify_doc``, function or Application)."""
        return load_bokeh_application(target)

    def make_context(self, spec: Any) -> BokehApplicationContext:
        """The context of a configured Bokeh application."""
        application = load_bokeh_application(
            spec.target, title=spec.options.get("title"), argv=spec.options.get("argv")
        )
        return BokehApplicationContext(application, spec.path, options=spec.options)

    async def dispatch(self, session: Any, connection: Any, message: Message, created_session: bool) -> None:
        """Handle one complete BokehJS message."""
        msgtype = message.msgtype
        if msgtype == PATCH_DOC:
            await session.patch(connection, message)
        elif msgtype == PULL_DOC_REQ:
            await session.pull(connection, message)
        elif msgtype == SERVER_INFO_REQ:
            info = {"bokeh": bokeh.__version__, "server": f"docsync {__version__}"}
            connection.queue_message(server_info_reply(message.msgid, info))  # type: ignore[arg-type]
        elif msgtype == PUSH_DOC:
            # A Bokeh app's document is its Python code's (callbacks hold its models): no
            # client replaces it. Refused as docsync's dialect refuses a push it does not
            # allow (protocol.md §3), nothing changed, the connection kept.
            connection.queue_message(error(message.msgid, PUSH_REFUSAL, "push-not-allowed"))
        elif msgtype in (ACK, OK, ERROR):
            return
        else:
            text = f"unexpected message type {msgtype!r}"
            connection.queue_message(error(message.msgid, text, "bad-request"))

    def app_page(self, request: HttpRequest, context: Any, session_id: str) -> HttpResponse:
        """The app's page, showing session ``session_id`` (made now if new)."""
        return pages.app_page(request, context, session_id)

    def autoload_js(self, request: HttpRequest, context: Any, target: str, session_id: str) -> HttpResponse:
        """The app's autoload.js, embedding session ``session_id`` into element ``target``."""
        return pages.autoload_js(request, context, target, session_id)

    def static_file(self, request: HttpRequest, path: str) -> HttpResponse:
        """A BokehJS file."""
        return pages.static_file(request, path)


dialect = BokehDialect()
