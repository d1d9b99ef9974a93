"""threading internals docsync touches: a hook that runs at interpreter exit before threads are joined."""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["HAS_THREADING_ATEXIT", "at_interpreter_exit"]

#: CPython 3.9+ runs ``threading._register_atexit`` hooks in ``threading._shutdown``, before
#: the interpreter joins its threads: concurrent.futures uses it to let running calls end.
HAS_THREADING_ATEXIT = callable(getattr(threading, "_register_atexit", None))


def at_interpreter_exit(func: Callable[..., Any], *args: Any) -> None:
    """Call ``func(*args)`` once at interpreter exit, before threads are joined where CPython allows it.

    The fallback (``atexit``) runs a little later, after non-daemon threads are joined;
    daemon threads are still alive then, so a pool of daemon threads is still closed cleanly.
    """
    if HAS_THREADING_ATEXIT:
        threading._register_atexit(func, *args)  # type: ignore[attr-defined]
    else:
        atexit.register(func, *args)
