"""Where a fresh 1M-point session's wall time goes, seen from the client (issue 20).

    python bench/fresh_timeline.py [--targets docsync-uvicorn,bokeh-nodelay] [--rounds 5] [--fresh 6]
                                   [--baseline <checkout>]

Each target's server stays up; rounds alternate between targets, ``--fresh`` fresh
sessions of ``bench_big`` per target and round (connect, ACK, PULL-DOC-REQ, whole
reply), each closed. Per session the client stamps: the websocket handshake done, the
ACK (the app has run), the reply's first frame, its last; with the server's CPU over the
session and this client's CPU over the pull (it parses 16 MB: the floor under every
server's pull). Prints medians per target, and the load average.
``--baseline``: another docsync checkout, served by uvicorn as ``baseline-uvicorn``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
#: Each stretch of a fresh session, between the client's stamps (ms).
KEYS = ("handshake", "app_to_ack", "pull_first_frame", "pull_rest", "total", "server_cpu", "client_pull_cpu")


async def fresh_sessions(flavour_name: str, url: str, pid: int, count: int, warm_mb: int = 0) -> list[dict[str, float]]:
    """``count`` fresh sessions of bench_big, each timed in stretches.

    ``warm_mb``: before each session, this client touches and frees that many MiB, so
    that the kernel holds recently used pages for the server's next allocations (see
    ``--warm-mb``).
    """
    from lean_client import ACK, PULL_DOC_REPLY, PULL_DOC_REQ, BenchError, Connection, make_flavour
    from procstat import cpu_seconds

    flavour = make_flavour(flavour_name)
    rows = []
    for _ in range(count):
        _, token = flavour.credentials("bench_big")
        if warm_mb:
            np.ones(warm_mb << 17)  # 8-byte items: warm_mb MiB, touched, freed at once
        cpu = cpu_seconds(pid)
        t0 = time.perf_counter()
        conn = await Connection.open(f"{url}/bench_big/ws", flavour.subprotocols(token))
        t1 = time.perf_counter()
        greet = await conn.receive()
        t2 = time.perf_counter()
        if greet.msgtype != ACK:
            raise BenchError(f"expected ACK, got {greet.msgtype}")
        client_cpu = time.process_time()
        await conn.send(PULL_DOC_REQ, {})
        first = await conn.ws.recv()
        t4 = time.perf_counter()
        header = json.loads(first)
        for _ in range(2 + 2 * int(header.get("num_buffers", 0))):
            await conn.ws.recv()
        t5 = time.perf_counter()
        client_cpu = time.process_time() - client_cpu
        server_cpu = cpu_seconds(pid) - cpu
        if header.get("msgtype") != PULL_DOC_REPLY:
            raise BenchError(f"expected PULL-DOC-REPLY, got {header.get('msgtype')}")
        await conn.close()
        stretches = (t1 - t0, t2 - t1, t4 - t2, t5 - t4, t5 - t0, server_cpu, client_cpu)
        rows.append({key: round(value * 1e3, 3) for key, value in zip(KEYS, stretches, strict=True)})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", default="docsync-uvicorn,bokeh-nodelay")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--fresh", type=int, default=6)
    parser.add_argument("--baseline", type=Path, help="another docsync checkout, served by uvicorn beside this one")
    parser.add_argument(
        "--warm-mb",
        type=int,
        default=0,
        help="before each session the client touches and frees this many MiB: on a VM that hands freed memory back "
        "to its host, the server's new arrays then land on recently used pages, as on a machine that keeps them",
    )
    parser.add_argument("--client", nargs=4, metavar=("FLAVOUR", "URL", "PID", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(BENCH))
    if args.client:  # the client, run with the flavour's python
        flavour, url, pid, count = args.client
        try:  # as bench/loadgen.py runs its clients
            import uvloop

            runner: Any = uvloop.run
        except ImportError:
            runner = asyncio.run
        print(json.dumps(runner(fresh_sessions(flavour, url, int(pid), int(count), args.warm_mb))))
        return 0

    import report
    import run
    from servers import TARGETS, Lifetimes, baseline_target, start

    specs = [TARGETS[name] for name in args.targets.split(",")]
    if args.baseline is not None:
        specs.insert(0, baseline_target(args.baseline))
    secret, workdir = secrets.token_urlsafe(32), Path(tempfile.mkdtemp(prefix="fresh-timeline-"))
    run.prepare(workdir, secret)
    if any(spec.kind == "echo" for spec in specs):
        run.capture_shapes(secret, workdir)  # the echo floor sends docsync's captured frames
    servers = []
    try:
        for spec in specs:
            servers.append(start(spec, Lifetimes(unused=5, check=1), secret=secret, workdir=workdir))
        rows: dict[str, list[dict[str, float]]] = {spec.name: [] for spec in specs}
        loads = [os.getloadavg()[0]]
        env = {**os.environ, "DJANGO_SECRET_KEY": secret}
        for round_ in range(args.rounds + 1):  # the first round warms each server up, uncounted
            for server in servers:
                command = [server.spec.client_python, __file__, "--client", server.spec.kind, server.ws_base,
                           str(server.pid), str(args.fresh), "--warm-mb", str(args.warm_mb)]  # fmt: skip
                done = subprocess.run(command, cwd=BENCH.parent, env=env, capture_output=True, text=True, timeout=600)
                if done.returncode != 0:
                    print(f"{server.spec.name}: {done.stderr[-1500:]}", file=sys.stderr)
                    return 1
                if round_:
                    rows[server.spec.name] += json.loads(done.stdout.strip().splitlines()[-1])
            loads.append(os.getloadavg()[0])
    finally:
        for server in servers:
            server.stop()
    print(f"load average (1 min) from {loads[0]:.2f} to {loads[-1]:.2f}, max {max(loads):.2f}")
    print(report.median_table(rows, KEYS, f"target (ms, medians of {args.rounds} x {args.fresh})"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
