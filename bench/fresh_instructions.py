"""Instructions a server executes per fresh 1M-point session, counted by valgrind (issue 20).

    python bench/fresh_instructions.py [--targets docsync-uvicorn,bokeh-nodelay] [--few 2 --many 6]
                                       [--root <checkout>]

Runs each server under ``valgrind --tool=cachegrind`` twice, for ``--few`` and for
``--many`` fresh sessions of ``bench_big`` (connect, ACK, PULL-DOC-REQ, whole reply,
closed), and prints the difference of the two runs' user-space instructions (Ir, all
threads) per extra session: start-up and first-session costs cancel out. What new memory
costs the kernel and the hypervisor (page faults: most of a fresh session's time on this
VM, see bench/README.md) is not counted: this is the servers' own work, steady where
their CPU time is not. Slow: valgrind runs Python about 50 times slower.
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

BENCH = Path(__file__).resolve().parent
BOKEH_PYTHON = BENCH / ".venv-bokeh" / "bin" / "python"  # as servers.py says (not importable there)
POINTS = 1_000_000


async def _fresh(flavour_name: str, url: str, count: int) -> None:
    from lean_client import make_flavour, open_session

    flavour = make_flavour(flavour_name)
    for _ in range(count):
        session = await open_session(flavour, url, "bench_big", POINTS)
        await session.close()
    await asyncio.sleep(2)  # the last close's work on the server


def _command(target: str, port: int, out: Path) -> list[str]:
    valgrind = ["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={out}"]
    if target == "docsync-uvicorn":
        return [
            *valgrind, sys.executable, "-m", "uvicorn", "project.asgi:application", "--host", "127.0.0.1",
            "--port", str(port), "--no-access-log", "--ws", "websockets-sansio", "--lifespan", "on",
            "--log-level", "warning",
        ]  # fmt: skip
    return [
        *valgrind, str(BOKEH_PYTHON), str(BENCH / "bokeh_server.py"), "serve", "bokeh_apps/bench.py",
        "bokeh_apps/bench_big.py", "--address", "127.0.0.1", "--port", str(port),
        "--allow-websocket-origin", f"127.0.0.1:{port}", "--log-level", "warning",
    ]  # fmt: skip


def instructions(target: str, root: Path, sessions: int, workdir: Path, secret: str) -> int:
    """User-space instructions of ``target`` that starts, serves ``sessions`` fresh sessions and stops."""
    from servers import Lifetimes, docsync_env

    from docsync.testing import free_port, wait_for_port

    out = workdir / f"cachegrind-{target}-{sessions}.out"
    port = free_port()
    if target == "docsync-uvicorn":
        env = {**os.environ, **docsync_env(Lifetimes(), secret, workdir / "db.sqlite3"), "PYTHONPATH": str(root)}
        cwd = root
    else:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOKEH_")}
        cwd = BENCH
    with open(workdir / f"valgrind-{target}-{sessions}.log", "wb") as log:
        process = subprocess.Popen(_command(target, port, out), cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, 900, process)
        flavour = "docsync" if target.startswith("docsync") else "bokeh"
        client = [
            str(BOKEH_PYTHON) if flavour == "bokeh" else sys.executable, __file__, "--client", flavour,
            f"ws://127.0.0.1:{port}", str(sessions),
        ]  # fmt: skip
        subprocess.run(client, cwd=BENCH, env={**os.environ, "DJANGO_SECRET_KEY": secret}, check=True, timeout=3600)
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(600)
    return summary_instructions(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", default="docsync-uvicorn,bokeh-nodelay")
    parser.add_argument("--root", default=str(BENCH.parent), help="the docsync checkout to serve (default: this one)")
    parser.add_argument("--few", type=int, default=2)
    parser.add_argument("--many", type=int, default=6)
    parser.add_argument("--client", nargs=3, metavar=("FLAVOUR", "URL", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(BENCH))
    if args.client:  # the client, run with the flavour's python
        flavour, url, count = args.client
        asyncio.run(_fresh(flavour, url, int(count)))
        return 0
    if args.many <= args.few:
        parser.error("--many must be more than --few")
    from run import prepare

    workdir = Path(tempfile.mkdtemp(prefix="docsync-fresh-ir-"))
    secret = secrets.token_urlsafe(32)
    prepare(workdir, secret)
    root = Path(args.root).resolve()
    for target in args.targets.split(","):
        few, many = (instructions(target, root, count, workdir, secret) for count in (args.few, args.many))
        per_session = (many - few) / (args.many - args.few)
        print(
            f"{target}: {few:,} Ir for {args.few} fresh sessions, {many:,} for {args.many}: "
            f"{per_session / 1e6:.1f} M per fresh session",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
