"""FunctionHandler: a Python function (sync or async) that fills the document."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any

from ..document import Document
from .handler import first_line
from .hooks import HookTableHandler

__all__ = ["FunctionHandler"]


class FunctionHandler(HookTableHandler):
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
        if method_name == "modify_document":
            return inspect.iscoroutinefunction(self._func)
        return super().runs_on_loop(method_name)

    def modify_document(self, doc: Document) -> Any:
        return self._func(doc)

    def description(self) -> str | None:
        # The module's docstring says what the app is; the function's, how it is built.
        module = sys.modules.get(getattr(self._func, "__module__", "") or "")
        return first_line(getattr(module, "__doc__", None)) or first_line(self._func.__doc__)
