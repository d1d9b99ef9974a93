"""Where docsync relies on Bokeh's internals: each use version-gated and tested.

Bokeh's server runs all user code on one thread; docsync runs sync callbacks in
worker threads, so the few process-wide states Bokeh keeps for "the current
document" are made per thread (and per asyncio task) here. Serializing a model skips
the defaults it leaves out (``install_lean_serialization``: the same JSON, several
times faster), checked against the installed Bokeh's own in tests/bokeh/.
"""

from __future__ import annotations

import contextvars
import weakref
from collections.abc import Callable
from typing import Any

import bokeh
import bokeh.io.doc
from bokeh.core.has_props import HasProps
from bokeh.core.property.descriptors import UnsetValueError
from bokeh.core.property.singletons import Undefined
from bokeh.core.property.wrappers import PropertyValueContainer
from packaging.version import Version

__all__ = [
    "SUPPORTED",
    "check_version",
    "destroy_document",
    "install_lean_serialization",
    "install_thread_safe_curdoc",
    "message_callbacks",
    "set_session_context",
]

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


def set_session_context(document: Any, session_context: Any) -> None:
    """Give ``document`` its session context, as Bokeh's own server does (a private weak reference)."""
    document._session_context = weakref.ref(session_context)


def message_callbacks(document: Any, msg_type: str) -> tuple[Callable[[Any], Any], ...]:
    """The ``on_message`` callbacks ``document`` holds for ``msg_type`` (Bokeh keeps no public accessor)."""
    return tuple(document.callbacks._message_callbacks.get(msg_type, ()))


_original_query = HasProps.query_properties_with_values


def _query_properties_with_values(
    self: HasProps,
    query: Callable[[Any], bool],
    *,
    include_defaults: bool = True,
    include_undefined: bool = False,
) -> dict[str, Any]:
    """``HasProps.query_properties_with_values`` without computing defaults it then leaves out.

    Bokeh's computes the value of every property, its default included, before it checks
    whether the property was set (its own TODO says so): serializing a model built every
    default of every property. This returns the same dict, computing values only for
    the properties it returns, and for those without a default (so that an unset
    required property still raises). A session's first pull is 2-5 times faster.
    """
    if include_defaults:
        return _original_query(self, query, include_defaults=True, include_undefined=include_undefined)
    selected = set(self._property_values) | set(self._unstable_default_values)
    themed = self.themed_values()
    themed_keys = set(themed) if themed is not None else set()
    selected |= themed_keys
    result: dict[str, Any] = {}
    for key in self.properties(_with_props=True):
        descriptor = self.lookup(key)
        if not query(descriptor):
            continue
        if key not in selected and descriptor.property._default is not Undefined:
            continue
        try:
            value = descriptor.get_value(self)
        except UnsetValueError:
            if not include_undefined:
                raise
            value = Undefined
        else:
            if key not in selected:
                continue
            unchanged_container = isinstance(value, PropertyValueContainer) and key in self._unstable_default_values
            if unchanged_container and key not in themed_keys:
                continue
        result[key] = value
    return result


def install_lean_serialization() -> None:
    """Serialize Bokeh models without building the defaults of properties left out (see above)."""
    if HasProps.query_properties_with_values is _original_query:
        HasProps.query_properties_with_values = _query_properties_with_values  # type: ignore[method-assign]
