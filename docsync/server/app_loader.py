"""Turn entries of ``DOCSYNC["APPS"]`` into Applications (a failing one shows its error)."""

from __future__ import annotations

import copy
import importlib
import types
from pathlib import Path
from typing import Any

from django.utils.module_loading import import_string

from ..exceptions import ApplicationLoadError
from ..handlers import Application, DirectoryHandler, FunctionHandler, Handler, JSONHandler, ScriptHandler

__all__ = ["APP_OPTIONS", "AppSpec", "app_specs", "load_application", "missing_path"]

#: The keys an app's dict entry in ``DOCSYNC["APPS"]`` may have (any other is a misspelling: docsync.E026).
APP_OPTIONS = frozenset(
    {
        "app",
        "access",
        "kind",
        "shared",
        "shareable",
        "allow_join",
        "push",
        "persist",
        "theme",
        "argv",
        "title",
        "callbacks",
        "client_html",
        "client_offers",
    }
)


class _FailedHandler(Handler):
    """Stands in for an application whose code could not even be imported."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__()
        self._fail(exc)

    def modify_document(self, doc: Any) -> Any:
        raise ApplicationLoadError(f"application failed to load: {self.error}")


class AppSpec:
    """One configured application: its path, what to load, and its options."""

    def __init__(self, path: str, entry: Any) -> None:
        self.path = path.strip("/")
        options = dict(entry) if isinstance(entry, dict) else {"app": entry}
        self.target = options.pop("app", None)
        self.access = options.pop("access", None)
        #: The document kind (see dialects.py): "docsync" (default) or "bokeh".
        self.kind = str(options.pop("kind", "docsync"))
        self.options = options


def app_specs(apps_setting: Any) -> list[AppSpec]:
    """Return the configured applications."""
    return [AppSpec(path, entry) for path, entry in dict(apps_setting or {}).items()]


def missing_path(path: Path, what: str = "app") -> FileNotFoundError:
    """Say that no file or folder is at ``path``, and, for a relative one, where it was looked for."""
    if path.is_absolute():
        return FileNotFoundError(f"no {what} at {path}")
    # Relative to the server's current directory: a server started elsewhere (a service
    # manager, another folder) found nothing where runserver in the project had.
    return FileNotFoundError(
        f"no {what} at {path} (a relative path: read from the server's current directory, {Path.cwd()}; "
        f"give an absolute one, e.g. BASE_DIR / {str(path)!r})"
    )


def _from_path(path: Path, argv: list[str] | None) -> Application:
    if not path.exists():
        raise missing_path(path)
    if path.suffix == ".json" and not path.is_dir():
        if argv is not None:
            raise TypeError("argv is for script and directory apps, not a .json document")
        return Application(JSONHandler(path))
    if path.is_dir():
        return Application(DirectoryHandler(path, argv=argv))
    return Application(ScriptHandler(path, argv=argv))


def _from_object(obj: Any) -> Application:
    if isinstance(obj, Application):
        return obj
    if isinstance(obj, types.ModuleType):
        for name in ("app", "application"):
            found = getattr(obj, name, None)
            if isinstance(found, Application):
                return found
        for name in ("modify_doc", "make_document"):
            if callable(getattr(obj, name, None)):
                return Application(FunctionHandler(getattr(obj, name)))
        raise ImportError(f"module {obj.__name__} has no Application 'app' nor a 'modify_doc(doc)' function")
    if callable(obj):
        return Application(FunctionHandler(obj))
    raise TypeError(f"cannot make an application of {obj!r:.60}")


def _attribute(target: str) -> Any:
    """Import ``module.name``'s ``name``, saying both what was looked for when neither is there."""
    try:
        return import_string(target)
    except ImportError as exc:
        module, _, name = target.rpartition(".")
        if not module or isinstance(exc, ModuleNotFoundError):
            raise  # not a dotted path, or its module is missing too: the error names it
        # import_string said only 'Module "mysite" does not define a "sliderz" attribute/class'.
        raise ImportError(
            f"no module named {target!r}, and module {module!r} defines no {name!r} (a function or Application)"
        ) from exc


def load_application(target: Any, *, argv: list[str] | None = None, title: Any = None) -> Application:
    """Load an application from a spec target; errors become a failed application.

    ``argv`` (the ``"argv"`` option of an app's entry): ``sys.argv[1:]`` of a script or
    directory app while it runs, as ``bokeh serve app.py --args ...`` gives.
    ``title`` (the ``"title"`` option): the page's and each new document's title.
    """
    try:
        if title is not None and not isinstance(title, str):
            raise TypeError(f"title is a string, not {type(title).__name__}")
        application = _load(target, argv)
    except Exception as exc:  # the app's page shows the error; other apps keep serving
        return Application(_FailedHandler(exc))
    if title is None:
        return application
    # A copy: the Application may be the project's own object, served under other paths too.
    titled = copy.copy(application)
    titled.title = title
    return titled


def _load(target: Any, argv: list[str] | None) -> Application:
    """Load ``target`` (see :func:`load_application`); raise what fails."""
    is_path = isinstance(target, Path) or (
        isinstance(target, str) and ("/" in target or target.endswith((".py", ".json")))
    )
    if argv is not None and (not is_path or not isinstance(argv, list) or not all(isinstance(a, str) for a in argv)):
        raise TypeError("argv is a list of strings, for script and directory apps only")
    if isinstance(target, Application):
        return target
    if is_path:
        return _from_path(Path(target), argv)
    if isinstance(target, str):
        try:
            return _from_object(importlib.import_module(target))
        except ModuleNotFoundError as exc:
            if exc.name != target:
                raise
            return _from_object(_attribute(target))
    return _from_object(target)
