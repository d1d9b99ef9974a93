"""Asking a process to drain (the admin's action, ``manage.py docsync_drain``): what is refused, and why."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from docsync.server.persistence.signals import send_drain


def test_a_process_of_another_machine_is_named_not_signalled() -> None:
    refusal = r"process elsewhere:42 runs on elsewhere, not here: run manage.py docsync_drain there"
    with pytest.raises(ValueError, match=refusal):
        send_drain("elsewhere:42")


def test_a_malformed_process_id_is_refused() -> None:
    with pytest.raises(ValueError, match="not a process id: 'abc'"):
        send_drain(f"{socket.gethostname()}:abc")


def test_a_process_that_ended_is_reported() -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    with pytest.raises(ProcessLookupError):
        send_drain(ended.stdout.decode().strip())


def test_a_running_process_receives_sigterm() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert send_drain(f"{socket.gethostname()}:{child.pid}") == child.pid
        assert child.wait(10) == -15  # SIGTERM
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
