"""Document kinds ("dialects"): docsync's own documents, and others served by the same server.

An application's ``"kind"`` in ``DOCSYNC["APPS"]`` names its dialect. A dialect loads
the application, builds its ApplicationContext (which makes its sessions), names the
websocket subprotocol its client speaks, and handles each complete message. The
sessions, locks, tokens, access rules, limits, expiry, admin and cluster relay stay
the server's. Dialects other than docsync's live in packages above ``server/`` and
are imported only when an application of their kind is configured: the core never
imports them (``tests/bokeh/test_import_contract.py``).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable
from typing import Any, Protocol

from ..exceptions import ConfigurationError
from ..handlers import Application
from ..protocol import Message
from .app_loader import AppSpec, load_application
from .application_context import ApplicationContext
from .session import dispatch

__all__ = ["DIALECT_MODULES", "DOCSYNC_KIND", "Dialect", "get_dialect"]

DOCSYNC_KIND = "docsync"
#: kind -> module holding a ``dialect`` object. docsync's own is built in (None).
DIALECT_MODULES: dict[str, str | None] = {DOCSYNC_KIND: None, "bokeh": "docsync.bokeh.dialect"}


class Dialect(Protocol):
    """What the server needs of a document kind."""

    name: str
    subprotocol: str

    def load_application(self, target: Any) -> Any:
        """Load an application (its ``failed``/``error`` tell whether it loaded)."""

    def make_context(self, spec: AppSpec) -> ApplicationContext:
        """Build the ApplicationContext of configured application ``spec``."""

    def dispatch(self, session: Any, connection: Any, message: Message, created_session: bool) -> Awaitable[None]:
        """Handle one complete client message on ``session`` (an ``async def`` will do)."""


class _DocsyncDialect:
    """docsync's own documents, spoken by docsync's client."""

    name = DOCSYNC_KIND
    subprotocol = "docsync"

    def load_application(self, target: Any) -> Application:
        return load_application(target)

    def make_context(self, spec: AppSpec) -> ApplicationContext:
        options = spec.options
        application = load_application(spec.target, argv=options.get("argv"), title=options.get("title"))
        return ApplicationContext(application, spec.path, options=spec.options)

    # The session's own dispatch, not a coroutine around it: one coroutine fewer per message.
    dispatch = staticmethod(dispatch)


_DOCSYNC = _DocsyncDialect()
_loaded: dict[str, Dialect] = {DOCSYNC_KIND: _DOCSYNC}


def get_dialect(kind: str | None) -> Dialect:
    """Return the dialect of ``kind`` (docsync's when None), importing it on first use."""
    kind = kind or DOCSYNC_KIND
    known_dialect = _loaded.get(kind)
    if known_dialect is not None:
        return known_dialect
    if kind not in DIALECT_MODULES:
        known = ", ".join(sorted(DIALECT_MODULES))
        raise ConfigurationError(f"unknown application kind {kind!r} (known: {known})")
    module_name = DIALECT_MODULES[kind]
    assert module_name is not None
    module = importlib.import_module(module_name)
    dialect: Dialect = module.dialect
    _loaded[kind] = dialect
    return dialect
