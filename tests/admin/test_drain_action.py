"""The admin's "drain their processes" action signals a process of this machine only if its pid is still it.

Without a cluster the action sent SIGTERM to the pid its rows name. Once that process is
gone the system may give its pid to another program, which the action then stopped. The
rows hold their process's start time (``LiveSession.process_started``): the action now
signals a pid only while the process it names started then, and tells the admin why not.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import html
import socket
import sqlite3
import subprocess

import pytest

from docsync.server.admin_support.processes import process_start
from docsync.testing import EVENT_WAIT
from tests.hardening.harness import Database, Site

from .conftest import CHANGELIST
from .test_gone_sessions import LONG_TIMEOUT, _exited, _sleeper


def _claim(site: Site, session_id: str, process: str, started: str) -> None:
    """A live-session row of ``process`` (``host:pid``) started at ``started``, reported now and for an hour."""
    stamp = "2026-01-01 00:00:00"
    # Reported in an hour: never silent while the test runs, so listed and selectable.
    reported = f"{dt.datetime.now(tz=dt.UTC) + dt.timedelta(hours=1):%Y-%m-%d %H:%M:%S}"
    with contextlib.closing(sqlite3.connect(site.db, timeout=20)) as db, db:
        db.execute(
            "INSERT INTO docsync_livesession (session_id, app, user, process, process_started, created,"
            " last_activity, connections, models_count, messages_in, messages_out, bytes_in, bytes_out,"
            " keep_alive, snapshot_bytes, reported)"
            " VALUES (?, 'sliders', '', ?, ?, ?, ?, 1, 3, 0, 0, 0, 0, 0, 0, ?)",
            (session_id, process, started, stamp, stamp, reported),
        )


@pytest.mark.asyncio
async def test_a_program_given_a_listed_process_s_pid_survives_the_drain_action_and_the_admin_is_told(
    tmp_path_factory: pytest.TempPathFactory, database: Database
) -> None:
    site = Site(tmp_path_factory.mktemp("drain-pids"), database, DOCSYNC_PROCESS_TIMEOUT=LONG_TIMEOUT)
    site.start()
    _, exited_start = _exited()
    spared = _sleeper(exited_start)  # has the pid of a row whose process started at another time
    drained = subprocess.Popen(["sleep", "120"])  # has the pid and the start time of its row
    try:
        here = socket.gethostname()
        spared_process, drained_process = f"{here}:{spared.pid}", f"{here}:{drained.pid}"
        _claim(site, "reused-pid-session", spared_process, exited_start)
        _claim(site, "own-pid-session", drained_process, process_start(drained.pid))
        operator = await asyncio.to_thread(site.browser, "operator")
        chosen = [("_selected_action", "reused-pid-session"), ("_selected_action", "own-pid-session")]
        answer = await asyncio.to_thread(
            operator.post, CHANGELIST, [("action", "drain_processes"), ("index", "0"), *chosen]
        )
        assert answer.status == 302

        assert await asyncio.to_thread(drained.wait, EVENT_WAIT) == -15  # SIGTERM: the action ran
        assert spared.poll() is None  # it was: -15, stopped in place of the process gone
        told = html.unescape((await asyncio.to_thread(operator.get, CHANGELIST)).body)
        assert (
            f"Process {spared_process} not drained: process {spared_process} no longer runs:"
            " its pid names another program now, not signalled"
        ) in told
        assert f"Process {drained_process} is draining" in told
    finally:
        for sleeper in (spared, drained):
            if sleeper.poll() is None:
                sleeper.kill()
            sleeper.wait()
        site.stop()


@pytest.mark.asyncio
async def test_a_row_of_a_gone_process_under_the_servers_own_name_does_not_drain_the_server(
    tmp_path_factory: pytest.TempPathFactory, database: Database
) -> None:
    # A container restarted under its host name runs its server as the same pid: the rows
    # of the one before it name this process. Draining them drained the new process.
    site = Site(tmp_path_factory.mktemp("drain-own-name"), database, DOCSYNC_PROCESS_TIMEOUT=LONG_TIMEOUT)
    site.start()
    try:
        _, exited_start = _exited()
        server = site.server.serving_pid
        assert process_start(server) != exited_start
        own_name = f"{socket.gethostname()}:{server}"
        _claim(site, "predecessor-session", own_name, exited_start)
        operator = await asyncio.to_thread(site.browser, "operator")
        answer = await asyncio.to_thread(
            operator.post,
            CHANGELIST,
            [("action", "drain_processes"), ("index", "0"), ("_selected_action", "predecessor-session")],
        )
        assert answer.status == 302
        told = html.unescape((await asyncio.to_thread(operator.get, CHANGELIST)).body)
        assert f"Process {own_name} not drained: process {own_name} that started then no longer runs" in told
        assert site.server.process.poll() is None  # still serving: it was draining, then gone
        assert (await asyncio.to_thread(operator.get, CHANGELIST)).status == 200
    finally:
        site.stop()
