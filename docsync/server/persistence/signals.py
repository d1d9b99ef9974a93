"""SIGTERM drains the process before the ASGI server's own handler stops it.

The handler is installed over the server's (daphne's or uvicorn's) the first time a
session is opened, from the event loop's thread (the main thread under both). On
SIGTERM it drains (``SnapshotKeeper.drain``), at most ``DRAIN_TIMEOUT`` seconds, then
hands the signal to the handler it replaced, which stops the server as before.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
from typing import Any

from ...conf import docsync_settings
from .keeper import SnapshotKeeper

__all__ = ["drain_this_process", "install_drain_on_sigterm", "send_drain"]

logger = logging.getLogger("docsync.persistence")


def install_drain_on_sigterm(keeper: SnapshotKeeper) -> bool:
    """Make SIGTERM drain ``keeper``'s process first; return False where signals cannot be set (not the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return False
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGTERM)
    state: dict[str, Any] = {"task": None}

    def handle(signum: int, frame: Any) -> None:
        if state["task"] is not None:
            return  # a second SIGTERM while draining: the drain's bound still holds
        state["task"] = loop.create_task(_drain_then_stop(keeper, previous, signum))

    signal.signal(signal.SIGTERM, handle)
    return True


async def _drain_then_stop(keeper: SnapshotKeeper, previous: Any, signum: int) -> None:
    timeout = float(docsync_settings().DRAIN_TIMEOUT)
    try:
        await asyncio.wait_for(keeper.drain(), timeout)
    except TimeoutError:
        logger.error("persistence: drain took over DRAIN_TIMEOUT (%.1f s): stopping anyway", timeout)
    except Exception:
        logger.exception("persistence: drain failed: stopping anyway")
    signal.signal(signal.SIGTERM, previous)
    if callable(previous):
        previous(signum, None)
    elif previous == signal.SIG_DFL:
        os.kill(os.getpid(), signum)


def send_drain(process_id: str) -> int:
    """Ask server process ``process_id`` (a pid, or host:pid as the admin lists it) to drain; return its pid.

    The drain is SIGTERM's: only a process of this machine can be asked. Raises
    ValueError for a process of another machine or a malformed id, ProcessLookupError
    when no such process runs.
    """
    host, _, pid_text = process_id.rpartition(":")
    if host and host != socket.gethostname():
        raise ValueError(f"process {process_id} runs on {host}, not here: run manage.py docsync_drain there")
    try:
        pid = int(pid_text)
    except ValueError:
        raise ValueError(f"not a process id: {pid_text!r:.40}") from None
    os.kill(pid, signal.SIGTERM)
    return pid


def drain_this_process() -> int:
    """Drain this process as SIGTERM does (the admin's action, through the cluster); return its pid.

    The signal is sent once the caller's answer is on its way (the next turn of the loop).
    """
    asyncio.get_running_loop().call_soon(os.kill, os.getpid(), signal.SIGTERM)
    return os.getpid()
