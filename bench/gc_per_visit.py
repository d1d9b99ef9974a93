"""Cyclic garbage and garbage-collector CPU per browser visit in a docsync server: counted, not timed.

    python bench/gc_per_visit.py [<checkout> ...]            # default: this one, under uvicorn
    python bench/gc_per_visit.py --scenario open --types 20  # per session open; the 20 commonest types

An object in a reference cycle is freed only by a collection, and what collections cost
grows with the objects made and not freed by reference counting. For each checkout,
starts its uvicorn server twice (``loadgen.py``'s scenario for 200 and for 600 units,
``--scenario browser`` by default: two app pages and a session's open) and prints the
difference per extra unit of: the objects each run's collections found unreachable (the
server runs with ``gc.DEBUG_SAVEALL``, which keeps them in ``gc.garbage`` to be counted
by type at exit), and, in a second pair of runs without it, collections and their
thread CPU by generation. Start-up and the first units cancel out. A generation-2
collection falls every few hundred units: its per-unit figure moves between runs.
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import os
import runpy
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from servers import Lifetimes, docsync_env, load_profiled_server

from docsync.testing import free_port

FEW, MANY = 200, 600


def _serve(out: str, mode: str, module_args: list[str]) -> None:
    """Run ``python -m <module_args>`` in this process, writing what ``mode`` counts to ``out`` at exit."""
    stats: dict[str, list[float]] = {str(g): [0, 0.0] for g in range(3)}
    started = [0.0]

    def timed(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.thread_time()
        else:
            stats[str(info["generation"])][0] += 1
            stats[str(info["generation"])][1] += time.thread_time() - started[0]

    if mode == "garbage":
        gc.set_debug(gc.DEBUG_SAVEALL)
    else:
        gc.callbacks.append(timed)
    sys.argv = module_args
    try:
        runpy.run_module(module_args[0], run_name="__main__", alter_sys=True)
    finally:
        if mode == "garbage":
            gc.collect()
            types = collections.Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.garbage)
            Path(out).write_text(json.dumps(dict(types)))
        else:
            Path(out).write_text(json.dumps(stats))


def _run(root: Path, n: int, workdir: Path, mode: str, scenario: str) -> Any:
    env = {**os.environ, **docsync_env(Lifetimes(), secrets.token_urlsafe(32), workdir / "db.sqlite3")}
    env["PYTHONPATH"] = str(root)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=root, env=env, check=True, capture_output=True
    )
    port, out = free_port(), workdir / f"{mode}-{n}.json"
    command = [
        sys.executable, str(Path(__file__).resolve()), "--serve", str(out), "--mode", mode,
        "uvicorn", "project.asgi:application", "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
        "--ws", "websockets-sansio", "--lifespan", "on", "--log-level", "warning",
    ]  # fmt: skip
    load_profiled_server(command, root=root, env=env, workdir=workdir, port=port, scenario=scenario, n=n)
    return json.loads(out.read_text())


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":  # the server process itself
        _serve(sys.argv[2], sys.argv[4], sys.argv[5:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("roots", nargs="*", default=[str(Path(__file__).resolve().parent.parent)])
    parser.add_argument("--scenario", choices=("browser", "open"), default="browser", help="loadgen's scenario")
    parser.add_argument("--types", type=int, default=0, help="also print the commonest types of cyclic garbage")
    args = parser.parse_args()
    per = MANY - FEW
    for root in args.roots:
        workdir = Path(tempfile.mkdtemp(prefix="docsync-gc-"))
        path = Path(root).resolve()
        try:
            few, many = (_run(path, n, workdir, "garbage", args.scenario) for n in (FEW, MANY))
            garbage = {t: (many.get(t, 0) - few.get(t, 0)) / per for t in {*few, *many}}
            few, many = (_run(path, n, workdir, "time", args.scenario) for n in (FEW, MANY))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        print(f"{root}: cyclic garbage per {args.scenario} unit: {sum(garbage.values()):.1f} objects", flush=True)
        for g in ("0", "1", "2"):
            count, cpu = many[g][0] - few[g][0], many[g][1] - few[g][1]
            print(f"  generation {g}: {count / per:.3f} collections, {1e3 * cpu / per:.4f} ms thread CPU per unit")
        for name in sorted(garbage, key=lambda t: -garbage[t])[: args.types]:
            print(f"  {garbage[name]:7.2f} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
