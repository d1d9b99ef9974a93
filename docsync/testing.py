"""Test helpers: a real server process on a free port, raw websockets to it, and in-process communicators.

``ServerProcess`` runs daphne (or uvicorn) in a subprocess, stopped by its own pid.
``SiteUnderTest`` runs a Django project under test: its settings and environment, one
server process or several (a cluster sharing a private ``RedisServer``), started and
stopped together.
``RawSocket`` is a websocket to a real server that sends any frames and reads docsync
messages and the close (it needs the ``websockets`` package, in the test extra).
``DocsyncCommunicator`` speaks docsync messages to an ASGI application in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from channels.testing import WebsocketCommunicator

from .protocol import ERROR, Message, Receiver, pull_doc_req
from .server.admission.tokens import generate_session_id, issue_token

__all__ = [
    "EVENT_WAIT",
    "REPLY_TIMEOUT",
    "START_TIMEOUT",
    "Closed",
    "DocsyncCommunicator",
    "PostgresServer",
    "RawSocket",
    "RedisServer",
    "ServerProcess",
    "SiteUnderTest",
    "free_port",
    "start_all",
    "stop_all",
    "wait_for_port",
]

#: How long a test waits for a reply before it calls the server hung: a bound against
#: hanging, not a claim about speed (a loaded CI machine may take seconds).
REPLY_TIMEOUT = 30.0

#: The least a test waits for an event (a reply, a close, a row, a log line) before it
#: fails: a test checks that the event comes, not how soon; a loaded machine shared by
#: three test workers and their servers stalls for seconds. A passing wait returns at once.
EVENT_WAIT = 60.0

#: How long a process may take to listen, by default: a bound against hanging, not a
#: claim about speed (a cold start imports Django, and maybe Bokeh, on a machine that
#: three test workers and their servers share).
START_TIMEOUT = 180.0


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
        """Wait until the launched process listens on its port (fails at once if it exits)."""
        assert self.process is not None, "launch() first"
        wait_for_port(self.port, timeout, self.process)

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
        return code

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


class SiteUnderTest:
    """A Django project under test: its settings and environment, and the server processes serving it.

    ``servers`` names each process's kind (``"daphne"``, ``"uvicorn"`` or ``"runserver"``),
    all serving ``asgi_app`` from ``cwd`` with ``settings``. With ``redis`` (the name of
    the environment variable the settings read a Redis URL from) they form a cluster: a
    private ``RedisServer`` starts first and every process gets its URL. Processes start
    and stop together, each on a free port (kept across ``restart``), logging to
    ``folder/server<i>.log``, and each is stopped by its own pid.
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        settings: str | None = None,
        env: dict[str, str] | None = None,
        servers: Sequence[str] = ("daphne",),
        redis: str | None = None,
        cwd: str | Path | None = None,
        asgi_app: str = "project.asgi:application",
    ) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.cwd = Path(cwd) if cwd is not None else Path.cwd()
        self.asgi_app = asgi_app
        self.env: dict[str, str] = dict(env or {})
        if settings is not None:
            self.env["DJANGO_SETTINGS_MODULE"] = settings
        self.redis_variable = redis
        self.redis: RedisServer | None = None
        if redis is not None:
            self.redis = RedisServer()
            self.env[redis] = self.redis.url
        self.servers = [self._process(kind, free_port(), index) for index, kind in enumerate(servers)]

    def _process(self, kind: str, port: int, index: int) -> ServerProcess:
        return ServerProcess(
            self.asgi_app, server=kind, port=port, env=self.env, cwd=self.cwd, log_path=self.log_path(index)
        )

    def log_path(self, index: int = 0) -> Path:
        """The log file of server ``index`` (every start of it appends there)."""
        return self.folder / f"server{index}.log"

    def log_text(self, index: int | None = None) -> str:
        """What server ``index`` logged (all servers' logs when None)."""
        indices = range(len(self.servers)) if index is None else [index]
        paths = [self.log_path(i) for i in indices]
        return "".join(path.read_text(errors="replace") for path in paths if path.exists())

    def manage(self, *args: str, timeout: float = 300.0) -> str:
        """Run ``django-admin <args>`` with the site's settings (``migrate``, ``shell -c ...``); return its output."""
        return self.python("-m", "django", *args, timeout=timeout)

    def python(self, *args: str, timeout: float = 300.0) -> str:
        """Run ``python <args>`` in the site's folder and environment; return its output, or fail with it."""
        done = subprocess.run(
            [sys.executable, *args],
            cwd=self.cwd,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"python {' '.join(args)[:200]} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done.stdout

    def start(self, timeout: float = START_TIMEOUT) -> SiteUnderTest:
        """Start Redis (for a cluster), then every server at once; wait until all listen."""
        if self.redis is not None and self.redis.process is None:
            self.redis.start()
        try:
            start_all(self.servers, timeout)
        except BaseException as exc:
            self.stop()
            raise RuntimeError(f"the site did not start: {exc}\n{self.log_text()[-4000:]}") from exc
        return self

    def stop(self) -> None:
        """Stop every server at once, then Redis."""
        stop_all(self.servers)
        if self.redis is not None:
            self.redis.stop()

    def restart(self, index: int = 0, timeout: float = START_TIMEOUT) -> ServerProcess:
        """Start server ``index`` again on its port (after ``stop``, ``kill`` or a crash)."""
        old = self.servers[index]
        old.stop()
        self.servers[index] = self._process(old.server, old.port, index).start(timeout)
        return self.servers[index]

    @property
    def server(self) -> ServerProcess:
        """The first server process."""
        return self.servers[0]

    @property
    def url(self) -> str:
        """The first server's base URL, ending in a slash."""
        return self.server.url

    def ws_url(self, app: str, index: int = 0) -> str:
        """The websocket URL of ``app`` at server ``index``."""
        return f"ws://127.0.0.1:{self.servers[index].port}/{app}/ws"

    def __enter__(self) -> SiteUnderTest:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class DocsyncCommunicator(WebsocketCommunicator):  # type: ignore[misc]  # channels ships no types
    """A Channels communicator that opens a docsync session and speaks its messages."""

    def __init__(
        self,
        application: Any,
        app_path: str,
        *,
        session_id: str | None = None,
        user_id: Any = None,
        token: str | None = None,
        headers: list[tuple[bytes, bytes]] | None = None,
        client: tuple[str, int] | None = None,
    ) -> None:
        """``client``: the address an ASGI server would report (None: none, as Channels' communicator; not counted)."""
        self.session_id = session_id or generate_session_id()
        self.token = token or issue_token(self.session_id, app_path, user_id)
        super().__init__(
            application,
            f"/{app_path}/ws",
            headers=headers or [(b"host", b"127.0.0.1"), (b"origin", b"http://127.0.0.1")],
            subprotocols=["docsync", self.token],
        )
        if client is not None:
            self.scope["client"] = list(client)  # the one scope the application was handed
        self._receiver = Receiver()

    async def send_docsync(self, message: Message) -> None:
        """Send every frame of ``message``."""
        for frame in message.to_frames():
            if isinstance(frame, str):
                await self.send_to(text_data=frame)
            else:
                await self.send_to(bytes_data=bytes(frame))

    async def receive_docsync(self, timeout: float = REPLY_TIMEOUT) -> Message:
        """Receive frames until a whole message has arrived."""
        while True:
            event = await self.receive_output(timeout)
            if event["type"] == "websocket.close":
                raise ConnectionError(f"closed with {event.get('code')}: {event.get('reason')}")
            frame = event.get("text")
            if frame is None:
                frame = event.get("bytes")
            message = self._receiver.receive(frame)
            if message is not None:
                return message


class Closed(NamedTuple):
    """How a server closed a websocket: its code (None: no close frame) and the messages read meanwhile."""

    code: int | None
    messages: list[Message]


class RawSocket:
    """A websocket to a real server that sends any frames, and reads docsync messages and the close."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.receiver = Receiver(max_frame_bytes=1 << 30, max_message_bytes=1 << 31, max_buffers=1 << 16)
        self.messages: list[Message] = []
        self.close_code: int | None = None
        self.close_reason: str | None = None

    @classmethod
    async def connect(
        cls,
        url: str,
        token: str | None,
        *,
        headers: dict[str, str] | None = None,
        user_agent: str | None = None,
        origin: str | None = None,
        receive_buffer: int | None = None,
        max_queue: int = 16,
        source_address: str | None = None,
    ) -> RawSocket:
        """Open ``url`` with docsync's subprotocol and ``token`` (none: no token offered).

        A slow reader: ``receive_buffer`` bytes of kernel receive buffer (set before
        connecting, so the TCP window stays that small) and ``max_queue`` frames read
        ahead (websockets' default 16; 1: it stops reading the socket once a frame waits unread).
        ``source_address``: the local address to connect from (another client: on Linux
        every 127.x.y.z reaches a server listening on 127.0.0.1).
        """
        import websockets

        host, port = url.split("/")[2].rsplit(":", 1)
        raw: socket.socket | None = None
        if receive_buffer is not None or source_address is not None:
            raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if receive_buffer is not None:  # set before connecting: the TCP window stays that small
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            raw.setblocking(False)
            try:
                if source_address is not None:
                    raw.bind((source_address, 0))
                await asyncio.wait_for(asyncio.get_running_loop().sock_connect(raw, (host, int(port))), REPLY_TIMEOUT)
            except BaseException:
                raw.close()
                raise
        protocols = ["docsync"] if token is None else ["docsync", token]
        ws = await websockets.connect(
            url,
            sock=raw,
            subprotocols=protocols,  # type: ignore[arg-type]
            origin=origin or f"http://{host}:{port}",  # type: ignore[arg-type]
            additional_headers=headers or {},
            user_agent_header=user_agent or "docsync-tests",
            max_size=None,
            compression=None,
            open_timeout=REPLY_TIMEOUT,
            max_queue=max_queue,
        )
        return cls(ws)

    async def send_frames(self, *frames: str | bytes) -> None:
        """Send these frames as they are."""
        for frame in frames:
            await self.socket.send(frame)

    async def send_message(self, message: Message) -> None:
        """Send every frame of ``message``."""
        await self.send_frames(*(f if isinstance(f, str | bytes) else bytes(f) for f in message.to_frames()))

    async def read_message(self, timeout: float = REPLY_TIMEOUT) -> Message:
        """Read frames until a message is complete (``ConnectionClosed`` when the server closes)."""
        import websockets

        while True:
            try:
                frame = await asyncio.wait_for(self.socket.recv(), timeout)
            except websockets.ConnectionClosed as exc:
                self.close_code = exc.rcvd.code if exc.rcvd else 1006
                self.close_reason = exc.rcvd.reason if exc.rcvd else None
                raise
            message = self.receiver.receive(frame)
            if message is not None:
                self.messages.append(message)
                return message

    async def request(self, message: Message, timeout: float = REPLY_TIMEOUT) -> Message:
        """Send ``message`` and return the first message that replies to it."""
        await self.send_message(message)
        while True:
            reply = await self.read_message(timeout)
            if reply.reqid == message.msgid:
                return reply

    async def pull(self) -> Message:
        """Pull the document (the PULL-DOC-REPLY, or the ERROR)."""
        return await self.request(pull_doc_req())

    async def until_closed(self, timeout: float = REPLY_TIMEOUT) -> Closed:
        """Read until the server closes (``timeout`` at most): its close code and the messages read meanwhile."""
        import websockets

        read: list[Message] = []
        with contextlib.suppress(websockets.ConnectionClosed):
            async with asyncio.timeout(timeout):
                while True:
                    read.append(await self.read_message(timeout))
        return Closed(self.close_code, read)

    async def close(self) -> None:
        """Close from this side, dropping what is still unread.

        websockets stops reading a socket that has ``max_queue`` frames unread, so the
        server's close frame would wait behind them until the close timeout (10 s):
        reading on while closing lets it through.
        """
        import websockets

        async def drop_unread() -> None:
            # RuntimeError (websockets' ConcurrencyError): the caller reads meanwhile, which does the same.
            with contextlib.suppress(websockets.ConnectionClosed, RuntimeError):
                while True:
                    await self.socket.recv()

        dropping = asyncio.ensure_future(drop_unread())
        try:
            await self.socket.close()
        finally:
            dropping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await dropping

    def errors(self) -> list[str]:
        """The texts of the ERROR messages read so far."""
        return [str(m.content.get("text")) for m in self.messages if m.msgtype == ERROR]
