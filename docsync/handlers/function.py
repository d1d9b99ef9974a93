"""FunctionHandler: a Python function (sync or async) that fills the document."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ..document import Document
from .handler import Handler

__all__ = ["FunctionHandler"]


class FunctionHandler(Handler):
    """Call ``func(doc)`` for every new session; hooks may be given as keywords."""

    def __init__(
        self,
        func: Callable[[Document], Any],
        *,
        on_server_loaded: Callable[[Any], Any] | None = None,
        on_server_unloaded: Callable[[Any], Any] | None = None,
        on_session_created: Callable[[Any], Any] | None = None,
        on_session_destroyed: Callable[[Any], Any] | None = None,
    ) -> None:
        super().__init__()
        self._func = func
        self._hooks = {
            "on_server_loaded": on_server_loaded,
            "on_server_unloaded": on_server_unloaded,
            "on_session_created": on_session_created,
            "on_session_destroyed": on_session_destroyed,
        }

    def runs_on_loop(self, method_name: str) -> bool:
        target = self._func if method_name == "modify_document" else self._hooks.get(method_name)
        return inspect.iscoroutinefunction(target)

    def modify_document(self, doc: Document) -> Any:
        return self._func(doc)

    def _hook(self, name: str, context: Any) -> Any:
        hook = self._hooks[name]
        return hook(context) if hook is not None else None

    def on_server_loaded(self, server_context: Any) -> Any:
        return self._hook("on_server_loaded", server_context)

    def on_server_unloaded(self, server_context: Any) -> Any:
        return self._hook("on_server_unloaded", server_context)

    def on_session_created(self, session_context: Any) -> Any:
        return self._hook("on_session_created", session_context)

    def on_session_destroyed(self, session_context: Any) -> Any:
        return self._hook("on_session_destroyed", session_context)
