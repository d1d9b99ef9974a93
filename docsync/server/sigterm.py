"""SIGTERM: run a step on the event loop before the ASGI server's own handler stops the process.

daphne stops its event loop on SIGTERM (it has no lifespan shutdown) and uvicorn closes
every websocket first: what this process must say before it goes (a drain's 4012, a
cluster's 4010 to relayed websockets) has to be said from here, on the live loop. Each
step is installed over the handler before it, which it then calls, so steps chain.

A step past its bound stops the process anyway: the server's own stop follows, and if
the process still runs ``STOP_GRACE`` seconds later (its shutdown waiting on a store that
does not answer: a locked database, a Redis gone quiet), it exits there and then.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["STOP_GRACE", "before_sigterm"]

logger = logging.getLogger("docsync.server")

#: Seconds the server's own stop may take after a step overran its bound, before the process exits regardless.
STOP_GRACE = 5.0


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
        _stop_anyway()
    except Exception:
        logger.exception("%s failed: stopping anyway", what)
    signal.signal(signal.SIGTERM, previous)
    if callable(previous):
        previous(signum, None)
    elif previous == signal.SIG_DFL:
        os.kill(os.getpid(), signum)


def _stop_anyway() -> None:
    """Make sure the process ends soon, whatever still runs in it (the server's stop follows)."""
    threading.Thread(target=_exit_after, args=(STOP_GRACE,), name="docsync-stop-grace", daemon=True).start()


def _exit_after(seconds: float) -> None:
    # A daemon thread: a process that exits before it wakes never runs what follows.
    time.sleep(seconds)
    running = sorted(t.name for t in threading.enumerate() if t is not threading.current_thread())
    logger.error("still running %.1f s after stopping anyway (threads: %s): exiting now", seconds, ", ".join(running))
    logging.shutdown()  # the handlers' last lines written: os._exit flushes nothing
    os._exit(1)
