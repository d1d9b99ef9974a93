"""Fixtures of the server tests: Django in-process, a migrated SQLite file, real servers.

Every server listens on 127.0.0.1 on a free port and is stopped by its own pid.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import django
import pytest
import pytest_asyncio

# Named now (the settings read it at setup), made by the ``workdir`` fixture.
_TMP = Path(tempfile.gettempdir()) / f"docsync-server-tests-{uuid.uuid4().hex[:12]}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.server.settings")
# Set, not defaulted: a pytest-xdist worker inherits the environment of the process that
# started it, whose file is not this process's.
os.environ["DOCSYNC_SQLITE"] = str(_TMP / "db.sqlite3")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import override_settings  # noqa: E402

from docsync.server.registry import SessionRegistry, get_registry, set_registry  # noqa: E402

from .clients import ServerUnderTest  # noqa: E402
from .settings import DOCSYNC as TEST_DOCSYNC  # noqa: E402


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    """This run's directory of databases and logs, removed at the end."""
    _TMP.mkdir(mode=0o700)
    yield _TMP
    shutil.rmtree(_TMP, ignore_errors=True)


@pytest.fixture(scope="session")
def database(workdir: Path) -> str:
    """The SQLite file of this test run, migrated (the catalog holds its products)."""
    call_command("migrate", verbosity=0, interactive=False)
    return str(settings.DATABASES["default"]["NAME"])


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
