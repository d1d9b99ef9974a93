"""Whether a process that wrote live-session rows is still there, as far as this one can tell.

A process's rows name it ``host:pid``. One of this machine that no longer runs is known
to be gone at once (a SIGKILL, a crash, runserver's replaced child); one of another
machine only once its rows have been silent for ``PROCESS_TIMEOUT``.
"""

from __future__ import annotations

import os
import socket

__all__ = ["process_gone", "silent_after"]


def silent_after(refresh: float) -> float:
    """Seconds without a write after which a process's rows count as silent (it writes every ``refresh``)."""
    # Two missed writes and a second: a loaded process's write may come late once.
    return 2 * refresh + 1.0


def process_gone(process_id: str) -> bool:
    """Tell whether ``process_id`` (``host:pid``) names a process of this machine that no longer runs."""
    host, _, pid_text = process_id.rpartition(":")
    if os.name != "posix" or host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine's (or Windows, where os.kill ends a process): unknown
    pid = int(pid_text)
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the pid exists
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: it exists, another user's
        return False
    # It runs, or its pid was given to another process: only the timeout tells then.
    return False
