"""Server CPU of a browser's visit, before / after, on a busy machine: both servers up, visits interleaved.

    python bench/visit_ab.py --baseline /path/to/other/checkout [--rounds 15 --block 20]

Starts this checkout's docsync under uvicorn and the other checkout's, then alternates
blocks of ``--block`` visits (GET the app page over a new connection, then the websocket
with its token → ACK → full pull, closed after) between them, reading each server's CPU
around each block: load from elsewhere falls on both alike. Prints the medians per
visit and per page alone (the GET only), and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
from pathlib import Path

from lean_client import fetch_page, make_flavour
from procstat import context_switches, cpu_seconds
from run import prepare
from scenarios import Target, warm_up
from servers import TARGETS, Lifetimes, baseline_target, start


async def visits(target: Target, count: int, *, page_only: bool) -> tuple[float, int]:
    """Server CPU seconds and context switches (of threads still live) for ``count`` visits (or pages alone)."""
    flavour, path = target.flavour, target.flavour.page_path("bench")
    before, switches = cpu_seconds(target.pid), context_switches(target.pid)
    for _ in range(count):
        token = flavour.token_from_page(await fetch_page(target.base_url, path))
        if not page_only:
            session = await target.open(token=token)
            await session.close()
    await asyncio.sleep(0.05)  # the last close's work on the server
    return cpu_seconds(target.pid) - before, context_switches(target.pid) - switches


async def compare(targets: dict[str, Target], rounds: int, block: int) -> dict[str, dict[str, list[float]]]:
    for target in targets.values():
        await warm_up(target)
        await visits(target, 10, page_only=False)
    found: dict[str, dict[str, list[float]]] = {
        name: {"visit": [], "page": [], "visit switches": [], "page switches": []} for name in targets
    }
    names = list(targets)
    for index in range(rounds):
        order = names if index % 2 == 0 else names[::-1]
        for kind in ("visit", "page"):
            for name in order:
                seconds, switches = await visits(targets[name], block, page_only=kind == "page")
                found[name][kind].append(seconds * 1000 / block)
                found[name][f"{kind} switches"].append(switches / block)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="another docsync checkout (a git worktree of main)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--block", type=int, default=20)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="docsync-visit-ab-"))
    secret = secrets.token_urlsafe(32)
    prepare(workdir, secret)
    os.environ["DJANGO_SECRET_KEY"] = secret  # the flavour signs nothing, but reads the key
    specs = {"before": baseline_target(Path(args.baseline)), "after": TARGETS["docsync-uvicorn"]}
    servers = {name: start(spec, Lifetimes(), secret=secret, workdir=workdir) for name, spec in specs.items()}
    try:
        targets = {name: Target(make_flavour("docsync"), s.ws_base, s.pid) for name, s in servers.items()}
        load = os.getloadavg()
        found = asyncio.run(compare(targets, args.rounds, args.block))
        load_end = os.getloadavg()
    finally:
        for server in servers.values():
            server.stop()
    print(f"load {load[0]:.1f} -> {load_end[0]:.1f}; {args.rounds} rounds of {args.block}, interleaved")
    for kind in ("visit", "page"):
        medians = {name: statistics.median(found[name][kind]) for name in found}
        line = ", ".join(f"{name} {value:.2f} ms (min {min(found[name][kind]):.2f})" for name, value in medians.items())
        print(f"server CPU per {kind}: {line}; after/before {medians['after'] / medians['before']:.2f}")
        switches = {name: statistics.median(found[name][f"{kind} switches"]) for name in found}
        counted = ", ".join(f"{name} {value:.1f}" for name, value in switches.items())
        print(f"  context switches per {kind} (live threads): {counted}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
