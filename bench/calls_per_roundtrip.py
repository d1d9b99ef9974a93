"""Python function calls per round trip in a docsync uvicorn server, counted by cProfile: steady where CPU time is not.

    python bench/calls_per_roundtrip.py [<checkout> ...]     # default: this one

For each checkout, starts its uvicorn server (as ``run.py`` does) under ``python -m
cProfile``, runs ``loadgen.py``'s round-trip scenario for 1,000 and for 3,000 round
trips (a fresh server each), stops the server with SIGINT (cProfile writes its stats on
exit) and prints the difference of the two runs' calls per extra round trip: all, those
of docsync's own functions, and the built-ins (``isinstance``, ``len``, orjson ...).
Start-up and the first round trips cancel out; the load of the machine does not count.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import secrets
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from servers import ROOT, Lifetimes, docsync_env

from docsync.testing import free_port, wait_for_port

FEW, MANY = 1000, 3000


def _calls(root: Path, n: int, workdir: Path) -> dict[str, int]:
    """Run one cProfiled server through ``n`` round trips; return its calls by group."""
    env = {**os.environ, **docsync_env(Lifetimes(), secrets.token_urlsafe(32), workdir / "db.sqlite3")}
    env["PYTHONPATH"] = str(root)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=root, env=env, check=True, capture_output=True
    )
    port, stats_path = free_port(), workdir / f"calls-{n}.prof"
    command = [
        sys.executable, "-m", "cProfile", "-o", str(stats_path), "-m", "uvicorn", "project.asgi:application",
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--ws", "websockets-sansio",
        "--lifespan", "on", "--log-level", "warning",
    ]  # fmt: skip
    with open(workdir / "server.log", "ab") as log:
        server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, 120, server)
        load = [
            sys.executable, "bench/loadgen.py", "--flavour", "docsync", "--url", f"ws://127.0.0.1:{port}",
            "--pid", str(server.pid), "--scenario", "roundtrip", "--params", json.dumps({"n": n, "warmup": 50}),
        ]  # fmt: skip
        subprocess.run(load, cwd=root, env=env, check=True, capture_output=True, timeout=900)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(120)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(30)
    groups = {"all": 0, "docsync": 0, "built-ins": 0}
    for (filename, _, _), (_, calls, _, _, _) in pstats.Stats(str(stats_path)).stats.items():  # type: ignore[attr-defined]
        groups["all"] += calls
        if "/docsync/" in filename:
            groups["docsync"] += calls
        elif filename == "~":
            groups["built-ins"] += calls
    return groups


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("roots", nargs="*", default=[str(ROOT)], help="docsync checkouts (default: this one)")
    args = parser.parse_args()
    for root in args.roots:
        workdir = Path(tempfile.mkdtemp(prefix="docsync-calls-"))
        few, many = _calls(Path(root).resolve(), FEW, workdir), _calls(Path(root).resolve(), MANY, workdir)
        shown = ", ".join(f"{group} {(many[group] - few[group]) / (MANY - FEW):.1f}" for group in few)
        print(f"{root}: Python calls per round trip: {shown}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
