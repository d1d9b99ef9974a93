"""docsync.testing's private Redis and PostgreSQL servers when the free port they picked is taken first.

Tests run in parallel, so another process may bind the port ``free_port()`` gave before
the server starts: a server that cannot listen there must move to another port (or say
why it cannot), never leave the test talking to the other process.
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from docsync.testing import PostgresServer, RedisServer


@contextlib.contextmanager
def listener_on(port: int) -> Iterator[socket.socket]:
    """Another process's stand-in: a socket listening on 127.0.0.1:``port`` that never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        yield sock


def redis_command(port: int, command: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(command + b"\r\n")
        return conn.recv(65536)


def test_redis_moves_to_another_port_when_its_free_port_was_taken() -> None:
    server = RedisServer()
    taken = server.port
    with listener_on(taken), server:
        assert server.port != taken
        assert server.process is not None
        assert f"process_id:{server.process.pid}".encode() in redis_command(server.port, b"INFO server")
        assert server.url == f"redis://127.0.0.1:{server.port}/0"


def test_redis_keeps_its_port_on_a_restart() -> None:
    with RedisServer() as server:
        port = server.port
        server.stop()
        server.start()
        assert server.port == port
        assert redis_command(port, b"PING").startswith(b"+PONG")


def test_redis_on_a_port_given_and_taken_says_so() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = RedisServer(port=port)
    with listener_on(port), pytest.raises(RuntimeError, match=f"port {port}"):
        server.start(timeout=10)
    assert server.process is None  # its own process was stopped


def test_postgres_moves_to_another_port_when_its_free_port_was_taken() -> None:
    if PostgresServer.bin_dir() is None:
        pytest.fail("PostgreSQL is not installed: scripts/setup.sh installs it")
    folder = Path(tempfile.mkdtemp(prefix="docsync-pg-"))
    folder.chmod(0o755)  # PostgreSQL runs as its own user, who must enter it
    server = PostgresServer(folder / "pg")
    taken = server.port
    with listener_on(taken):
        server.start()
    try:
        assert server.port != taken
        assert "could not bind" in (folder / "pg" / "postgres.log").read_text()
        assert server.process is not None and server.process.poll() is None
    finally:
        server.stop()
