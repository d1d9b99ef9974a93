"""``manage.py docsync_drain PROCESS``: drain a docsync server process of this machine, and wait until it stops."""

from __future__ import annotations

import os
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...conf import docsync_settings
from ...server.admin_support.drain import send_drain

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


class Command(BaseCommand):
    help = (
        "Drain a docsync server process (SIGTERM): it stops taking sessions, closes every connection "
        "with 4012, saves every session (DOCSYNC['PERSISTENCE']), then stops. PROCESS is a pid, or "
        "host:pid as the admin's live sessions list it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("process", help="the pid of the server process, or host:pid")
        parser.add_argument("--no-wait", action="store_true", help="do not wait for the process to stop")

    def handle(self, *args: Any, **options: Any) -> None:
        if not docsync_settings().PERSISTENCE:
            self.stderr.write("DOCSYNC['PERSISTENCE'] is off here: the process stops, its sessions are not saved")
        try:
            pid = send_drain(str(options["process"]))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        except ProcessLookupError:
            raise CommandError(f"no process {options['process']}") from None
        if options["no_wait"]:
            return
        bound = float(docsync_settings().DRAIN_TIMEOUT) + 15.0  # the drain's bound, then the server's own stop
        started = time.monotonic()
        while _alive(pid):
            if time.monotonic() - started > bound:
                raise CommandError(f"process {pid} still runs after {bound:.0f} s")
            time.sleep(0.05)
        self.stdout.write(f"process {pid} drained and stopped in {time.monotonic() - started:.2f} s")
