"""``manage.py docsync_drain PROCESS``: drain a docsync server process of this machine, and wait until it stops.

A pid alone is not a process: the command signals a pid only while it names the docsync
server the live-session table knows by it (its rows' start time is the process's), or
the start time given with ``--started``, through a pidfd (``send_drain``): a pid the
system gave to another program is never signalled.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from ...conf import docsync_settings
from ...models import LiveSession
from ...server.admin_support.drain import local_pid, send_drain
from ...server.admin_support.processes import process_start

__all__ = ["Command"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a process that ended but was not reaped by its parent yet (a zombie) has stopped
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _known_start(name: str, pid: int, now: str) -> str:
    """The start time of docsync server ``name`` as its live-session rows hold it, if ``pid`` is that process now.

    Raises CommandError naming what was found otherwise: no row names it, or its rows
    name a process that started at another time.
    """
    try:
        starts = set(LiveSession.objects.filter(process=name).values_list("process_started", flat=True).distinct())
    except DatabaseError as exc:
        raise CommandError(
            f"the live sessions cannot be read ({exc}): not signalled; give --started {now} if pid {pid} is the "
            "docsync server"
        ) from None
    if now in starts:
        return now
    if not starts:
        raise CommandError(
            f"no live session names process {name}: it holds no session, the live-session table is off "
            f"(ADMIN_REFRESH 0), or it is no docsync server; not signalled. Pid {pid} started at {now} "
            f"(its system's start time): if it is the docsync server, run again with --started {now}"
        )
    known = ", ".join(sorted(repr(start) for start in starts))
    raise CommandError(
        f"process {name} is not the docsync server the live sessions name: their process started at {known}, "
        f"pid {pid} now names one started at {now!r} (the system gave the pid to another program); not signalled"
    )


class Command(BaseCommand):
    help = (
        "Drain a docsync server process (SIGTERM): it stops taking sessions, closes every connection "
        "with 4012, saves every session (DOCSYNC['PERSISTENCE']), then stops. PROCESS is a pid, or "
        "host:pid as the admin's live sessions list it; it is signalled only if the live sessions name it "
        "and it started when their rows say (or when --started says)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("process", help="the pid of the server process, or host:pid")
        parser.add_argument(
            "--started",
            default="",
            help="when the process started, as the admin's live sessions hold it (on Linux: field 22 of "
            "/proc/PID/stat); signalled only if it did, whether or not the live sessions name it",
        )
        parser.add_argument("--no-wait", action="store_true", help="do not wait for the process to stop")

    def handle(self, *args: Any, **options: Any) -> None:
        process = str(options["process"])
        try:
            pid = local_pid(process)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        name = f"{socket.gethostname()}:{pid}"
        now = process_start(pid)
        if not now:
            raise CommandError(f"no process {pid} runs on this machine (or its start time cannot be read)")
        started = str(options["started"]).strip()
        if started and started != now:
            raise CommandError(
                f"pid {pid} names a process started at {now!r}, not at {started!r} (--started): "
                "another program has the pid now; not signalled"
            )
        started = started or _known_start(name, pid, now)
        if not docsync_settings().PERSISTENCE:
            self.stderr.write("DOCSYNC['PERSISTENCE'] is off here: the process stops, its sessions are not saved")
        try:
            pid = send_drain(name, started)
        except ProcessLookupError as exc:
            # Gone since it was looked at (or its pid given to another program meanwhile).
            raise CommandError(str(exc)) from None
        if options["no_wait"]:
            return
        bound = float(docsync_settings().DRAIN_TIMEOUT) + 15.0  # the drain's bound, then the server's own stop
        began = time.monotonic()
        while _alive(pid):
            if time.monotonic() - began > bound:
                raise CommandError(f"process {pid} still runs after {bound:.0f} s")
            time.sleep(0.05)
        self.stdout.write(f"process {pid} drained and stopped in {time.monotonic() - began:.2f} s")
