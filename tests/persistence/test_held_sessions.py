"""A session held by its process keeps its snapshot and journal in the store, however long it is idle.

Real daphne processes with ``SNAPSHOT_LIFETIME`` at 8 s, the store a SQLite file or a
private redis-server. A snapshot expired ``SNAPSHOT_LIFETIME`` after it was written and
an idle session is not written again: a session edited once, then idle for twice the
lifetime with its client connected, had nothing left in the store, and after a kill -9
its client got a fresh, empty session (``resumed_fresh``, its acknowledged edit gone).
The writer now pushes back the expiry of held sessions' snapshots and records. A session
that ended is not held: its snapshot is deleted as before, and never comes back.

The kill comes right after a push back is seen in the store, and a standby process,
listening since the start, restores the session (``Site.fail_over``): the restore has a
whole lifetime, and waits for no process to start (10-17 s under a load of 18 on two
cores, more than any lifetime a test can afford to wait twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from docsync.client import ClientSession, fetch_page_config
from docsync.server.persistence import decode_snapshot
from docsync.testing import EVENT_WAIT, RedisServer

from .conftest import SETTINGS, Site
from .test_kill_and_drain import notes_of, open_client, server_view, wait_until

pytestmark = pytest.mark.asyncio

# SNAPSHOT_LIFETIME, seconds: the writer looks every 1 s and pushes back a snapshot 2 s old;
# a kill right after a push back leaves the standby nearly 8 s to restore it (with Redis
# after the dead process's liveness lapsed: 2 x PROCESS_TIMEOUT).
LIFETIME = 8.0


def held_site(stack: contextlib.ExitStack, tmp: Path, store: str, processes: int = 1, **env: str) -> Site:
    """daphne with an 8 s SNAPSHOT_LIFETIME; the store SQLite or a private redis-server (then a cluster).

    ``processes`` 2: a standby daphne for ``kill_after_a_push_back``.
    """
    env = {"DOCSYNC_SNAPSHOT_LIFETIME": str(LIFETIME), **env}
    if store == "redis":
        server = stack.enter_context(RedisServer())
        # As tests/persistence/test_bokeh_sessions.py: after a kill -9 another process
        # waits out the dead one's liveness (2 x PROCESS_TIMEOUT) before it restores.
        env |= {"DOCSYNC_PERSISTENCE": "redis", "DOCSYNC_REDIS_URL": server.url, "DOCSYNC_PROCESS_TIMEOUT": "1.0"}
    site = Site(tmp, processes=processes, **env)
    site.redis_url = env.get("DOCSYNC_REDIS_URL")  # type: ignore[attr-defined]
    stack.callback(site.stop)
    return site


def stored_until(site: Site, session_id: str) -> float | None:
    """When the session's snapshot expires in the store (epoch seconds); None if the store holds none now."""
    url = getattr(site, "redis_url", None)
    if url is not None:
        client = redis.Redis.from_url(url)
        try:
            ttl = client.pttl(f"docsync:snapshot:{session_id}")
        finally:
            client.close()
        return None if ttl < 0 else time.time() + ttl / 1000
    with sqlite3.connect(site.db) as db:
        row = db.execute("SELECT expires FROM docsync_sessionsnapshot WHERE session_id = ?", (session_id,)).fetchone()
    if row is None:
        return None
    expires = datetime.datetime.fromisoformat(row[0]).replace(tzinfo=datetime.UTC).timestamp()
    return expires if expires > time.time() else None  # the store reads no expired row


def stored_snapshot(site: Site, session_id: str) -> bytes | None:
    """The snapshot's bytes in the store, expired or not (None: deleted)."""
    url = getattr(site, "redis_url", None)
    if url is not None:
        client = redis.Redis.from_url(url)
        try:
            value = client.get(f"docsync:snapshot:{session_id}")
        finally:
            client.close()
        return None if value is None else bytes(value)
    with sqlite3.connect(site.db) as db:
        row = db.execute("SELECT data FROM docsync_sessionsnapshot WHERE session_id = ?", (session_id,)).fetchone()
    return None if row is None else bytes(row[0])


class SnapshotEnd:
    """How a session's snapshot leaves the store, a delete told from an expiry with no clock involved.

    SQLite: a trigger sets its expiry to the year 2999 at every write and push back of it,
    so the sweep of expired rows never takes it: only a delete can remove the row.
    Redis: the key's keyspace notification says which it was, ``del`` or ``expired``.
    Set up while the session still runs (its snapshot written), before it ends.
    """

    def __init__(self, site: Site, session_id: str) -> None:
        self.site = site
        self.session_id = session_id
        self.pubsub: Any = None
        url = getattr(site, "redis_url", None)
        if url is not None:
            self.client = redis.Redis.from_url(url)
            self.client.config_set("notify-keyspace-events", "Kgx")  # generic commands (DEL) and expiries
            self.pubsub = self.client.pubsub()
            self.pubsub.psubscribe(f"__keyspace@*__:docsync:snapshot:{session_id}")
            return
        assert session_id.replace("-", "").replace("_", "").isalnum(), session_id  # safe in the trigger's SQL
        with sqlite3.connect(site.db) as db:
            db.execute(
                f"""CREATE TRIGGER ended_outlives_the_test AFTER UPDATE OF expires ON docsync_sessionsnapshot
                WHEN new.session_id = '{session_id}' AND new.expires < '2999'
                BEGIN UPDATE docsync_sessionsnapshot SET expires = '2999-01-01 00:00:00'
                WHERE session_id = new.session_id; END"""
            )
            # The trigger's first run, in this statement: the row outlives the test from here on.
            db.execute("UPDATE docsync_sessionsnapshot SET expires = expires WHERE session_id = ?", (session_id,))
        assert stored_until(site, session_id) == datetime.datetime(2999, 1, 1, tzinfo=datetime.UTC).timestamp()

    async def how(self) -> str:
        """Wait until the snapshot is gone from the store: "deleted" or "expired"."""
        if self.pubsub is None:
            await wait_until(lambda: stored_snapshot(self.site, self.session_id) is None, "its snapshot deleted")
            return "deleted"  # nothing else removes a row that expires in 2999
        try:
            return await asyncio.to_thread(self._notified)
        finally:
            self.pubsub.close()
            self.client.close()

    def _notified(self) -> str:
        deadline = time.monotonic() + EVENT_WAIT
        while time.monotonic() < deadline:
            message = self.pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None and message["data"] in (b"del", b"expired"):
                return "deleted" if message["data"] == b"del" else "expired"
        raise AssertionError("the snapshot was neither deleted nor expired")


def saved_seq(site: Site, session_id: str) -> int:
    """The position of the session's stored snapshot (-1: none)."""
    data = stored_snapshot(site, session_id)
    if data is None:
        return -1
    return decode_snapshot(data, app_path="board", session_id=session_id, max_bytes=1 << 30).seq


async def reconnect_until_restored(client: ClientSession) -> None:
    """Reconnect (resume), trying again while the process started again waits out the dead one (bounded)."""
    deadline = time.monotonic() + EVENT_WAIT
    while True:
        try:
            await client.reconnect()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def idle_past_twice_the_lifetime(site: Site, session_id: str) -> None:
    """Wait, the session idle, until its snapshot as first written would have expired a lifetime ago."""
    first = stored_until(site, session_id)
    assert first is not None, "no snapshot after the edit"
    await wait_until(lambda: time.time() > first + LIFETIME, "twice SNAPSHOT_LIFETIME past the snapshot")


class Kill:
    """A kill -9 of a held session's process: when, and until when the store kept the session's snapshot."""

    def __init__(self, at: float, stored_until: float | None) -> None:
        self.at = at
        self.stored_until = stored_until

    def fresh(self, answered: float) -> str:
        """Why a restore that came back fresh is the bug, or is not (the message of its failed assertion)."""
        if self.stored_until is None:
            return "the held session's snapshot had expired in the store before the kill"
        left, took = self.stored_until - self.at, answered - self.at
        # Answered after the expiry: the restore may have looked too late (a starved
        # machine), not necessarily the bug. Answered before it: the store held the
        # snapshot all the while, so a fresh session is the bug.
        verdict = "it may have looked too late" if took > left else "the store held it all the while"
        return f"restored fresh {took:.1f} s after the kill; the store kept the snapshot {left:.1f} s: {verdict}"


async def warm_standby(site: Site) -> None:
    """Have the standby make a session of the board and close it: its first one's imports are behind it."""
    config = await asyncio.to_thread(fetch_page_config, site.servers[1].url + "board/")
    warm = ClientSession(config)
    await warm.connect()
    await warm.close()


async def kill_after_a_push_back(site: Site, session_id: str) -> Kill:
    """Kill -9 the session's process right after its snapshot's expiry was pushed back; the standby serves on.

    So the restore has the most time the store gives it (a lifetime), not what was left
    of it. A snapshot gone from the store (the bug) is not waited for: it is killed at once.
    """
    before = stored_until(site, session_id)
    if before is not None:

        def pushed_back() -> bool:
            now = stored_until(site, session_id)
            return now is None or now > before + 0.5  # a push back moves it by a quarter lifetime (2 s)

        await wait_until(pushed_back, "the held session's snapshot's expiry pushed back")
    kill = Kill(time.time(), stored_until(site, session_id))
    site.fail_over()
    return kill


async def open_edited(site: Site, item: str, opened: list[ClientSession], snapshot: bool) -> ClientSession:
    """A client (put in ``opened``) of a new session, its edit ``item`` acknowledged (and if ``snapshot``, saved)."""
    client = await open_client(site)
    opened.append(client)
    notes_of(client).items.append(item)
    await client.sync(EVENT_WAIT)  # OK: the edit is in the store
    seq = client.last_seq
    if snapshot:
        await wait_until(lambda: saved_seq(site, client.id) >= seq, "the edit's snapshot")
    return client


@pytest.mark.parametrize("store", ["database", "redis"])
@pytest.mark.parametrize("held_in", ["snapshot", "journal"])
async def test_a_session_idle_past_twice_the_lifetime_under_a_connected_client_survives_a_kill_9(
    tmp_path: Path, store: str, held_in: str
) -> None:
    # "journal": no snapshot after the first (SNAPSHOT_INTERVAL 30 s), the edit is in a
    # journal record only; "snapshot": the edit's snapshot is written (0.2 s), and a
    # second session, edited and snapshotted too, ends while the first is held: its
    # snapshot is deleted and never kept (the same two lifetimes waited once, not twice).
    # Unused sessions are destroyed 1 s after their last client left (looked for every 0.2 s).
    interval = "30" if held_in == "journal" else "0.2"
    ending = held_in == "snapshot"
    unused = {"DOCSYNC_UNUSED_SESSION_LIFETIME": "1.0", "DOCSYNC_CHECK_UNUSED_SESSIONS": "0.2"} if ending else {}
    with contextlib.ExitStack() as stack:
        site = held_site(stack, tmp_path, store, processes=2, DOCSYNC_SNAPSHOT_INTERVAL=interval, **unused)
        site.start()
        await warm_standby(site)
        opened: list[ClientSession] = []  # closed before the site stops
        try:
            client = await open_edited(site, "edited", opened, snapshot=held_in == "snapshot")
            seq = client.last_seq
            if ending:
                ended = await open_edited(site, "ended's", opened, snapshot=True)
                end = SnapshotEnd(site, ended.id)  # its expiry passing is not taken for the delete
                await ended.disconnect()
                assert await end.how() == "deleted"
            await idle_past_twice_the_lifetime(site, client.id)
            assert client.connected.is_set()
            position = saved_seq(site, client.id)
            if ending:
                assert stored_snapshot(site, ended.id) is None  # nothing brought it back
                assert stored_until(site, client.id) is not None
                await ended.reconnect()
                assert ended.resumed_fresh  # a new session under its id: the ended one is gone
                assert notes_of(ended).items == []
                await ended.close()

            kill = await kill_after_a_push_back(site, client.id)
            await wait_until(lambda: not client.connected.is_set(), "the client to see its socket drop")
            client.config["wsUrl"] = site.ws_url("board")  # what a load balancer does: the process that lives
            await reconnect_until_restored(client)
            # It was: a new, empty session under its id.
            assert not client.resumed_fresh, kill.fresh(time.time())
            assert notes_of(client).items == ["edited"]
            viewer = await server_view(site, client)  # a new connection of the session
            try:
                assert notes_of(viewer).items == ["edited"]
            finally:
                await viewer.close()
            assert kill.stored_until is not None, "the held session's snapshot expired"
            if held_in == "journal":
                assert position < seq  # the store had the edit in its journal only
        finally:
            for opening in opened:
                await opening.close()


async def test_the_redis_store_pushes_back_expiries_in_one_pipeline_per_batch_and_brings_nothing_back() -> None:
    """1,200 held sessions: 2,400 PEXPIREs in three round trips; an expired or deleted one stays gone."""
    import django
    from django.conf import settings

    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
        django.setup()
    from docsync.conf import docsync_settings
    from docsync.server.persistence import RedisStore
    from docsync.server.persistence.stores import REFRESH_BATCH

    lifetime_ms = float(docsync_settings().SNAPSHOT_LIFETIME) * 1000
    ids = [f"s{n}" for n in range(1200)]
    with RedisServer() as server:
        store = RedisStore(server.url)
        plain = redis.Redis.from_url(server.url)
        try:
            await store.save_many([(i, "board", 1, b"snapshot") for i in ids[2:]], process="p")
            await store.append_records([(i, 1, b"record") for i in ids[2:]], process="p")
            plain.set("docsync:snapshot:s1", b"old", px=1)  # s1's expires now; s0 never had one
            await wait_until(lambda: plain.exists("docsync:snapshot:s1") == 0, "s1's snapshot to expire")
            # Expiries well short of the lifetime, so that the refresh's push shows, and far
            # from now: at 2 s, 2,400 PEXPIREs one by one on a loaded CI machine outlasted
            # the first ones, which were gone before the refresh (CI failed so once).
            short_ms = lifetime_ms // 2
            assert short_ms < lifetime_ms - 60_000
            with plain.pipeline(transaction=False) as pipe:
                for i in ids[2:]:
                    pipe.pexpire(f"docsync:snapshot:{i}", int(short_ms))
                    pipe.pexpire(f"docsync:journal:{i}", int(short_ms))
                pipe.execute()
            plain.config_resetstat()
            before = store.refresh_round_trips

            missing = await store.refresh(ids)

            assert missing == ["s0", "s1"]
            assert store.refresh_round_trips - before == -(-len(ids) // REFRESH_BATCH) == 3
            stats: Any = plain.info("commandstats")
            assert stats["cmdstat_pexpire"]["calls"] == 2 * len(ids)
            assert set(stats) - {"cmdstat_pexpire", "cmdstat_config|resetstat"} == set()  # no read, no rewrite
            assert plain.exists("docsync:snapshot:s0", "docsync:snapshot:s1", "docsync:journal:s1") == 0
            for name in ("docsync:snapshot:s2", "docsync:journal:s2", "docsync:journal:s1199"):
                assert plain.pttl(name) > lifetime_ms - 60_000, (name, plain.pttl(name))
            assert plain.get("docsync:snapshot:s2") == b"snapshot"
        finally:
            plain.close()
            await store.close()


_DATABASE_REFRESH = """
import datetime, json, os, sys
import django
django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0, interactive=False)
from docsync.models import SessionRecord, SessionSnapshot
from docsync.server.persistence import DatabaseStore

now = datetime.datetime.now(datetime.UTC)
soon, past = now + datetime.timedelta(seconds=30), now - datetime.timedelta(seconds=1)
ids = [f"s{n:04d}" for n in range(1200)]
SessionSnapshot.objects.bulk_create(
    SessionSnapshot(session_id=i, app="board", process="p", saved=now, expires=soon, data=b"x") for i in ids[2:]
)
SessionRecord.objects.bulk_create(SessionRecord(session_id=i, number=1, expires=soon, data=b"r") for i in ids[2:])
# s0000 has none; s0001's expired (not swept yet), with a record
SessionSnapshot.objects.create(session_id="s0001", app="board", process="p", saved=past, expires=past, data=b"x")
SessionRecord.objects.create(session_id="s0001", number=1, expires=past, data=b"r")
statements = []
store = DatabaseStore()
with connection.execute_wrapper(lambda execute, sql, *a: statements.append(sql.split()[0]) or execute(sql, *a)):
    missing = store._refresh(ids)
later = now + datetime.timedelta(seconds=60)
print(json.dumps({
    "missing": missing,
    "round_trips": store.refresh_round_trips,
    "statements": statements,
    "pushed": SessionSnapshot.objects.filter(expires__gt=later).count(),
    "records_pushed": SessionRecord.objects.filter(expires__gt=later).count(),
    "expired_kept": SessionSnapshot.objects.filter(session_id="s0001", expires=past).count()
    + SessionRecord.objects.filter(session_id="s0001", expires=past).count(),
}))
"""


async def test_the_database_store_pushes_back_expiries_in_two_updates_per_batch_and_brings_nothing_back(
    tmp_path: Path,
) -> None:
    """1,200 held sessions in SQLite: three transactions of two UPDATEs, a SELECT for the batch missing two."""
    import json
    import subprocess
    import sys

    from .conftest import ROOT

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "DOCSYNC_SQLITE": str(tmp_path / "db.sqlite3")}
    done = subprocess.run(
        [sys.executable, "-c", _DATABASE_REFRESH], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["missing"] == ["s0000", "s0001"]
    assert figures["round_trips"] == 3
    statements = [s.upper() for s in figures["statements"] if s.upper() not in ("BEGIN", "SAVEPOINT", "RELEASE")]
    assert statements == ["UPDATE", "UPDATE", "SELECT", "UPDATE", "UPDATE", "UPDATE", "UPDATE"], figures["statements"]
    assert figures["pushed"] == 1198 and figures["records_pushed"] == 1198
    assert figures["expired_kept"] == 2  # s0001's snapshot and record were not brought back
