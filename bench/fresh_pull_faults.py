"""A fresh 1M-point session by page faults and CPU, server's and client's, per target.

``run.py --only bigpull``'s "fresh 1M-point session" (``open_and_pull_ms``) is the time
from connect to the whole PULL-DOC-REPLY of a new ``bench_big`` session. On a VM whose
free memory goes back to the host, first touches of memory are dear, so this counts
them. For each target, and for each with the server run under glibc settings that keep
freed memory (``--keep``: ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_``, the
server's environment only; ``--client-keep``: the same in the client's only;
``--server-env``: other variables in the server's),
alternating, ``--reps`` times: a new server, then
``--fresh`` sessions opened as ``big_pull`` opens them (connect, ACK, PULL-DOC-REQ, the
whole reply), each closed before the next, ``--gap`` seconds apart. Per session: the client's
wall time, the server's CPU (every thread), and split at the ACK the server's minor faults
(/proc/<pid>/stat) and the client's CPU and minor faults (getrusage). Prints medians per
configuration and every session's wall time with its faults.

    python bench/fresh_pull_faults.py [--targets docsync-uvicorn,docsync-daphne,bokeh,echo]
                                      [--reps 3] [--fresh 5] [--gap 0] [--keep] [--client-keep]
                                      [--server-env NUMPY_MADVISE_HUGEPAGE=0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
#: glibc settings that keep freed memory in the process: no mmap per large array (so no
#: munmap handing its pages back), no trim of the heap's top below 128 MiB.
KEEP_FREED = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "134217728"}
#: (stretch, what) printed per configuration; "ack": connect → ACK (the app runs), "pull": ACK → whole reply.
KEYS = (
    "wall_ms", "ack_ms", "pull_ms", "srv_cpu_ms", "srv_flt_ack", "srv_flt_pull",
    "cli_cpu_ack_ms", "cli_cpu_pull_ms", "cli_flt_ack", "cli_flt_pull",
)  # fmt: skip


def minor_faults(pid: int) -> int:
    """Return the minor page faults ``pid`` has taken (its threads included)."""
    with open(f"/proc/{pid}/stat") as stat:
        text = stat.read()
    return int(text[text.rindex(")") + 2 :].split()[7])


def _self() -> tuple[float, int]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (usage.ru_utime + usage.ru_stime) * 1e3, usage.ru_minflt


async def measure(flavour_name: str, url: str, pid: int, fresh: int, gap: float) -> list[dict[str, float]]:
    """The client side: ``fresh`` new sessions, one at a time; one row per session."""
    from lean_client import ACK, PULL_DOC_REPLY, PULL_DOC_REQ, BenchError, Connection, make_flavour
    from procstat import cpu_seconds

    flavour = make_flavour(flavour_name)
    rows = []
    for _ in range(fresh):
        await asyncio.sleep(gap)
        _, token = flavour.credentials("bench_big")
        s_cpu0, s_flt0 = cpu_seconds(pid) * 1e3, minor_faults(pid)
        c_cpu0, c_flt0 = _self()
        start = time.perf_counter()
        conn = await Connection.open(f"{url}/bench_big/ws", flavour.subprotocols(token))
        greet = await conn.receive()
        acked = time.perf_counter()
        c_cpu1, c_flt1 = _self()
        s_flt1 = minor_faults(pid)
        # The /proc reads above are outside both timed stretches' client work: restart the pull's clock.
        pull_start = time.perf_counter()
        c_cpu1b, c_flt1b = _self()
        await conn.send(PULL_DOC_REQ, {})
        reply = await conn.receive()
        end = time.perf_counter()
        c_cpu2, c_flt2 = _self()
        s_cpu2, s_flt2 = cpu_seconds(pid) * 1e3, minor_faults(pid)
        await conn.close()
        if greet.msgtype != ACK or reply.msgtype != PULL_DOC_REPLY:
            raise BenchError(f"expected ACK and PULL-DOC-REPLY, got {greet.msgtype}, {reply.msgtype}")
        del greet, reply
        rows.append({
            "wall_ms": (acked - start + end - pull_start) * 1e3,
            "ack_ms": (acked - start) * 1e3,
            "pull_ms": (end - pull_start) * 1e3,
            # Not split at the ACK: a worker thread that exits moves from ns to 10 ms ticks (procstat).
            "srv_cpu_ms": s_cpu2 - s_cpu0,
            "srv_flt_ack": s_flt1 - s_flt0,
            "srv_flt_pull": s_flt2 - s_flt1,
            "cli_cpu_ack_ms": c_cpu1 - c_cpu0,
            "cli_cpu_pull_ms": c_cpu2 - c_cpu1b,
            "cli_flt_ack": c_flt1 - c_flt0,
            "cli_flt_pull": c_flt2 - c_flt1b,
        })  # fmt: skip
    return rows


def _run_client(name: str, server: Any, fresh: int, gap: float, secret: str, keep: bool) -> list[dict[str, float]]:
    command = [
        server.spec.client_python, __file__, "--client", server.spec.kind, server.ws_base, str(server.pid),
        "--fresh", str(fresh), "--gap", str(gap),
    ]  # fmt: skip
    # The client runs with the glibc settings only when asked (``--client-keep``), never by inheritance.
    env = {k: v for k, v in os.environ.items() if k not in KEEP_FREED} | {"DJANGO_SECRET_KEY": secret}
    if keep:
        env |= KEEP_FREED
    done = subprocess.run(command, cwd=BENCH.parent, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{name}: {done.stderr[-1500:]}")
    rows: list[dict[str, float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", default="docsync-uvicorn,docsync-daphne,bokeh,echo")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--fresh", type=int, default=5)
    parser.add_argument("--gap", type=float, default=0.0, help="seconds between sessions (big_pull: none)")
    parser.add_argument("--keep", action="store_true", help="also each server with glibc keeping freed memory")
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="NAME=VALUE",
        help="also each server with these variables (e.g. NUMPY_MADVISE_HUGEPAGE=0: no huge pages for arrays)",
    )  # fmt: skip
    parser.add_argument("--client-keep", action="store_true", help="also each with the client keeping freed memory")
    parser.add_argument("--client", nargs=3, metavar=("FLAVOUR", "URL", "PID"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(BENCH))
    if args.client:  # the load generator, run with the flavour's python
        flavour, url, pid = args.client
        print(json.dumps(asyncio.run(measure(flavour, url, int(pid), args.fresh, args.gap))))
        return 0

    import report
    import run
    from servers import TARGETS, Lifetimes, start

    extra = dict(item.split("=", 1) for item in args.server_env)
    variants: list[dict[str, str]] = [{}] + ([KEEP_FREED] if args.keep else []) + ([extra] if extra else [])
    configs = [(name, variant, False) for name in args.targets.split(",") for variant in variants]
    if args.client_keep:
        configs = [(name, keep, ckeep) for name, keep, _ in configs for ckeep in (False, True)]
    secret, workdir = secrets.token_urlsafe(32), Path(tempfile.mkdtemp(prefix="fresh-faults-"))
    run.prepare(workdir, secret)
    if any(config[0] == "echo" for config in configs):
        run.capture_shapes(secret, workdir)
    results: dict[str, list[dict[str, float]]] = {}
    for rep in range(args.reps):
        for name, server_env, client_keep in configs:
            label = name + (" +keep" if server_env is KEEP_FREED else "")
            label += "".join(f" +{k}={v}" for k, v in server_env.items() if server_env is not KEEP_FREED)
            label += " +client-keep" if client_keep else ""
            saved = dict(os.environ)
            os.environ.update(server_env)  # servers.start passes its own environment on
            try:
                server = start(TARGETS[name], Lifetimes(), secret=secret, workdir=workdir)
            finally:
                os.environ.clear()
                os.environ.update(saved)
            try:
                rows = _run_client(label, server, args.fresh, args.gap, secret, client_keep)
            finally:
                server.stop()
            results.setdefault(label, []).extend(rows)
            walls = " ".join(f"{r['wall_ms']:.1f}/{r['srv_flt_ack']:.0f}/{r['cli_flt_pull']:.0f}" for r in rows)
            print(f"rep {rep + 1} {label}: wall ms / server faults to ACK / client faults in pull: {walls}; "
                  f"load {os.getloadavg()[0]:.2f}",
                  file=sys.stderr, flush=True)  # fmt: skip
    print(f"load average at the end: {os.getloadavg()}; medians of {args.reps} x {args.fresh} sessions")
    print(report.median_table(results, KEYS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
