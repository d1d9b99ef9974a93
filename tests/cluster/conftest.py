"""A real cluster: a private redis-server and several daphne processes on free ports."""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docsync.client import ClientSession, fetch_page_config
from docsync.protocol import ACK
from docsync.testing import EVENT_WAIT, RawSocket, ServerProcess, SiteUnderTest
from tests.hardening.test_fuzz import LoopThread

from ..sites import migrate_then_run, migrated_sqlite

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "tests.cluster.settings"
PROCESS_TIMEOUT = 3.0

pytestmark = pytest.mark.cluster


CREATE_ADMIN = (
    "from django.contrib.auth.models import User; "
    "User.objects.create_superuser('admin', 'admin@example.com', 'secret-pw')"
)


class Cluster(SiteUnderTest):
    """Redis and N server processes sharing one database (SQLite, or PostgreSQL given its ``DOCSYNC_PG_*``), started."""

    def __init__(
        self,
        tmp: Path,
        count: int,
        kinds: tuple[str, ...] = (),
        settings: str = SETTINGS,
        *,
        migrated: bool = False,
        process_env: dict[int, dict[str, str]] | None = None,
        **extra_env: str,
    ) -> None:
        """``migrated``: the PostgreSQL database of ``extra_env`` is migrated and has the admin already.

        ``process_env``: variables of process ``index`` alone, over the others (kept by ``restart``).
        """
        self.process_env = process_env or {}
        self.tmp = tmp
        self.log = tmp / "cluster.log"
        database = tmp / "db.sqlite3"
        super().__init__(
            tmp,
            settings=settings,
            servers=[kinds[i] if i < len(kinds) else "daphne" for i in range(count)],
            redis="DOCSYNC_REDIS_URL",
            cwd=ROOT,
            env={
                "DOCSYNC_SQLITE": str(database),
                "DOCSYNC_PROCESS_TIMEOUT": str(PROCESS_TIMEOUT),
                "DOCSYNC_ADMIN_REFRESH": "0.5",
                "DOCSYNC_CLUSTER_LOG": str(self.log),
                "DOCSYNC_UNUSED_SESSION_LIFETIME": "60",
                **extra_env,  # after the defaults: a module may change them (the relayed fuzz expires sessions at once)
            },
        )
        if migrated:
            assert "DOCSYNC_PG_NAME" in extra_env, "only a PostgreSQL database comes migrated"
        elif "DOCSYNC_PG_NAME" in extra_env:  # a fresh PostgreSQL: migrated here, the admin made, one process
            migrate_then_run(self, CREATE_ADMIN)
        else:
            migrated_sqlite(database, settings, CREATE_ADMIN)
        self.start()

    def _process(self, kind: str, port: int | None, index: int) -> ServerProcess:
        process = super()._process(kind, port, index)
        process.env.update(self.process_env.get(index, {}))
        return process

    def page_config(self, app: str, index: int = 0) -> dict[str, Any]:
        """The page configuration of ``app`` served by server ``index`` (a new session)."""
        return fetch_page_config(self.servers[index].url + f"{app}/")

    def log_lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def runs(self, session_id: str, what: str = "modify_document") -> list[str]:
        """The pids that ran ``what`` for ``session_id``."""
        return [line.split()[0] for line in self.log_lines() if line.endswith(f"{what} {session_id}")]


@contextlib.contextmanager
def running_cluster(
    tmp_path_factory: pytest.TempPathFactory, name: str, count: int = 2, **options: Any
) -> Iterator[Cluster]:
    """A started ``Cluster`` of ``count`` processes in a fresh folder ``name``, stopped (by pid) afterwards."""
    running = Cluster(tmp_path_factory.mktemp(name), count, **options)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A three-process cluster shared by a module's tests, in file order (the ones that break it come last)."""
    with running_cluster(tmp_path_factory, "cluster", 3) as running:
        yield running


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two daphne processes and a private Redis, shared by a module's tests (a module may override it)."""
    with running_cluster(tmp_path_factory, "pair") as running:
        yield running


async def connect(config: dict[str, Any], ws_url: str) -> ClientSession:
    """Open a client on ``ws_url`` with a page's ``config`` (the session's token)."""
    session = ClientSession(dict(config, wsUrl=ws_url))
    await session.connect()
    return session


async def set_slider_and_wait(session: ClientSession, value: float, timeout: float = EVENT_WAIT) -> str:
    """Set the slider, wait for the callback's echo (``timeout`` s, at least ``EVENT_WAIT``), return the echo text."""
    timeout = max(timeout, EVENT_WAIT)
    session.document.get_model_by_name("slider").value = value  # type: ignore[union-attr]
    await session.sync(timeout)
    echo = session.document.get_model_by_name("echo")
    await session.wait_for(lambda: echo.text.startswith(f"value={value:g} "), timeout)  # type: ignore[union-attr]
    return str(echo.text)  # type: ignore[union-attr]


class AdminBrowser:
    """Logs in to the Django admin of one process and reads/posts its pages."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path.lstrip("/"), timeout=30) as response:
            return str(response.read().decode())

    def post(self, path: str, data: dict[str, str]) -> str:
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self._csrf()}).encode()
        request = urllib.request.Request(
            self.base + path.lstrip("/"), data=body, headers={"Referer": self.base + path.lstrip("/")}
        )
        with self.opener.open(request, timeout=30) as response:
            return str(response.read().decode())

    def login(self, username: str = "admin", password: str = "secret-pw") -> None:
        self.get("admin/login/")
        page = self.post("admin/login/?next=/admin/", {"username": username, "password": password})
        assert "Log out" in page or "logout" in page, "admin login failed"

    def session_rows(self) -> list[tuple[str, str]]:
        """(short id, process) of every row of the live-session list."""
        page = self.get("admin/docsync/livesession/?all=")
        rows = re.findall(r"<tr[^>]*>.*?</tr>", page, re.S)
        found = []
        for row in rows:
            cells = re.findall(r'<t[dh][^>]*class="field-(\w+)"[^>]*>(.*?)</t[dh]>', row, re.S)
            # A cell's first line: the process column adds "not responding since ..." below.
            fields = {name: re.sub(r"<[^>]+>", "", value.split("<br>")[0]).strip() for name, value in cells}
            if "short_id" in fields:
                found.append((fields["short_id"], fields.get("process_state", "")))
        return found


def run(coroutine: Any) -> Any:
    """Run a coroutine to completion (tests are sync; the clients are async)."""
    return asyncio.run(coroutine)


async def open_raw(cluster: Cluster, token: str, index: int, source: str, held: list[RawSocket]) -> RawSocket:
    """A raw socket to app ``counted`` on process ``index`` from ``source``, its first message (or close) read."""
    sock = await RawSocket.connect(cluster.ws_url("counted", index), token, source_address=source)
    held.append(sock)
    with contextlib.suppress(Exception):
        await sock.read_message(10)
    return sock


def accepted(sock: RawSocket) -> bool:
    """Whether the socket's first message was the ACK of an accepted connection."""
    return bool(sock.messages) and sock.messages[0].msgtype == ACK


async def refusal(sock: RawSocket) -> tuple[int | None, list[str]]:
    """The close code of a refused socket and the ERROR texts it got before it."""
    return (await sock.until_closed()).code, sock.errors()


@pytest.fixture(scope="module")
def loop() -> Iterator[LoopThread]:
    """An event loop in a thread, where a fuzz module's cases run (hypothesis draws in the main thread)."""
    running = LoopThread()
    try:
        yield running
    finally:
        running.stop()
