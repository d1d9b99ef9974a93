"""Fixtures of the server tests: Django in-process, a migrated SQLite file, real servers.

Every server listens on 127.0.0.1 on a free port and is stopped by its own pid.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import django
import pytest
import pytest_asyncio

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.server.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import override_settings  # noqa: E402

from docsync.server.registry import SessionRegistry, get_registry, set_registry  # noqa: E402

from .clients import ServerUnderTest  # noqa: E402
from .settings import DOCSYNC as TEST_DOCSYNC  # noqa: E402


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This process's directory of databases and logs (pytest's, one per pytest-xdist worker)."""
    return tmp_path_factory.mktemp("docsync-server")


@pytest.fixture(scope="session")
def database(workdir: Path) -> str:
    """This process's SQLite file, in ``workdir``, migrated (the catalog holds its products)."""
    # Set here, not through DOCSYNC_SQLITE before django.setup(): project.settings reads
    # that variable once, when first imported, and a test package collected earlier in
    # this process may have imported it (tests/hardening's modules import their settings)
    # with the variable unset (the checkout's db.sqlite3, then shared by every worker) or
    # inherited from the process that started the worker (a folder that process named and
    # never made: "unable to open database file"). As Django's test runner points a
    # connection at its test database:
    path = str(workdir / "db.sqlite3")
    connections.close_all()
    settings.DATABASES["default"]["NAME"] = connections["default"].settings_dict["NAME"] = path
    call_command("migrate", verbosity=0, interactive=False)
    return path


StartServer = Callable[..., ServerUnderTest]


@pytest.fixture(scope="session")
def start_server(workdir: Path, database: str) -> Iterator[StartServer]:
    """Start daphne (or ``kind``) serving ``tests.server.settings``; all are stopped at the end."""
    started: list[ServerUnderTest] = []

    def start(name: str, kind: str = "daphne", **env: str) -> ServerUnderTest:
        server = ServerUnderTest(Path(tempfile.mkdtemp(prefix=f"{name}-", dir=workdir)), database, kind, **env)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def server(start_server: StartServer) -> ServerUnderTest:
    """The server most tests share (DEBUG on, sessions expire after ``LIFETIME``)."""
    return start_server("shared")


@pytest_asyncio.fixture
async def registry() -> AsyncIterator[SessionRegistry]:
    """A fresh in-process registry over the test applications, shut down afterwards."""
    previous = get_registry()
    fresh = SessionRegistry()
    set_registry(fresh)
    # No live-session table writes from the test process.
    with override_settings(DOCSYNC={**TEST_DOCSYNC, "ADMIN_REFRESH": 0}):
        try:
            yield fresh
        finally:
            await fresh.shutdown()
            set_registry(previous)
