"""Where docsync relies on Bokeh's internals: each use version-gated and tested.

Bokeh's server runs all user code on one thread; docsync runs sync callbacks in
worker threads, so the few process-wide states Bokeh keeps for "the current
document" are made per thread (and per asyncio task) here.
"""

from __future__ import annotations

import contextvars
import weakref
from typing import Any

import bokeh
import bokeh.io.doc
from packaging.version import Version

__all__ = ["SUPPORTED", "check_version", "destroy_document", "install_thread_safe_curdoc"]

#: The Bokeh releases this package was written and tested against.
SUPPORTED = (Version("3.9"), Version("3.10"))


def check_version() -> None:
    """Refuse a Bokeh release whose internals this package was not checked against."""
    version = Version(bokeh.__version__)
    low, high = SUPPORTED
    if not (low <= version < high):
        raise ImportError(f"docsync's Bokeh support needs bokeh>={low},<{high}; bokeh {version} is installed")


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
    document.modules.destroy()
