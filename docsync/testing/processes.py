"""A real ASGI server process on a free port (daphne, uvicorn, granian, hypercorn or runserver), stopped by its pid."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .ports import PORT_ATTEMPTS, PortTakenError, free_port, wait_for_port, wait_for_port_free
from .timeouts import START_TIMEOUT

__all__ = ["ServerProcess", "running_server", "start_all", "stop_all"]


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


class ServerProcess:
    """A real ASGI server process serving a Django project.

    ``server`` is ``"daphne"``, ``"uvicorn"``, ``"granian"``, ``"hypercorn"``, or
    ``"runserver"`` (``manage.py runserver`` in ``cwd``, with its autoreloader: a parent
    process and the serving child, stopped together as one process group).
    """

    def __init__(
        self,
        asgi_app: str = "project.asgi:application",
        *,
        server: str = "daphne",
        port: int | None = None,
        env: dict[str, str] | None = None,
        cwd: str | Path | None = None,
        log_path: str | Path | None = None,
    ) -> None:
        self.asgi_app = asgi_app
        self.server = server
        self.port = port or free_port()
        # Tests run in parallel: another process may take the port free_port() gave before
        # this one listens there. A port picked here then moves (on the first start only:
        # a restart keeps the port clients know); a port given is the caller's to change.
        self._port_chosen_here = port is None
        self.env = {**os.environ, **(env or {})}
        self.cwd = str(cwd) if cwd is not None else os.getcwd()
        self.log_path = Path(log_path) if log_path else None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's base URL, ending in a slash."""
        return f"http://127.0.0.1:{self.port}/"

    def command(self) -> list[str]:
        """The command line that starts the server."""
        if self.server == "runserver":
            return [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}"]
        if self.server == "uvicorn":
            return [
                sys.executable, "-m", "uvicorn", self.asgi_app, "--host", "127.0.0.1",
                "--port", str(self.port), "--no-access-log", "--ws", "websockets-sansio", "--lifespan", "on",
            ]  # fmt: skip
        if self.server == "granian":  # a supervisor and one worker process (serving_pid)
            return [
                sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
                "--port", str(self.port), "--no-access-log", self.asgi_app,
            ]  # fmt: skip
        if self.server == "hypercorn":  # likewise
            return [sys.executable, "-m", "hypercorn", "-b", f"127.0.0.1:{self.port}", self.asgi_app]
        # No size flags: docsync fits daphne's websocket limits to its own (compat.daphne).
        return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), self.asgi_app]

    def start(self, timeout: float = START_TIMEOUT) -> ServerProcess:
        """Start the process and wait until it listens."""
        self.launch()
        self.wait_listening(timeout)
        return self

    def launch(self) -> ServerProcess:
        """Start the process without waiting for it to listen (``wait_listening`` waits)."""
        with contextlib.ExitStack() as stack:
            output: Any = subprocess.DEVNULL
            if self.log_path is not None:
                output = stack.enter_context(self.log_path.open("ab"))  # the child keeps its own copy
            self.process = subprocess.Popen(
                self.command(),
                cwd=self.cwd,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=self.server == "runserver",
            )
        return self

    def wait_listening(self, timeout: float = START_TIMEOUT) -> None:
        """Wait until the launched process listens on its port (fails at once if it exits).

        If another process took the port first and the port was picked here, launch again on
        another free port (``PORT_ATTEMPTS`` in all); else raise ``PortTakenError``.
        """
        assert self.process is not None, "launch() first"
        for attempt in range(PORT_ATTEMPTS):
            try:
                wait_for_port(self.port, timeout, self.process)
                break
            except PortTakenError:
                self.process = None
                if not self._port_chosen_here or attempt == PORT_ATTEMPTS - 1:
                    raise
                self.port = free_port()
                self.launch()
        self._port_chosen_here = False

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.process is not None
        return self.process.pid

    @property
    def serving_pid(self) -> int:
        """The pid of the process that runs the application: granian's and hypercorn's worker, else ``pid``."""
        if self.server not in ("granian", "hypercorn"):
            return self.pid
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            workers = [child for child in _children(self.pid) if b"resource_tracker" not in _cmdline(child)]
            if workers:
                return workers[0]
            time.sleep(0.05)
        raise TimeoutError(f"{self.server} (pid {self.pid}) started no worker process")

    def stop(self, timeout: float = 15.0) -> int | None:
        """Stop the process by its pid (SIGTERM, then SIGKILL); return its exit code."""
        if self.process is None:
            return None
        self.terminate()
        return self.wait_stopped(timeout)

    def terminate(self) -> None:
        """Send SIGTERM by pid without waiting (``wait_stopped`` waits)."""
        if self.process is not None and (self.process.poll() is None or self.server == "runserver"):
            self._signal(signal.SIGTERM)

    def wait_stopped(self, timeout: float = 15.0) -> int | None:
        """Wait for a terminated process to exit (SIGKILL after ``timeout``); return its exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None or self.server == "runserver":
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(timeout)
        code = self.process.returncode
        self.process = None
        self._wait_group_gone(timeout)
        return code

    def _wait_group_gone(self, timeout: float) -> None:
        # runserver's serving child, signalled with its parent, may outlive it a while
        # (longer on a loaded machine), listening still: a process started again on the
        # port would seem to listen at once, and a request then be refused.
        if self.server == "runserver":
            wait_for_port_free(self.port, timeout)

    def _signal(self, signum: int) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            if self.server == "runserver":
                os.killpg(self.process.pid, signum)  # the group this process leads: the reloader's child too
            else:
                os.kill(self.process.pid, signum)

    def kill(self) -> None:
        """Kill the process at once (SIGKILL), as a crash would."""
        if self.process is not None and (self.process.poll() is None or self.server == "runserver"):
            self._signal(signal.SIGKILL)
            self.process.wait(15)
            self._wait_group_gone(15)
        self.process = None

    def get(self, path: str, *, headers: dict[str, str] | None = None) -> tuple[int, str]:
        """GET ``path`` from the server; return (status, body)."""
        request = urllib.request.Request(self.url + path.lstrip("/"), headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_all(servers: Sequence[ServerProcess], timeout: float = START_TIMEOUT) -> None:
    """Start several processes at once and wait until all listen (stop them all if one fails)."""
    try:
        for server in servers:
            server.launch()
        for server in servers:
            server.wait_listening(timeout)
    except BaseException:
        stop_all(servers)
        raise


def stop_all(servers: Sequence[ServerProcess], timeout: float = 15.0) -> None:
    """Stop several processes at once: SIGTERM to each, then wait for each (SIGKILL after ``timeout``)."""
    for server in servers:
        server.terminate()
    for server in servers:
        server.wait_stopped(timeout)


@contextlib.contextmanager
def running_server(**kwargs: Any) -> Iterator[ServerProcess]:
    """Run a ServerProcess for the duration of a ``with`` block."""
    server = ServerProcess(**kwargs).start()
    try:
        yield server
    finally:
        server.stop()
