"""A cluster with persistence: three daphne processes, a private redis-server and a private PostgreSQL.

The Django database is PostgreSQL; the store is Redis, or the database.

A process killed (SIGKILL) leaves its sessions in Redis; their clients reconnect
through another process, which restores them. A rolling SIGTERM of every process, one
by one, while clients edit, loses no acknowledged change. Recovery times are printed.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from docsync.client import ClientSession, ServerError
from docsync.server.persistence import decode_snapshot
from docsync.testing import EVENT_WAIT, PostgresServer
from tests.cluster.conftest import CREATE_ADMIN, AdminBrowser, Cluster
from tests.sites import migrated_postgres

from .test_kill_and_drain import edit_until_closed, in_order, notes_of, slider_of, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.asyncio]

SETTINGS = "tests.persistence.settings"


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    """A private PostgreSQL server: the cluster's Django database."""
    # Outside pytest's folders: PostgreSQL runs as its own user, who may not enter them.
    folder = Path(tempfile.mkdtemp(prefix="docsync-pg-"))
    folder.chmod(0o755)
    # A copy of the run's database, migrated with the admin as Cluster would make it.
    server = migrated_postgres(folder / "pg", SETTINGS, CREATE_ADMIN)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def saved_cluster(request: pytest.FixtureRequest, tmp_path: Path, postgres: PostgresServer) -> Iterator[Cluster]:
    """Three daphne processes, a private redis-server, a private PostgreSQL; the store is ``request.param``."""
    store = getattr(request, "param", "redis")
    # No periodic snapshot after a session's first (30 s): what a SIGKILL leaves is the journal.
    running = Cluster(
        tmp_path, 3, settings=SETTINGS, DOCSYNC_PERSISTENCE=store, DOCSYNC_HOOK_LOG=str(tmp_path / "hooks.log"),
        DOCSYNC_SNAPSHOT_INTERVAL="30", DOCSYNC_NAP_FILE=str(tmp_path / "nap"), migrated=True, **postgres.env,
    )  # fmt: skip
    running.nap_file = tmp_path / "nap"  # type: ignore[attr-defined]
    running.store = store  # type: ignore[attr-defined]
    running.postgres = postgres  # type: ignore[attr-defined]
    try:
        yield running
    finally:
        running.stop()


def saved_seq(cluster: Cluster, session_id: str) -> int:
    """The position of the session's snapshot in the cluster's store (-1: none)."""
    if cluster.store == "redis":  # type: ignore[attr-defined]
        client = redis.Redis.from_url(cluster.redis.url)
        try:
            data = client.get(f"docsync:snapshot:{session_id}")
        finally:
            client.close()
    else:
        pg = cluster.postgres  # type: ignore[attr-defined]
        with psycopg.connect(host="127.0.0.1", port=pg.port, user=pg.user, dbname=pg.database) as db:
            row = db.execute("SELECT data FROM docsync_sessionsnapshot WHERE session_id = %s", (session_id,)).fetchone()
        data = None if row is None else row[0]
    if data is None:
        return -1
    return decode_snapshot(bytes(data), app_path="board", session_id=session_id, max_bytes=1 << 30).seq


async def open_on(cluster: Cluster, index: int, app: str = "board") -> ClientSession:
    config = await asyncio.to_thread(cluster.page_config, app, index)
    client = ClientSession(config)
    await client.connect()
    return client


async def reconnect_via(client: ClientSession, ws_url: str, bound: float = 40) -> float:
    """Reconnect (resume) through ``ws_url``, retrying while the session moves; return the seconds it took."""
    client.config["wsUrl"] = ws_url
    started = time.monotonic()
    while True:
        try:
            await client.reconnect()
            return time.monotonic() - started
        except Exception:
            if time.monotonic() - started > bound:
                raise
            await asyncio.sleep(0.2)


async def drain_by_admin(cluster: Cluster, session_id: str, through: int) -> None:
    """Select the session's row in the admin of process ``through`` and run "drain the processes"."""
    admin = AdminBrowser(cluster.servers[through].url)
    await asyncio.to_thread(admin.login)
    short = session_id[:10]
    await wait_until(
        lambda: any(row[0] == short for row in admin.session_rows()), "the session's row in the admin", timeout=20
    )
    page = await asyncio.to_thread(
        admin.post,
        "admin/docsync/livesession/?all=",
        {"action": "drain_processes", "_selected_action": session_id, "index": "0", "select_across": "0"},
    )
    assert "is draining: its sessions are saved, then it stops" in page


async def append_acked(client: ClientSession, items: list[str], acked: list[str]) -> None:
    for item in items:
        notes_of(client).items.append(item)
        await client.sync(EVENT_WAIT)
        acked.append(item)


async def edit_until_stopped(client: ClientSession, name: str, acked: list[str], stop: asyncio.Event) -> None:
    """Append notes one by one, each waited for, until told to stop or the connection drops (bounded)."""
    notes = notes_of(client)
    for i in range(2000):
        if stop.is_set() or not client.connected.is_set():
            return
        item = f"{name}-{i}"
        notes.items.append(item)
        try:
            await client.sync(EVENT_WAIT)
        except Exception:
            return  # the connection dropped with it in flight: not acknowledged (resent on resume)
        acked.append(item)
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("saved_cluster", ["redis", "database"], indirect=True)
async def test_the_sessions_of_a_killed_process_are_restored_by_another(saved_cluster: Cluster) -> None:
    cluster = saved_cluster
    clients = [await open_on(cluster, n % 3) for n in range(20)]  # 20 sessions, 7 of them in process 0
    acked: list[list[str]] = [[] for _ in clients]
    stop = asyncio.Event()
    try:
        for n, client in enumerate(clients):
            slider_of(client).value = 10 + n
            await append_acked(client, [f"c{n}-a", f"c{n}-b"], acked[n])
        victims = clients[::3]  # their sessions live in process 0
        # A second tab of a victim's session, gone before the edits: it resumes from an older position.
        late = ClientSession(dict(victims[0].config))
        await late.connect()
        await late.disconnect()
        left_at = late.last_seq
        # Every client keeps editing; the owner of a third of the sessions dies mid-stream,
        # with changes acknowledged since the sessions' only snapshot (at their creation).
        editors = [asyncio.ensure_future(edit_until_stopped(c, f"c{n}", acked[n], stop)) for n, c in enumerate(clients)]
        await wait_until(lambda: all(len(a) >= 6 for a in acked), "every client to have edits acknowledged")
        cluster.servers[0].kill()
        killed = time.monotonic()
        stop.set()
        for victim in victims:
            await victim.wait_for(lambda v=victim: not v.connected.is_set(), EVENT_WAIT)  # type: ignore[misc]
        assert all(saved_seq(cluster, v.id) < v.last_seq for v in victims), "changes after the snapshot"
        # Each victim reconnects at once (its patch in flight, if any, is resent and answered).
        for victim in victims:
            seconds = await reconnect_via(victim, cluster.ws_url("board", 1))
            print(
                f"session {victim.id[:8]} restored through process 1 {time.monotonic() - killed:.2f} s after the "
                f"kill (its own resume {seconds:.3f} s; {victim.live})"
            )
            assert not victim.resumed_fresh
            # The restored session holds every position its client saw: a replay, not the whole document.
            assert victim.live is not None and victim.live.mode == "replay"
        await asyncio.gather(*editors)
        for victim in victims:
            await victim.sync(EVENT_WAIT)
        late.config["wsUrl"] = cluster.ws_url("board", 1)
        await late.reconnect()
        assert late.live is not None and late.live.mode == "replay" and late.live.replayed > 0, late.live
        assert late.last_seq > left_at
        assert list(notes_of(late).items) == list(notes_of(victims[0]).items)
        await late.close()
        for n, client in enumerate(clients):
            items = list(notes_of(client).items)
            assert in_order(acked[n], items), f"client {n}: an acknowledged change is missing"
            assert slider_of(client).value == 10 + n
            viewer = ClientSession(client.config)
            viewer.config["wsUrl"] = cluster.ws_url("board", 2)
            await viewer.connect()
            try:
                assert list(notes_of(viewer).items) == items  # what the cluster holds is what the client holds
            finally:
                await viewer.close()
        # Process 1 now holds them, with the application's callback wired again.
        for n, victim in zip(range(0, len(clients), 3), victims, strict=True):
            slider_of(victim).value = 50 + n
            await victim.sync(EVENT_WAIT)
            echo = victim.document.get_model_by_name("echo")
            await victim.wait_for(
                lambda e=echo, n=n: e.text == f"value={50 + n} pid={cluster.servers[1].pid}",  # type: ignore[misc]
                EVENT_WAIT,
            )
    finally:
        stop.set()
        for client in clients:
            await client.close()


async def test_a_rolling_sigterm_of_every_process_loses_no_acknowledged_change(saved_cluster: Cluster) -> None:
    cluster = saved_cluster
    clients = [await open_on(cluster, n % 3) for n in range(6)]
    acked: list[list[str]] = [[] for _ in clients]
    try:
        for step in range(3):
            for n, client in enumerate(clients):
                await append_acked(client, [f"c{n}-s{step}"], acked[n])
            victims = [n for n, c in enumerate(clients) if c.config["wsUrl"] == cluster.ws_url("board", step)]
            assert victims, "each process holds sessions"
            editors = [
                asyncio.ensure_future(edit_until_closed(clients[n], f"c{n}-d{step}", acked[n], limit=2000))
                for n in victims
            ]
            await asyncio.sleep(0.2)
            server = cluster.servers[step]
            process = server.process
            assert process is not None
            if step == 0:
                # The first by the admin's action, from another process's admin page.
                await drain_by_admin(cluster, clients[victims[0]].id, through=1)
            else:
                process.send_signal(signal.SIGTERM)
            await asyncio.gather(*editors)
            await wait_until(lambda v=victims: all(clients[n].close_code == 4012 for n in v), "close 4012", timeout=30)
            target = (step + 1) % 3
            for n in victims:
                seconds = await reconnect_via(clients[n], cluster.ws_url("board", target))
                print(
                    f"step {step}: session {clients[n].id[:8]} resumed through process {target} in {seconds:.2f} s "
                    f"({clients[n].live})"
                )
                assert not clients[n].resumed_fresh
                live = clients[n].live
                assert live is not None and live.mode == "replay"  # the drained snapshot carries the log's tail
                await clients[n].sync(EVENT_WAIT)
            await asyncio.to_thread(process.wait, 60)
            server.process = None
            server.start()  # the deploy's new version of the process
        for n, client in enumerate(clients):
            items = list(notes_of(client).items)
            # Every acknowledged change, in order, once (those in flight at a close were resent, and kept too).
            assert in_order(acked[n], items)
            other = ClientSession(client.config)
            await other.connect()
            try:
                assert list(notes_of(other).items) == items
            finally:
                await other.close()
    finally:
        for client in clients:
            await client.close()


async def test_a_connection_to_a_draining_process_is_refused_with_4012_and_lands_on_another(
    saved_cluster: Cluster,
) -> None:
    cluster = saved_cluster
    client = await open_on(cluster, 0, "board_slow")
    newcomer_config = await asyncio.to_thread(cluster.page_config, "board_slow", 0)
    nap: Path = cluster.nap_file  # type: ignore[attr-defined]
    hooks = cluster.tmp / "hooks.log"
    try:
        await append_acked(client, ["before"], [])
        process = cluster.servers[0].process
        assert process is not None
        log = Path(str(cluster.servers[0].log_path))
        # The session's callback holds on while the file exists: process 0's drain waits for it.
        nap.touch()
        await wait_until(lambda: hooks.exists() and f"{process.pid} nap holding" in hooks.read_text(), "the callback")
        process.send_signal(signal.SIGTERM)
        await wait_until(lambda: "persistence: draining" in log.read_text(errors="replace"), "the drain to start")
        # Process 0 is still draining (its callback runs on): a new session is refused there...
        newcomer = ClientSession(newcomer_config)
        with pytest.raises(ServerError) as refused:
            await newcomer.connect()
        assert refused.value.code == "close-4012"
        assert newcomer.close_code == 4012
        # ... and so is the session it holds, whose client was closed with 4012.
        await wait_until(lambda: client.close_code == 4012, "the client's close 4012")
        client.config["wsUrl"] = cluster.ws_url("board_slow", 0)
        with pytest.raises(ServerError) as again:
            await client.reconnect()
        assert again.value.code == "close-4012"
        nap.unlink()  # the drain ends; process 0 leaves the cluster
        # Both land on process 1: the session restored there, the newcomer's made there.
        seconds = await reconnect_via(client, cluster.ws_url("board_slow", 1))
        print(f"session {client.id[:8]} restored through process 1 after the drain: {seconds:.2f} s ({client.live})")
        assert not client.resumed_fresh
        assert client.live is not None and client.live.mode == "replay"
        assert list(notes_of(client).items) == ["before"]
        newcomer.config["wsUrl"] = cluster.ws_url("board_slow", 1)
        await newcomer.connect()
        assert newcomer.live is not None and newcomer.live.mode == "pull"
        await append_acked(newcomer, ["landed"], [])
        await newcomer.close()
        await asyncio.to_thread(process.wait, 60)
        cluster.servers[0].process = None
    finally:
        nap.unlink(missing_ok=True)
        await client.close()
