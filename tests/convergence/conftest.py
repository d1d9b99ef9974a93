"""A real daphne process serving ``tests.convergence.settings`` on a free port.

The SQLite database is a temporary file, migrated (in a subprocess, so that this
process's Django settings stay whatever other test packages made them) before the
server starts. The server is stopped by its own pid at the end of the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import shutil
import tempfile
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docsync.client import fetch_page_config
from docsync.testing import SiteUnderTest

from . import apps as apps  # registers the test model types in this process too

ROOT = Path(__file__).resolve().parents[2]


class ConvergenceServer(SiteUnderTest):
    """A daphne process serving the convergence apps on a SQLite file in ``folder``, and what the tests need of it."""

    def __init__(self, folder: Path) -> None:
        self.metrics_token = secrets.token_urlsafe(16)
        super().__init__(
            folder,
            settings="tests.convergence.settings",
            cwd=ROOT,
            env={
                "DOCSYNC_SQLITE": str(folder / "db.sqlite3"),
                "DJANGO_DEBUG": "1",
                "DOCSYNC_LOG_LEVEL": "WARNING",
                "DOCSYNC_METRICS_TOKEN": self.metrics_token,
            },
        )

    def live_sessions(self, app: str) -> int:
        """The sessions of ``app`` the server holds now (its /docsync-metrics)."""
        headers = {"Authorization": f"Bearer {self.metrics_token}"}
        request = urllib.request.Request(self.url + "docsync-metrics", headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
        found = re.search(rf'^docsync_sessions\{{app="{re.escape(app)}"\}} (\d+)$', text, re.M)
        assert found is not None, f"no sessions figure for {app} in the metrics:\n{text}"
        return int(found.group(1))

    async def room_config(self, app: str, room: str | None = None) -> dict[str, Any]:
        """Return the page configuration of ``app`` in ``room`` (a fresh room by default)."""
        room = room or uuid.uuid4().hex
        return await asyncio.to_thread(fetch_page_config, f"{self.url}{app}/?room={room}")

    def log_tail(self, lines: int = 60) -> str:
        """The end of the server's log, to show when a test fails."""
        return "\n".join(self.log_text().splitlines()[-lines:])


@contextlib.contextmanager
def convergence_server() -> Iterator[ConvergenceServer]:
    """Run daphne with the convergence apps on a migrated temporary SQLite file (for the tests and bench/)."""
    folder = Path(tempfile.mkdtemp(prefix="docsync-convergence-"))
    try:
        site = ConvergenceServer(folder)
        site.manage("migrate", "--verbosity", "0", "--no-input")
        with site:
            yield site
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def server() -> Iterator[ConvergenceServer]:
    """Start daphne with the convergence apps on a migrated temporary SQLite file."""
    with convergence_server() as running:
        yield running
