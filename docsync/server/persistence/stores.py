"""SessionStore: where snapshots live, behind one interface; two backends users already run.

- ``DatabaseStore``: the Django database (any backend Django supports), one row per
  session in ``docsync_sessionsnapshot``; for a single process, or a cluster sharing
  one database.
- ``RedisStore``: the cluster's Redis, one binary value per session, expiring by itself.

Both keep a snapshot for ``SNAPSHOT_LIFETIME`` seconds after it was written, or after
its expiry was last pushed back (``refresh``: the keeper does so while its session is
held); a session that is destroyed (expired, ended by the admin) has its snapshot deleted.
A session's journal expires whole, ``SNAPSHOT_LIFETIME`` after its last record was
written or its expiry last pushed back: never a record before the records after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import sqlite3
import time
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import Exists, OuterRef
from django.utils.module_loading import import_string

from ...conf import docsync_settings
from ...exceptions import ConfigurationError
from ..executor import run_sync
from . import pg_journal
from .pg_journal import PgJournal

__all__ = ["DatabaseStore", "RedisStore", "SessionStore", "StoredPrefix", "make_store", "select_prefix"]

logger = logging.getLogger("docsync.persistence")


class StoredPrefix(NamedTuple):
    """The first bytes of a stored snapshot, and the length of the whole."""

    data: bytes
    nbytes: int


def _checked_prefix_length(nbytes: Any) -> int:
    # Redis reads GETRANGE 0 -1 as the whole value: a length under 1 would read it all.
    if type(nbytes) is not int or nbytes < 1:
        raise ValueError(f"a prefix of a snapshot is at least 1 byte long, not {nbytes!r:.40}")
    return nbytes


class SessionStore(ABC):
    """Save, load and delete session snapshots (bytes) by session id."""

    name = "store"
    #: Round trips ``refresh`` made (a pipeline, or a transaction): what keeping held sessions costs.
    refresh_round_trips = 0

    @abstractmethod
    async def save(self, session_id: str, app_path: str, seq: int, data: bytes, *, process: str) -> None:
        """Write the snapshot of ``session_id`` (replacing the previous one)."""

    async def save_many(self, items: list[tuple[str, str, int, bytes]], *, process: str) -> None:
        """Write snapshots given as ``(session_id, app_path, seq, data)`` (a drain), at once where the store can."""
        for session_id, app_path, seq, data in items:
            await self.save(session_id, app_path, seq, data, process=process)

    @abstractmethod
    async def load(self, session_id: str) -> bytes | None:
        """Return the snapshot of ``session_id``, or None."""

    async def load_prefix(self, session_id: str, nbytes: int) -> StoredPrefix | None:
        """Return the first ``nbytes`` of the snapshot of ``session_id`` (all of a shorter one) and its length, or None.

        The database and Redis read those bytes alone; a store that cannot reads the whole.
        """
        nbytes = _checked_prefix_length(nbytes)
        data = await self.load(session_id)
        return None if data is None else StoredPrefix(data[:nbytes], len(data))

    @abstractmethod
    async def delete(self, session_id: str) -> None:
        """Forget the snapshot of ``session_id`` (its session was destroyed)."""

    @abstractmethod
    async def append_records(self, records: list[tuple[str, int, bytes]], *, process: str) -> None:
        """Add write-ahead records given as ``(session_id, number, data)``, at once (one round trip where it can)."""

    @abstractmethod
    async def load_records(self, session_id: str) -> list[bytes]:
        """Return the records of ``session_id`` still kept (all of them, or none: a journal expires whole)."""

    @abstractmethod
    async def trim_records(self, session_id: str, upto: int) -> None:
        """Forget the records of ``session_id`` numbered ``upto`` or less (a snapshot holds them)."""

    async def drop_records_after(self, session_id: str, number: int) -> None:
        """Forget the records of ``session_id`` numbered after ``number`` (a write reported failed may have landed)."""
        raise NotImplementedError(f"{type(self).__name__} cannot drop records after a failed write")

    async def refresh(self, session_ids: list[str]) -> list[str]:
        """Push back by ``SNAPSHOT_LIFETIME`` from now the expiry of these sessions' snapshots and records.

        Never brings back one already expired or deleted. Returns the ids of those
        without a snapshot in the store (their keeper writes them again).
        """
        raise NotImplementedError(f"{type(self).__name__} cannot push back the expiry of its snapshots")

    async def sweep(self) -> int:
        """Delete snapshots past their lifetime; return how many (stores that expire by themselves: 0)."""
        return 0

    async def close(self) -> None:  # noqa: B027 - most stores hold nothing to release
        """Release connections."""


#: Sessions per statement (the database) or per pipeline (Redis) of a ``refresh``: a
#: round trip each, whatever their number (SQLite takes up to 999 parameters in one).
REFRESH_BATCH = 500
_WRITE_ATTEMPTS = 5  # a database busy with another writer (SQLite's single writer) is tried again
_JOURNAL_BUSY_MS = 1000  # the journal's SQLite connection waits this long for another writer


def _lifetime() -> float:
    return float(docsync_settings().SNAPSHOT_LIFETIME)


def _expiry() -> datetime.datetime:
    # When records written now expire (aware, UTC).
    return datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=_lifetime())


class DatabaseStore(SessionStore):
    """Snapshots in the Django database (model ``docsync.SessionSnapshot``), written from worker threads."""

    name = "database"

    async def save(self, session_id: str, app_path: str, seq: int, data: bytes, *, process: str) -> None:
        await run_sync(self._save, [(session_id, app_path, seq, data)], process)

    async def save_many(self, items: list[tuple[str, str, int, bytes]], *, process: str) -> None:
        await run_sync(self._save, items, process)

    @staticmethod
    def _save(items: list[tuple[str, str, int, bytes]], process: str) -> None:
        from ...models import SessionSnapshot

        now = datetime.datetime.now(datetime.UTC)
        rows = [
            SessionSnapshot(
                session_id=session_id,
                app=app_path,
                seq=seq,
                nbytes=len(data),
                process=process[:200],
                saved=now,
                expires=now + datetime.timedelta(seconds=_lifetime()),
                data=data,
            )
            for session_id, app_path, seq, data in items
        ]
        fields = ["app", "seq", "nbytes", "process", "saved", "expires", "data"]
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                # Upserts, not a read then a write: SQLite refuses at once a read transaction
                # that would become a write while another thread writes. One transaction for
                # them all: a drain commits once.
                with transaction.atomic():
                    SessionSnapshot.objects.bulk_create(
                        rows, update_conflicts=True, unique_fields=["session_id"], update_fields=fields, batch_size=100
                    )
                return
            except OperationalError:
                if attempt == _WRITE_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))  # a worker thread: the event loop runs on

    def __init__(self) -> None:
        self._writer: ThreadPoolExecutor | None = None
        self._tuned: Any = None  # the journal's DB-API connection, once tuned
        self._pg: PgJournal | bool | None = None  # PostgreSQL's journal connection; False: not PostgreSQL

    def _pg_journal(self) -> PgJournal | None:
        # PostgreSQL through psycopg 3: the journal's own connection on the event loop
        # (pg_journal.py); one per loop, as a shutdown's loop is not the server's.
        pg = self._pg
        if isinstance(pg, PgJournal) and pg.loop is asyncio.get_running_loop():
            return pg
        from django.db import connection

        from ...models import SessionRecord

        if self._pg is None and not pg_journal.usable(connection):
            self._pg = False
        if self._pg is False:
            return None
        if not isinstance(self._pg, PgJournal) or self._pg.loop is not asyncio.get_running_loop():
            self._pg = PgJournal(connection, SessionRecord._meta.db_table)
        return self._pg

    async def append_records(self, records: list[tuple[str, int, bytes]], *, process: str) -> None:
        if self._pg is not False:
            pg = self._pg_journal()
            if pg is not None:
                await pg.append(records, _expiry())
                return
        # On every change's path: one thread of its own whose connection stays open. The
        # worker threads of run_sync close theirs after each call as a request would
        # (CONN_MAX_AGE 0): a connection per change cost ~2 ms of CPU, four round trips.
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="docsync-journal")
        await asyncio.get_running_loop().run_in_executor(self._writer, self._append_on_kept_connection, records)

    def _append_on_kept_connection(self, records: list[tuple[str, int, bytes]]) -> None:
        from django.db import connection

        try:
            raw = connection.connection
            if connection.vendor == "sqlite" and (raw is None or raw is not self._tuned):
                self._tune_sqlite(connection)
            # One attempt: the journal tries again itself (Journal._write).
            DatabaseStore._append(records, attempts=1)
        except Exception:
            connection.close()  # a broken connection is not kept: the next write opens another
            raise

    def _tune_sqlite(self, connection: Any) -> None:
        # SQLite's default rollback journal syncs the disk at every commit: each change
        # would wait for an fsync (several ms). In write-ahead logging a commit is an
        # append to the WAL file; at synchronous=NORMAL it is not synced (checkpoints
        # are): a process that dies loses nothing committed, a power loss may lose the
        # last commits but never corrupts the file. WAL is the database's own mode (it
        # stays); synchronous is this connection's.
        connection.ensure_connection()
        self._tuned = connection.connection
        with connection.cursor() as cursor:
            # A writer holding the database waits this connection one second at most per
            # attempt (not the site's timeout): the journal's attempts then refuse the
            # changes within seconds, the clients waiting for their OK are not held long.
            cursor.execute(f"PRAGMA busy_timeout = {_JOURNAL_BUSY_MS}")
        if not docsync_settings().SQLITE_WAL:
            return
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            mode = str(cursor.fetchone()[0]).lower()
            if mode not in ("wal", "memory"):
                try:
                    cursor.execute("PRAGMA journal_mode=WAL")
                    mode = str(cursor.fetchone()[0]).lower()
                except OperationalError as exc:  # locked by another connection now: next time
                    self._tuned = None
                    logger.warning("persistence: SQLite not switched to write-ahead logging yet: %s", exc)
                    return
                if mode == "wal":
                    logger.info("persistence: SQLite database switched to write-ahead logging (SQLITE_WAL)")
            if mode == "wal":
                cursor.execute("PRAGMA synchronous=NORMAL")

    async def close(self) -> None:
        if isinstance(self._pg, PgJournal):
            if self._pg.loop is asyncio.get_running_loop():
                await self._pg.close()
            self._pg = None
        writer, self._writer = self._writer, None
        if writer is not None:
            from django.db import connection

            await asyncio.get_running_loop().run_in_executor(writer, connection.close)
            writer.shutdown(wait=False)

    @staticmethod
    def _append(records: list[tuple[str, int, bytes]], attempts: int = _WRITE_ATTEMPTS) -> None:
        from django.db import connection

        from ...models import SessionRecord

        expires = _expiry()
        if not settings.USE_TZ:
            expires = expires.replace(tzinfo=None)
        # One INSERT statement through Django's cursor (any backend; %s placeholders are
        # Django's): building model instances for bulk_create cost more than the write.
        quote = connection.ops.quote_name
        sql = "INSERT INTO {} ({}, {}, {}, {}) VALUES (%s, %s, %s, %s)".format(
            quote(SessionRecord._meta.db_table), quote("session_id"), quote("number"), quote("expires"), quote("data")
        )
        when = connection.ops.adapt_datetimefield_value(expires)
        rows = [(s, n, when, data) for s, n, data in records]
        raw = None
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            if connection.get_autocommit() and not connection.in_atomic_block:
                # SQLite's own connection (autocommit, this thread's alone): Django's
                # atomic block and cursor wrapper cost more than the write in WAL mode.
                raw = connection.connection
        for attempt in range(attempts):
            try:
                if raw is not None:
                    _insert_in_one_transaction(raw, sql.replace("%s", "?"), rows)
                else:
                    with transaction.atomic(), connection.cursor() as cursor:
                        cursor.executemany(sql, rows)
                return
            except (OperationalError, sqlite3.OperationalError):
                if attempt == attempts - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))  # a thread of its own: the event loop runs on

    async def load_records(self, session_id: str) -> list[bytes]:
        records: list[bytes] = await run_sync(self._load_records, session_id)
        return records

    @staticmethod
    def _load_records(session_id: str) -> list[bytes]:
        from ...models import SessionRecord

        # A session's records expire together, when the last of their expiries passes
        # (``_alive``): all of them while one is alive, none after. Read one by one, a
        # record expired in the middle of the chain (written by a process whose clock
        # ran behind, say) stopped the restore there, and the changes after it were lost.
        rows = SessionRecord.objects.filter(session_id=session_id).filter(_alive(session_id)).order_by("number")
        return [bytes(data) for data in rows.values_list("data", flat=True)]

    async def trim_records(self, session_id: str, upto: int) -> None:
        await run_sync(self._trim, session_id, upto)

    @staticmethod
    def _trim(session_id: str, upto: int) -> None:
        from ...models import SessionRecord

        SessionRecord.objects.filter(session_id=session_id, number__lte=upto).delete()

    async def drop_records_after(self, session_id: str, number: int) -> None:
        await run_sync(self._drop_after, session_id, number)

    @staticmethod
    def _drop_after(session_id: str, number: int) -> None:
        from ...models import SessionRecord

        SessionRecord.objects.filter(session_id=session_id, number__gt=number).delete()

    async def load(self, session_id: str) -> bytes | None:
        data: bytes | None = await run_sync(self._load, session_id)
        return data

    @staticmethod
    def _load(session_id: str) -> bytes | None:
        from ...models import SessionSnapshot

        now = datetime.datetime.now(datetime.UTC)
        row = SessionSnapshot.objects.filter(session_id=session_id, expires__gt=now).values_list("data", flat=True)
        data = row.first()
        return bytes(data) if data is not None else None

    async def load_prefix(self, session_id: str, nbytes: int) -> StoredPrefix | None:
        prefix: StoredPrefix | None = await run_sync(self._load_prefix, session_id, _checked_prefix_length(nbytes))
        return prefix

    @staticmethod
    def _load_prefix(session_id: str, nbytes: int) -> StoredPrefix | None:
        from django.db import connection

        if connection.vendor in _PREFIX_VENDORS:
            return select_prefix(connection, session_id, nbytes)
        data = DatabaseStore._load(session_id)  # a backend not tested with SUBSTR of a binary column: whole
        return None if data is None else StoredPrefix(data[:nbytes], len(data))

    async def delete(self, session_id: str) -> None:
        await run_sync(self._delete, session_id)

    @staticmethod
    def _delete(session_id: str) -> None:
        from ...models import SessionRecord, SessionSnapshot

        SessionSnapshot.objects.filter(session_id=session_id).delete()
        SessionRecord.objects.filter(session_id=session_id).delete()

    async def sweep(self) -> int:
        deleted: int = await run_sync(self._sweep)
        return deleted

    @staticmethod
    def _sweep() -> int:
        from ...models import SessionRecord, SessionSnapshot

        now = datetime.datetime.now(datetime.UTC)
        deleted, _ = SessionSnapshot.objects.filter(expires__lte=now).delete()
        # Whole journals only: the records of sessions none of whose records is alive.
        # The sessions are read through the index on ``expires`` (those with a record past
        # it: few, as records go with their snapshot's trim); the delete checks again, in
        # its own statement, that none came alive meanwhile (a new record of the session).
        stale = SessionRecord.objects.filter(expires__lte=now).values_list("session_id", flat=True).distinct()
        sessions = list(stale)
        for start in range(0, len(sessions), REFRESH_BATCH):
            batch = sessions[start : start + REFRESH_BATCH]
            alive = SessionRecord.objects.filter(session_id=OuterRef("session_id"), expires__gt=now)
            SessionRecord.objects.filter(session_id__in=batch).filter(~Exists(alive)).delete()
        return deleted

    async def refresh(self, session_ids: list[str]) -> list[str]:
        missing: list[str] = await run_sync(self._refresh, session_ids)
        return missing

    def _refresh(self, session_ids: list[str]) -> list[str]:
        """Two UPDATEs per ``REFRESH_BATCH`` sessions (snapshots, records) in a transaction; a SELECT if any is gone."""
        from ...models import SessionRecord, SessionSnapshot

        missing: list[str] = []
        for start in range(0, len(session_ids), REFRESH_BATCH):
            batch = session_ids[start : start + REFRESH_BATCH]
            for attempt in range(_WRITE_ATTEMPTS):
                try:
                    now = datetime.datetime.now(datetime.UTC)
                    expires = now + datetime.timedelta(seconds=_lifetime())
                    # Only what is not expired yet: a snapshot past its lifetime is gone for
                    # the store's readers, and so is a journal none of whose records is alive
                    # (it expires whole). Every record of a journal still alive takes the
                    # new expiry, so its records expire together from then on.
                    journal = SessionRecord.objects.filter(session_id=OuterRef("session_id"), expires__gt=now)
                    with transaction.atomic():
                        kept = SessionSnapshot.objects.filter(session_id__in=batch, expires__gt=now).update(
                            expires=expires
                        )
                        SessionRecord.objects.filter(session_id__in=batch).filter(Exists(journal)).update(
                            expires=expires
                        )
                    break
                except OperationalError:
                    if attempt == _WRITE_ATTEMPTS - 1:
                        raise
                    time.sleep(0.05 * (attempt + 1))  # a worker thread: the event loop runs on
                finally:
                    self.refresh_round_trips += 1  # one transaction (its worker thread's alone)
            if kept < len(batch):  # rare: which ones are gone (or expired, not swept yet) is read only then
                alive = SessionSnapshot.objects.filter(session_id__in=batch, expires__gt=now)
                found = set(alive.values_list("session_id", flat=True))
                missing.extend(session_id for session_id in batch if session_id not in found)
        return missing


#: The backends whose SUBSTR and LENGTH of a binary column count bytes (both tested):
#: PostgreSQL's bytea, SQLite's BLOB.
_PREFIX_VENDORS = frozenset({"postgresql", "sqlite"})


def select_prefix(connection: Any, session_id: str, nbytes: int) -> StoredPrefix | None:
    """The first ``nbytes`` of the unexpired snapshot of ``session_id`` and its length, read with SQL on ``connection``.

    Only those bytes leave the database: PostgreSQL reads the first chunks of a TOASTed
    value (and its length from its header); SQLite reads the pages that hold them.
    """
    from ...models import SessionSnapshot

    nbytes = _checked_prefix_length(nbytes)
    now = datetime.datetime.now(datetime.UTC)
    if not settings.USE_TZ:
        now = now.replace(tzinfo=None)
    if connection.vendor == "sqlite":
        return _sqlite_prefix(connection, session_id, now, nbytes)
    quote = connection.ops.quote_name
    data = quote("data")
    # The length is written into the statement (a checked int), not bound: PostgreSQL has
    # no SUBSTR(bytea, bigint, bigint) for a bound int8 to match.
    sql = "SELECT SUBSTR({data}, 1, {n}), LENGTH({data}) FROM {table} WHERE {sid} = %s AND {expires} > %s".format(
        data=data,
        n=nbytes,
        table=quote(SessionSnapshot._meta.db_table),
        sid=quote("session_id"),
        expires=quote("expires"),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [session_id, connection.ops.adapt_datetimefield_value(now)])
        row = cursor.fetchone()
    return None if row is None else StoredPrefix(bytes(row[0]), int(row[1]))


def _sqlite_prefix(connection: Any, session_id: str, now: Any, nbytes: int) -> StoredPrefix | None:
    """``select_prefix`` on SQLite: the row's id by SQL, then its first bytes and length through a blob handle.

    SQLite's SUBSTR of a blob pages the whole value through the process (71 ms for
    64 MB); a blob handle reads the pages that hold those bytes. Both reads are in one
    transaction, so that the row id cannot pass to another session's row between them.
    """
    from ...models import SessionSnapshot

    table = SessionSnapshot._meta.db_table
    quote = connection.ops.quote_name
    sql = f"SELECT rowid FROM {quote(table)} WHERE {quote('session_id')} = ? AND {quote('expires')} > ?"
    connection.ensure_connection()
    raw = connection.connection  # Django's sqlite3.Connection, in autocommit (blobopen: Python 3.11)
    own = not connection.in_atomic_block  # else the caller's transaction holds both reads already
    if own:
        raw.execute("BEGIN")
    try:
        row = raw.execute(sql, [session_id, connection.ops.adapt_datetimefield_value(now)]).fetchone()
        if row is None:
            return None
        with raw.blobopen(table, "data", int(row[0]), readonly=True) as blob:
            return StoredPrefix(blob.read(nbytes), len(blob))
    finally:
        if own:
            raw.execute("COMMIT")


def _alive(session_id: str) -> Exists:
    """True for the records of ``session_id`` while one of them is unexpired: a journal expires whole."""
    from ...models import SessionRecord

    now = datetime.datetime.now(datetime.UTC)
    return Exists(SessionRecord.objects.filter(session_id=session_id, expires__gt=now))


def _insert_in_one_transaction(raw: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Run ``sql`` for every row in one transaction on a DB-API connection in autocommit (SQLite's)."""
    raw.execute("BEGIN")
    try:
        raw.executemany(sql, rows)
        raw.execute("COMMIT")
    except BaseException:
        # Nothing may be left open; SQLite may have ended the transaction on the error.
        with contextlib.suppress(Exception):
            raw.execute("ROLLBACK")
        raise


class RedisStore(SessionStore):
    """Snapshots as binary values in Redis (``docsync:snapshot:<id>``), each expiring by itself.

    A session's records are a sorted set (``docsync:journal:<id>``, scored by number)
    that expires with its last write.
    """

    name = "redis"
    prefix = "docsync:snapshot:"
    journal_prefix = "docsync:journal:"

    def __init__(self, url: str | None = None) -> None:
        self._url = url
        self._redis: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._appender: RespAppender | None = None

    def _client(self) -> Any:
        # One client per event loop: a client made on the server's loop cannot be used
        # on the loop that runs the shutdown hooks at exit.
        loop = asyncio.get_running_loop()
        if self._redis is None or self._loop is not loop:
            import redis.asyncio as aioredis  # the optional "redis" extra

            self._redis = aioredis.Redis.from_url(self._url or _redis_url(), socket_timeout=5, socket_connect_timeout=2)
            self._loop = loop
        return self._redis

    async def save(self, session_id: str, app_path: str, seq: int, data: bytes, *, process: str) -> None:
        await self._client().set(self.prefix + session_id, data, px=int(_lifetime() * 1000))

    async def save_many(self, items: list[tuple[str, str, int, bytes]], *, process: str) -> None:
        ttl = int(_lifetime() * 1000)
        async with self._client().pipeline(transaction=False) as pipe:
            for session_id, _, _, data in items:
                pipe.set(self.prefix + session_id, data, px=ttl)
            await pipe.execute()

    async def append_records(self, records: list[tuple[str, int, bytes]], *, process: str) -> None:
        ttl = int(_lifetime() * 1000)
        url = self._url or _redis_url()
        if url.startswith("redis://"):
            # On every change's path: one write of the commands and one read of their
            # replies on a connection of its own (redis-py's pipeline cost ~0.1 ms of CPU
            # per call, a tenth of a round trip).
            if self._appender is None or self._appender.loop is not asyncio.get_running_loop():
                self._appender = RespAppender(url)
            commands: list[list[bytes]] = []
            for session_id, number, data in records:
                commands.append([b"ZADD", (self.journal_prefix + session_id).encode(), str(number).encode(), data])
            for session_id in _sessions_of(records):
                commands.append([b"PEXPIRE", (self.journal_prefix + session_id).encode(), str(ttl).encode()])
            await self._appender.run(commands)
            return
        async with self._client().pipeline(transaction=False) as pipe:
            for session_id, number, data in records:
                pipe.zadd(self.journal_prefix + session_id, {data: number})
            for session_id in _sessions_of(records):
                pipe.pexpire(self.journal_prefix + session_id, ttl)
            await pipe.execute()

    async def load_records(self, session_id: str) -> list[bytes]:
        values = await self._client().zrange(self.journal_prefix + session_id, 0, -1)
        return [bytes(value) for value in values]

    async def trim_records(self, session_id: str, upto: int) -> None:
        await self._client().zremrangebyscore(self.journal_prefix + session_id, "-inf", upto)

    async def drop_records_after(self, session_id: str, number: int) -> None:
        await self._client().zremrangebyscore(self.journal_prefix + session_id, f"({number}", "+inf")

    async def load(self, session_id: str) -> bytes | None:
        value = await self._client().get(self.prefix + session_id)
        return bytes(value) if value is not None else None

    async def load_prefix(self, session_id: str, nbytes: int) -> StoredPrefix | None:
        key = self.prefix + session_id
        # One round trip, one transaction: the three replies are of the same value.
        async with self._client().pipeline(transaction=True) as pipe:
            pipe.exists(key)
            pipe.strlen(key)
            pipe.getrange(key, 0, _checked_prefix_length(nbytes) - 1)
            exists, length, head = await pipe.execute()
        return StoredPrefix(bytes(head), int(length)) if exists else None

    async def delete(self, session_id: str) -> None:
        await self._client().delete(self.prefix + session_id, self.journal_prefix + session_id)

    async def refresh(self, session_ids: list[str]) -> list[str]:
        # PEXPIRE of a key that expired or was deleted does nothing (and answers 0): a
        # session that ended is never brought back.
        ttl = int(_lifetime() * 1000)
        missing: list[str] = []
        for start in range(0, len(session_ids), REFRESH_BATCH):
            batch = session_ids[start : start + REFRESH_BATCH]
            async with self._client().pipeline(transaction=False) as pipe:
                for session_id in batch:
                    pipe.pexpire(self.prefix + session_id, ttl)
                    pipe.pexpire(self.journal_prefix + session_id, ttl)
                replies = await pipe.execute()
            self.refresh_round_trips += 1
            missing.extend(session_id for session_id, kept in zip(batch, replies[::2], strict=True) if not kept)
        return missing

    async def close(self) -> None:
        if self._redis is not None and self._loop is asyncio.get_running_loop():
            await self._redis.aclose()
        self._redis = None
        if self._appender is not None:
            self._appender.close()
            self._appender = None


class RespAppender:
    """Runs batches of Redis commands whose replies are one line (ZADD, PEXPIRE) on one connection.

    Plain ``redis://`` URLs only (password and database number included); any error
    closes the connection, the next batch opens another.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 6379
        self.password = unquote(parts.password) if parts.password else None
        self.username = unquote(parts.username) if parts.username else None
        path = parts.path.strip("/")
        self.db = int(path) if path.isdigit() else 0
        self.loop = asyncio.get_running_loop()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @staticmethod
    def pack(command: list[bytes]) -> bytes:
        """One command in RESP (an array of bulk strings)."""
        out = [b"*%d\r\n" % len(command)]
        for part in command:
            out.append(b"$%d\r\n" % len(part))
            out.append(part)
            out.append(b"\r\n")
        return b"".join(out)

    async def run(self, commands: list[list[bytes]]) -> None:
        """Send ``commands`` at once, read their replies; raise on an error reply or a lost connection."""
        try:
            if self._writer is None:
                await self._connect()
            assert self._reader is not None and self._writer is not None
            self._writer.write(b"".join(self.pack(c) for c in commands))
            await self._writer.drain()
            errors = []
            for _ in commands:
                line = await asyncio.wait_for(self._reader.readline(), 5)
                if not line:
                    raise ConnectionError("Redis closed the connection")
                if line[:1] == b"-":
                    errors.append(line.decode(errors="replace").strip())
            if errors:
                raise RuntimeError(f"Redis refused: {errors[0]}")
        except BaseException:
            self.close()
            raise

    async def _connect(self) -> None:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), 2)
        self._reader, self._writer = reader, writer
        setup: list[list[bytes]] = []
        if self.password is not None:
            auth = [b"AUTH"] + ([self.username.encode()] if self.username else []) + [self.password.encode()]
            setup.append(auth)
        if self.db:
            setup.append([b"SELECT", str(self.db).encode()])
        if setup:
            writer.write(b"".join(self.pack(c) for c in setup))
            for _ in setup:
                line = await asyncio.wait_for(reader.readline(), 5)
                if not line.startswith(b"+"):
                    raise ConnectionError(f"Redis refused the connection's setup: {line[:80]!r}")

    def close(self) -> None:
        """Drop the connection."""
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


def _sessions_of(records: list[tuple[str, int, bytes]]) -> list[str]:
    """Return the sessions a batch of records belongs to, each once, in order."""
    # Each one's record set then expires SNAPSHOT_LIFETIME after its last record: never
    # before the snapshot its newest records follow, written (and expiring) earlier. Set
    # only every 64 records, it expired with acknowledged changes in it that no snapshot
    # held yet, and the set its next records made again had no expiry at all.
    return list(dict.fromkeys(session_id for session_id, _, _ in records))


def _redis_url() -> str:
    from channels.layers import get_channel_layer

    from ..cluster_link import redis_url

    if docsync_settings().REDIS_URL:
        return str(docsync_settings().REDIS_URL)
    layer = get_channel_layer()
    if layer is None or not getattr(layer, "hosts", None):
        raise ConfigurationError("DOCSYNC['PERSISTENCE'] = 'redis' needs DOCSYNC['REDIS_URL'] or a Redis channel layer")
    return redis_url(layer)


def make_store(kind: Any) -> SessionStore | None:
    """The store ``DOCSYNC["PERSISTENCE"]`` names (None: persistence is off)."""
    if kind is None or kind is False:
        return None
    if kind == "database":
        return DatabaseStore()
    if kind == "redis":
        return RedisStore()
    if isinstance(kind, str):
        store = import_string(kind)()
        if not isinstance(store, SessionStore):
            raise ConfigurationError(f"DOCSYNC['PERSISTENCE'] = {kind!r} is not a SessionStore")
        return store
    raise ConfigurationError(f"DOCSYNC['PERSISTENCE'] must be None, 'database', 'redis' or a dotted path: {kind!r}")
