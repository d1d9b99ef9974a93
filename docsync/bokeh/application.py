"""Load a Bokeh application from a ``DOCSYNC["APPS"]`` target with Bokeh's own handlers."""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bokeh.application import Application
from bokeh.application.handlers import DirectoryHandler, FunctionHandler, ScriptHandler
from bokeh.application.handlers.document_lifecycle import DocumentLifecycleHandler
from django.utils.module_loading import import_string

from ..server.app_loader import missing_path
from .compat import lifecycle_hook

__all__ = ["AwaitedFunctionHandler", "BokehApplication", "load_bokeh_application"]


class AwaitedFunctionHandler(FunctionHandler):
    """A handler for ``async def modify_doc(doc)``, which docsync awaits on the event loop.

    Bokeh's ``FunctionHandler`` calls it and drops the coroutine (a blank page, no error);
    bokeh-django awaits it, and docsync's own apps' ``async def modify_doc`` are awaited too.
    """

    def __init__(self, func: Callable[[Any], Awaitable[None]]) -> None:
        # Bokeh's sync pass calls this no-op: the document is left to ``coroutine_function``.
        super().__init__(_leave_to_the_coroutine)
        self.coroutine_function = func


def _leave_to_the_coroutine(doc: Any) -> None:
    return None


class BokehApplication:
    """A Bokeh ``Application`` with what docsync's server and views ask of an application."""

    allow_client_structure = True  # BokehJS may add models (tools draw, layouts change)

    def __init__(self, app: Application | None, *, error: BaseException | None = None, title: str | None = None):
        self.app = app
        self.title = title
        self.shared = False
        self._load_error = error
        if app is not None and not any(isinstance(h, DocumentLifecycleHandler) for h in app.handlers):
            # As ``bokeh serve`` does: runs the document's own on_session_destroyed callbacks.
            app.add(DocumentLifecycleHandler())

    @property
    def failed(self) -> bool:
        """Whether loading the app (or any of its handlers) failed."""
        return self.error is not None

    @property
    def error(self) -> str | None:
        """The load error, if any."""
        if self._load_error is not None:
            return f"{type(self._load_error).__name__}: {self._load_error}"
        assert self.app is not None
        return next((str(h.error) for h in self.app.handlers if h.failed), None)

    @property
    def error_detail(self) -> str | None:
        """The load error's traceback, if any."""
        if self._load_error is not None:
            return "".join(traceback.format_exception(self._load_error))
        assert self.app is not None
        return next((str(h.error_detail) for h in self.app.handlers if h.failed), None)

    @property
    def metadata(self) -> dict[str, Any]:
        """The application's metadata (served at ``/<app>/metadata``)."""
        return dict((self.app.metadata if self.app is not None else None) or {})

    def awaited_functions(self) -> list[Callable[[Any], Awaitable[None]]]:
        """The ``async def modify_doc(doc)`` functions to await once Bokeh's handlers have run."""
        handlers = self.app.handlers if self.app is not None else []
        return [h.coroutine_function for h in handlers if isinstance(h, AwaitedFunctionHandler)]

    def static_paths(self) -> list[Path]:
        """A directory app's ``static/`` folder, served under ``/<app>/static/``."""
        path = self.app.static_path if self.app is not None else None
        return [Path(path)] if path else []

    def template_path(self) -> Path | None:
        """docsync's own page templates do not apply: Bokeh apps bring Jinja templates."""
        return None

    def restored_hook(self) -> Any:
        """A directory app's ``on_session_restored(session_context)`` in ``app_hooks.py``, or None.

        docsync's addition to Bokeh's hooks: it runs once a session was made again from
        its snapshot (docs/persistence.md).
        """
        return lifecycle_hook(self.app, "on_session_restored")

    def jinja_template(self) -> Any:
        """A directory app's ``templates/index.html`` (a Jinja template), or None."""
        for handler in self.app.handlers if self.app is not None else ():
            template = getattr(handler, "_template", None)  # DirectoryHandler's, set at load
            if template is not None:
                return template
        return None


def _from_target(target: Any, argv: list[str]) -> Application:
    if isinstance(target, Application):
        return target
    if isinstance(target, Path) or (isinstance(target, str) and ("/" in target or target.endswith(".py"))):
        path = Path(target)
        if path.is_dir():
            return Application(DirectoryHandler(filename=str(path), argv=argv))
        if not path.is_file():
            raise missing_path(path, "Bokeh app")
        return Application(ScriptHandler(filename=str(path), argv=argv))
    if isinstance(target, str):
        obj = import_string(target.replace(":", "."))
        if isinstance(obj, Application):
            return obj
        if callable(obj):
            return _function_application(obj)
        raise TypeError(f"{target!r} is neither a Bokeh Application nor a modify_doc(doc) function")
    if callable(target):
        return _function_application(target)
    raise TypeError(f"cannot make a Bokeh application of {target!r:.60}")


def _function_application(func: Callable[..., Any]) -> Application:
    handler = AwaitedFunctionHandler(func) if inspect.iscoroutinefunction(func) else FunctionHandler(func)
    return Application(handler)


def load_bokeh_application(target: Any, *, title: str | None = None, argv: list[str] | None = None) -> BokehApplication:
    """Load ``target``: a script, a directory, ``"module:modify_doc"``, a function or an
    Application; errors become a failed application whose page shows them. ``argv``: a
    script or directory app's ``sys.argv[1:]`` (``bokeh serve app --args ...``)."""
    try:
        if title is not None and not isinstance(title, str):
            raise TypeError(f"title is a string, not {type(title).__name__}")
        return BokehApplication(_from_target(target, list(argv or [])), title=title)
    except Exception as exc:
        return BokehApplication(None, error=exc, title=title if isinstance(title, str) else None)
