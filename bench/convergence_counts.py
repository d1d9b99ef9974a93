"""Deterministic counts of the in-memory convergence workload: its totals, calls and instructions per step.

    python bench/convergence_counts.py [--seed 1000] [--runs 8] [--totals] [--calls] [--instructions]
        [--no-check] [--moves [--no-child-moves]]

Runs ``--runs`` in-memory runs (``MemoryNetwork``, 200 steps each) on consecutive seeds
from ``--seed``, as the tests run them (older objects frozen out of the collector, the
collector paused during each run), after one uncounted run (seed - 1). ``--totals``
prints the sum of every run's stats (steps, draws, checks: identical before and after a
change that keeps the workload) and its digest. ``--calls`` counts Python function
calls per step (cProfile). ``--instructions`` runs this script twice under valgrind's
cachegrind, with no counted run and with ``--runs``, and prints the difference in
user-space instructions per step (start-up, imports and the uncounted run cancel out);
``PYTHONHASHSEED=0`` and client ids from a seeded generator, so that every run
hashes, sorts and so replays alike. Slow: valgrind runs Python about 50
times slower (8 runs take a few minutes). ``--no-check`` makes each run's final check
(the clients' and the server's documents compared, the reference's replay) a no-op: the
difference of two counts, with and without it, is what the check costs. ``--moves``: every
run also moves roots the server holds, takes them out and puts them back, and moves items
into, out of and within layouts (as the in-memory test's runs of odd seeds do), a workload
of its own with its own counts and digest; ``--moves --no-child-moves``: roots only (the
workload ``--moves`` was until 7 December, and the real-server test's odd seeds').
(``--instructions`` counts the first two.)
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import os
import pstats
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from cachegrind import script_instructions

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.convergence.settings")

import tests.convergence.memory  # noqa: E402
from tests.convergence.memory import MemoryNetwork  # noqa: E402
from tests.convergence.workload import Run, older_objects_frozen, run_collected  # noqa: E402

RUN_STEPS = 200


class _Tokens:
    """Client ids and origins from a seeded generator: random ones order and hash differently each time."""

    def __init__(self) -> None:
        self._random = random.Random(0)

    def token_hex(self, nbytes: int) -> str:
        return self._random.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()


def run_many(seed: int, runs: int, moves: bool = False, child_moves: bool = False) -> Counter[str]:
    """Run ``runs`` runs from ``seed``; return their summed stats."""
    totals: Counter[str] = Counter()
    with older_objects_frozen():
        for current in range(seed, seed + runs):
            run = Run(MemoryNetwork(current), current, RUN_STEPS, moves=moves, child_moves=child_moves)
            run_collected(run.run(), event_loop=False)
            totals.update(run.stats)
    return totals


def warm_up(seed: int, moves: bool = False, child_moves: bool = False) -> None:
    """One run, not counted: modules imported and caches filled on first use."""
    run = Run(MemoryNetwork(seed - 1), seed - 1, RUN_STEPS, moves=moves, child_moves=child_moves)
    run_collected(run.run(), event_loop=False)


async def _no_check(run: Run, initial_reply: Any) -> None:
    """``Run.check`` left out (``--no-check``)."""


def instructions(seed: int, runs: int, no_check: bool = False, moves: bool = False) -> int:
    """User-space instructions of this script with ``runs`` counted runs (under cachegrind)."""
    extra = [*(["--no-check"] if no_check else []), *(["--moves"] if moves else [])]
    return script_instructions(__file__, "--seed", str(seed), "--runs", str(runs), "--quiet", *extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--totals", action="store_true", help="print the runs' summed stats and their digest")
    parser.add_argument("--calls", action="store_true", help="Python function calls per step (cProfile)")
    parser.add_argument("--instructions", action="store_true", help="instructions per step (cachegrind, slow)")
    parser.add_argument("--no-check", action="store_true", help="each run's final check made a no-op")
    parser.add_argument("--moves", action="store_true", help="runs that move roots too (the tests' odd seeds)")
    parser.add_argument(
        "--no-child-moves", action="store_true", help="with --moves: roots only, no items moved into layouts"
    )
    parser.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)  # (the child under valgrind)
    args = parser.parse_args()
    tests.convergence.memory.secrets = _Tokens()  # type: ignore[assignment]
    if args.no_check:
        Run.check = _no_check  # type: ignore[method-assign,assignment]
    steps = args.runs * RUN_STEPS
    if args.instructions:
        few = instructions(args.seed, 0, args.no_check, args.moves)
        many = instructions(args.seed, args.runs, args.no_check, args.moves)
        print(f"instructions: {many - few:,} for {steps} steps, {(many - few) / steps:,.0f} per step")
        return
    child_moves = args.moves and not args.no_child_moves
    warm_up(args.seed, args.moves, child_moves)
    if args.calls:
        profile = cProfile.Profile()
        profile.enable()
        totals = run_many(args.seed, args.runs, args.moves, child_moves)
        profile.disable()
        calls = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
        print(f"calls: {calls:,} for {steps} steps, {calls / steps:.1f} per step")
    else:
        totals = run_many(args.seed, args.runs, args.moves, child_moves)
    if args.totals and not args.quiet:
        text = repr(sorted(totals.items()))
        print(f"totals: {text}")
        print(f"digest: {hashlib.sha256(text.encode()).hexdigest()[:16]}")


if __name__ == "__main__":
    main()
