"""SIGTERM drains the process before the ASGI server's own handler stops it.

The handler is installed over the server's (daphne's or uvicorn's) the first time a
session is opened, from the event loop's thread (the main thread under both). On
SIGTERM it drains (``SnapshotKeeper.drain``), at most ``DRAIN_TIMEOUT`` seconds, then
hands the signal to the handler it replaced, which stops the server as before.
"""

from __future__ import annotations

import asyncio
import os
import signal

from ...conf import docsync_settings
from ..sigterm import before_sigterm
from .keeper import SnapshotKeeper

__all__ = ["drain_this_process", "install_drain_on_sigterm"]


def install_drain_on_sigterm(keeper: SnapshotKeeper) -> bool:
    """Make SIGTERM drain ``keeper``'s process first; return False where signals cannot be set (not the main thread)."""
    timeout = float(docsync_settings().DRAIN_TIMEOUT)
    return before_sigterm(keeper.drain, timeout, "persistence: drain (DRAIN_TIMEOUT)")


def drain_this_process() -> int:
    """Drain this process as SIGTERM does (the admin's action, through the cluster); return its pid.

    The signal is sent once the caller's answer is on its way (the next turn of the loop).
    """
    asyncio.get_running_loop().call_soon(os.kill, os.getpid(), signal.SIGTERM)
    return os.getpid()
