"""Private Redis and PostgreSQL servers on free ports (never the system's), stopped by their pids."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from .ports import PORT_ATTEMPTS, free_port, wait_for_port
from .timeouts import START_TIMEOUT

__all__ = ["PostgresServer", "RedisServer"]


class RedisServer:
    """A private ``redis-server`` on a free port (never the system's), stopped by pid."""

    def __init__(
        self, port: int | None = None, executable: str = "redis-server", data_dir: str | Path | None = None
    ) -> None:
        self.port = port or free_port()
        # A port we picked may be taken by another process between free_port() and the
        # start (tests run in parallel): then the first start moves to another one.
        self._port_chosen_here = port is None
        self.executable = executable
        #: Where it keeps its data (an append-only file) across a stop and a start; None: nowhere.
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The redis:// URL of this server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = START_TIMEOUT) -> RedisServer:
        """Start redis-server (no persistence, unless it has a ``data_dir``) and wait until it listens."""
        keep = ["--appendonly", "no"]
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            keep = ["--dir", str(self.data_dir), "--appendonly", "yes"]
        for attempt in range(PORT_ATTEMPTS):
            command = [
                self.executable, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", *keep, "--daemonize", "no",
            ]  # fmt: skip
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_for_port(self.port, timeout, self.process)
                if self._listener_pid(timeout) == self.process.pid:
                    break
            except RuntimeError:  # it exited: the port is someone else's
                pass
            self.stop()
            if not self._port_chosen_here or attempt == PORT_ATTEMPTS - 1:
                raise RuntimeError(f"redis-server could not listen on port {self.port}: another process holds it")
            self.port = free_port()
        self._port_chosen_here = False  # later starts (a restart) keep the port the clients know
        return self

    def _listener_pid(self, timeout: float) -> int | None:
        """The pid of the Redis server answering on the port (INFO server), or None if none answers as Redis."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return None
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
                    conn.sendall(b"INFO server\r\n")
                    reply = b""
                    while b"process_id:" not in reply or not reply.endswith(b"\r\n"):
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        reply += chunk
            except OSError:
                time.sleep(0.05)
                continue
            if reply.startswith(b"-LOADING"):  # still loading its data: ask again
                time.sleep(0.05)
                continue
            for line in reply.split(b"\r\n"):
                if line.startswith(b"process_id:"):
                    return int(line.split(b":", 1)[1])
            return None
        return None

    def stop(self) -> None:
        """Stop the server by its pid."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class PostgresServer:
    """A private PostgreSQL server in its own folder, on a free port (never the system's), stopped by pid.

    Run as the ``postgres`` system user when this process is root (PostgreSQL refuses
    to run as root); trust authentication on 127.0.0.1 only.
    """

    def __init__(self, folder: str | Path, port: int | None = None, database: str = "docsync") -> None:
        self.folder = Path(folder)
        self.port = port or free_port()
        self.database = database
        self.user = "postgres"
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def bin_dir() -> Path | None:
        """Where ``initdb`` and ``postgres`` are, or None when PostgreSQL is not installed."""
        found = shutil.which("initdb")
        if found is not None:
            return Path(found).resolve().parent
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        return versions[-1].parent if versions else None

    def _as_owner(self) -> dict[str, Any]:
        # The process itself runs as the owner (no runuser in between), so that its pid
        # is the server's and a signal to it reaches PostgreSQL.
        return {"user": self.user, "group": self.user, "extra_groups": []} if os.geteuid() == 0 else {}

    @property
    def env(self) -> dict[str, str]:
        """The environment the demo site reads its PostgreSQL database from."""
        return {
            "DOCSYNC_PG_NAME": self.database,
            "DOCSYNC_PG_USER": self.user,
            "DOCSYNC_PG_HOST": "127.0.0.1",
            "DOCSYNC_PG_PORT": str(self.port),
        }

    def start_again(self, timeout: float = START_TIMEOUT) -> PostgresServer:
        """Start the server again on its data (after ``stop``), and wait until it accepts connections."""
        bin_dir = self.bin_dir()
        assert bin_dir is not None and self.process is None
        self._launch(bin_dir, timeout)
        deadline = time.monotonic() + timeout
        while True:
            done = subprocess.run(
                [str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user],
                capture_output=True,
            )
            if done.returncode == 0:
                return self
            if time.monotonic() > deadline:
                raise RuntimeError("PostgreSQL did not start again")
            time.sleep(0.2)

    def _launch(self, bin_dir: Path, timeout: float) -> None:
        command = [
            str(bin_dir / "postgres"), "-D", str(self.folder / "pgdata"), "-p", str(self.port), "-h", "127.0.0.1",
            "-k", str(self.folder), "-c", "fsync=off", "-c", "full_page_writes=off",
        ]  # fmt: skip
        log = (self.folder / "postgres.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, **self._as_owner())
        log.close()
        wait_for_port(self.port, timeout, self.process)

    def start(self, timeout: float = START_TIMEOUT) -> PostgresServer:
        """Make the cluster (initdb), start the server, create the database."""
        bin_dir = self.bin_dir()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed (initdb not found)")
        data = self.folder / "pgdata"
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, self.user)
        subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", self.user, "-A", "trust", "--no-sync"],
            check=True,
            **self._as_owner(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for attempt in range(PORT_ATTEMPTS):
            with contextlib.suppress(RuntimeError):  # it exited before listening
                self._launch(bin_dir, timeout)
            deadline = time.monotonic() + timeout
            while True:  # listening comes a little before accepting connections
                assert self.process is not None
                if self.process.poll() is not None:
                    break  # it exited: another process took the port (PostgreSQL logs "could not bind")
                createdb = [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user]
                try:
                    # Bounded: what listens may be another process that never answers.
                    done = subprocess.run(
                        [*createdb, self.database],
                        capture_output=True,
                        env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
                        timeout=10,
                    )
                except subprocess.TimeoutExpired:
                    done = None
                if done is not None and done.returncode == 0:
                    return self
                if time.monotonic() > deadline:
                    why = "no answer" if done is None else done.stderr.decode(errors="replace")
                    raise RuntimeError(f"createdb failed: {why}")
                time.sleep(0.2)
            if attempt < PORT_ATTEMPTS - 1:
                self.port = free_port()
        log = (self.folder / "postgres.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"PostgreSQL did not start ({PORT_ATTEMPTS} ports tried):\n{log}")

    def stop(self) -> None:
        """Stop the server by its pid (a fast shutdown, then a kill)."""
        if self.process is not None and self.process.poll() is None:
            # SIGINT is PostgreSQL's fast shutdown.
            os.kill(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
