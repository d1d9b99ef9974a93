"""The handler contract: fill a session's document, and react to lifecycle hooks."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

from ..document import Document

__all__ = ["Handler", "first_line"]


def first_line(docstring: str | None) -> str | None:
    """Return the first line of a docstring, or None if there is none."""
    text = (docstring or "").strip()
    return text.splitlines()[0].strip() if text else None


class Handler:
    """Base handler: does nothing, fails never. Subclasses override what they need.

    ``modify_document`` may return an awaitable (async functions); the hooks receive a
    :class:`~docsync.server.contexts.ServerContext` or ``SessionContext``.
    """

    def __init__(self) -> None:
        self.error: str | None = None
        self.error_detail: str | None = None

    @property
    def failed(self) -> bool:
        """Whether loading the handler's code failed (the app then shows the error)."""
        return self.error is not None

    def _fail(self, exc: BaseException) -> None:
        self.error = f"{type(exc).__name__}: {exc}"
        self.error_detail = "".join(traceback.format_exception(exc))

    def runs_on_loop(self, method_name: str) -> bool:
        """Tell whether ``method_name`` is async code that runs on the event loop."""
        return False

    def has_hook(self, name: str) -> bool:
        """Tell whether lifecycle hook ``name`` does anything (the base class's do nothing)."""
        return getattr(type(self), name) is not getattr(Handler, name)

    def modify_document(self, doc: Document) -> Any:
        """Fill ``doc`` for a new session."""
        return None

    def on_server_loaded(self, server_context: Any) -> Any:
        """Run once when the application is loaded, before its first session."""
        return None

    def on_server_unloaded(self, server_context: Any) -> Any:
        """Run once when the server shuts down cleanly."""
        return None

    def on_session_created(self, session_context: Any) -> Any:
        """Run when a session is created, before ``modify_document``."""
        return None

    def on_session_destroyed(self, session_context: Any) -> Any:
        """Run once when a session is destroyed."""
        return None

    def on_session_restored(self, session_context: Any) -> Any:
        """Run when a session is made again from its snapshot, after the saved state was laid over it."""
        return None

    def description(self) -> str | None:
        """Return one line saying what the app is (for the index of apps), if the code says."""
        return None

    def static_path(self) -> Path | None:
        """Return a directory of static files served under the app's URL, if any."""
        return None

    def template_path(self) -> Path | None:
        """Return the template to render the app page with, if the app has its own."""
        return None
