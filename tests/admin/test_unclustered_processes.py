"""Several processes serving one database without CLUSTER are named: a WARNING in each log and a notice in the admin.

Without ``DOCSYNC["CLUSTER"]`` processes share no sessions (docs/howto/scale-out.md): users
of one room on two processes see different documents. The live-session table shows which
processes write it; a process that sees another one writing (not one of this machine
known stopped) says so, and the admin's list shows it. Not with CLUSTER on, nor for one
process restarted at once, whose killed predecessor's rows are still recent.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from docsync.client import ClientSession
from docsync.server.admin_support.processes import silent_after
from docsync.testing.ports import free_port
from tests.cluster.conftest import AdminBrowser, connect, running_cluster
from tests.hardening.harness import Browser, Database, Site, open_client, wait_until

from .conftest import CHANGELIST

WARNING = "also serves this database's sessions and CLUSTER is off"
NOTICE = 'id="unclustered"'


def _reported(row: dict[str, object]) -> dt.datetime:
    return dt.datetime.fromisoformat(str(row["reported"])).replace(tzinfo=dt.UTC)


def _warnings(site: Site, index: int) -> int:
    """How many times server ``index`` logged the warning (each record once: the site's console shows it twice)."""
    return sum(1 for line in site.log_text(index).splitlines() if " WARNING " in line and WARNING in line)


def _processes(database: Path) -> set[str]:
    """The processes with rows in the live-session table of a SQLite file."""
    with contextlib.closing(sqlite3.connect(database, timeout=20)) as db:
        return {process for (process,) in db.execute("SELECT process FROM docsync_livesession")}


async def _session_on(url: str) -> ClientSession:
    return await open_client(await asyncio.to_thread(Browser(url).page_config, "sliders"))


@pytest.mark.asyncio
async def test_two_processes_without_cluster_are_named(
    tmp_path_factory: pytest.TempPathFactory, database: Database
) -> None:
    site = Site(tmp_path_factory.mktemp("unclustered"), database)
    site.servers.append(site._process("daphne", free_port(), 1))  # a second process on the same database
    site.start()
    clients = []
    try:
        for server in site.servers:  # a session in each process
            clients.append(await _session_on(server.url))
        await wait_until(lambda: len({r["process"] for r in site.live_rows()}) == 2, 20, "both processes' rows")
        processes = sorted({str(r["process"]) for r in site.live_rows()})
        await wait_until(lambda: all(_warnings(site, i) > 0 for i in (0, 1)), 20, "each process's warning")
        for index, server in enumerate(site.servers):
            assert server.process is not None
            [other] = [p for p in processes if not p.endswith(f":{server.process.pid}")]
            assert f"process {other} {WARNING}" in site.log_text(index)
            assert "docs/howto/scale-out.md" in site.log_text(index)
        page = await asyncio.to_thread(lambda: site.browser("viewer").get(CHANGELIST).body)
        assert NOTICE in page
        notice = page[page.index(NOTICE) :].split("</ul>")[0]
        assert all(process in notice for process in processes) and "CLUSTER" in notice
        await asyncio.sleep(2 * silent_after(0.3))  # two more sweeps of each: still said once per process
        for index in (0, 1):
            assert _warnings(site, index) == 1
    finally:
        for client in clients:
            await client.close()
        site.stop()


@pytest.mark.asyncio
async def test_one_process_restarted_at_once_is_not_named(
    tmp_path_factory: pytest.TempPathFactory, database: Database
) -> None:
    refresh = 4.0  # its killed predecessor's rows stay recent (not silent) for 9 s after its last write
    site = Site(
        tmp_path_factory.mktemp("restarted"), database, DOCSYNC_ADMIN_REFRESH=str(refresh), DOCSYNC_LOG_LEVEL="INFO"
    )
    site.start()
    clients = []
    try:
        clients.append(await _session_on(site.server.url))
        await wait_until(lambda: len(site.live_rows()) == 1, 20, "the first process's row")
        [old] = site.live_rows()
        await asyncio.to_thread(site.server.kill)  # SIGKILL: its rows stay behind
        await clients.pop().close()
        await asyncio.to_thread(site.restart, 0)
        clients.append(await _session_on(site.server.url))
        await wait_until(lambda: len({r["process"] for r in site.live_rows()}) == 2, 20, "the new process's row")
        [new] = [r for r in site.live_rows() if r["process"] != old["process"]]
        page = await asyncio.to_thread(lambda: site.browser("viewer").get(CHANGELIST).body)
        # The new process's first write, and its sweep, and the page came while the old rows were recent.
        assert dt.datetime.now(tz=dt.UTC) - _reported(old) < dt.timedelta(seconds=silent_after(refresh)), (
            "the restart took too long for the old rows to be recent: the case is not exercised"
        )
        assert any(r["process"] == old["process"] for r in site.live_rows())
        assert _reported(new) > _reported(old)
        assert "Live sessions" in page and NOTICE not in page
        # The next sweep finds the old rows silent and removes them: the first one ran before.
        await wait_until(lambda: "removed the rows of stopped processes" in site.log_text(), 30, "the sweep")
        assert WARNING not in site.log_text()
    finally:
        for client in clients:
            await client.close()
        site.stop()


@pytest.mark.cluster
@pytest.mark.asyncio
async def test_a_cluster_is_not_named(tmp_path_factory: pytest.TempPathFactory) -> None:
    with running_cluster(tmp_path_factory, "clustered") as cluster:
        clients = []
        try:
            for index in (0, 1):  # a session owned by each process
                config = await asyncio.to_thread(cluster.page_config, "counted", index)
                clients.append(await connect(config, cluster.ws_url("counted", index)))
            database = Path(cluster.env["DOCSYNC_SQLITE"])
            await wait_until(lambda: len(_processes(database)) == 2, 20, "both processes' rows")
            await asyncio.sleep(2 * silent_after(0.5))  # two sweeps of each process at least
            admin = AdminBrowser(cluster.servers[0].url)
            await asyncio.to_thread(admin.login)
            page = await asyncio.to_thread(admin.get, "admin/docsync/livesession/")
            assert len(await asyncio.to_thread(admin.session_rows)) == 2
            assert NOTICE not in page
            assert WARNING not in cluster.log_text()
        finally:
            for client in clients:
                await client.close()
