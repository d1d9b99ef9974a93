"""A killed process's sessions in the admin: gone from the list, and their pages say what became of them.

A process killed outright (SIGKILL, a crash) cannot remove its rows of the live-session
table. The list showed them as live for ``PROCESS_TIMEOUT`` after its last write (15 s by
default; measured 13-15 s after a kill, with SQLite as with Redis), and once the next
process deleted them, their detail pages answered a bare 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator

import pytest

from docsync.server.admin_support.processes import _start_from_ps, own_start, process_gone, process_start
from tests.hardening.harness import Browser, Database, Site, wait_until

from .conftest import changelist_rows, live_url
from .test_live_sessions import Sessions

#: Far longer than any test waits: only knowing the process is gone can take its rows off.
LONG_TIMEOUT = "600"


async def _listed(browser: Browser) -> set[str]:
    return {r["short_id"] for r in await asyncio.to_thread(changelist_rows, browser)}


async def _until(predicate: object, what: str) -> None:
    """Poll ``predicate`` (an async callable answering a bool) a bounded number of times."""
    for _ in range(100):
        if await predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"never: {what}")


def _snapshot_saved(site: Site, session_id: str) -> bool:
    with contextlib.closing(sqlite3.connect(site.db, timeout=20)) as db:
        found = db.execute("SELECT 1 FROM docsync_sessionsnapshot WHERE session_id = ?", (session_id,))
        return found.fetchone() is not None


@pytest.mark.asyncio
@pytest.mark.parametrize("persistence", ["", "database"])
async def test_a_killed_process_s_sessions_leave_the_list_and_their_page_says_what_became_of_them(
    tmp_path_factory: pytest.TempPathFactory, database: Database, persistence: str
) -> None:
    site = Site(
        tmp_path_factory.mktemp("killed"),
        database,
        DOCSYNC_PROCESS_TIMEOUT=LONG_TIMEOUT,
        DOCSYNC_PERSISTENCE=persistence,
        DOCSYNC_SNAPSHOT_INTERVAL="0.2",
    )
    site.start()
    try:
        opened = Sessions(site)
        client = await opened.open("sliders")
        operator = await asyncio.to_thread(site.browser, "operator")
        await _until(lambda: _has(operator, client.id[:10]), "the session listed")
        if persistence:
            await wait_until(lambda: _snapshot_saved(site, client.id), 10, "the session's snapshot")
        old_process = next(r["process"] for r in site.live_rows() if r["session_id"] == client.id)
        site.server.kill()
        await asyncio.to_thread(site.restart)  # the same database; no session of its own yet
        operator = await asyncio.to_thread(site.browser, "operator")

        # Listed for PROCESS_TIMEOUT (600 s here) before: its process is known gone now.
        await _until(lambda: _has(operator, client.id[:10], listed=False), "the dead process's session unlisted")
        page = await asyncio.to_thread(operator.get, live_url(client.id))
        assert page.status == 200
        assert f"The process that held this session, {old_process}, has stopped." in page.body
        assert "Session " + client.id[:10] + " is not live" in page.body
        if persistence:
            assert "Its snapshot is in the session store: it comes back" in page.body
        else:
            assert "it cannot come back" in page.body
        # An action on it does nothing, and says so (before: the command failed, 200 or 404).
        done = await asyncio.to_thread(operator.post, live_url(client.id), {"action": "expire"})
        assert done.status == 200 and "The session is not live: nothing was done." in done.body

        # The new process, once it has a session, deletes the dead one's rows without
        # waiting for PROCESS_TIMEOUT; the old page then still answers (before: a bare 404).
        await Sessions(site).open("sliders")
        await wait_until(
            lambda: all(r["process"] != old_process for r in site.live_rows()), 10, "the dead rows deleted"
        )
        page = await asyncio.to_thread(operator.get, live_url(client.id))
        assert page.status == 200
        assert "No process holds this session" in page.body
        assert ("Its snapshot is in the session store" in page.body) == bool(persistence)
        await opened.close()
    finally:
        site.stop()


async def _has(browser: Browser, short_id: str, *, listed: bool = True) -> bool:
    return (short_id in await _listed(browser)) == listed


def test_only_a_process_of_this_machine_that_no_longer_runs_is_gone() -> None:
    here = socket.gethostname()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert not process_gone(f"{here}:{child.pid}")  # running
        assert not process_gone(f"{here}:{os.getpid()}")  # this one
        assert not process_gone(f"another-{here}:{child.pid + 1_000_000}")  # another machine's: unknown
        assert not process_gone(f"{here}:not-a-pid")
    finally:
        child.kill()
        child.wait()
    assert process_gone(f"{here}:{child.pid}")  # reaped: its pid names no process


def _exited() -> tuple[int, str]:
    """A real process that ran and exited: its pid and its start time, read while it ran."""
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        started = process_start(child.pid)
    finally:
        child.communicate(b"")  # it reads to the end, exits, is reaped
    assert started, "no start time for a running process"
    return child.pid, started


def _sleeper(other_than: str) -> subprocess.Popen[bytes]:
    """A live process (``sleep``) whose start time is not ``other_than``.

    Start times count clock ticks (100 a second): one started in the tick the exited
    process started in could not be told from it (no pid is reused that fast).
    """
    for _ in range(20):
        sleeper = subprocess.Popen(["sleep", "120"])
        if process_start(sleeper.pid) != other_than:
            return sleeper
        sleeper.kill()
        sleeper.wait()
    raise AssertionError("every sleep started in the exited process's tick")


def test_a_pid_given_to_another_process_does_not_keep_the_one_before_alive() -> None:
    # The rows of a dead process name its pid; once the system gives that pid to another
    # program, the pid runs again and the dead process was taken for alive until
    # PROCESS_TIMEOUT. Its rows hold its start time now, which the new program's is not.
    here = socket.gethostname()
    pid, exited_start = _exited()
    assert process_gone(f"{here}:{pid}", exited_start)
    sleeper = _sleeper(exited_start)  # a live pid of another process
    try:
        started = process_start(sleeper.pid)
        assert started and started != exited_start
        assert process_start(sleeper.pid) == started  # the same at every look
        assert not process_gone(f"{here}:{sleeper.pid}", started)  # its own rows
        assert process_gone(f"{here}:{sleeper.pid}", exited_start)  # rows claiming its pid, of another start
        assert not process_gone(f"{here}:{sleeper.pid}")  # rows without a start time: the pid alone
        # This process's pid under another start: a predecessor's rows (a container started again).
        assert not process_gone(f"{here}:{os.getpid()}", own_start(os.getpid()))
        assert process_gone(f"{here}:{os.getpid()}", exited_start)
        # Without /proc: ps's start time, as steady.
        assert _start_from_ps(sleeper.pid) == _start_from_ps(sleeper.pid) != ""
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.asyncio
async def test_rows_claiming_a_live_pid_with_another_start_time_are_not_listed_and_are_deleted(
    tmp_path_factory: pytest.TempPathFactory, database: Database
) -> None:
    # A row of a process that died, whose pid now runs another program (the test's own
    # sleep): listed as live until PROCESS_TIMEOUT (600 s here) before.
    site = Site(tmp_path_factory.mktemp("reused"), database, DOCSYNC_PROCESS_TIMEOUT=LONG_TIMEOUT)
    site.start()
    _, exited_start = _exited()
    sleeper = _sleeper(exited_start)
    try:
        process = f"{socket.gethostname()}:{sleeper.pid}"
        with contextlib.closing(sqlite3.connect(site.db, timeout=20)) as db, db:
            stamp = "2026-01-01 00:00:00"
            silent = f"{dt.datetime.now(tz=dt.UTC) - dt.timedelta(seconds=30):%Y-%m-%d %H:%M:%S}"
            db.execute(
                "INSERT INTO docsync_livesession (session_id, app, user, process, process_started, created,"
                " last_activity, connections, models_count, messages_in, messages_out, bytes_in, bytes_out,"
                " keep_alive, snapshot_bytes, reported)"
                " VALUES ('reused-pid-session', 'sliders', '', ?, ?, ?, ?, 1, 3, 0, 0, 0, 0, 0, 0, ?)",
                (process, exited_start, stamp, stamp, silent),
            )
        operator = await asyncio.to_thread(site.browser, "operator")
        assert await asyncio.to_thread(changelist_rows, operator) == []
        page = await asyncio.to_thread(operator.get, live_url("reused-pid-session"))
        assert page.status == 200
        assert f"The process that held this session, {process}, has stopped." in page.body

        # The site's process writes its own start time, and deletes the dead one's rows.
        opened = Sessions(site)
        client = await opened.open("sliders")
        await wait_until(
            lambda: [r["session_id"] for r in site.live_rows()] == [client.id], 10, "the reused pid's row deleted"
        )
        [own] = site.live_rows()
        assert site.server.pid is not None
        assert own["process_started"] == process_start(site.server.pid) != ""
        [row] = await asyncio.to_thread(changelist_rows, operator)
        assert row["short_id"] == client.id[:10]
        await opened.close()
    finally:
        sleeper.kill()
        sleeper.wait()
        site.stop()


@pytest.fixture(scope="module")
def long_timeout_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    """A site that takes no process for stopped by its silence, for the two tests below, in file order.

    The first one's row of another machine stays listed (as it asserts, until PROCESS_TIMEOUT);
    the second one looks at its own session's row alone. One server start, not two.
    """
    site = Site(tmp_path_factory.mktemp("long-timeout"), database, DOCSYNC_PROCESS_TIMEOUT=LONG_TIMEOUT)
    site.start()
    try:
        yield site
    finally:
        site.stop()


@pytest.mark.asyncio
async def test_a_silent_process_of_another_machine_is_marked_not_hidden(long_timeout_site: Site) -> None:
    # Whether another machine's process runs cannot be asked: until PROCESS_TIMEOUT its
    # sessions stay listed, marked as not responding (before: listed as any other).
    site = long_timeout_site
    with contextlib.closing(sqlite3.connect(site.db, timeout=20)) as db, db:
        stamp = "2026-01-01 00:00:00"
        silent = f"'{dt.datetime.now(tz=dt.UTC) - dt.timedelta(seconds=30):%Y-%m-%d %H:%M:%S}'"
        db.execute(
            "INSERT INTO docsync_livesession (session_id, app, user, process, created, last_activity, connections,"
            " models_count, messages_in, messages_out, bytes_in, bytes_out, keep_alive, snapshot_bytes, reported)"
            f" VALUES ('elsewhere-session', 'sliders', '', 'another-machine:4321', ?, ?, 1, 3, 0, 0, 0, 0, 0, 0,"
            f" {silent})",
            (stamp, stamp),
        )
    operator = await asyncio.to_thread(site.browser, "operator")
    [row] = await asyncio.to_thread(changelist_rows, operator)
    assert row["short_id"] == "elsewhere-"
    assert row["process_state"].startswith("another-machine:4321")
    assert "not responding since" in row["process_state"]
    page = await asyncio.to_thread(operator.get, live_url("elsewhere-session"))
    assert page.status == 200
    assert "process another-machine:4321 has not responded since" in page.body


@pytest.mark.asyncio
async def test_a_live_process_whose_rows_another_deleted_writes_them_again(long_timeout_site: Site) -> None:
    # Another process deletes the rows of one it takes for stopped (silent past
    # PROCESS_TIMEOUT, or a pid it cannot see under the same host name); a live one
    # writes rows only when they change, so an idle session stayed off the list for good.
    site = long_timeout_site
    opened = Sessions(site)
    client = await opened.open("sliders")
    await wait_until(lambda: any(r["session_id"] == client.id for r in site.live_rows()), 10, "the row")
    with contextlib.closing(sqlite3.connect(site.db, timeout=20)) as db, db:
        assert db.execute("DELETE FROM docsync_livesession WHERE session_id = ?", (client.id,)).rowcount == 1
    await wait_until(lambda: any(r["session_id"] == client.id for r in site.live_rows()), 10, "the row again")
    await opened.close()
