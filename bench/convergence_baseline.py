"""Issue 15's ratio as CI time: an old checkout's real-network random test against today's in-memory test.

Each round runs, one after the other, two pytest processes as CI runs them:

- ``old``: ``tests/convergence/test_random_edits.py::test_random_concurrent_edits_converge`` of the
  checkout given (say ``git worktree add --detach /tmp/old15 05edbad``, the tree issue 15 was filed
  against), with that checkout on ``PYTHONPATH``: 2-4 real clients against a real daphne process, 200
  random steps per run, its own defaults (40,000 steps, no run started after 75 s);
- ``new``: this checkout's ``tests/convergence/test_random_memory.py::test_random_edits_converge_in_memory``
  (the same kind of runs in memory, its defaults: no run started after 40 s).

Both print the steps they did and the seconds their run loop took. For each process this script takes
the steps per second of that loop and the steps per second of the whole pytest process: wall seconds
from start to exit, CPU seconds from ``wait4`` (user + system of pytest and of every child it waited
for, so the daphne process too). The whole process is what CI pays (start-up, Django, the server's
start included). Rounds alternate old and new so machine load hits both alike; the 1-minute load
average is printed before each process.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
OLD_TEST = "tests/convergence/test_random_edits.py::test_random_concurrent_edits_converge"
NEW_TEST = "tests/convergence/test_random_memory.py::test_random_edits_converge_in_memory"
#: The line each test prints ("convergence: seed S, N steps in R runs, E s" or "in memory: ...").
PRINTED = re.compile(r"(?:convergence|in memory): seed \d+, (\d+) steps in (\d+) runs, ([0-9.]+) s")


@dataclass
class Result:
    """One pytest process: steps, its run loop's wall seconds, and the whole process's wall and CPU seconds."""

    steps: int
    loop_wall: float
    wall: float
    cpu: float
    load: str

    def line(self, name: str) -> str:
        return (
            f"{name:<4} load {self.load:<5} {self.steps:>6} steps  loop {self.loop_wall:5.1f} s "
            f"({self.steps / self.loop_wall:6.0f} steps/s)  process {self.wall:5.1f} s wall "
            f"({self.steps / self.wall:6.0f} steps/s)  {self.cpu:5.1f} s CPU ({self.steps / self.cpu:6.0f} steps/CPU-s)"
        )


def _run(checkout: Path, test: str) -> Result:
    """Run one pytest process in ``checkout`` and measure it."""
    load = Path("/proc/loadavg").read_text().split()[0]
    env = dict(os.environ, PYTHONPATH=str(checkout))
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-s", "-p", "no:cacheprovider", test]
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=checkout, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    output = process.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    match = PRINTED.search(output)
    if process.returncode != 0 or match is None:
        raise SystemExit(f"{test} in {checkout} failed (exit {process.returncode}):\n{output[-3000:]}")
    # ru_*time of the child include every grandchild it waited for (the daphne process of the old test).
    return Result(int(match[1]), float(match[3]), wall, usage.ru_utime + usage.ru_stime, load)


def _sum(results: list[Result]) -> Result:
    return Result(
        sum(r.steps for r in results),
        sum(r.loop_wall for r in results),
        sum(r.wall for r in results),
        sum(r.cpu for r in results),
        "",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", type=Path, help="checkout whose real-network random test is the baseline")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each running old then new (default 3)")
    args = parser.parse_args()
    old_checkout = args.old.resolve()
    if not (old_checkout / OLD_TEST.split("::")[0]).is_file():
        raise SystemExit(f"{old_checkout} has no {OLD_TEST.split('::')[0]}")
    olds: list[Result] = []
    news: list[Result] = []
    for _ in range(args.rounds):
        olds.append(_run(old_checkout, OLD_TEST))
        print(olds[-1].line("old"), flush=True)
        news.append(_run(HERE, NEW_TEST))
        print(news[-1].line("new"), flush=True)
    old, new = _sum(olds), _sum(news)
    print(old.line("old"))
    print(new.line("new"))
    print(
        "new / old: "
        f"{(new.steps / new.loop_wall) / (old.steps / old.loop_wall):.1f}x per loop wall second, "
        f"{(new.steps / new.wall) / (old.steps / old.wall):.1f}x per process wall second, "
        f"{(new.steps / new.cpu) / (old.steps / old.cpu):.1f}x per process CPU second"
    )


if __name__ == "__main__":
    main()
