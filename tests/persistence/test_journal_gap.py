"""A record past a gap in a session's journal: a restore drops it, and loses no change made after it.

Real daphne processes, SQLite or a private redis-server, docsync's Python client. A
write reported failed may have landed all the same (a Redis pipeline or a database
transaction that timed out on the client's side), and records may expire unevenly:
either leaves the store a record past a gap in the session's chain, which no restore
applies. A restored session used to number its records after it: the changes it then
acknowledged lay past the gap too, and the next kill -9 lost them all. The database
store expired its records one by one, so one could expire before the records after it
(a process whose clock ran behind wrote it); a session's journal now expires whole, in
the database as in Redis.
"""

from __future__ import annotations

import contextlib
import datetime
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from docsync.client import ClientSession
from docsync.server.persistence.journal import decode_record, encode_record
from docsync.testing import EVENT_WAIT, RedisServer

from .conftest import Site
from .test_cluster import postgres  # noqa: F401 - a fixture
from .test_kill_and_drain import _reconnect_once_restored, notes_of, open_client, server_view, wait_until

pytestmark = pytest.mark.asyncio

JOURNAL = "docsync:journal:"


class Store:
    """The site's store as a test reads and writes it behind the server's back."""

    def __init__(self, site: Site, redis_url: str | None) -> None:
        self.site = site
        self.redis = redis.Redis.from_url(redis_url) if redis_url else None

    def records(self, session_id: str) -> list[tuple[int, bytes]]:
        """The session's journal records: (number, data), in order of number."""
        if self.redis is not None:
            pairs = self.redis.zrange(JOURNAL + session_id, 0, -1, withscores=True)
            return [(int(score), bytes(data)) for data, score in pairs]
        with sqlite3.connect(self.site.db) as db:
            rows = db.execute(
                "SELECT number, data FROM docsync_sessionrecord WHERE session_id = ? ORDER BY number", (session_id,)
            ).fetchall()
        return [(int(number), bytes(data)) for number, data in rows]

    def add(self, session_id: str, number: int, data: bytes) -> None:
        """Write a record as the journal would have (a write that landed after being reported failed)."""
        if self.redis is not None:
            self.redis.zadd(JOURNAL + session_id, {data: number})
            return
        with sqlite3.connect(self.site.db) as db:
            (expires,) = db.execute(
                "SELECT MAX(expires) FROM docsync_sessionrecord WHERE session_id = ?", (session_id,)
            ).fetchone()
            db.execute(
                "INSERT INTO docsync_sessionrecord (session_id, number, expires, data) VALUES (?, ?, ?, ?)",
                (session_id, number, expires, data),
            )

    def expire(self, session_id: str, *, number: int | None = None, snapshot: bool = False) -> None:
        """Set the expiry of the session's record ``number`` (or all its records, and its snapshot) a second ago."""
        assert self.redis is None, "Redis expires a session's journal whole: none of its records alone"
        past = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S.%f")
        with sqlite3.connect(self.site.db) as db:
            if number is not None:
                db.execute(
                    "UPDATE docsync_sessionrecord SET expires = ? WHERE session_id = ? AND number = ?",
                    (past, session_id, number),
                )
            else:
                db.execute("UPDATE docsync_sessionrecord SET expires = ? WHERE session_id = ?", (past, session_id))
            if snapshot:
                db.execute("UPDATE docsync_sessionsnapshot SET expires = ? WHERE session_id = ?", (past, session_id))


@pytest.fixture(params=["database", "redis"])
def gap_site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Site, Store]]:
    """A site whose writer takes no snapshot after a session's first: every change stays a record."""
    with contextlib.ExitStack() as stack:
        env = {"DOCSYNC_SNAPSHOT_INTERVAL": "3600"}
        url = None
        if request.param == "redis":
            url = stack.enter_context(RedisServer()).url
            # A cluster of one: the process started again waits out the dead one's liveness.
            env |= {"DOCSYNC_PERSISTENCE": "redis", "DOCSYNC_REDIS_URL": url, "DOCSYNC_PROCESS_TIMEOUT": "3.0"}
        site = Site(tmp_path, **env)
        stack.callback(site.stop)
        yield site, Store(site, url)


async def _append(client: ClientSession, *items: str) -> None:
    for item in items:
        notes_of(client).items.append(item)
        await client.sync(EVENT_WAIT)  # acknowledged: its record is in the store


async def _restart(site: Site, client: ClientSession) -> None:
    site.server.kill()  # SIGKILL: nothing is saved on the way out
    await wait_until(lambda: not client.connected.is_set(), "the client to see its socket drop")
    site.start()
    await _reconnect_once_restored(client)


async def _held(site: Site, client: ClientSession) -> list[str]:
    viewer = await server_view(site, client)
    try:
        return list(notes_of(viewer).items)
    finally:
        await viewer.close()


async def test_changes_made_after_a_restore_over_a_gap_survive_the_next_kill(gap_site: tuple[Site, Store]) -> None:
    site, store = gap_site
    site.start()
    client = await open_client(site)
    try:
        await _append(client, "one", "two")
        site.server.kill()
        records = store.records(client.id)
        assert [number for number, _ in records] == [1, 2], "each change a record (no snapshot since the first)"
        # A record past the chain's end (3 and 4 never landed): no restore applies it.
        stray = decode_record(records[-1][1])
        stray.number = 5
        store.add(client.id, 5, encode_record(stray, 1 << 20))
        site.start()
        await _reconnect_once_restored(client)
        assert list(notes_of(client).items) == ["one", "two"]
        await _append(client, "three", "four")
        await _restart(site, client)
        assert await _held(site, client) == ["one", "two", "three", "four"]
        # The stray record went at the first restore; the new ones follow the last one applied.
        assert [number for number, _ in store.records(client.id)] == [1, 2, 3, 4]
        assert f"WARNING  persistence: records of session {client.id} after a gap in its journal: dropped" in site.log()

        # And once more: the numbering goes on from there.
        await _append(client, "five")
        await _restart(site, client)
        assert await _held(site, client) == ["one", "two", "three", "four", "five"]
    finally:
        await client.close()


@pytest.mark.parametrize("gap_site", ["database"], indirect=True)
async def test_a_record_that_expires_before_the_records_after_it_does_not_cut_the_chain(
    gap_site: tuple[Site, Store],
) -> None:
    # The database store kept each record until its own expiry: one written by a process
    # whose clock ran behind (or pushed back less) expired first, the restore stopped at
    # the hole and dropped the records after it: "two" and "three", acknowledged, lost.
    # A session's journal now expires whole, as a Redis sorted set does.
    site, store = gap_site
    site.start()
    client = await open_client(site)
    try:
        await _append(client, "one", "two", "three")
        site.server.kill()
        assert [number for number, _ in store.records(client.id)] == [1, 2, 3]
        store.expire(client.id, number=2)  # its neighbours and the snapshot still alive
        site.start()
        await _reconnect_once_restored(client)
        assert not client.resumed_fresh
        assert list(notes_of(client).items) == ["one", "two", "three"]
        assert [number for number, _ in store.records(client.id)] == [1, 2, 3]
        assert "after a gap in its journal" not in site.log()

        # Once the whole session is past its lifetime (its snapshot and every record, no
        # process holding it), its client gets a new session under its id, as documented.
        site.server.kill()
        store.expire(client.id, snapshot=True)
        site.start()
        await _reconnect_once_restored(client)
        assert client.resumed_fresh
        assert list(notes_of(client).items) == []
    finally:
        await client.close()


_DATABASE_JOURNAL_EXPIRY = """
import asyncio, datetime, json
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from docsync.models import SessionRecord
from docsync.server.persistence import DatabaseStore

store = DatabaseStore()
past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
out = {}
run = asyncio.run
records = lambda session_id: [r.decode() for r in run(store.load_records(session_id))]

run(store.append_records([("s1", 1, b"r1"), ("s1", 2, b"r2"), ("s1", 3, b"r3"), ("s2", 1, b"s2")], process="p"))
# s1's record 2 past its own expiry (its process's clock ran behind), its neighbours not;
# every record of s2 past it.
SessionRecord.objects.filter(session_id="s1", number=2).update(expires=past)
SessionRecord.objects.filter(session_id="s2").update(expires=past)
out["s1"], out["s2"] = records("s1"), records("s2")
run(store.sweep())
out["swept"] = sorted(SessionRecord.objects.values_list("session_id", "number"))
run(store.refresh(["s1", "s2"]))  # a push back: every record of s1 takes the same expiry, s2 stays gone
out["s1_expiries"] = len(set(SessionRecord.objects.filter(session_id="s1").values_list("expires", flat=True)))
later = past + datetime.timedelta(seconds=60)
out["s1_pushed"] = SessionRecord.objects.filter(session_id="s1", expires__gt=later).count()
SessionRecord.objects.filter(session_id="s1").update(expires=past)  # the whole journal past its lifetime
out["s1_after"] = records("s1")
run(store.refresh(["s1"]))  # never brings it back
out["s1_after_refresh"] = records("s1")
run(store.sweep())
out["left"] = SessionRecord.objects.count()
from django.db import connection
out["vendor"] = connection.vendor
print(json.dumps(out))
"""


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_the_database_store_keeps_a_journal_whole_until_its_last_record_expires(
    tmp_path: Path, database: str, request: pytest.FixtureRequest
) -> None:
    """A record past its own expiry is read, and kept by the sweep, while a record of its journal is alive."""
    import json
    import os
    import subprocess
    import sys

    from .conftest import ROOT, SETTINGS

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "DOCSYNC_SQLITE": str(tmp_path / "db.sqlite3")}
    if database == "postgresql":  # a private PostgreSQL (psycopg: the journal's own connection)
        env |= request.getfixturevalue("postgres").env
    done = subprocess.run(
        [sys.executable, "-c", _DATABASE_JOURNAL_EXPIRY], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["s1"] == ["r1", "r2", "r3"]  # was ["r1", "r3"]: the restore stopped at 1
    assert out["s2"] == []
    assert out["swept"] == [["s1", 1], ["s1", 2], ["s1", 3]]  # s2's journal went whole, s1's stays whole
    assert out["s1_expiries"] == 1 and out["s1_pushed"] == 3
    assert out["s1_after"] == [] and out["s1_after_refresh"] == []
    assert out["left"] == 0
    assert out["vendor"] == database
