"""The 1M-point pull and the fresh 1M-point session by server CPU and page faults (issue 20).

Wall times of a 16 MB pull swing with the machine's load; the server's CPU time and
minor page faults per pull hold. For each target, alternating, ``--reps`` times: a new
server; ``--fresh`` fresh sessions of ``bench_big`` (connect, run the app, whole reply),
each closed; then ``--pulls`` whole pulls repeated on one session. Prints medians: wall,
server CPU (every thread, /proc schedstat) and server minor faults, per fresh session and
per pull.

    python bench/bigpull_cpu.py [--targets docsync-uvicorn,docsync-daphne,bokeh-nodelay,echo]
                                [--reps 3] [--fresh 4] [--pulls 10] [--baseline <checkout>]

``--baseline``: another docsync checkout served as ``baseline-uvicorn`` and
``baseline-daphne`` (before / after in one run).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
#: Seconds between repeated pulls on one connection (docsync's limit: 10 per second).
PULL_PACE = 0.12
KEYS = ("fresh_wall", "fresh_cpu", "fresh_faults", "pull_wall", "pull_cpu", "pull_faults")


def minor_faults(pid: int) -> int:
    """Return the minor page faults ``pid`` has taken (its threads included)."""
    with open(f"/proc/{pid}/stat") as stat:
        text = stat.read()
    return int(text[text.rindex(")") + 2 :].split()[7])


async def measure(flavour_name: str, url: str, pid: int, fresh: int, pulls: int) -> dict[str, float]:
    """The client side: fresh sessions, then repeated pulls on one; medians per operation."""
    from lean_client import PULL_DOC_REQ, make_flavour, open_session
    from procstat import cpu_seconds

    flavour = make_flavour(flavour_name)
    rows: dict[str, list[float]] = {key: [] for key in KEYS}
    for _ in range(fresh):
        cpu, faults = cpu_seconds(pid), minor_faults(pid)
        session = await open_session(flavour, url, "bench_big", 1_000_000)
        rows["fresh_cpu"].append((cpu_seconds(pid) - cpu) * 1e3)
        rows["fresh_faults"].append(minor_faults(pid) - faults)
        rows["fresh_wall"].append(session.open_seconds * 1e3)
        await session.close()
    session = await open_session(flavour, url, "bench_big", 1_000_000)
    for _ in range(pulls):
        # docsync answers at most 10 document requests per second per connection (3d3ae1d):
        # paced below that, untimed, or the 11th pull is refused with 4029.
        await asyncio.sleep(PULL_PACE)
        cpu, faults, start = cpu_seconds(pid), minor_faults(pid), time.perf_counter()
        await session.conn.send(PULL_DOC_REQ, {})
        await session.conn.receive()
        rows["pull_wall"].append((time.perf_counter() - start) * 1e3)
        rows["pull_cpu"].append((cpu_seconds(pid) - cpu) * 1e3)
        rows["pull_faults"].append(minor_faults(pid) - faults)
    await session.close()
    return {key: statistics.median(values) for key, values in rows.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", default="docsync-uvicorn,docsync-daphne,bokeh-nodelay,echo")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--fresh", type=int, default=4)
    parser.add_argument("--pulls", type=int, default=10)
    parser.add_argument("--baseline", type=Path, help="another docsync checkout, served beside this one")
    parser.add_argument("--client", nargs=3, metavar=("FLAVOUR", "URL", "PID"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(BENCH))
    if args.client:  # the load generator, run with the flavour's python
        flavour, url, pid = args.client
        print(json.dumps(asyncio.run(measure(flavour, url, int(pid), args.fresh, args.pulls))))
        return 0

    import report
    import run
    from servers import TARGETS, Lifetimes, start

    specs = {name: TARGETS[name] for name in args.targets.split(",")}
    if args.baseline is not None:
        for flavour in ("uvicorn", "daphne"):
            specs[f"baseline-{flavour}"] = dataclasses.replace(
                TARGETS[f"docsync-{flavour}"], name=f"baseline-{flavour}", root=args.baseline.resolve()
            )
    secret, workdir = secrets.token_urlsafe(32), Path(tempfile.mkdtemp(prefix="bigpull-cpu-"))
    run.prepare(workdir, secret)
    if "echo" in specs:
        run.capture_shapes(secret, workdir)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in specs}
    for rep in range(args.reps):
        for name, spec in specs.items():
            server = start(spec, Lifetimes(), secret=secret, workdir=workdir)
            try:
                command = [
                    server.spec.client_python, __file__, "--client", spec.kind, server.ws_base, str(server.pid),
                    "--fresh", str(args.fresh), "--pulls", str(args.pulls),
                ]  # fmt: skip
                env = {**os.environ, "DJANGO_SECRET_KEY": secret}
                done = subprocess.run(command, cwd=BENCH.parent, env=env, capture_output=True, text=True, timeout=600)
            finally:
                server.stop()
            if done.returncode != 0:
                print(f"{name} rep {rep + 1} failed: {done.stderr[-1500:]}", file=sys.stderr)
                continue
            results[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"{name} rep {rep + 1}: {results[name][-1]} load {os.getloadavg()}", file=sys.stderr, flush=True)
    print(f"load average at the end: {os.getloadavg()}")
    print(report.median_table(results, KEYS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
