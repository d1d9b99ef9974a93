"""DirectoryHandler: an app directory with main.py, hooks, templates and static files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..document import Document
from .hooks import HOOK_NAMES, HookTableHandler
from .script import ScriptHandler, load_hooks_module

__all__ = ["DirectoryHandler"]

HOOK_FILES = ("app_hooks.py", "server_lifecycle.py")


class DirectoryHandler(HookTableHandler):
    """``main.py`` fills the document; ``app_hooks.py`` (if present) has lifecycle hooks;
    ``templates/index.html`` and ``static/`` are used when present; ``argv`` is main.py's
    ``sys.argv[1:]`` while it runs."""

    def __init__(self, path: str | Path, *, argv: list[str] | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        self._main = ScriptHandler(self.path / "main.py", argv=argv)
        if self._main.failed:
            self.error, self.error_detail = self._main.error, self._main.error_detail
            return
        for filename in HOOK_FILES:
            hooks_path = self.path / filename
            if hooks_path.exists():
                try:
                    module = load_hooks_module(hooks_path)
                except Exception as exc:  # any error in user code marks the app failed
                    self._fail(exc)
                    return
                self._hooks = {n: getattr(module, n) for n in HOOK_NAMES if hasattr(module, n)}
                break

    def modify_document(self, doc: Document) -> Any:
        return self._main.modify_document(doc)

    def description(self) -> str | None:
        return self._main.description()

    def static_path(self) -> Path | None:
        path = self.path / "static"
        return path if path.is_dir() else None

    def template_path(self) -> Path | None:
        path = self.path / "templates" / "index.html"
        return path if path.is_file() else None
