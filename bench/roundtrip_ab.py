"""Bokeh's bench app's round trip, servers side by side: all up at once, blocks of round trips interleaved.

    python bench/roundtrip_ab.py [--baseline /path/to/other/checkout] [--loop] [--rounds 15 --block 200]
    python bench/roundtrip_ab.py --kind docsync --server daphne --uvicorn --baseline /path/to/other/checkout
    python bench/roundtrip_ab.py --kind docsync --app bench_sync --baseline /path/to/other/checkout

Starts docsync's Bokeh dialect from this checkout (``after``), ``bokeh serve`` with
``TCP_NODELAY`` (``bokeh``), and with ``--baseline`` the dialect from another checkout
(``before``), with ``--loop`` this checkout's dialect with ``"callbacks": "loop"``
(``loop``). One client session per server; rounds of ``--block`` round trips (set the
slider, wait for the PATCH-DOC with the new ``y``) go to each server in turn, the
order reversed every round, so that load from elsewhere falls on all alike. ``--kind
docsync`` serves docsync's own protocol instead of the dialect, ``--server daphne`` runs
``after`` and ``before`` under daphne, and ``--uvicorn`` adds this checkout under uvicorn
(``uvicorn``) beside them; ``--app bench_sync`` (with ``--kind docsync``) runs docsync's
bench app whose callback is a plain ``def`` (a worker thread per round trip). Prints,
per server, the medians over rounds of the round trip's p50 and p99, of the server's
CPU and context switches per round trip, and each one's ratio to ``bokeh serve``'s,
with the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lean_client import Session, make_flavour
from procstat import context_switches, cpu_seconds
from run import prepare
from scenarios import Target, percentile, round_trips, warm_up
from servers import TARGETS, Lifetimes, RunningServer, TargetSpec, start

#: What each figure is called, and how it is read from one round's measurements.
FIGURES = ("p50 ms", "p99 ms", "server CPU ms/rt", "switches/rt")


async def _round(session: Session, target: Target, count: int) -> dict[str, float]:
    before, switches = cpu_seconds(target.pid), context_switches(target.pid)
    times = await round_trips(session, count=count)
    cpu, switched = cpu_seconds(target.pid) - before, context_switches(target.pid) - switches
    return {
        "p50 ms": percentile(times, 50) * 1000,
        "p99 ms": percentile(times, 99) * 1000,
        "server CPU ms/rt": cpu * 1000 / count,
        "switches/rt": switched / count,
    }


async def compare(
    targets: dict[str, Target], rounds: int, block: int, app: str = "bench"
) -> dict[str, dict[str, list[float]]]:
    """Each target's figures, one per round (docsync's own targets on ``app``; Bokeh's on its bench)."""
    sessions = {}
    for name, target in targets.items():
        mine = app if target.flavour.name == "docsync" else "bench"
        await warm_up(target, app=mine)
        sessions[name] = await target.open(mine)
        await _round(sessions[name], target, 100)
    found: dict[str, dict[str, list[float]]] = {name: {figure: [] for figure in FIGURES} for name in targets}
    names = list(targets)
    try:
        for index in range(rounds):
            for name in names if index % 2 == 0 else names[::-1]:
                for figure, value in (await _round(sessions[name], targets[name], block)).items():
                    found[name][figure].append(value)
    finally:
        for session in sessions.values():
            await session.close()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", help="another docsync checkout (a git worktree of main)")
    parser.add_argument("--loop", action="store_true", help="also this checkout with 'callbacks': 'loop'")
    parser.add_argument("--kind", choices=("docsync-bokeh", "docsync"), default="docsync-bokeh", help="the protocol")
    parser.add_argument("--server", choices=("uvicorn", "daphne"), default="uvicorn", help="after's and before's")
    parser.add_argument("--uvicorn", action="store_true", help="also this checkout under uvicorn")
    parser.add_argument("--app", default="bench", help="docsync's app with --kind docsync: bench or bench_sync")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--block", type=int, default=200)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="docsync-roundtrip-ab-"))
    secret = secrets.token_urlsafe(32)
    prepare(workdir, secret, bokeh=True)
    os.environ["DJANGO_SECRET_KEY"] = secret
    specs = {"after": TargetSpec(f"after-{args.server}", args.kind, args.server), "bokeh": TARGETS["bokeh-nodelay"]}
    if args.baseline:
        specs["before"] = TargetSpec(f"before-{args.server}", args.kind, args.server, Path(args.baseline).resolve())
    if args.uvicorn:
        specs["uvicorn"] = TargetSpec("after-uvicorn", args.kind, "uvicorn")
    if args.loop:
        specs["loop"] = TARGETS["docsync-bokeh-loop"]
    servers: dict[str, RunningServer] = {}
    try:
        for name, spec in specs.items():
            servers[name] = start(spec, Lifetimes(), secret=secret, workdir=workdir)
        targets = {name: Target(make_flavour(s.spec.kind), s.ws_base, s.pid) for name, s in servers.items()}
        load, started = os.getloadavg(), time.strftime("%H:%M:%S", time.gmtime())
        found = asyncio.run(compare(targets, args.rounds, args.block, args.app))
        load_end, ended = os.getloadavg(), time.strftime("%H:%M:%S", time.gmtime())
    finally:
        for server in servers.values():
            server.stop()
    print(
        f"{started}-{ended} UTC, load average {load[0]:.1f} -> {load_end[0]:.1f}; "
        f"{args.rounds} rounds of {args.block} round trips, interleaved; medians over rounds (/ bokeh serve)"
    )
    medians = {name: {figure: statistics.median(values) for figure, values in f.items()} for name, f in found.items()}
    print(f"{'':8s}" + "".join(f"{figure:>24s}" for figure in FIGURES))
    for name, figures in medians.items():
        cells = []
        for figure in FIGURES:
            value, ratio = figures[figure], figures[figure] / medians["bokeh"][figure]
            cells.append(f"{value:.3f} ({ratio:.2f}x)" if figure != "switches/rt" else f"{value:.2f} ({ratio:.2f}x)")
        print(f"{name:8s}" + "".join(f"{cell:>24s}" for cell in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
