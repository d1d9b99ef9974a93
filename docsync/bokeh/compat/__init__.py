"""Where docsync relies on Bokeh's internals: each use version-gated and tested.

Bokeh's server runs all user code on one thread; docsync runs sync callbacks in
worker threads, so the few process-wide states Bokeh keeps for "the current
document" are made per thread (and per asyncio task) here. Serializing a model skips
the defaults it leaves out (``install_lean_serialization``: the same JSON, several
times faster), checked against the installed Bokeh's own in tests/bokeh/. A model makes
its empty default lists and dicts when they are first used rather than when it is built
(``install_lean_models``: a session's document is about a fifth smaller). A value the
application writes deeper than a pull can write is refused before it changes anything
(``install_value_depth_bound``).

Its modules: ``documents`` (a document's state, callbacks and hooks), ``client_values``
(a client's message decoded within bounds), ``lean`` (lean serialization and models),
``app_values`` (the application's values bounded), ``changes`` (a change whose Python
callback raised still sent); this package checks the version.
"""

from __future__ import annotations

import bokeh
from packaging.version import Version

from ..value_depth import MAX_VALUE_DEPTH
from .app_values import install_value_depth_bound
from .changes import install_changes_told_despite_callback_errors
from .client_values import (
    CLIENT_NDARRAY_DTYPES,
    BoundedDeserializer,
    check_complete,
    decoded_models,
    is_server_id,
)
from .documents import (
    advance_simple_ids,
    destroy_document,
    forget_modules,
    give_new_id,
    install_thread_safe_curdoc,
    lifecycle_hook,
    message_callbacks,
    model_table,
    no_python_callbacks,
    patch_calls_python,
    set_model_id,
    set_session_context,
    unsent_models,
)
from .lean import install_lean_models, install_lean_serialization

__all__ = [
    "CLIENT_NDARRAY_DTYPES",
    "MAX_VALUE_DEPTH",
    "SUPPORTED",
    "BoundedDeserializer",
    "advance_simple_ids",
    "check_complete",
    "check_version",
    "decoded_models",
    "destroy_document",
    "forget_modules",
    "give_new_id",
    "install_changes_told_despite_callback_errors",
    "install_lean_models",
    "install_lean_serialization",
    "install_thread_safe_curdoc",
    "install_value_depth_bound",
    "is_server_id",
    "lifecycle_hook",
    "message_callbacks",
    "model_table",
    "no_python_callbacks",
    "patch_calls_python",
    "set_model_id",
    "set_session_context",
    "unsent_models",
]

#: The Bokeh releases this package was written and tested against.
SUPPORTED = (Version("3.9"), Version("3.10"))


def check_version() -> None:
    """Refuse a Bokeh release whose internals this package was not checked against."""
    version = Version(bokeh.__version__)
    low, high = SUPPORTED
    if not (low <= version < high):
        raise ImportError(f"docsync's Bokeh support needs bokeh>={low},<{high}; bokeh {version} is installed")
