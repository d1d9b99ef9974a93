"""docsync.testing's ServerProcess: a port another process took first, and runserver's serving child.

Tests run in parallel, so another process may bind the port ``free_port()`` gave before a
server listens there. The server then exits; waiting for *anything* to listen handed the
test the other process (CI failed so: a hardening test's first request answered 404 by
another worker's site, its own daphne's log empty). Only the process's own listener
counts now, and a port picked by the helper moves.

Then runserver: its serving child is gone before ``stop`` returns.

runserver is a parent (the autoreloader) and a serving child, signalled together as one
process group. ``stop`` waited for the parent only; the child, slower to die on a loaded
machine, still listened, so a process started again on the port seemed to listen at
once, and the next request (Chromium's, in tests/e2e/test_admin_gone_sessions.py) was
answered by the dying child or refused. Here a stand-in ``manage.py`` whose child holds
the port 1.5 s after SIGTERM makes that child slow on any machine.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from docsync.testing import PortTakenError, ServerProcess, SiteUnderTest

# An ASGI application answering every request with its process id: which process answered.
_APP = """
import os


async def application(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": str(os.getpid()).encode()})
"""


@contextlib.contextmanager
def listener_on(port: int) -> Iterator[socket.socket]:
    """Another process's stand-in: a socket listening on 127.0.0.1:``port`` that never answers."""
    with socket.create_server(("127.0.0.1", port)) as sock:
        yield sock


def pid_app(folder: Path) -> str:
    (folder / "pid_app.py").write_text(_APP)
    return "pid_app:application"


def test_a_server_whose_free_port_was_taken_moves_to_another(tmp_path: Path) -> None:
    server = ServerProcess(pid_app(tmp_path), cwd=tmp_path, log_path=tmp_path / "daphne.log")
    taken = server.port
    with listener_on(taken):
        server.start()
        try:
            assert server.port != taken
            assert server.get("/") == (200, str(server.pid))
        finally:
            server.stop()
    assert "Address already in use" in (tmp_path / "daphne.log").read_text()  # its first launch, on the taken port


def test_a_second_server_on_a_port_given_and_taken_says_so_and_the_first_serves_on(tmp_path: Path) -> None:
    first = ServerProcess(pid_app(tmp_path), cwd=tmp_path).start()
    try:
        second = ServerProcess(first.asgi_app, port=first.port, cwd=tmp_path)
        with pytest.raises(PortTakenError, match=f"another process listens on port {first.port}"):
            second.start()
        assert second.process is None
        assert first.get("/") == (200, str(first.pid))
    finally:
        first.stop()


def test_a_site_whose_servers_free_port_was_taken_starts_on_another(tmp_path: Path) -> None:
    site = SiteUnderTest(tmp_path / "site", servers=("daphne", "daphne"), cwd=tmp_path, asgi_app=pid_app(tmp_path))
    taken = site.servers[1].port
    with listener_on(taken), site:
        assert site.servers[1].port != taken
        assert [server.get("/") for server in site.servers] == [(200, str(server.pid)) for server in site.servers]
        moved = site.servers[1].port
        restarted = site.restart(1)  # a restart keeps the port it moved to
        assert restarted.port == moved and restarted.get("/") == (200, str(restarted.pid))


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
