"""ScriptHandler: run a .py file per session in a fresh module, with ``doc`` in it."""

from __future__ import annotations

import ast
import itertools
import sys
import threading
import types
from pathlib import Path
from typing import Any

from ..document import Document
from ..exceptions import ApplicationLoadError
from .handler import Handler, first_line

__all__ = ["ARGV_LOCK", "ScriptHandler", "load_hooks_module"]

_module_numbers = itertools.count(1)
# sys.argv is one per process and scripts run in worker threads: one script at a time
# sees its own argv while it runs (as Bokeh's scripts do), then the process's is back.
ARGV_LOCK = threading.RLock()


def _run_in_fresh_module(code: types.CodeType, path: Path, extra: dict[str, Any]) -> types.ModuleType:
    name = f"docsync_app_{next(_module_numbers)}"
    module = types.ModuleType(name)
    module.__file__ = str(path)
    module.__dict__.update(extra)
    # Registered only while the code runs (dataclasses, pickling and relative
    # lookups need it), then removed so that sessions never leak modules.
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    finally:
        sys.modules.pop(name, None)
    return module


class ScriptHandler(Handler):
    """Execute a Python script for each session; the script sees its document as ``doc``.

    While it runs, ``sys.argv`` is the script's file name followed by ``argv``, as for
    ``bokeh serve app.py --args ...``.
    """

    def __init__(self, path: str | Path, *, argv: list[str] | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        self.argv = argv or []
        self._code: types.CodeType | None = None
        self._description: str | None = None
        try:
            source = self.path.read_text(encoding="utf-8")
            self._code = compile(source, str(self.path), "exec")
            self._description = first_line(ast.get_docstring(ast.parse(source)))
        except (OSError, SyntaxError, ValueError) as exc:
            self._fail(exc)

    def description(self) -> str | None:
        return self._description

    def modify_document(self, doc: Document) -> Any:
        if self._code is None:
            raise ApplicationLoadError(f"cannot run {self.path}: {self.error}")
        with ARGV_LOCK:
            saved, sys.argv = sys.argv, [self.path.name, *self.argv]
            try:
                _run_in_fresh_module(self._code, self.path, {"doc": doc, "__name__": "__main__"})
            finally:
                sys.argv = saved
        return None


def load_hooks_module(path: Path) -> types.ModuleType:
    """Load a lifecycle hooks file once, as a module that is not left in sys.modules."""
    code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
    return _run_in_fresh_module(code, path, {})
