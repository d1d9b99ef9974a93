"""Asking a process to drain (the admin's action, ``manage.py docsync_drain``): what is refused, and why."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from docsync.server.admin_support.drain import send_drain
from docsync.server.admin_support.processes import process_start


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


def test_a_pid_now_naming_a_process_of_another_start_is_not_signalled() -> None:
    here = socket.gethostname()
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        started = process_start(sleeper.pid)
        assert started
        with pytest.raises(ProcessLookupError, match="its pid names another program now, not signalled"):
            send_drain(f"{here}:{sleeper.pid}", f"{started}0")  # a row of the process gone before it
        assert sleeper.poll() is None
        assert send_drain(f"{here}:{sleeper.pid}", started) == sleeper.pid  # its own start: signalled
        assert sleeper.wait(10) == -15
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
            sleeper.wait()
