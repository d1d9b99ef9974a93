"""DirectoryHandler: an app directory with main.py, hooks, templates and static files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..document import Document
from .handler import Handler
from .script import ScriptHandler, load_hooks_module

__all__ = ["DirectoryHandler"]

HOOK_NAMES = ("on_server_loaded", "on_server_unloaded", "on_session_created", "on_session_destroyed")
HOOK_FILES = ("app_hooks.py", "server_lifecycle.py")


class DirectoryHandler(Handler):
    """``main.py`` fills the document; ``app_hooks.py`` (if present) has lifecycle hooks;
    ``templates/index.html`` and ``static/`` are used when present."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self._main = ScriptHandler(self.path / "main.py")
        self._hooks: dict[str, Any] = {}
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

    def _hook(self, name: str, context: Any) -> Any:
        hook = self._hooks.get(name)
        return hook(context) if hook is not None else None

    def on_server_loaded(self, server_context: Any) -> Any:
        return self._hook("on_server_loaded", server_context)

    def on_server_unloaded(self, server_context: Any) -> Any:
        return self._hook("on_server_unloaded", server_context)

    def on_session_created(self, session_context: Any) -> Any:
        return self._hook("on_session_created", session_context)

    def on_session_destroyed(self, session_context: Any) -> Any:
        return self._hook("on_session_destroyed", session_context)

    def static_path(self) -> Path | None:
        path = self.path / "static"
        return path if path.is_dir() else None

    def template_path(self) -> Path | None:
        path = self.path / "templates" / "index.html"
        return path if path.is_file() else None
