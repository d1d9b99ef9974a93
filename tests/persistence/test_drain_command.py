"""``manage.py docsync_drain``: a pid is signalled only while it names the docsync server the live sessions know.

The command runs as a subprocess with the persistence tests' settings (SQLite); the
process asked to drain is a real one (``sleep``), named or not by a live-session row
written through the ORM. A real server drained by the command:
tests/persistence/test_kill_and_drain.py.
"""

from __future__ import annotations

import socket
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
    """A live-session row naming ``host:pid``, started at ``started`` (as a server process writes it)."""
    script = (
        "import datetime as dt\n"
        "from docsync.models import LiveSession\n"
        "now = dt.datetime.now(tz=dt.UTC)\n"
        f"LiveSession.objects.update_or_create(session_id='s1', defaults=dict(app='board', "
        f"process={socket.gethostname() + ':' + str(pid)!r}, process_started={started!r}, created=now, "
        "last_activity=now, reported=now))\n"
    )
    site.manage("shell", "-c", script)


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


@pytest.mark.parametrize("process", ["0", "abc", "12x"])
def test_a_malformed_pid_is_refused_and_nothing_is_signalled(quiet_site: Site, process: str) -> None:
    # Pid 0 was os.kill(0, SIGTERM): every process of the command's own process group.
    with pytest.raises(RuntimeError, match=f"not a process id: '{process}'"):
        _drain(quiet_site, process)
