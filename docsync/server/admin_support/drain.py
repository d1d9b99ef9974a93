"""Asking a server process of this machine to drain (SIGTERM), by its pid and, when known, its start time.

A pid is not a process: once the process named by a live-session row is gone, the
system may give its pid to another program, and a SIGTERM by pid alone would stop that
one. The row holds when its process started (``processes.process_start``); a pid whose
process started at another time is not signalled.
"""

from __future__ import annotations

import os
import signal
import socket

from .processes import process_start

__all__ = ["local_pid", "send_drain"]


def local_pid(process_id: str) -> int:
    """The pid of ``process_id`` (a pid, or host:pid as listed); ValueError if another machine's or malformed."""
    host, _, pid_text = process_id.rpartition(":")
    if host and host != socket.gethostname():
        raise ValueError(f"process {process_id} runs on {host}, not here: run manage.py docsync_drain there")
    if not pid_text.isdigit() or not 0 < int(pid_text) < 1 << 31:
        raise ValueError(f"not a process id: {pid_text!r:.40}")
    return int(pid_text)


def send_drain(process_id: str, started: str = "") -> int:
    """Ask server process ``process_id`` (a pid, or host:pid as the admin lists it) to drain; return its pid.

    The drain is SIGTERM's: only a process of this machine can be asked. ``started``:
    when it started, as its rows hold it ("": unknown, the pid alone decides). Raises
    ValueError for a process of another machine or a malformed id, ProcessLookupError
    when no such process runs (or its pid now names a process that started at another time).
    """
    pid = local_pid(process_id)
    if not started:
        os.kill(pid, signal.SIGTERM)
        return pid
    # A pidfd names the process, not the pid: the one whose start time is read is the
    # one signalled, even if its pid were given to another program in between.
    handle = _pidfd(pid)
    try:
        now = process_start(pid)
        if not now:
            raise ProcessLookupError(f"process {process_id} no longer runs")
        if now != started:
            # Started at another time: the system gave the pid to another program.
            raise ProcessLookupError(
                f"process {process_id} no longer runs: its pid names another program now, not signalled"
            )
        if handle is None:
            os.kill(pid, signal.SIGTERM)
        else:
            signal.pidfd_send_signal(handle, signal.SIGTERM)
    finally:
        if handle is not None:
            os.close(handle)
    return pid


def _pidfd(pid: int) -> int | None:
    """A pidfd of ``pid`` (Linux 5.3 and later), None where the system has none; ProcessLookupError if none runs."""
    if not hasattr(os, "pidfd_open"):
        return None
    try:
        return os.pidfd_open(pid)
    except ProcessLookupError:
        raise ProcessLookupError(f"process {pid} no longer runs") from None
    except OSError:  # ENOSYS (an older kernel), EPERM under some sandboxes
        return None
