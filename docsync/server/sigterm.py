"""SIGTERM: run a step on the event loop before the ASGI server's own handler stops the process.

daphne stops its event loop on SIGTERM (it has no lifespan shutdown) and uvicorn closes
every websocket first: what this process must say before it goes (a drain's 4012, a
cluster's 4010 to relayed websockets) has to be said from here, on the live loop. Each
step is installed over the handler before it, which it then calls, so steps chain.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["before_sigterm"]

logger = logging.getLogger("docsync.server")


def before_sigterm(step: Callable[[], Awaitable[object]], timeout: float, what: str) -> bool:
    """Make SIGTERM run ``step`` (at most ``timeout`` s) before the handler it replaces; False off the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return False
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGTERM)
    state: dict[str, Any] = {"task": None}

    def handle(signum: int, frame: Any) -> None:
        if state["task"] is not None:
            return  # a second SIGTERM while the step runs: its bound still holds
        state["task"] = loop.create_task(_step_then_stop(step, timeout, what, previous, signum))

    signal.signal(signal.SIGTERM, handle)
    return True


async def _step_then_stop(
    step: Callable[[], Awaitable[object]], timeout: float, what: str, previous: Any, signum: int
) -> None:
    try:
        await asyncio.wait_for(step(), timeout)
    except TimeoutError:
        logger.error("%s took over %.1f s: stopping anyway", what, timeout)
    except Exception:
        logger.exception("%s failed: stopping anyway", what)
    signal.signal(signal.SIGTERM, previous)
    if callable(previous):
        previous(signum, None)
    elif previous == signal.SIG_DFL:
        os.kill(os.getpid(), signum)
