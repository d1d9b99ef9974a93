"""Steps per second of the random convergence workload: over real websockets, and in memory.

    python bench/convergence_speed.py [--seconds 20] [--rounds 2] [--seed N] [--memory-only [--runs N]]

The same ``Run`` (tests/convergence/workload.py: 2-4 clients, 200 random steps, then
quiescence and the reference check) on two networks, alternately, ``--rounds`` times
each for about ``--seconds``: ``RealNetwork`` (real ``ClientSession``s over websockets
to a real daphne process, as ``test_random_edits.py``) and ``MemoryNetwork`` (the
server's ``Sequencer`` and the clients' ``ClientProtocol``s, no event loop, no socket,
as ``test_random_memory.py``). Alternating keeps a machine shared with other work from
favouring one side.

Both run as the tests run them, with what the process held before the runs frozen out
of garbage collection (``workload.older_objects_frozen``) and the collector paused
during each run (``workload.run_collected``). Printed per network: steps,
wall seconds, steps per wall second (what a test costs in CI time), and steps per CPU
second (this process, plus the server process for the real network); then the ratio
memory / real. ``--memory-only`` skips the real network (no server is started): the
in-memory figures alone, to compare two checkouts of the pure layers on the same seeds
(``--runs``: that many runs per round, whatever the time, so both do the same work).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.convergence.settings")

from tests.convergence.conftest import ConvergenceServer, convergence_server  # noqa: E402
from tests.convergence.memory import MemoryNetwork  # noqa: E402
from tests.convergence.real import RealNetwork  # noqa: E402
from tests.convergence.workload import Run, older_objects_frozen, run_collected  # noqa: E402

RUN_STEPS = 200
#: A run of the real network that takes longer than this failed (as in the test).
RUN_TIMEOUT = 120.0


@dataclass
class Tally:
    """Steps done on one network, and the time they took."""

    steps: int = 0
    runs: int = 0
    wall: float = 0.0
    cpu: float = 0.0

    def line(self, name: str) -> str:
        return (
            f"{name:<8} {self.steps:>7} steps in {self.runs:>4} runs  {self.wall:7.1f} s wall  "
            f"{self.steps / self.wall:8.0f} steps/s  {self.cpu:7.1f} s CPU  {self.steps / self.cpu:8.0f} steps/CPU-s"
        )


def _server_cpu(server: ConvergenceServer) -> float:
    """CPU seconds the server process has used so far (user + system)."""
    process = server.server.process
    assert process is not None
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _drive(
    tally: Tally, make: Callable[[int], Any], seed: int, seconds: float, timeout: float | None, runs: int | None = None
) -> int:
    """Run ``make(seed)`` networks for ``seconds`` (whole runs), or ``runs`` of them; return the next seed."""
    started, first = time.monotonic(), seed
    with older_objects_frozen():  # as the tests run them
        while seed - first < runs if runs is not None else time.monotonic() - started < seconds:
            run = Run(make(seed), seed, RUN_STEPS)
            coroutine = run.run() if timeout is None else asyncio.wait_for(run.run(), timeout)
            try:
                run_collected(coroutine, event_loop=timeout is not None)  # (in memory: none needed)
            except BaseException as exc:
                raise SystemExit(f"run with seed {seed} failed: {exc!r}") from exc
            tally.steps += RUN_STEPS
            tally.runs += 1
            seed += 1
    tally.wall += time.monotonic() - started
    return seed


def _warm_up(make: Callable[[int], Any], seed: int, timeout: float | None) -> None:
    """One run, not counted."""
    run = Run(make(seed), seed, RUN_STEPS)
    if timeout is None:
        run_collected(run.run(), event_loop=False)
    else:
        run_collected(asyncio.wait_for(run.run(), timeout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per network per round (default 20)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, each running both networks (default 2)")
    parser.add_argument("--seed", type=int, default=None, help="the first run's seed (default: random)")
    parser.add_argument("--memory-only", action="store_true", help="run the in-memory network alone (no server)")
    parser.add_argument("--runs", type=int, default=None, help="with --memory-only: runs per round instead of seconds")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 32)
    print(f"seed {seed}, {args.rounds} rounds of {args.seconds:.0f} s per network, {RUN_STEPS} steps per run")
    real, memory = Tally(), Tally()
    # One run of each network first, not counted: modules imported and caches filled on
    # first use are no part of a step's cost.
    _warm_up(MemoryNetwork, seed - 1, None)
    if args.memory_only:
        for _ in range(args.rounds):
            cpu = time.process_time()
            seed = _drive(memory, MemoryNetwork, seed, args.seconds, None, args.runs)
            memory.cpu += time.process_time() - cpu
        print(memory.line("memory"))
        return
    with convergence_server() as server:
        _warm_up(lambda s: RealNetwork(server, s), seed - 1, RUN_TIMEOUT)
        for _ in range(args.rounds):
            cpu, server_cpu = time.process_time(), _server_cpu(server)
            seed = _drive(real, lambda s: RealNetwork(server, s), seed, args.seconds, RUN_TIMEOUT)
            real.cpu += time.process_time() - cpu + _server_cpu(server) - server_cpu
            cpu = time.process_time()
            seed = _drive(memory, MemoryNetwork, seed, args.seconds, None)
            memory.cpu += time.process_time() - cpu
    print(real.line("real"))
    print(memory.line("memory"))
    wall_ratio = (memory.steps / memory.wall) / (real.steps / real.wall)
    cpu_ratio = (memory.steps / memory.cpu) / (real.steps / real.cpu)
    print(f"memory / real: {wall_ratio:.1f}x steps per wall second, {cpu_ratio:.1f}x steps per CPU second")


if __name__ == "__main__":
    main()
