"""Where the server's time goes in a fresh 1M-point session, step by step (issue 20).

    python bench/fresh_probe.py [--root <checkout>] [--fresh 20] [--unused 60]

Starts docsync's uvicorn server (as bench/servers.py does, from ``--root``) with timers
around each step of a fresh session: the websocket's connect (token, session made, ACK
queued), the application's run in its worker thread and, inside it, each numpy call and
model of ``bench_big`` (the same calls as project/examples/bench.py, timed one by one),
the pull's encoding, the writes handed to the transport, the disconnect. Then opens
``--fresh`` fresh sessions of ``bench_big`` one after another (connect, ACK, PULL-DOC-REQ,
whole reply, close; 3 more first, untimed) and prints, per step, the median wall time,
the median CPU time of the thread that ran it and its minor page faults; beside them
the client's stretches and the server's CPU per session (bench/fresh_timeline.py).
Sessions live ``--unused`` seconds after their close, as in the benchmark (15 s there):
each fresh session's arrays are then new memory, as they are in ``bigpull``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import inspect
import json
import os
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
WARM_UP = 3

#: (label, module, attribute path): the steps timed in the server, where they exist.
STEPS = (
    ("websocket connect (token, session, ACK)", "docsync.server.connection.consumer", "DocumentConsumer.connect"),
    ("  session made (context._create)", "docsync.server.application_context", "ApplicationContext._create"),
    ("    app run in a worker thread (modify_doc)", "docsync.handlers.function", "FunctionHandler.modify_document"),
    ("pull: encode the document (session.pull)", "docsync.server.session.session", "ServerSession.pull"),
    ("pull: frames handed to the transport (write_now)", "docsync.server.compat.uvicorn", "_Writer.write_now"),
    ("disconnect", "docsync.server.connection.consumer", "DocumentConsumer.disconnect"),
)


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_THREAD).ru_minflt


class Probe:
    """Per-step (label, wall s, thread CPU s, thread minor faults) rows, recorded in the server."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float, float, int]] = []

    def stamp(self, label: str, wall: float, cpu: float, faults: int) -> tuple[float, float, int]:
        # perf_counter is CLOCK_MONOTONIC, one clock for every process: the driver compares.
        now = (time.perf_counter(), time.thread_time(), _faults())
        self.rows.append((label, now[0], now[0] - wall, now[1] - cpu, now[2] - faults))
        return now

    def wrap(self, label: str, func: Callable[..., Any]) -> Callable[..., Any]:
        stamp = self.stamp
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                start = (time.perf_counter(), time.thread_time(), _faults())
                try:
                    return await func(*args, **kwargs)
                finally:
                    stamp(label, *start)

            return timed_async

        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = (time.perf_counter(), time.thread_time(), _faults())
            try:
                return func(*args, **kwargs)
            finally:
                stamp(label, *start)

        return timed


def _install(probe: Probe) -> None:
    import importlib

    for label, module_name, path in STEPS:
        owner: Any = importlib.import_module(module_name)
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent, None)
        if owner is not None and hasattr(owner, name):
            setattr(owner, name, probe.wrap(label, getattr(owner, name)))
    import numpy as np

    import project.examples.bench_big as big
    from docsync.document.models import Column, ColumnDataSource, Slider

    def make_bench_doc(doc: Any, points: int) -> None:
        """project/examples/bench.py's make_bench_doc, each call timed."""
        stamp, at = probe.stamp, (time.perf_counter(), time.thread_time(), _faults())
        x = np.linspace(0, 10, points)
        at = stamp("      np.linspace (x, 8 MB)", *at)
        tenth = x / 10
        at = stamp("      x / 10 (8 MB, dropped after sin)", *at)
        y = np.sin(tenth)
        at = stamp("      np.sin (y, 8 MB)", *at)
        del tenth
        source = ColumnDataSource(data={"x": x, "y": y}, name="source")
        slider = Slider(start=0, end=100, value=1, step=1, name="slider")

        async def update(attr: str, old: float, new: float) -> None:
            source.data["y"] = np.sin(x * new / 10)

        slider.on_change("value", update)
        at = stamp("      models made (validated)", *at)
        doc.add_root(Column(slider, source))
        stamp("      add_root", *at)

    big.make_bench_doc = make_bench_doc


def serve(port: int, out: Path) -> None:
    """Run the probed uvicorn server; write the rows to ``out`` on SIGUSR2 (uvicorn dies of its SIGTERM)."""
    sys.path.insert(0, os.getcwd())
    import django

    django.setup()
    probe = Probe()
    _install(probe)
    signal.signal(signal.SIGUSR2, lambda *_: out.write_text(json.dumps(probe.rows)))
    import uvicorn

    uvicorn.run(
        "project.asgi:application",
        host="127.0.0.1",
        port=port,
        ws="websockets-sansio",
        log_level="warning",
        access_log=False,
        lifespan="on",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=BENCH.parent, help="the docsync checkout to serve")
    parser.add_argument("--fresh", type=int, default=20)
    parser.add_argument("--unused", type=float, default=60.0, help="seconds a closed session lives")
    parser.add_argument("--warm-mb", type=int, default=0, help="as bench/fresh_timeline.py's --warm-mb")
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), Path(args.serve[1]))
        return 0
    sys.path.insert(0, str(BENCH))
    import run
    from fresh_timeline import KEYS, fresh_sessions
    from servers import Lifetimes, docsync_env

    from docsync.testing import free_port, wait_for_port

    secret, workdir = secrets.token_urlsafe(32), Path(tempfile.mkdtemp(prefix="fresh-probe-"))
    run.prepare(workdir, secret)
    root = args.root.resolve()
    env = {**os.environ, **docsync_env(Lifetimes(unused=args.unused, check=1), secret, workdir / "db.sqlite3")}
    env["PYTHONPATH"] = str(root)
    port, out = free_port(), workdir / "probe.json"
    command = [sys.executable, __file__, "--serve", str(port), str(out)]
    with open(workdir / "server.log", "wb") as log:
        server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    os.environ["DJANGO_SECRET_KEY"] = secret
    load = [os.getloadavg()[0]]
    try:
        wait_for_port(port, 60, server)
        url = f"ws://127.0.0.1:{port}"
        asyncio.run(fresh_sessions("docsync", url, server.pid, WARM_UP))
        mark = time.perf_counter()
        client = asyncio.run(fresh_sessions("docsync", url, server.pid, args.fresh, args.warm_mb))
        load.append(os.getloadavg()[0])
        time.sleep(0.5)  # the last close's work
        os.kill(server.pid, signal.SIGUSR2)
        for _ in range(100):
            if out.exists():
                break
            time.sleep(0.1)
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(60)
    rows: dict[str, list[tuple[float, float, int]]] = {}
    for label, end, wall, cpu, faults in json.loads(out.read_text()):
        if end > mark:  # past the warm-up
            rows.setdefault(label, []).append((wall, cpu, faults))
    warm = f", {args.warm_mb} MiB touched and freed by the client before each" if args.warm_mb else ""
    print(f"{root}: {args.fresh} fresh bench_big sessions{warm}, load average {load[0]:.2f} -> {load[-1]:.2f}")
    print("| step (server) | calls per session | wall ms (median call) | thread CPU ms (median call) "
          "| CPU ms per session (mean) | minor faults per session |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for label, values in rows.items():
        wall, cpu = (statistics.median(v[i] for v in values) for i in range(2))
        per_cpu, per_faults = (sum(v[i] for v in values) / args.fresh for i in (1, 2))
        cells = (f"{len(values) / args.fresh:.1f}", f"{wall * 1e3:.2f}", f"{cpu * 1e3:.2f}", f"{per_cpu * 1e3:.2f}")
        print(f"| {label} | " + " | ".join(cells) + f" | {per_faults:.0f} |")
    print("| client (ms, medians): " + ", ".join(KEYS) + " | " + " / ".join(
        f"{statistics.median(r[key] for r in client):.1f}" for key in KEYS) + " | | | | |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
