"""Bokeh's per-document internals docsync uses: ``curdoc()`` per thread, destroying a document, callbacks, hooks."""

from __future__ import annotations

import contextlib
import contextvars
import sys
import weakref
from collections.abc import Callable, Iterable, Iterator
from types import ModuleType
from typing import Any

import bokeh.io.doc
import bokeh.util.serialization
from bokeh.util.serialization import make_id

__all__ = [
    "advance_simple_ids",
    "destroy_document",
    "forget_modules",
    "give_new_id",
    "install_thread_safe_curdoc",
    "lifecycle_hook",
    "message_callbacks",
    "model_table",
    "no_python_callbacks",
    "patch_calls_python",
    "set_model_id",
    "set_session_context",
    "unsent_models",
]


class _PatchedCurdocs:
    """A stand-in for ``bokeh.io.doc._PATCHED_CURDOCS`` whose stack is per thread and task.

    ``patch_curdoc`` appends and pops; ``curdoc()`` reads ``len`` and ``[-1]``. With one
    list for the process, two sessions' callbacks running at once in two worker
    threads would see each other's document.
    """

    def __init__(self) -> None:
        self._stack: contextvars.ContextVar[tuple[weakref.ReferenceType[Any], ...]] = contextvars.ContextVar(
            "docsync_bokeh_curdocs", default=()
        )

    def append(self, ref: weakref.ReferenceType[Any]) -> None:
        self._stack.set((*self._stack.get(), ref))

    def pop(self) -> weakref.ReferenceType[Any]:
        stack = self._stack.get()
        self._stack.set(stack[:-1])
        return stack[-1]

    def __len__(self) -> int:
        return len(self._stack.get())

    def __getitem__(self, index: int) -> weakref.ReferenceType[Any]:
        return self._stack.get()[index]


def install_thread_safe_curdoc() -> None:
    """Make ``curdoc()`` inside callbacks name the calling thread's (or task's) document."""
    if not isinstance(bokeh.io.doc._PATCHED_CURDOCS, _PatchedCurdocs):
        bokeh.io.doc._PATCHED_CURDOCS = _PatchedCurdocs()  # type: ignore[assignment]


def destroy_document(document: Any, receiver: Any) -> None:
    """Free a session's document as ``Document.destroy`` does, without its ``gc.collect()``.

    A full collection per destroyed session blocks the event loop for every session
    (tens of milliseconds with a few apps loaded); the cycles are freed by the
    collector's normal runs instead.
    """
    document.remove_on_change(receiver)
    document.callbacks.destroy()
    document.models.destroy()
    forget_modules(document)


def forget_modules(document: Any) -> None:
    """Take the modules a script app made for ``document`` out of ``sys.modules``, as ``modules.destroy()`` does.

    Bokeh's own also calls ``gc.get_referrers`` on each module, only to log a warning:
    a walk over every object of the process, on the event loop (~30 ms per destroyed
    session with Django and Bokeh loaded, every session stalled meanwhile).
    """
    manager = document.modules
    modules: list[ModuleType] = list(manager._modules)
    for module in modules:
        if sys.modules.get(module.__name__) is module:
            del sys.modules[module.__name__]
    manager._modules = []


def set_session_context(document: Any, session_context: Any) -> None:
    """Give ``document`` its session context, as Bokeh's own server does (a private weak reference)."""
    document._session_context = weakref.ref(session_context)


def give_new_id(model: Any) -> None:
    """Give ``model`` an id of this process (a restored model made by another process; Bokeh's ids are read-only)."""
    model._id = make_id()


def set_model_id(model: Any, model_id: str) -> None:
    """Give ``model`` the id ``model_id`` (a restored model takes its saved id; Bokeh's ids are read-only).

    Only for a model no browser has seen yet; a document holding it must recompute its
    table of models afterwards (``document.models.freeze()`` does on exit).
    """
    model._id = model_id


def advance_simple_ids(model_ids: Iterable[str]) -> int:
    """Move Bokeh's process-wide simple-id counter past every ``p<n>`` id of ``model_ids``; return the counter.

    A restored document keeps the ids another process gave its models; without this a
    model made later in this process (``make_id``: ``p`` and the next number) could take
    one of them, and a document would hold two models under one id. Other ids (uuids,
    with ``BOKEH_SIMPLE_IDS=no``; BokehJS's own) are never made by the counter. The
    counter only grows (under Bokeh's own lock), so sessions restored at once in one
    process each leave it past their ids.
    """
    highest = 0
    for model_id in model_ids:
        number = model_id[1:]
        if model_id.startswith("p") and number.isascii() and number.isdigit() and len(number) < 19:
            highest = max(highest, int(number))
    module: Any = bokeh.util.serialization
    with module._simple_id_lock:
        if highest > module._simple_id:
            module._simple_id = highest
        return int(module._simple_id)


def unsent_models(document: Any) -> set[Any]:
    """The document's models no event has carried yet (Bokeh's own set, which encoding an event replaces)."""
    return document.models._new_models  # type: ignore[no-any-return]


def model_table(document: Any) -> dict[str, Any]:
    """The document's models by id: Bokeh's own table, made anew whenever its set of models changes."""
    return document.models._models  # type: ignore[no-any-return]


def patch_calls_python(document: Any, events: Any, receiver: Any) -> bool:
    """Tell whether applying a client's patch ``events`` (its JSON) may call the app's Python code.

    False only when it surely calls none: every event a property change to a plain value
    (no model, list or dict in it) of a model of ``document`` with no Python ``on_change``
    callback for that property, and the document has no ``on_change`` callback but
    ``receiver``'s (the session's own). Anything else may: a thread applies it.
    """
    if not isinstance(events, list) or any(key is not receiver for key in document.callbacks._change_callbacks):
        return True
    models = document.models
    for event in events:
        if not isinstance(event, dict) or event.get("kind") != "ModelChanged":
            return True
        target, attr = event.get("model"), event.get("attr")
        model_id = target.get("id") if isinstance(target, dict) else None
        model = models.get_by_id(model_id) if isinstance(model_id, str) else None
        if model is None or not isinstance(event.get("new"), str | int | float | bool | None):
            return True
        if not isinstance(attr, str) or model._callbacks.get(attr):
            return True
    return False


@contextlib.contextmanager
def no_python_callbacks(document: Any, models: list[Any]) -> Iterator[None]:
    """Run the body with no ``on_change`` callback of ``models`` or of ``document`` called (a restore)."""
    kept = [(model, model._callbacks) for model in models]
    kept_document = document.callbacks._change_callbacks
    for model in models:
        model._callbacks = {}
    document.callbacks._change_callbacks = {}
    try:
        yield
    finally:
        for model, callbacks in kept:
            model._callbacks = callbacks
        document.callbacks._change_callbacks = kept_document


def lifecycle_hook(app: Any, name: str) -> Callable[..., Any] | None:
    """Function ``name`` of a directory app's ``app_hooks.py`` (Bokeh keeps its module on the lifecycle handler)."""
    for handler in app.handlers if app is not None else ():
        module = getattr(getattr(handler, "_lifecycle_handler", None), "_module", None)
        hook = getattr(module, name, None)
        if callable(hook):
            return hook  # type: ignore[no-any-return]
    return None


def message_callbacks(document: Any, msg_type: str) -> tuple[Callable[[Any], Any], ...]:
    """The ``on_message`` callbacks ``document`` holds for ``msg_type`` (Bokeh keeps no public accessor)."""
    return tuple(document.callbacks._message_callbacks.get(msg_type, ()))
