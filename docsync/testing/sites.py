"""A Django project under test: its settings, environment and server processes, started and stopped together."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .processes import ServerProcess, start_all, stop_all
from .services import RedisServer
from .timeouts import START_TIMEOUT

__all__ = ["SiteUnderTest"]


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
        # Ports picked by each process: one taken by another process before it listens moves.
        self.servers = [self._process(kind, None, index) for index, kind in enumerate(servers)]

    def _process(self, kind: str, port: int | None, index: int) -> ServerProcess:
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
