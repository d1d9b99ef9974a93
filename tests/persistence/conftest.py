"""Fixtures of the persistence tests: a migrated SQLite file and server processes that can die and come back."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docsync.testing import ServerProcess, SiteUnderTest
from tests.sites import migrated_sqlite

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "tests.persistence.settings"


class Site(SiteUnderTest):
    """One database (SQLite) and one server process on one port, which can die and come back.

    docsync.testing's ``SiteUnderTest`` with what the persistence tests read of the
    database; ``start`` starts the process the first time and starts it again (same port,
    same log) after a ``stop``, a kill or a crash. ``processes`` 2: a standby process of the
    same kind, listening from the start, takes over at ``fail_over``.
    """

    def __init__(
        self, tmp: Path, kind: str = "daphne", processes: int = 1, *, migrated: bool = False, **env: str
    ) -> None:
        """``migrated``: the PostgreSQL database of ``env`` is migrated already (``tests.sites.migrated_postgres``)."""
        self.tmp = tmp
        self.kind = kind
        self.db = tmp / "db.sqlite3"
        self.hook_log = tmp / "hooks.log"
        settings = env.pop("DJANGO_SETTINGS_MODULE", SETTINGS)  # a test may name other settings
        super().__init__(
            tmp,
            settings=settings,
            env={
                "DOCSYNC_SQLITE": str(self.db),
                "DOCSYNC_PERSISTENCE": "database",
                "DOCSYNC_HOOK_LOG": str(self.hook_log),
                "DOCSYNC_UNUSED_SESSION_LIFETIME": "60",
                "DOCSYNC_ADMIN_REFRESH": "0.3",
                **env,
            },
            servers=(kind,) * processes,
            cwd=ROOT,
        )
        if migrated:
            assert "DOCSYNC_PG_NAME" in self.env, "only a PostgreSQL database comes migrated"
        elif "DOCSYNC_PG_NAME" in self.env:  # a PostgreSQL database of the test's own: migrated here
            self.manage("migrate", "-v0")
        else:  # a copy of the run's migrated SQLite file: no Django process per site
            migrated_sqlite(self.db, settings)
        self.starts = 0

    def start(self, timeout: float = 60.0) -> Site:
        """Start the server process on the site's port (the same one every time)."""
        if self.starts == 0:
            super().start(timeout)
        else:
            self.restart(0, timeout)
        self.starts += 1
        return self

    def fail_over(self) -> ServerProcess:
        """Kill -9 the serving process; the standby, listening already, serves from now on (``server``, ``url``).

        What a load balancer does after a crash: the restore does not wait for a process
        to start (seconds of imports on a loaded machine), only for the store.
        """
        assert len(self.servers) > 1, "no standby: Site(processes=2)"
        dead = self.servers.pop(0)
        dead.kill()
        self.servers.append(dead)  # stopped with the site (a no-op), its log still read
        return self.server

    @property
    def port(self) -> int:
        return self.server.port

    def log(self) -> str:
        return self.log_text()

    def hooks(self) -> list[str]:
        return self.hook_log.read_text().splitlines() if self.hook_log.exists() else []

    def saved_seq(self, session_id: str) -> int | None:
        """The position of the session's snapshot in the database, or None."""
        with sqlite3.connect(self.db) as db:
            row = db.execute("SELECT seq FROM docsync_sessionsnapshot WHERE session_id = ?", (session_id,)).fetchone()
        return None if row is None else int(row[0])

    def snapshot_row(self, session_id: str) -> Any:
        with sqlite3.connect(self.db) as db:
            return db.execute(
                "SELECT data, seq, nbytes FROM docsync_sessionsnapshot WHERE session_id = ?", (session_id,)
            ).fetchone()

    def set_snapshot_data(self, session_id: str, data: bytes) -> None:
        """Overwrite the stored snapshot's bytes (a corruption, or its repair)."""
        with sqlite3.connect(self.db) as db:
            db.execute("UPDATE docsync_sessionsnapshot SET data = ? WHERE session_id = ?", (data, session_id))

    def records(self, session_id: str) -> list[tuple[int, bytes]]:
        """The session's journal records in the database: (row id, data), oldest first."""
        with sqlite3.connect(self.db) as db:
            rows = db.execute(
                "SELECT id, data FROM docsync_sessionrecord WHERE session_id = ? ORDER BY number", (session_id,)
            ).fetchall()
        return [(int(row_id), bytes(data)) for row_id, data in rows]

    def set_record_data(self, row_id: int, data: bytes) -> None:
        """Overwrite a stored journal record's bytes (a corruption, or its repair)."""
        with sqlite3.connect(self.db) as db:
            db.execute("UPDATE docsync_sessionrecord SET data = ? WHERE id = ?", (data, row_id))

    def live_snapshot(self, session_id: str, process: int | None = None) -> tuple[Any, int] | None:
        """What the admin's live-session row says of the session's last snapshot: (when, bytes).

        ``process``: only the row that process (a pid) wrote, None until it has.
        """
        with sqlite3.connect(self.db) as db:
            row = db.execute(
                "SELECT snapshot_saved, snapshot_bytes, process FROM docsync_livesession WHERE session_id = ?",
                (session_id,),
            ).fetchone()
        if row is None or (process is not None and not row[2].endswith(f":{process}")):
            return None
        return row[0], row[1]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """A single-process site (daphne, SQLite) with persistence in the database."""
    running = Site(tmp_path)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def uvicorn_site(tmp_path: Path) -> Iterator[Site]:
    """The same under uvicorn (ASGI lifespan)."""
    running = Site(tmp_path, kind="uvicorn")
    try:
        yield running
    finally:
        running.stop()
