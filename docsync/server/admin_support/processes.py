"""Whether a process that wrote live-session rows is still there, as far as this one can tell.

A process's rows name it ``host:pid`` and hold when it started (``process_start``). One of
this machine that no longer runs is known to be gone at once (a SIGKILL, a crash,
runserver's replaced child), and so is one whose pid now names a process that started at
another time (the system gave the pid to another program); one of another machine only
once its rows have been silent for ``PROCESS_TIMEOUT``.
"""

from __future__ import annotations

import os
import socket
import subprocess
from functools import cache

__all__ = ["own_start", "process_gone", "process_start", "rows_kept_for", "silent_after"]


def silent_after(refresh: float) -> float:
    """Seconds without a write after which a process's rows count as silent (it writes every ``refresh``)."""
    # Two missed writes and a second: a loaded process's write may come late once.
    return 2 * refresh + 1.0


def rows_kept_for(timeout: float, refresh: float) -> float:
    """Seconds a silent process's rows are kept and listed: ``PROCESS_TIMEOUT``, never less than ``silent_after``."""
    # A live process's rows are up to a refresh old between its writes: with a
    # PROCESS_TIMEOUT below that, every process deleted (and the admin hid) the others'
    # live rows at each refresh, and they were written again at the next (measured with
    # 1 s against 2 s: two processes' rows went 2, 1, 2, 1 in 10 s, 4 rewrites).
    return max(timeout, silent_after(refresh))


def process_start(pid: int) -> str:
    """When process ``pid`` of this machine started, as its system says it ("" if it cannot tell, or none runs)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read()
    except FileNotFoundError:
        if os.path.exists("/proc/self/stat"):
            return ""  # /proc is there: no such process
        return _start_from_ps(pid)
    except OSError:
        return ""
    # Field 22, starttime: clock ticks from the boot to the process's start. Fields are
    # counted after the command's name, which is in parentheses and may hold spaces or ")".
    fields = text[text.rfind(b")") + 2 :].split()
    return fields[19].decode() if len(fields) > 19 else ""


def _start_from_ps(pid: int) -> str:
    # Without /proc (macOS, the BSDs): ps's start time to the second, the same for a
    # process at every call. A pid reused within the same second goes unnoticed.
    try:
        done = subprocess.run(
            ["ps", "-o", "lstart=", "-p", str(pid)],
            capture_output=True,
            text=True,
            timeout=5,
            env={**os.environ, "LC_ALL": "C"},
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return " ".join(done.stdout.split()) if done.returncode == 0 else ""


@cache
def own_start(pid: int) -> str:
    """When this process (``os.getpid()``, passed so that a forked child asks again) started."""
    return process_start(pid)


def process_gone(process_id: str, started: str = "") -> bool:
    """Tell whether ``process_id`` (``host:pid``) is a process of this machine that no longer runs.

    ``started``: what ``process_start`` said of it when it wrote its rows ("": unknown,
    the pid alone decides).
    """
    host, _, pid_text = process_id.rpartition(":")
    if os.name != "posix" or host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine's (or Windows, where os.kill ends a process): unknown
    pid = int(pid_text)
    if pid <= 0:
        return False
    if pid == os.getpid():
        # This process's pid: another process's rows only if that one started at another
        # time (its predecessor in a container restarted under the same host name and pid).
        own = own_start(pid)
        return bool(started and own) and started != own
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the pid exists
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: it exists, another user's
        pass
    # It runs: the same process, or another one given its pid (then it started later).
    now = process_start(pid) if started else ""
    return bool(now) and now != started
