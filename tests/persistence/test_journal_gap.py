"""A record past a gap in a session's journal: a restore drops it, and loses no change made after it.

Real daphne processes, SQLite or a private redis-server, docsync's Python client. A
write reported failed may have landed all the same (a Redis pipeline or a database
transaction that timed out on the client's side), and records may expire unevenly:
either leaves the store a record past a gap in the session's chain, which no restore
applies. A restored session used to number its records after it: the changes it then
acknowledged lay past the gap too, and the next kill -9 lost them all.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from docsync.client import ClientSession
from docsync.server.persistence.journal import decode_record, encode_record
from docsync.testing import EVENT_WAIT, RedisServer

from .conftest import Site
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
