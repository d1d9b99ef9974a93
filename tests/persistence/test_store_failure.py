"""When the session store fails: a change is refused (ERROR), never acknowledged without it.

A real daphne process with its store in a private redis-server, or in a private
PostgreSQL (the Django database), each stopped by its pid mid-session and started again
on its data; or in SQLite, held by another writer; and three daphne processes on a
private PostgreSQL, a client relayed; and the process that dropped a session killed
before its client came back, the process restoring it resetting that client all the
same. While the store is away: a change is answered ERROR `store-unavailable` and its
client closed with 1013 (try again); the session is dropped from memory, to be made
again from the store, as it was after its last stored change; a new session is refused
with 1013; a snapshot that fails is tried again. When the store is back, the client
resumes (its document reset to the stored one) and edits on; the log and
/docsync-metrics say what happened.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from docsync.client import ClientSession, ServerError, fetch_page_config
from docsync.server.persistence import decode_snapshot
from docsync.server.session.session import STORE_UNAVAILABLE
from docsync.testing import EVENT_WAIT, PostgresServer, RedisServer
from tests.cluster.conftest import CREATE_ADMIN, Cluster
from tests.sites import migrated_postgres

from .conftest import SETTINGS, Site
from .test_cluster import append_acked, open_on, postgres, reconnect_via, saved_cluster  # noqa: F401 - fixtures
from .test_kill_and_drain import notes_of, open_client, slider_of, wait_until

pytestmark = pytest.mark.asyncio

METRICS_TOKEN = "store-failure-metrics"


def metric(site: Site, name: str) -> float:
    request = urllib.request.Request(site.url + "docsync-metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    line = next(line for line in text.splitlines() if line.startswith(f"docsync_{name} ") or line.startswith(name))
    return float(line.rsplit(" ", 1)[1])


async def refused_change(client: ClientSession, item: str) -> None:
    """Append ``item``; the server answers it ERROR store-unavailable, then closes with 1013."""
    notes_of(client).items.append(item)
    await client.sync(EVENT_WAIT)
    answers = [m for m in client.errors if m.reqid is not None]
    assert answers and answers[-1].content.get("code") == STORE_UNAVAILABLE, client.errors
    assert "change not saved" in answers[-1].content["text"]
    await wait_until(lambda: client.close_code is not None, "the close")
    assert client.close_code == 1013, (client.close_code, client.close_reason)


async def reconnect_until_restored(client: ClientSession, bound: float = 60) -> int:
    """Reconnect, retrying while the server answers 1013; return the refusals seen."""
    refusals = 0
    started = time.monotonic()
    while True:
        try:
            await client.reconnect()
            return refusals
        except ServerError as exc:
            assert exc.code == "close-1013", exc
            refusals += 1
            if time.monotonic() - started > bound:
                raise
            await asyncio.sleep(0.3)


@pytest.fixture
def redis_site(tmp_path: Path) -> Iterator[tuple[Site, RedisServer]]:
    """One daphne process whose store (and channel layer) is a private redis-server that keeps its data."""
    server = RedisServer(data_dir=tmp_path / "redis").start()
    site = Site(
        tmp_path,
        DOCSYNC_PERSISTENCE="redis",
        DOCSYNC_REDIS_URL=server.url,
        DOCSYNC_SNAPSHOT_INTERVAL="5",
        DOCSYNC_METRICS_TOKEN=METRICS_TOKEN,
    )
    try:
        yield site, server
    finally:
        site.stop()
        server.stop()


def redis_snapshot_seq(server: RedisServer, session_id: str) -> int:
    client = redis.Redis.from_url(server.url)
    try:
        data = client.get(f"docsync:snapshot:{session_id}")
    finally:
        client.close()
    if data is None:
        return -1
    return decode_snapshot(bytes(data), app_path="board", session_id=session_id, max_bytes=1 << 30).seq


async def test_redis_stopped_mid_session_refuses_changes_and_the_session_comes_back_with_it(
    redis_site: tuple[Site, RedisServer],
) -> None:
    site, server = redis_site
    site.start()
    client = await open_client(site)
    other = await open_client(site)  # a second session: it changes nothing while Redis is away
    try:
        notes_of(client).items.append("kept")
        await client.sync(EVENT_WAIT)
        notes_of(other).items.append("other kept")
        await other.sync(EVENT_WAIT)  # acknowledged: in the journal; its snapshot is due within 5 s

        server.stop()  # by its pid
        await refused_change(client, "refused")
        # The page still shows its change (it was refused, not yet corrected): the
        # server no longer holds the session, and a new session is refused too.
        assert notes_of(client).items == ["kept", "refused"]
        newcomer = ClientSession(await asyncio.to_thread(fetch_page_config, site.url + "board/"))
        with pytest.raises(ServerError) as refused:
            await newcomer.connect()
        assert refused.value.code == "close-1013"
        # The other session's snapshot fails, and is tried again at each round.
        await wait_until(
            lambda: f"session {other.id} of board not saved (store redis)" in site.log(), "a failed snapshot", 20
        )
        assert notes_of(other).items == ["other kept"] and other.close_code is None

        server.start()  # on its data: every acknowledged change is still there
        await wait_until(lambda: redis_snapshot_seq(server, other.id) >= other.last_seq, "the snapshot retried", 30)
        refusals = await reconnect_until_restored(client)
        print(f"restored after {refusals} refusals (1013) while Redis was away")
        assert not client.resumed_fresh
        # Reset to what the store holds: the refused change is gone from the page too.
        assert client.live is not None and client.live.mode == "full"
        assert notes_of(client).items == ["kept"]
        notes_of(client).items.append("after")
        await client.sync(EVENT_WAIT)
        viewer = ClientSession(client.config)
        await viewer.connect()
        try:
            assert notes_of(viewer).items == ["kept", "after"]
        finally:
            await viewer.close()
        notes_of(other).items.append("other after")
        await other.sync(EVENT_WAIT)
        await newcomer.reconnect()  # a new session can be made again
        assert newcomer.live is not None

        log = site.log()
        assert "changes not written to the store (redis): refused" in log
        failed_lines = [line for line in log.splitlines() if f"session {other.id} of board not saved" in line]
        timestamped = [line for line in failed_lines if line[:4].isdigit()]  # the log's own lines (not stderr's)
        assert len(timestamped) == 1, failed_lines  # said once, tried at every round
        assert f"session {other.id} of board saved again" in log
        assert f"session {client.id} of board dropped: the session store (redis) is unavailable" in log
        assert metric(site, 'store_failures_total{kind="journal"}') >= 1
        assert metric(site, 'store_failures_total{kind="snapshot"}') >= 1
        assert metric(site, "sessions_reloaded_total") == 1
    finally:
        for c in (client, other):
            await c.close()


@pytest.fixture
def postgres_site(tmp_path: Path) -> Iterator[tuple[Site, PostgresServer]]:
    """One daphne process whose Django database, and so its store, is a private PostgreSQL."""
    folder = Path(tempfile.mkdtemp(prefix="docsync-pg-"))  # PostgreSQL's own user must enter it
    folder.chmod(0o755)
    # A copy of the run's migrated database: the one the cluster tests (here and in
    # test_cluster.py) copy, its admin unused here, so that the run makes one template.
    server = migrated_postgres(folder / "pg", SETTINGS, CREATE_ADMIN)
    site = Site(tmp_path, DOCSYNC_PERSISTENCE="database", migrated=True, **server.env)
    try:
        yield site, server
    finally:
        site.stop()
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


async def test_postgresql_stopped_mid_session_refuses_changes_and_the_session_comes_back_with_it(
    postgres_site: tuple[Site, PostgresServer],
) -> None:
    site, server = postgres_site
    site.start()
    client = await open_client(site)
    try:
        notes_of(client).items.extend(["one", "two"])
        await client.sync(EVENT_WAIT)
        server.stop()  # by its pid (a fast shutdown): the database store cannot be written
        await refused_change(client, "refused")
        with pytest.raises(ServerError) as refused:
            await client.reconnect()  # the session cannot be read from the store: try again
        assert refused.value.code == "close-1013"
        server.start_again()
        refusals = await reconnect_until_restored(client)
        print(f"restored after {refusals} refusals (1013) while PostgreSQL was away")
        assert not client.resumed_fresh
        assert client.live is not None and client.live.mode == "full"
        assert notes_of(client).items == ["one", "two"]
        notes_of(client).items.append("three")
        await client.sync(EVENT_WAIT)
        viewer = ClientSession(client.config)
        await viewer.connect()
        try:
            assert notes_of(viewer).items == ["one", "two", "three"]
        finally:
            await viewer.close()
        assert "changes not written to the store (database): refused" in site.log()
    finally:
        await client.close()


async def test_records_after_a_failed_write_are_dropped_from_a_real_redis() -> None:
    # A write whose reply was lost may have landed: the restore drops what follows the
    # last record its session knew stored (SnapshotKeeper._without_refused).
    import django
    from django.conf import settings

    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
        django.setup()
    from docsync.server.persistence import RedisStore

    with RedisServer() as server:
        store = RedisStore(server.url)
        try:
            await store.append_records([("s1", n, f"r{n}".encode()) for n in range(1, 6)], process="p")
            await store.append_records([("s2", 9, b"other")], process="p")
            await store.drop_records_after("s1", 3)
            assert await store.load_records("s1") == [b"r1", b"r2", b"r3"]
            assert await store.load_records("s2") == [b"other"]
        finally:
            await store.close()


async def test_an_sqlite_database_held_by_another_writer_refuses_changes_until_it_is_free(site: Site) -> None:
    site.start()
    client = await open_client(site)
    try:
        notes_of(client).items.append("kept")
        await client.sync(EVENT_WAIT)
        # Another writer holds the database (a long transaction elsewhere): the journal's
        # connection waits a second per attempt, then refuses the change.
        holder = sqlite3.connect(site.db, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            await refused_change(client, "refused")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        await reconnect_until_restored(client)
        assert not client.resumed_fresh
        assert client.live is not None and client.live.mode == "full"
        assert notes_of(client).items == ["kept"]
        notes_of(client).items.append("after")
        await client.sync(EVENT_WAIT)
        viewer = ClientSession(client.config)
        await viewer.connect()
        try:
            assert notes_of(viewer).items == ["kept", "after"]
        finally:
            await viewer.close()
        assert "changes not written to the store (database): refused" in site.log()
    finally:
        await client.close()


@pytest.fixture
def impatient_site(tmp_path: Path) -> Iterator[Site]:
    """As ``site``, its SQLite connection waiting 1 s for another writer (DOCSYNC_TEST_SQLITE_TIMEOUT), not 20 s."""
    running = Site(tmp_path, DOCSYNC_TEST_SQLITE_TIMEOUT="1")
    try:
        yield running
    finally:
        running.stop()


async def test_a_store_that_fails_as_a_restore_drops_refused_records_refuses_the_restore_with_1013(
    impatient_site: Site,
) -> None:
    # docsync's dialect (tests/persistence/test_bokeh_sessions.py has Bokeh's): the write
    # of a refused change landed all the same, and the store fails (SQLite held by
    # another writer: reads go on) when the restore deletes it. Refused with 1013, tried
    # again. The delete gives up after the site's busy timeout: 1 s here, the same failure.
    site = impatient_site
    from docsync.server.persistence.journal import decode_record, encode_record

    from .test_journal_gap import Store

    site.start()
    client = await open_client(site)
    try:
        notes_of(client).items.append("kept")
        await client.sync(EVENT_WAIT)
        holder = sqlite3.connect(site.db, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            await refused_change(client, "refused")
        finally:
            holder.execute("ROLLBACK")
        store = Store(site, None)
        [*_, (number, data)] = store.records(client.id)
        landed = decode_record(data)
        landed.number = number + 1
        landed_data = encode_record(landed, 1 << 20)
        store.add(client.id, number + 1, landed_data)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(ServerError) as refused:
                await client.reconnect()
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert refused.value.code == "close-1013"
        await reconnect_until_restored(client)
        assert client.live is not None and client.live.mode == "full"
        assert notes_of(client).items == ["kept"]
        assert landed_data not in [d for _, d in store.records(client.id)]  # dropped (its number taken again)
        log = site.log()
        assert "persistence: the store (database) cannot drop records" in log
        assert f"refused records of session {client.id} found in the store: dropped" in log
    finally:
        await client.close()


@pytest.mark.cluster
@pytest.mark.parametrize("saved_cluster", ["database"], indirect=True)
async def test_in_a_cluster_a_relayed_client_is_refused_too_and_both_resume_through_other_processes(
    saved_cluster: Cluster,  # noqa: F811 - the fixture imported above
) -> None:
    # Three daphne processes, their store the database (a private PostgreSQL), stopped by pid.
    cluster = saved_cluster
    owned = await open_on(cluster, 0)  # the session lives in process 0
    relayed = ClientSession(dict(owned.config, wsUrl=cluster.ws_url("board", 1)))  # reached through process 1
    database: PostgresServer = cluster.postgres  # type: ignore[attr-defined]
    try:
        await relayed.connect()
        await append_acked(relayed, ["kept"], [])
        await owned.wait_for(lambda: notes_of(owned).items == ["kept"], EVENT_WAIT)
        database.stop()
        await refused_change(relayed, "refused")  # its ERROR and close come over the relay
        await wait_until(lambda: owned.close_code is not None, "the session's other client closed")
        assert owned.close_code == 1013
        database.start_again()
        for client, through in ((relayed, 2), (owned, 1)):
            client.config["wsUrl"] = cluster.ws_url("board", through)
            await reconnect_until_restored(client)
            assert not client.resumed_fresh
            assert client.live is not None and client.live.mode == "full"  # reset: the refused change gone
            assert notes_of(client).items == ["kept"]
        await append_acked(owned, ["after"], [])
        await relayed.wait_for(lambda: notes_of(relayed).items == ["kept", "after"], EVENT_WAIT)
    finally:
        for client in (owned, relayed):
            await client.close()


@pytest.mark.cluster
@pytest.mark.parametrize("saved_cluster", ["database"], indirect=True)
async def test_in_a_cluster_the_clients_to_reset_are_known_to_the_process_that_restores_the_session(
    saved_cluster: Cluster,  # noqa: F811 - the fixture imported above
) -> None:
    # The store (a private PostgreSQL) refuses a change; the process that dropped the
    # session then dies (SIGKILL) before its clients come back; another process restores
    # it and still resets them, from what the dropping process left in the cluster's Redis.
    cluster = saved_cluster
    client = await open_on(cluster, 0)
    database: PostgresServer = cluster.postgres  # type: ignore[attr-defined]
    try:
        await append_acked(client, ["kept"], [])
        database.stop()
        await refused_change(client, "refused")
        assert notes_of(client).items == ["kept", "refused"]  # the page holds the refused change
        directory = redis.Redis.from_url(cluster.redis.url)
        try:
            # The dropping process names the session's clients in the cluster's Redis.
            await wait_until(lambda: directory.exists(f"docsync:voided:{client.id}") == 1, "the voided clients")
            cluster.servers[0].kill()
        finally:
            directory.close()
        database.start_again()
        # Refused (4010, 1013) until the cluster has seen process 0 go and the store is back.
        await reconnect_via(client, cluster.ws_url("board", 1), bound=60)
        assert not client.resumed_fresh
        assert client.live is not None and client.live.mode == "full", client.live  # reset: the change gone
        assert notes_of(client).items == ["kept"]
        await append_acked(client, ["after"], [])
        viewer = ClientSession(dict(client.config, wsUrl=cluster.ws_url("board", 2)))
        await viewer.connect()
        try:
            assert notes_of(viewer).items == ["kept", "after"]
        finally:
            await viewer.close()
        # Process 1 holds it now, the application's callback wired again.
        slider_of(client).value = 42
        await client.sync(EVENT_WAIT)
        echo = client.document.get_model_by_name("echo")
        await client.wait_for(lambda: echo.text == f"value=42 pid={cluster.servers[1].pid}", EVENT_WAIT)  # type: ignore[union-attr]
    finally:
        await client.close()
