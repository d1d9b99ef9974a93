"""The database store on SQLite: write-ahead logging, so that a change waits for no fsync.

A real daphne process on an SQLite file: after its first journalled change the file is
in WAL mode (SQLITE_WAL, the default); with SQLITE_WAL off it stays as Django made it.
Either way, a SIGKILL loses no acknowledged change.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from docsync.testing import EVENT_WAIT

from .conftest import Site
from .test_kill_and_drain import notes_of, open_client

pytestmark = pytest.mark.asyncio


def journal_mode(db: Path) -> str:
    with sqlite3.connect(db) as connection:
        return str(connection.execute("PRAGMA journal_mode").fetchone()[0])


@pytest.mark.parametrize(("wal", "mode"), [("1", "wal"), ("0", "delete")])
async def test_the_store_puts_sqlite_in_wal_unless_told_not_to(tmp_path: Path, wal: str, mode: str) -> None:
    site = Site(tmp_path, DOCSYNC_STORE_SQLITE_WAL=wal)
    try:
        assert journal_mode(site.db) == "delete"  # as migrate left it
        site.start()
        client = await open_client(site)
        try:
            notes_of(client).items.extend(["a", "b"])
            await client.sync(EVENT_WAIT)
            assert journal_mode(site.db) == mode
            site.server.kill()
            site.start()
            await client.reconnect()
            assert not client.resumed_fresh
            assert notes_of(client).items == ["a", "b"]
        finally:
            await client.close()
    finally:
        site.stop()
