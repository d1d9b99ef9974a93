"""The journal's PostgreSQL connection: one INSERT per batch, on the event loop, binary bytes.

The database store's journal write is on every change's path (an OK waits for it).
Through Django's cursor on a thread of its own it cost ~0.6 ms of CPU per change on
PostgreSQL (bench/persistence.py): a hand-off to that thread and back, BEGIN and COMMIT
around the INSERT (three round trips), and Django's client-side binding, which writes a
record's bytes into the SQL text as hex for the server to parse back; psycopg's own
``execute`` on the loop still cost ~0.3 ms (its cursor, adapters and query conversion).
Here a connection of its own, opened by psycopg from Django's settings for the
database and kept open, runs one multi-row INSERT in autocommit (a single statement is
its own transaction: all its rows or none) straight through libpq: parameters sent as
they are (the record's bytes binary), the socket awaited on the loop itself, as the
Redis store's ``RespAppender`` does. Any error closes the connection; the next batch
opens another.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from typing import Any

__all__ = ["PgJournal", "usable"]

_TIMEOUT = 5.0  # seconds for a connection or a statement: past it the journal's attempt fails
_COMMAND_OK = 1  # libpq's PGRES_COMMAND_OK (psycopg.pq.ExecStatus)
_ROWS = 4096  # rows per INSERT (4 parameters each, under PostgreSQL's 65,535)


def usable(connection: Any) -> bool:
    """Tell whether Django's ``connection`` is PostgreSQL through psycopg 3 (the only case this serves)."""
    if connection.vendor != "postgresql":
        return False
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    options = connection.settings_dict.get("OPTIONS", {})
    # A pool, or a role Django assumes after connecting: Django's own connection (its thread).
    return bool(is_psycopg3) and not options.get("pool") and not options.get("assume_role")


class PgJournal:
    """Writes journal rows for one event loop on a psycopg ``AsyncConnection`` kept open."""

    def __init__(self, connection: Any, table: str) -> None:
        params = dict(connection.get_connection_params())
        # Django's own cursor class and adapters are for its ORM; psycopg's defaults
        # dump bytes, ints and aware datetimes as the columns need.
        params.pop("cursor_factory", None)
        params.pop("context", None)
        self.params = params
        self.loop = asyncio.get_running_loop()
        quote = connection.ops.quote_name
        self.prefix = "INSERT INTO {} ({}, {}, {}, {}) VALUES ".format(
            quote(table), quote("session_id"), quote("number"), quote("expires"), quote("data")
        )
        self._statements: dict[int, bytes] = {}
        self._connection: Any = None

    def statement(self, rows: int) -> bytes:
        """The INSERT of ``rows`` rows ($1..$4 the first one's session, number, expiry and bytes)."""
        sql = self._statements.get(rows)
        if sql is None:
            places = (f"(${4 * n + 1}, ${4 * n + 2}, ${4 * n + 3}, ${4 * n + 4})" for n in range(rows))
            sql = (self.prefix + ", ".join(places)).encode()
            if len(self._statements) < 64:  # batches of a few sizes recur: their text is kept
                self._statements[rows] = sql
        return sql

    async def append(self, records: list[tuple[str, int, bytes]], expires: datetime.datetime) -> None:
        """Insert ``records`` (``(session_id, number, data)``) in one statement; raise on any failure."""
        try:
            if self._connection is None or self._connection.closed:
                await self._connect()
            when = expires.isoformat().encode()
            if len(records) <= _ROWS:
                await asyncio.wait_for(self._insert(records, when), _TIMEOUT)
                return
            # PostgreSQL takes 65,535 parameters per statement: a bigger batch is several
            # INSERTs in one transaction (a failure before COMMIT, and the close, end it).
            await asyncio.wait_for(self._run(b"BEGIN", []), _TIMEOUT)
            for start in range(0, len(records), _ROWS):
                await asyncio.wait_for(self._insert(records[start : start + _ROWS], when), _TIMEOUT)
            await asyncio.wait_for(self._run(b"COMMIT", []), _TIMEOUT)
        except BaseException:
            await self.close()
            raise

    async def _insert(self, records: list[tuple[str, int, bytes]], when: bytes) -> None:
        values: list[bytes] = []
        for session_id, number, data in records:
            values += (session_id.encode(), b"%d" % number, when, data)
        await self._run(self.statement(len(records)), values)

    async def _run(self, sql: bytes, values: list[bytes]) -> None:
        pgconn = self._connection.pgconn
        # Text parameters of unstated type (PostgreSQL takes the column's), but the
        # record's bytes: binary bytea (type 17), sent as they are.
        count = len(values) // 4
        pgconn.send_query_params(sql, values, [0, 0, 0, 17] * count, [0, 0, 0, 1] * count)
        while pgconn.flush() == 1:
            await self._ready(writable=True)
        error = None
        while True:
            if pgconn.is_busy():
                await self._ready(writable=False)
                pgconn.consume_input()
                continue
            result = pgconn.get_result()
            if result is None:
                break
            if result.status != _COMMAND_OK:
                error = (result.error_message or pgconn.error_message).decode(errors="replace").strip()
        if error is not None:
            raise ConnectionError(f"PostgreSQL refused the journal's write: {error}")

    async def _ready(self, *, writable: bool) -> None:
        # Until the connection's socket can be written (or read): the loop runs on.
        fd = self._connection.pgconn.socket
        ready: asyncio.Future[None] = self.loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        add, remove = (
            (self.loop.add_writer, self.loop.remove_writer)
            if writable
            else (self.loop.add_reader, self.loop.remove_reader)
        )
        add(fd, wake)
        try:
            await ready
        finally:
            remove(fd)

    async def _connect(self) -> None:
        import psycopg

        self._connection = await asyncio.wait_for(
            psycopg.AsyncConnection.connect(**self.params, autocommit=True), _TIMEOUT
        )
        self._connection.pgconn.nonblocking = 1  # libpq never blocks the loop: _run awaits the socket

    async def close(self) -> None:
        """Close the connection (the next append opens another)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), _TIMEOUT)
