"""asyncio internals docsync touches: a pending task that can never finish, left without a warning."""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["HAS_LOG_DESTROY_PENDING", "forget_pending_task"]

#: CPython's tasks (C and pure Python, 3.11-3.14) log "Task was destroyed but it is
#: pending!" when collected unless their private ``_log_destroy_pending`` is false.
HAS_LOG_DESTROY_PENDING = hasattr(asyncio.Task, "_log_destroy_pending")


def forget_pending_task(task: asyncio.Task[Any]) -> None:
    """Let ``task``, whose loop is gone, be collected without asyncio's "destroyed but pending" error.

    Where the attribute is missing (another asyncio) the task is left as it is: the
    fallback is that one log line per task at exit, nothing worse.
    """
    if hasattr(task, "_log_destroy_pending"):
        task._log_destroy_pending = False
