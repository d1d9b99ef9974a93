"""Free ports on 127.0.0.1, and waiting for a process to listen on one."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, NamedTuple

from .timeouts import START_TIMEOUT

__all__ = ["PORT_ATTEMPTS", "PortTakenError", "free_port", "wait_for_port", "wait_for_port_free"]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: Ports tried by a private server whose free port another process took before it started.
PORT_ATTEMPTS = 3


class PortTakenError(RuntimeError):
    """A server exited before listening because another process listens on its port."""


def _listening_inodes(port: int) -> set[int] | None:
    """The inodes of the TCP sockets listening on ``port`` (IPv4 and IPv6); None without /proc."""
    inodes: set[int] = set()
    found_table = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        found_table = True
        for line in lines:
            fields = line.split()
            # local_address is HEXADDR:HEXPORT; state 0A is LISTEN; field 9 the socket's inode.
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(int(fields[9]))
    return inodes if found_table else None


def _process_tree(pid: int) -> list[int]:
    """``pid`` and every process descended from it (runserver's child, granian's and hypercorn's workers)."""
    parents: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # it exited meanwhile
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after its last ")".
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(parent, []).append(int(entry.name))
    tree, stack = [], [pid]
    while stack:
        current = stack.pop()
        tree.append(current)
        stack.extend(parents.get(current, []))
    return tree


def _socket_inodes(pids: list[int]) -> set[int]:
    inodes: set[int] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.scandir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(fd.path)
                    if target.startswith("socket:["):
                        inodes.add(int(target[8:-1]))
    return inodes


class _Listeners(NamedTuple):
    ours: bool  # the process or one descended from it listens on the port
    others: bool  # another process does


def _listeners(port: int, pid: int) -> _Listeners | None:
    """Who listens on ``port``, seen from ``pid``; None where /proc cannot tell (then any listener counts)."""
    listening = _listening_inodes(port)
    if listening is None:
        return None
    if not listening:
        return _Listeners(ours=False, others=False)
    ours = listening & _socket_inodes(_process_tree(pid))
    return _Listeners(ours=bool(ours), others=bool(listening - ours))


def wait_for_port(port: int, timeout: float = START_TIMEOUT, process: subprocess.Popen[Any] | None = None) -> None:
    """Wait until something listens on 127.0.0.1:``port``: ``process`` (or a child of it), if given.

    Tests run in parallel, so another process may take a port between ``free_port()`` and a
    server's start: then the server exits without listening, and waiting for any listener
    would hand the test the other process. With ``process`` only its own listener counts,
    and its exit with another process on the port raises ``PortTakenError``.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None:
            if process.poll() is not None:
                listeners = _listeners(port, process.pid)
                exited = f"server exited with {process.returncode} before listening"
                if listeners is not None and listeners.others:
                    raise PortTakenError(f"{exited}: another process listens on port {port}")
                raise RuntimeError(exited)
            listeners = _listeners(port, process.pid)
            if listeners is not None:
                if listeners.ours:
                    return
                time.sleep(0.05)
                continue
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def wait_for_port_free(port: int, timeout: float = START_TIMEOUT) -> None:
    """Wait until nothing listens on 127.0.0.1:``port`` any more (connections are refused)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            return
        time.sleep(0.05)
    raise TimeoutError(f"something still listens on port {port} after {timeout} s")
