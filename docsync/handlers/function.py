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
        on_session_restored: Callable[[Any], Any] | None = None,
    ) -> None:
        super().__init__()
        self._func = func
        self._hooks = {
            "on_server_loaded": on_server_loaded,
            "on_server_unloaded": on_server_unloaded,
            "on_session_created": on_session_created,
            "on_session_destroyed": on_session_destroyed,
            "on_session_restored": on_session_restored,
        }

    def runs_on_loop(self, method_name: str) -> bool:
        if method_name == "modify_document":
            return inspect.iscoroutinefunction(self._func)
        return super().runs_on_loop(method_name)

    def modify_document(self, doc: Document) -> Any:
        return self._func(doc)

    def description(self) -> str | None:
        # A module's modify_doc(doc) is described by the module (its docstring says how it
        # is built); a function named for its app, by its own docstring.
        module = sys.modules.get(getattr(self._func, "__module__", "") or "")
        module_doc = first_line(getattr(module, "__doc__", None))
        if getattr(self._func, "__name__", "") in ("modify_doc", "make_document"):
            return module_doc or first_line(self._func.__doc__)
        return first_line(self._func.__doc__) or module_doc
