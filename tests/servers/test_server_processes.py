"""docsync.testing's ServerProcess of runserver: its serving child is gone before ``stop`` returns.

runserver is a parent (the autoreloader) and a serving child, signalled together as one
process group. ``stop`` waited for the parent only; the child, slower to die on a loaded
machine, still listened, so a process started again on the port seemed to listen at
once, and the next request (Chromium's, in tests/e2e/test_admin_gone_sessions.py) was
answered by the dying child or refused. Here a stand-in ``manage.py`` whose child holds
the port 1.5 s after SIGTERM makes that child slow on any machine.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from docsync.testing import ServerProcess

# The autoreloader's shape: the parent runs the child and exits at once on SIGTERM; the
# child listens, answers every request with its pid, and lets go of the port 1.5 s after
# SIGTERM.
_MANAGE = """
import os, signal, socket, subprocess, sys, time

port = int(sys.argv[2].rsplit(":", 1)[1])
if os.environ.get("STAND_IN_CHILD") != "1":
    child = subprocess.Popen([sys.executable, *sys.argv], env={**os.environ, "STAND_IN_CHILD": "1"})
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    sys.exit(child.wait())


def linger(*_):
    time.sleep(1.5)
    os._exit(0)


signal.signal(signal.SIGTERM, linger)
server = socket.create_server(("127.0.0.1", port))
while True:
    conn, _ = server.accept()
    conn.recv(65536)
    conn.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\n" + str(os.getpid()).encode())
    conn.close()
"""


def test_a_stopped_runserver_lets_go_of_its_port_and_one_started_again_answers(tmp_path: Path) -> None:
    (tmp_path / "manage.py").write_text(_MANAGE)
    server = ServerProcess(server="runserver", cwd=tmp_path).start()
    try:
        status, first = server.get("/")
        assert status == 200
        server.stop()
        with pytest.raises(ConnectionRefusedError):  # it was accepted: the child still listened
            socket.create_connection(("127.0.0.1", server.port), timeout=5).close()

        server.start()
        status, second = server.get("/")
        assert status == 200
        assert second != first  # it was the dying child's pid
    finally:
        server.stop()
