"""Test helpers import what a test uses: a process needing only ``docsync.testing``'s timeouts or
server processes does not import ``channels.testing`` (and with it Django's static files, HTTP
and ORM layers: 0.3 s of CPU for every in-memory convergence test process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import sys
import docsync.testing
from docsync.testing import EVENT_WAIT, SiteUnderTest
assert "channels.testing" not in sys.modules, "imported on import"
from docsync.testing import DocsyncCommunicator, RawSocket
assert "channels.testing" in sys.modules and DocsyncCommunicator.__name__ == "DocsyncCommunicator"
assert RawSocket is docsync.testing.sockets.RawSocket
try:
    docsync.testing.NoSuchName
except AttributeError:
    pass
else:
    raise AssertionError("a missing name was found")
print("ok")
"""


def test_socket_helpers_are_imported_when_first_asked_for() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), DJANGO_SETTINGS_MODULE="tests.convergence.settings")
    result = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
