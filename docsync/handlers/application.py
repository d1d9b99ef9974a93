"""Application: an ordered list of handlers plus metadata, the factory of sessions."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..document import Document
from .handler import Handler

__all__ = ["Application"]


async def _maybe_await(result: Any) -> Any:
    if inspect.isawaitable(result):
        return await result
    return result


class Application:
    """Build session documents by running each handler in order.

    ``metadata`` is a dict or a zero-argument callable returning one, served as JSON
    at ``/<app>/metadata``. ``shared``: every connection that opens the app joins one
    session per room (the ``room`` URL argument) instead of a session per tab.
    ``allow_client_structure``: whether clients may change the title and the roots and
    create models (True, False; None: yes, except in the sessions of a shared or
    shareable app, which other users see).
    """

    def __init__(
        self,
        *handlers: Handler,
        metadata: dict[str, Any] | Callable[[], dict[str, Any]] | None = None,
        title: str | None = None,
        shared: bool = False,
        allow_client_structure: bool | None = None,
    ) -> None:
        self.handlers = list(handlers)
        self._metadata = metadata
        self.title = title
        self.shared = shared
        self.allow_client_structure = allow_client_structure

    @property
    def metadata(self) -> dict[str, Any]:
        """The application's metadata, computed now if it is a callable."""
        value = self._metadata() if callable(self._metadata) else self._metadata
        return dict(value or {})

    @property
    def description(self) -> str | None:
        """One line saying what the app is: ``metadata["description"]``, else its code's docstring."""
        if not callable(self._metadata) and isinstance((self._metadata or {}).get("description"), str):
            return str(self._metadata["description"])  # type: ignore[index]
        return next((d for h in self.handlers if (d := h.description()) is not None), None)

    @property
    def failed(self) -> bool:
        """Whether any handler failed to load."""
        return any(handler.failed for handler in self.handlers)

    @property
    def error(self) -> str | None:
        """The first handler's load error, if any."""
        return next((h.error for h in self.handlers if h.failed), None)

    @property
    def error_detail(self) -> str | None:
        """The traceback of the first handler's load error, if any."""
        return next((h.error_detail for h in self.handlers if h.failed), None)

    async def initialize_document(self, doc: Document, run_sync: Callable[..., Any]) -> None:
        """Run every handler's ``modify_document``; ``run_sync`` runs sync code off the loop."""
        if self.title:
            doc.title = self.title
        for handler in self.handlers:
            await self._call(handler.modify_document, doc, run_sync)

    async def _call(self, method: Callable[[Any], Any], arg: Any, run_sync: Callable[..., Any]) -> None:
        handler: Handler = method.__self__  # type: ignore[attr-defined]
        if handler.runs_on_loop(method.__name__):
            result = method(arg)
        else:
            # User code may block or use the ORM: it runs in a worker thread.
            result = await run_sync(method, arg)
        await _maybe_await(result)

    async def call_hook(self, name: str, context: Any, run_sync: Callable[..., Any]) -> None:
        """Run lifecycle hook ``name`` on every handler, in order."""
        for handler in self.handlers:
            # A hook the app does not define costs nothing: no worker thread per session made or destroyed.
            if handler.has_hook(name):
                await self._call(getattr(handler, name), context, run_sync)

    def static_paths(self) -> list[Path]:
        """Directories of static files to serve under the app's URL."""
        return [p for h in self.handlers if (p := h.static_path()) is not None]

    def template_path(self) -> Path | None:
        """The app's own page template, if a handler has one."""
        return next((p for h in self.handlers if (p := h.template_path()) is not None), None)
