"""``manage.py docsync_drain``: a pid is signalled only while it names the docsync server the live sessions know.

The command runs as a subprocess with the persistence tests' settings (SQLite); the
process asked to drain is a real one (``sleep``), named or not by a live-session row
written into the table as a server process writes it. A real server drained by the
command: tests/persistence/test_kill_and_drain.py.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from docsync.server.admin_support.processes import process_start

from .conftest import Site


@pytest.fixture
def quiet_site(tmp_path: Path) -> Site:
    """The persistence tests' database, migrated; no server runs."""
    return Site(tmp_path)


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A process of this machine that is no docsync server, stopped by its pid at the end."""
    process = subprocess.Popen(["sleep", "120"])
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def _row(site: Site, pid: int, started: str) -> None:
    """A live-session row naming ``host:pid``, started at ``started`` (as a server process writes it).

    Written with sqlite3 rather than through the ORM in a ``manage.py shell``: a Django
    process (over a second of CPU) per row, for what the command only reads.
    """
    now = dt.datetime.now(tz=dt.UTC).replace(tzinfo=None).isoformat(" ")  # Django's SQLite datetime text
    with sqlite3.connect(site.db) as db:
        db.execute(
            "INSERT OR REPLACE INTO docsync_livesession (session_id, app, user, process, process_started, created,"
            " last_activity, connections, models_count, messages_in, messages_out, bytes_in, bytes_out,"
            " keep_alive, snapshot_saved, snapshot_bytes, reported)"
            " VALUES ('s1', 'board', '', ?, ?, ?, ?, 0, 0, 0, 0, 0, 0, 0, NULL, 0, ?)",
            (f"{socket.gethostname()}:{pid}", started, now, now, now),
        )


def _drain(site: Site, *args: str) -> str:
    return site.manage("docsync_drain", *args, "--no-wait")


def test_a_pid_no_live_session_names_is_not_signalled_unless_its_start_is_given(
    quiet_site: Site, sleeper: subprocess.Popen[bytes]
) -> None:
    started = process_start(sleeper.pid)
    assert started
    name = f"{socket.gethostname()}:{sleeper.pid}"
    with pytest.raises(RuntimeError, match=rf"no live session names process {name}: .* --started {started}"):
        _drain(quiet_site, str(sleeper.pid))
    assert sleeper.poll() is None
    wrong = f"{started}0"
    with pytest.raises(RuntimeError, match=rf"started at '{started}', not at '{wrong}' \(--started\)"):
        _drain(quiet_site, name, "--started", wrong)
    assert sleeper.poll() is None
    _drain(quiet_site, name, "--started", started)  # the operator says which process it is
    assert sleeper.wait(30) == -15  # SIGTERM


def test_a_pid_whose_rows_name_a_process_of_another_start_is_not_signalled(
    quiet_site: Site, sleeper: subprocess.Popen[bytes]
) -> None:
    started = process_start(sleeper.pid)
    _row(quiet_site, sleeper.pid, f"{started}0")  # the rows of a server gone before, under the same pid
    with pytest.raises(RuntimeError, match=r"is not the docsync server the live sessions name: .*not signalled"):
        _drain(quiet_site, str(sleeper.pid))
    assert sleeper.poll() is None
    _row(quiet_site, sleeper.pid, started)  # rows naming it as it is: the command finds it
    _drain(quiet_site, str(sleeper.pid))
    assert sleeper.wait(30) == -15


MALFORMED = ("0", "abc", "12x")


@pytest.fixture(scope="module")
def malformed_refusals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What the command says to each malformed pid, all asked in one Django process (not one each)."""
    site = Site(tmp_path_factory.mktemp("malformed"))
    script = (
        "import json\n"
        "from django.core.management import CommandError, call_command\n"
        "said = {}\n"
        f"for process in {MALFORMED!r}:\n"
        "    try:\n"
        "        call_command('docsync_drain', process, '--no-wait')\n"
        "        said[process] = 'signalled'\n"
        "    except CommandError as exc:\n"
        "        said[process] = str(exc)\n"
        "print(json.dumps(said))\n"
    )
    return dict(json.loads(site.manage("shell", "-c", script).splitlines()[-1]))


@pytest.mark.parametrize("process", MALFORMED)
def test_a_malformed_pid_is_refused_and_nothing_is_signalled(malformed_refusals: dict[str, str], process: str) -> None:
    # Pid 0 was os.kill(0, SIGTERM): every process of the command's own process group
    # (the test's own among them: the run would not get here).
    assert malformed_refusals[process].startswith(f"not a process id: '{process}'"), malformed_refusals[process]
