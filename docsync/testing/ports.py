"""Free ports on 127.0.0.1, and waiting for a process to listen on one."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from typing import Any

from .timeouts import START_TIMEOUT

__all__ = ["PORT_ATTEMPTS", "free_port", "wait_for_port", "wait_for_port_free"]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: Ports tried by a private server whose free port another process took before it started.
PORT_ATTEMPTS = 3


def wait_for_port(port: int, timeout: float = START_TIMEOUT, process: subprocess.Popen[Any] | None = None) -> None:
    """Wait until something listens on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening")
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
