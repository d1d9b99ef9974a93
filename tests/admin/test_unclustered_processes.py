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
import re
import sqlite3
from pathlib import Path

import pytest

from docsync.client import ClientSession
from docsync.testing.processes import ServerProcess
from tests.cluster.conftest import AdminBrowser, connect, running_cluster
from tests.hardening.harness import Browser, Database, Site, open_client, wait_until

from .conftest import CHANGELIST

#: Its successor's first sweep must come within silent_after(RESTART_REFRESH) = 5 s of the kill.
RESTART_REFRESH = 2.0
WARNING = "also serves this database's sessions and CLUSTER is off"
NOTICE = 'id="unclustered"'
#: The DEBUG line of each sweep of the live-session table, with the other processes it found writing.
SWEPT = "live-session table: swept; other processes writing: "


def _warnings(site: Site, index: int) -> int:
    """How many times server ``index`` logged the warning (each record once: the site's console shows it twice)."""
    return sum(1 for line in site.log_text(index).splitlines() if " WARNING " in line and WARNING in line)


def _sweeps_seeing(log: str, other: str) -> int:
    """How many sweeps logged in ``log`` found process ``other`` writing (each record once, as ``_warnings``)."""
    found = (line.split(SWEPT, 1)[1] for line in log.splitlines() if " DEBUG " in line and SWEPT in line)
    return sum(1 for writing in found if other in writing.split(", "))


def _lists(page: str, process: str) -> bool:
    """Whether the admin's list names ``process`` (``host:pid``; not a prefix of another pid)."""
    return re.search(re.escape(process) + r"(?!\d)", page) is not None


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
    site = Site(tmp_path_factory.mktemp("unclustered"), database, DOCSYNC_LOG_LEVEL="DEBUG")
    site.servers.append(site._process("daphne", None, 1))  # a second process on the same database
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
        # Two more sweeps of each that found the other writing (the first one warned): still said
        # once per process. Counted, not timed: a loaded machine sweeps less often in a given time.
        others = {}
        for index, server in enumerate(site.servers):
            assert server.process is not None
            [others[index]] = [p for p in processes if not p.endswith(f":{server.process.pid}")]
        await wait_until(
            lambda: all(_sweeps_seeing(site.log_text(i), others[i]) >= 3 for i in (0, 1)), 60, "two more sweeps of each"
        )
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
    # The killed process's rows stay recent (not silent) for silent_after(RESTART_REFRESH) = 5 s
    # after its last write. PROCESS_TIMEOUT is long so that only the sweep deletes them:
    # each write also drops rows older than PROCESS_TIMEOUT, without a line, and with 15 s
    # (and ADMIN_REFRESH 4 s) it did so before the next sweep once a restart took over 3 s.
    site = Site(
        tmp_path_factory.mktemp("restarted"),
        database,
        DOCSYNC_ADMIN_REFRESH=str(RESTART_REFRESH),
        DOCSYNC_PROCESS_TIMEOUT="600",
        DOCSYNC_LOG_LEVEL="INFO",
    )
    # Its successor runs before the kill, with no session: a process writes (and sweeps)
    # from its first session on. How long a start takes (6-15 s measured under load) then
    # does not decide whether its first sweep comes while the old rows are recent.
    site.servers.append(site._process("daphne", None, 1))
    # The admin's page from a process with no session whose ADMIN_REFRESH counts the old
    # rows recent for as long as they are there: it decides while they are in its view.
    admin_env = {**site.env, "DOCSYNC_ADMIN_REFRESH": "60"}
    site.servers.append(ServerProcess(site.asgi_app, env=admin_env, cwd=site.cwd, log_path=site.log_path(2)))
    site.start()
    first, successor, admin = site.servers
    clients = []
    try:
        viewer = Browser(admin.url)
        await asyncio.to_thread(viewer.login, "viewer")
        clients.append(await _session_on(first.url))
        await wait_until(lambda: len(site.live_rows()) == 1, 20, "the first process's row")
        [old] = site.live_rows()
        await asyncio.to_thread(first.kill)  # SIGKILL just after its write: its rows stay behind
        await clients.pop().close()
        clients.append(await _session_on(successor.url))  # its first write, and its first sweep
        # Its row comes at its next write, after that sweep: old rows still there then were
        # found recent (the sweep deletes the silent rows of a process known gone).
        seen: set[str] = set()

        def successor_wrote() -> bool:
            seen.clear()
            seen.update(_processes(site.db))  # one read: both processes' rows at one moment
            return bool(seen - {old["process"]})

        await wait_until(successor_wrote, 20, "the successor's row")
        [new] = seen - {old["process"]}
        assert old["process"] in seen, "the successor's first sweep found the old rows silent: not exercised"
        page = await asyncio.to_thread(lambda: viewer.get(CHANGELIST).body)
        # Both processes listed (so the old rows were there as the page was made), and no notice.
        assert _lists(page, old["process"]) and _lists(page, new) and "not responding" not in page
        assert "Live sessions" in page and NOTICE not in page
        # The successor's next sweep finds the old rows silent and removes them.
        removed = f"removed the rows of stopped processes {old['process']}"
        await wait_until(lambda: removed in site.log_text(1), 30, "the successor's next sweep")
        assert _processes(site.db) == {new}
        assert WARNING not in site.log_text()
    finally:
        for client in clients:
            await client.close()
        site.stop()


@pytest.mark.cluster
@pytest.mark.asyncio
async def test_a_cluster_is_not_named(tmp_path_factory: pytest.TempPathFactory) -> None:
    with running_cluster(tmp_path_factory, "clustered", DOCSYNC_LOG_LEVEL="DEBUG") as cluster:
        clients = []
        try:
            for index in (0, 1):  # a session owned by each process
                config = await asyncio.to_thread(cluster.page_config, "counted", index)
                clients.append(await connect(config, cluster.ws_url("counted", index)))
            database = Path(cluster.env["DOCSYNC_SQLITE"])
            await wait_until(lambda: len(_processes(database)) == 2, 20, "both processes' rows")
            processes = _processes(database)
            others = {}
            for index, server in enumerate(cluster.servers):
                [others[index]] = [p for p in processes if not p.endswith(f":{server.pid}")]
            # Two sweeps of each that found the other writing, counted (a loaded machine sweeps
            # less often in a given time): each could have warned, none did.
            await wait_until(
                lambda: all(_sweeps_seeing(cluster.log_text(i), others[i]) >= 2 for i in (0, 1)),
                60,
                "two sweeps of each finding the other writing",
            )
            admin = AdminBrowser(cluster.servers[0].url)
            await asyncio.to_thread(admin.login)
            page = await asyncio.to_thread(admin.get, "admin/docsync/livesession/")
            assert len(await asyncio.to_thread(admin.session_rows)) == 2
            assert NOTICE not in page
            assert WARNING not in cluster.log_text()
        finally:
            for client in clients:
                await client.close()
