"""The database store's journal on PostgreSQL: one INSERT per batch through libpq, all its rows or none.

A private PostgreSQL (its own folder, a free port, stopped by pid): the journal's table
made by Django's schema editor from ``docsync.SessionRecord``, then written by
``PgJournal`` as the database store writes it on every change, and read back with
psycopg. A batch lands whole (bytes exact, binary ones included), also past the rows
one statement can carry (several INSERTs in one transaction); a refused row refuses
its whole batch and leaves the table as it was; a server that went away fails the
write, and the next write after it came back opens a new connection.
"""

from __future__ import annotations

import datetime
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import django
import psycopg
import pytest
from django.conf import settings
from django.db.utils import ConnectionHandler

from docsync.server.persistence import pg_journal
from docsync.server.persistence.pg_journal import PgJournal
from docsync.testing import PostgresServer

from .conftest import SETTINGS

pytestmark = pytest.mark.asyncio


def table() -> str:
    """The journal's table, as ``docsync.SessionRecord`` names it."""
    from docsync.models import SessionRecord

    return str(SessionRecord._meta.db_table)


@pytest.fixture
def django_apps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Django's apps, which the model needs: the suite's settings when set up, else this folder's."""
    # Never at import: collecting this module before tests/server's conftest would set up
    # the whole worker with this folder's settings (no 'testserver' host).
    if not settings.configured:
        monkeypatch.setenv("DJANGO_SETTINGS_MODULE", SETTINGS)
        django.setup()


@pytest.fixture
def pg(django_apps: None) -> Iterator[tuple[PostgresServer, Any]]:
    """A private PostgreSQL with the journal's table, and a Django connection to it (not the tests' database)."""
    from docsync.models import SessionRecord

    folder = Path(tempfile.mkdtemp(prefix="docsync-pg-journal-"))
    folder.chmod(0o755)  # PostgreSQL runs as its own user
    server = PostgresServer(folder / "pg")
    connection = None
    try:
        server.start()
        handler = ConnectionHandler(
            {
                "default": {
                    "ENGINE": "django.db.backends.postgresql",
                    "NAME": server.database,
                    "USER": server.user,
                    "HOST": "127.0.0.1",
                    "PORT": str(server.port),
                }
            }
        )
        connection = handler["default"]
        # Not atomic: transaction.atomic would open the settings' own 'default' database.
        with connection.schema_editor(atomic=False) as editor:
            editor.create_model(SessionRecord)
        yield server, connection
    finally:
        if connection is not None:
            connection.close()
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def rows(server: PostgresServer) -> list[tuple[str, int, bytes]]:
    with psycopg.connect(host="127.0.0.1", port=server.port, user=server.user, dbname=server.database) as db:
        found = db.execute(f"SELECT session_id, number, data FROM {table()} ORDER BY id").fetchall()
    return [(s, n, bytes(d)) for s, n, d in found]


def expiry() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5)


async def test_a_batch_lands_whole_with_its_bytes_exact(pg: tuple[PostgresServer, Any]) -> None:
    server, connection = pg
    assert pg_journal.usable(connection)
    journal = PgJournal(connection, table())
    records = [("s1", 1, b"\x00\x01binary\xff" * 100), ("s2", 7, os.urandom(9000)), ("s1", 2, b"")]
    try:
        await journal.append(records, expiry())
        await journal.append([("s1", 3, b"third")], expiry())  # the connection kept
        assert rows(server) == [*records, ("s1", 3, b"third")]
        # Past the rows of one statement: several INSERTs, one transaction.
        many = [("big", n, n.to_bytes(4, "big")) for n in range(1, pg_journal._ROWS * 2 + 10)]
        await journal.append(many, expiry())
        assert rows(server)[4:] == many
    finally:
        await journal.close()


@pytest.mark.parametrize("size", [3, pg_journal._ROWS + 5])
async def test_a_refused_row_refuses_its_whole_batch_and_the_next_write_goes_on(
    pg: tuple[PostgresServer, Any], size: int
) -> None:
    server, connection = pg
    journal = PgJournal(connection, table())
    try:
        await journal.append([("before", 1, b"kept")], expiry())
        # A session id longer than the column takes (64): PostgreSQL refuses the statement.
        batch = [("ok", n, b"x") for n in range(1, size)] + [("x" * 65, 1, b"too long")]
        with pytest.raises(ConnectionError, match="PostgreSQL refused the journal's write"):
            await journal.append(batch, expiry())
        assert rows(server) == [("before", 1, b"kept")]
        await journal.append([("after", 1, b"written")], expiry())
        assert rows(server) == [("before", 1, b"kept"), ("after", 1, b"written")]
    finally:
        await journal.close()


async def test_a_server_gone_fails_the_write_and_one_back_takes_the_next(pg: tuple[PostgresServer, Any]) -> None:
    server, connection = pg
    journal = PgJournal(connection, table())
    try:
        await journal.append([("s", 1, b"one")], expiry())
        server.stop()
        with pytest.raises((psycopg.Error, OSError)):
            await journal.append([("s", 2, b"lost")], expiry())
        server.start_again()
        await journal.append([("s", 3, b"three")], expiry())
        assert rows(server) == [("s", 1, b"one"), ("s", 3, b"three")]
    finally:
        await journal.close()
