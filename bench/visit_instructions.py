"""Instructions a docsync server executes per browser visit, counted by valgrind: steady where CPU time is not.

    python bench/visit_instructions.py [--root <checkout>] [--few 5 --many 25]

Runs docsync's uvicorn server under ``valgrind --tool=cachegrind`` twice, for ``--few``
and for ``--many`` visits (GET the app page over a new connection, the websocket with its
token → ACK → full pull, closed after), and prints the difference of the two runs' user-
space instructions (Ir, all threads) per extra visit: start-up and first-visit costs
cancel out. The kernel's side (syscalls, thread starts) is not counted. Slow: each run
takes minutes (valgrind runs Python about 50 times slower).

What the server does on a clock (the live-session table written every ``ADMIN_REFRESH``
seconds, unused sessions expired after 15 s) falls in a run as often as valgrind's slow
wall time lets it, so on a loaded host the default figure moves by several percent
between runs of the same tree. ``--steady`` leaves that out (no table refresh after the
first, no expiry in the run): the visits' own work, the same from run to run.
The server runs with ``OPENBLAS_NUM_THREADS=1``: numpy's OpenBLAS threads spin while they
wait for work, for as many instructions as the scheduler lets them (2 to 20 M per run
of the same tree), none of them a visit's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from cachegrind import summary_instructions
from lean_client import fetch_page, make_flavour
from run import prepare
from scenarios import Target
from servers import ROOT, Lifetimes, docsync_env

from docsync.testing import free_port, wait_for_port


async def _visits(target: Target, count: int) -> None:
    flavour, path = target.flavour, target.flavour.page_path("bench")
    for _ in range(count):
        token = flavour.token_from_page(await fetch_page(target.base_url, path))
        session = await target.open(token=token)
        await session.close()
    await asyncio.sleep(1)  # the last close's work on the server


#: ``--steady``: nothing on a clock in the run (seconds no run lasts).
_NEVER = 1_000_000.0


def instructions(root: Path, visits: int, workdir: Path, secret: str, *, steady: bool = False) -> int:
    """User-space instructions of a server from ``root`` that starts, serves ``visits`` visits and stops."""
    out = workdir / f"cachegrind-{visits}.out"
    port = free_port()
    lifetimes = Lifetimes(unused=_NEVER, check=_NEVER) if steady else Lifetimes()
    env = {
        **os.environ,
        **docsync_env(lifetimes, secret, workdir / "db.sqlite3"),
        "PYTHONPATH": str(root),
        "OPENBLAS_NUM_THREADS": "1",
    }
    if steady:
        env["DOCSYNC_ADMIN_REFRESH"] = str(_NEVER)
    command = [
        "valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={out}",
        sys.executable, "-m", "uvicorn", "project.asgi:application", "--host", "127.0.0.1", "--port", str(port),
        "--no-access-log", "--ws", "websockets-sansio", "--lifespan", "on", "--log-level", "warning",
    ]  # fmt: skip
    with open(workdir / f"valgrind-{visits}.log", "wb") as log:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, 900, process)
        asyncio.run(_visits(Target(make_flavour("docsync"), f"ws://127.0.0.1:{port}", process.pid), visits))
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(600)
    return summary_instructions(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=str(ROOT), help="the docsync checkout to serve (default: this one)")
    parser.add_argument("--few", type=int, default=5)
    parser.add_argument("--many", type=int, default=25)
    parser.add_argument("--steady", action="store_true", help="no live-table refresh or session expiry in the run")
    args = parser.parse_args()
    if args.many <= args.few:
        parser.error("--many must be more than --few")
    workdir = Path(tempfile.mkdtemp(prefix="docsync-visit-ir-"))
    secret = secrets.token_urlsafe(32)
    prepare(workdir, secret)
    os.environ["DJANGO_SECRET_KEY"] = secret
    root = Path(args.root).resolve()
    few, many = (instructions(root, count, workdir, secret, steady=args.steady) for count in (args.few, args.many))
    per_visit = (many - few) / (args.many - args.few)
    name = f"{root} (steady)" if args.steady else str(root)
    print(f"{name}: {few:,} Ir for {args.few} visits, {many:,} for {args.many}: {per_visit / 1e6:.2f} M per visit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
