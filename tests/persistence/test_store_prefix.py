"""A store's read of a stored snapshot's first bytes, and the owner check of a page that uses it.

Each real store: SQLite and a private PostgreSQL (the snapshot table made by Django's
schema editor from ``docsync.SessionSnapshot``, read with the store's SQL), and a private
redis-server (``RedisStore``). The prefix read returns exactly the first N bytes, all of
a shorter value, None for a missing (or expired) one, and the length of the whole. The
keeper's owner check reads the snapshot's first ``OWNER_READ_BYTES`` from Redis, counted
by the server's own output bytes, and still reads a header written otherwise whole.
"""

from __future__ import annotations

import datetime
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import django
import numpy as np
import pytest
import redis
from django.conf import settings
from django.db.utils import ConnectionHandler

from docsync.testing import PostgresServer, RedisServer

from .conftest import SETTINGS

#: A value with every byte value in it (NUL included), 3 MB: PostgreSQL keeps it out of
#: line (TOAST), incompressible; the short one stays in the row.
LONG = np.random.default_rng(7).integers(0, 256, 3 << 20, dtype=np.uint8).tobytes()
SHORT = bytes(range(256)) * 2
#: Lengths read of each: one byte, the owner check's, one short of the whole, the whole, more.
LENGTHS = (1, 4114, len(SHORT) - 1, len(SHORT), len(LONG) - 1, len(LONG), len(LONG) + 10)


@pytest.fixture
def django_apps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Django's apps, which the models need: the suite's settings when set up, else this folder's."""
    if not settings.configured:
        monkeypatch.setenv("DJANGO_SETTINGS_MODULE", SETTINGS)
        django.setup()


def _database(engine: dict[str, str]) -> Any:
    from docsync.models import SessionSnapshot

    connection = ConnectionHandler({"default": engine})["default"]
    # Not atomic: transaction.atomic would open the settings' own 'default' database.
    with connection.schema_editor(atomic=False) as editor:
        editor.create_model(SessionSnapshot)
    return connection


@pytest.fixture
def sqlite(django_apps: None, tmp_path: Path) -> Iterator[Any]:
    """An SQLite file with the snapshot table, and a Django connection to it (not the tests' database)."""
    connection = _database({"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "prefix.sqlite3")})
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture
def postgres(django_apps: None) -> Iterator[Any]:
    """A private PostgreSQL with the snapshot table, and a Django connection to it."""
    folder = Path(tempfile.mkdtemp(prefix="docsync-pg-prefix-"))
    folder.chmod(0o755)  # PostgreSQL runs as its own user
    server = PostgresServer(folder / "pg")
    connection = None
    try:
        server.start()
        engine = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": server.database,
            "USER": server.user,
            "HOST": "127.0.0.1",
            "PORT": str(server.port),
        }
        connection = _database(engine)
        yield connection
    finally:
        if connection is not None:
            connection.close()
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _insert(connection: Any, session_id: str, data: bytes, *, expires_in: float = 600) -> None:
    from docsync.models import SessionSnapshot

    now = datetime.datetime.now(datetime.UTC)
    fields = ("session_id", "app", "seq", "nbytes", "process", "saved", "expires", "data")
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(SessionSnapshot._meta.db_table), ", ".join(quote(f) for f in fields), ", ".join(["%s"] * len(fields))
    )
    when = connection.ops.adapt_datetimefield_value
    expires = now + datetime.timedelta(seconds=expires_in)
    with connection.cursor() as cursor:
        cursor.execute(sql, [session_id, "board", 1, len(data), "p", when(now), when(expires), data])


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_the_database_reads_the_first_bytes_of_a_snapshot(database: str, request: pytest.FixtureRequest) -> None:
    from docsync.server.persistence.stores import StoredPrefix, select_prefix

    connection = request.getfixturevalue(database)
    _insert(connection, "long", LONG)
    _insert(connection, "short", SHORT)
    _insert(connection, "expired", SHORT, expires_in=-1)
    for nbytes in LENGTHS:
        assert select_prefix(connection, "long", nbytes) == StoredPrefix(LONG[:nbytes], len(LONG)), nbytes
        assert select_prefix(connection, "short", nbytes) == StoredPrefix(SHORT[:nbytes], len(SHORT)), nbytes
    assert select_prefix(connection, "missing", 10) is None
    assert select_prefix(connection, "expired", 10) is None  # gone for the store's readers, as for load
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match="at least 1 byte"):
            select_prefix(connection, "long", bad)  # type: ignore[arg-type]


def _net_output(client: redis.Redis) -> int:
    return int(client.info("stats")["total_net_output_bytes"])


@pytest.mark.asyncio
async def test_redis_reads_the_first_bytes_of_a_snapshot_and_sends_no_more(django_apps: None) -> None:
    from docsync.server.persistence import RedisStore
    from docsync.server.persistence.stores import StoredPrefix

    with RedisServer() as server:
        store = RedisStore(server.url)
        plain = redis.Redis.from_url(server.url)
        try:
            await store.save("long", "board", 1, LONG, process="p")
            await store.save("short", "board", 1, SHORT, process="p")
            for nbytes in LENGTHS:
                assert await store.load_prefix("long", nbytes) == StoredPrefix(LONG[:nbytes], len(LONG)), nbytes
                assert await store.load_prefix("short", nbytes) == StoredPrefix(SHORT[:nbytes], len(SHORT)), nbytes
            assert await store.load_prefix("missing", 10) is None
            for bad in (0, -1):  # GETRANGE 0 -1 would be the whole value
                with pytest.raises(ValueError, match="at least 1 byte"):
                    await store.load_prefix("long", bad)
            before = _net_output(plain)
            await store.load_prefix("long", 4114)
            sent = _net_output(plain) - before
            assert 4114 < sent < 4114 + 4096, sent  # the prefix, replies' framing and one INFO reply
        finally:
            plain.close()
            await store.close()


def _docsync_snapshot(size: int) -> bytes:
    from docsync.server.persistence import Snapshot, encode_snapshot

    values = np.arange(size // 8, dtype=np.float64)
    snapshot = Snapshot(
        session_id="s1",
        app_path="board",
        incarnation="i1",
        seq=3,
        user_id=None,
        visitor="v-1",
        created=1.0,
        saved=2.0,
        doc={"title": "t", "roots": [], "models": []},
        buffers=[("7.0.0", values.tobytes())],
    )
    return encode_snapshot(snapshot, 1 << 30)


def _bokeh_snapshot(size: int) -> bytes:
    from docsync.bokeh.persistence import BokehSnapshot

    values = np.arange(size // 8, dtype=np.float64)
    snapshot = BokehSnapshot(
        session_id="s3",
        app_path="board",
        incarnation="i1",
        seq=3,
        user_id=7,
        created=1.0,
        saved=2.0,
        doc={"roots": [], "title": "t"},
        buffers=[("b1", values.tobytes())],
    )
    return snapshot.encode(1 << 30)


@pytest.mark.asyncio
async def test_the_owner_check_reads_the_snapshots_first_bytes_from_the_store(django_apps: None) -> None:
    from docsync.exceptions import SnapshotError
    from docsync.server.persistence import RedisStore, SnapshotKeeper
    from docsync.server.persistence.snapshot import MAGIC, OWNER_READ_BYTES, StoredOwner, pack

    whole = _docsync_snapshot(2 << 20)
    # Written otherwise (the document first, as no release writes it): read whole, as before.
    otherwise = pack(
        MAGIC,
        b'{"doc": {"x": "%s"}, "app": "board", "session_id": "s2", "user_id": 5, "visitor": null}' % (b"y" * 9000),
        [],
        1 << 30,
        "snapshot",
    )
    with RedisServer() as server:
        store = RedisStore(server.url)
        keeper = SnapshotKeeper(SimpleNamespace(process_id="test", contexts=[]), store)
        plain = redis.Redis.from_url(server.url)
        board = SimpleNamespace(kind="docsync", options={}, path="board")
        try:
            await store.save("s1", "board", 3, whole, process="p")
            await store.save("s2", "board", 3, otherwise, process="p")
            before = _net_output(plain)
            assert await keeper.stored_owner(board, "s1") == StoredOwner(None, "v-1")
            sent = _net_output(plain) - before
            assert OWNER_READ_BYTES < sent < OWNER_READ_BYTES + 4096, (sent, len(whole))
            before = _net_output(plain)
            assert await keeper.stored_owner(board, "s2") == StoredOwner("5", None)
            assert _net_output(plain) - before > len(otherwise)  # the prefix, then the whole
            assert await keeper.stored_owner(board, "gone") is None
            before = _net_output(plain)
            assert await keeper.has_snapshot(board, "s1")  # an expired token's socket: is it stored?
            assert _net_output(plain) - before < 4096  # its first byte, not its 2 MB
            assert not await keeper.has_snapshot(board, "gone")
            with pytest.raises(SnapshotError, match="another application or session"):
                await keeper.stored_owner(SimpleNamespace(kind="docsync", options={}, path="other"), "s1")
            bokeh = SimpleNamespace(kind="bokeh", options={}, path="board")
            await store.save("s3", "board", 3, _bokeh_snapshot(2 << 20), process="p")
            before = _net_output(plain)
            assert await keeper.stored_owner(bokeh, "s3") == StoredOwner("7", None)
            assert _net_output(plain) - before < OWNER_READ_BYTES + 4096
        finally:
            plain.close()
            await store.close()
