"""Read a process's memory, CPU time and write syscalls from /proc (Linux)."""

from __future__ import annotations

import os
import time

_TICKS = os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """Return the resident set size of ``pid`` in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """Return the CPU time ``pid`` has used, its exited threads included; live threads in ns resolution.

    /proc/<pid>/stat counts in 10 ms ticks, too coarse for costs of a fraction of a
    millisecond; each live thread's schedstat counts nanoseconds. A thread that has
    exited (Django's ASGI handler starts one per request) is only in the process's
    ticks: what the process's ticks hold beyond its live threads' ticks is added.
    """
    try:
        live_ns = live_ticks = 0
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/schedstat") as schedstat:
                    ns = int(schedstat.read().split()[0])
                ticks = _stat_ticks(f"/proc/{pid}/task/{task}/stat")
            except FileNotFoundError:  # the thread exited meanwhile: the process's ticks hold it
                continue
            live_ns += ns
            live_ticks += ticks
        exited = max(0, _stat_ticks(f"/proc/{pid}/stat") - live_ticks)
        return live_ns / 1e9 + exited / _TICKS
    except (FileNotFoundError, ProcessLookupError):
        return _stat_seconds(pid)


def context_switches(pid: int) -> int:
    """Return the context switches of ``pid``'s live threads (voluntary ones count thread hand-offs), or -1."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return -1
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/status") as status:
                for line in status:
                    if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                        total += int(line.split()[1])
        except FileNotFoundError:  # the thread exited meanwhile
            continue
    return total


def write_syscalls(pid: int) -> int:
    """Return the write syscalls ``pid`` has made (write, writev, ...; all its threads), or -1 if unreadable."""
    try:
        with open(f"/proc/{pid}/io") as io:
            for line in io:
                if line.startswith("syscw:"):
                    return int(line.split()[1])
    except OSError:  # another user's process, or gone
        pass
    return -1


def self_cpu_seconds() -> float:
    """Return the CPU time this process has used."""
    return time.process_time()


def _stat_ticks(path: str) -> int:
    """utime + stime of a /proc stat file, in clock ticks."""
    with open(path) as stat:
        text = stat.read()
    # The command name may contain spaces and parentheses; fields follow the last ")".
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def _stat_seconds(pid: int) -> float:
    return _stat_ticks(f"/proc/{pid}/stat") / _TICKS
