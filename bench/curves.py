"""Cost curves (issue 20): how round trips, pulls and memory grow with sessions and with document size.

    python bench/curves.py [--server uvicorn|daphne] [--only idle,points,widgets] [--quick] [--out PATH]

1. ``idle``: 100 → 1,000 → 10,000 connected, pulled, idle sessions of the ``bench`` app
   beside one active session, all in one server: at each step the active session's
   round trip p50/p99 and the server's CPU per round trip, and the server's RSS above
   what it held with the active session alone (and that per idle session).
2. ``points``: the ``bench_sized`` app at 1,000 → 10,000 → 100,000 → 1,000,000 points
   (``?points=N``: the bench document, one source): per size a fresh server, sessions
   opened one after another (connect → ACK → full pull), the RSS they add per session,
   whole pulls repeated on one connection, then round trips of a slider change that
   rewrites ``y``; and two floors for the pull: the echo server (python-websockets, no
   protocol) sending the same frames, and raw loopback TCP moving the same bytes.
3. ``widgets``: the same app at 1,000 points with 10 → 100 → 1,000 → 10,000 more widgets
   in a Column (``?widgets=M``): session open + pull time, RSS per session, round trips
   of the slider (a change to one model, answered with the new ``y``).

Between neighbouring steps, for each cost: the slope (cost ratio) / (size ratio) and
the exponent k of cost ∝ size^k (log cost ratio / log size ratio). A slope up to 1.2 is
"linear or better"; above it, "worse than linear". A cost that should not grow at all
(the active session's round trip beside idle ones) shows as a slope near 0.1 per tenfold step.

The load generator is this process (``lean_client.py``: raw frames, tokens made here);
every server runs on a free 127.0.0.1 port and is stopped by its pid; every loop is
bounded in count and time. Results: the tables on stdout, ``bench/results/curves.md``
and ``curves.json`` (``--out``), with the load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import itertools
import json
import math
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lean_client import PULL_DOC_REPLY, PULL_DOC_REQ, BenchError, DocsyncFlavour, Session, make_flavour
from procstat import rss_bytes
from scenarios import CpuMeter, Target, close_all, ms, next_value, open_many, percentile, warm_up
from servers import ROOT, TARGETS, Lifetimes, RunningServer, docsync_env, start

RESULTS = Path(__file__).resolve().parent / "results"
LINEAR = 1.2  # a step whose (cost ratio) / (size ratio) is above this is worse than linear
SIZED_APP = "bench_sized"
STEP_TIMEOUT = 900.0  # seconds: no step of any curve runs longer


class SizedFlavour(DocsyncFlavour):
    """docsync's tokens, carrying request arguments (``bench_sized`` reads ``points`` and ``widgets``)."""

    def __init__(self, arguments: dict[str, list[str]]) -> None:
        super().__init__()
        self.arguments = arguments

    def credentials(self, app: str) -> tuple[str, str]:
        session_id = self._generate()
        return session_id, self._issue(session_id, app, None, self.arguments)


@dataclass(frozen=True)
class Curve:
    """One curve: its sizes, what each step measures, and which figures are its costs."""

    name: str
    title: str
    size_label: str
    sizes: tuple[int, ...]
    costs: tuple[tuple[str, str], ...]  # (figure key, label)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def _round_trips(session: Session, count: int, seconds: float) -> list[float]:
    """``count`` round trips (fewer if ``seconds`` run out), every 50th checked value by value."""
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(times) < count and time.perf_counter() < deadline:
        times.append(await session.round_trip(next_value(session.value), check=len(times) % 50 == 0))
    return times


def _rt_figures(times: list[float], cpu: dict[str, float]) -> dict[str, Any]:
    return {
        "rt_p50_ms": ms(percentile(times, 50)),
        "rt_p99_ms": ms(percentile(times, 99)),
        "server_cpu_ms_per_rt": round(cpu["server_cpu_s"] * 1000 / max(1, len(times)), 3),
        "round_trips": len(times),
    }


# -- 1. idle sessions beside an active one -------------------------------------------


async def _idle_curve(sizes: tuple[int, ...], params: dict[str, Any], target: Target) -> list[dict[str, Any]]:
    """One server; idle sessions added step by step; the active session measured at each."""
    await warm_up(target)
    active = await target.open()
    idle: list[Session] = []
    steps: list[dict[str, Any]] = []
    try:
        await _round_trips(active, 50, 30)
        await asyncio.sleep(params["settle"])
        rss_alone = rss_bytes(target.pid)
        meter = CpuMeter(target.pid)
        alone = _rt_figures(await _round_trips(active, params["rounds"], params["seconds"]), meter.read())
        log(f"  idle 0: rt p50 {alone['rt_p50_ms']} ms, p99 {alone['rt_p99_ms']} ms, RSS {rss_alone / 2**20:.1f} MiB")
        for size in sizes:
            started, opening, added = time.perf_counter(), CpuMeter(target.pid), size - len(idle)
            async with asyncio.timeout(STEP_TIMEOUT):
                idle += await open_many(target, added, params["concurrency"])
            opened = time.perf_counter() - started
            open_cpu = opening.read()
            await asyncio.sleep(params["settle"])
            rss = rss_bytes(target.pid)
            meter = CpuMeter(target.pid)
            figures = _rt_figures(await _round_trips(active, params["rounds"], params["seconds"]), meter.read())
            grown = rss - rss_alone
            step = {
                "size": size,
                **figures,
                "rss_mb": round(rss / 2**20, 1),
                "rss_growth_mb": round(grown / 2**20, 2),
                "kib_per_idle_session": round(grown / size / 1024, 1),
                "open_s": round(opened, 1),
                # Does an open cost more when more sessions are held? (the server's CPU, and this client's)
                "server_cpu_ms_per_open": round(open_cpu["server_cpu_s"] * 1000 / added, 3),
                "client_cpu_ms_per_open": round(open_cpu["client_cpu_s"] * 1000 / added, 3),
            }
            steps.append(step)
            log(f"  idle {size}: {step}")
    finally:
        await close_all([*idle, active])
    for step in steps:
        step["alone_rt_p50_ms"], step["alone_rt_p99_ms"] = alone["rt_p50_ms"], alone["rt_p99_ms"]
    return steps


# -- 2 and 3. document size -------------------------------------------------------------


async def _sized_step(size_args: dict[str, int], params: dict[str, Any], target: Target) -> dict[str, Any]:
    """Sessions of ``bench_sized`` at one size: open + pull times, RSS per session, then round trips."""
    await warm_up(target)  # the bench app: imports, the first session's costs
    points = size_args.get("points", 1000)
    warm = await target.open(SIZED_APP, points)  # bench_sized's own first session (its module, numpy's paths)
    await warm.round_trip(next_value(warm.value))
    await warm.close()
    await asyncio.sleep(params["settle"])
    rss_before = rss_bytes(target.pid)
    sessions: list[Session] = []
    try:
        opening = CpuMeter(target.pid)
        for _ in range(params["sessions"]):  # one after another: each open timed alone
            sessions.append(await target.open(SIZED_APP, points))
        open_cpu = opening.read()["server_cpu_s"]
        await asyncio.sleep(params["settle"])
        rss_after = rss_bytes(target.pid)
        active = sessions[0]
        pulls = await _pulls(active, params["pulls"], params["seconds"])
        if params.get("capture"):  # the frames of a fresh session, for the echo floor
            captured = await target.open(SIZED_APP, points, keep_frames=True)
            await captured.close()
            assert captured.greet is not None and captured.pulled is not None
            shapes = {
                "greet": [_frame_spec(f) for f in captured.greet.frames or []],
                "replies": [[_frame_spec(f) for f in captured.pulled.frames or []]],
            }
        await _round_trips(active, params["warmup"], params["seconds"])
        meter = CpuMeter(target.pid)
        figures = _rt_figures(await _round_trips(active, params["rounds"], params["seconds"]), meter.read())
    finally:
        await close_all(sessions)
    opens = [s.open_seconds for s in sessions]
    result = {
        **figures,
        "open_p50_ms": ms(percentile(opens, 50)),
        "pull_p50_ms": ms(percentile(pulls, 50)),
        "pull_p99_ms": ms(percentile(pulls, 99)),
        "server_cpu_ms_per_open": round(open_cpu * 1000 / len(sessions), 3),
        "pull_bytes": sessions[0].pull_bytes,
        "kib_per_session": round((rss_after - rss_before) / len(sessions) / 1024, 1),
        "sessions": len(sessions),
        "values_checked": active.checked,
    }
    if params.get("capture"):
        result["_shapes"] = shapes
    return result


async def _pulls(session: Session, count: int, seconds: float) -> list[float]:
    """``count`` whole pulls (PULL-DOC-REQ → the whole reply) on one connection, fewer if ``seconds`` run out."""
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    due = time.perf_counter()
    while len(times) < count and time.perf_counter() < deadline:
        # Paced under the server's limit on document requests per connection (close 4029
        # past it), outside the timed span: each pull is timed alone, as before.
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        due = time.perf_counter() + PULL_INTERVAL
        start = time.perf_counter()
        await session.conn.send(PULL_DOC_REQ, {})
        reply = await session.conn.receive()
        times.append(time.perf_counter() - start)
        if reply.msgtype != PULL_DOC_REPLY:
            raise BenchError(f"expected PULL-DOC-REPLY, got {reply.msgtype}: {reply.content}")
    return times


async def _echo_pulls(points: int, count: int, seconds: float, target: Target) -> dict[str, Any]:
    """The floor: the same pull frames from the echo server (python-websockets, no protocol), on one connection."""
    session = await target.open(SIZED_APP, points)
    try:
        pulls = await _pulls(session, count, seconds)
    finally:
        await session.close()
    return {"echo_pull_p50_ms": ms(percentile(pulls, 50)), "echo_pull_p99_ms": ms(percentile(pulls, 99))}


def tcp_floor(nbytes: int, count: int) -> dict[str, float]:
    """The floor under the floor: ``nbytes`` over raw loopback TCP, a forked sender answering a 1-byte request.

    No websocket, no Python protocol: what the kernel and the host charge for moving the
    bytes from one process to another (``count`` times, median and p99).
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(60)  # the sender waits for its reader this long at most
    address = listener.getsockname()
    pid = os.fork()
    if pid == 0:  # the sender: answers each request byte with ``nbytes``, until the reader closes
        try:
            conn, _ = listener.accept()
            conn.settimeout(60)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            payload = bytes(nbytes)
            while conn.recv(1):
                conn.sendall(payload)
        finally:
            os._exit(0)
    listener.close()
    times: list[float] = []
    try:
        with socket.create_connection(address, timeout=60) as conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            view = memoryview(bytearray(nbytes))
            for _ in range(count):
                start = time.perf_counter()
                conn.sendall(b"x")
                got = 0
                while got < nbytes:
                    read = conn.recv_into(view[got:])
                    if not read:
                        raise BenchError("the TCP floor's sender closed early")
                    got += read
                times.append(time.perf_counter() - start)
    finally:
        with contextlib.suppress(ProcessLookupError):  # stopped by its pid whatever happened above
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return {"tcp_p50_ms": ms(percentile(times, 50)), "tcp_p99_ms": ms(percentile(times, 99))}


def _frame_spec(frame: str | bytes) -> Any:
    return frame if isinstance(frame, str) else {"binary": len(frame)}


def _scaled(table: dict[int, int], size: int, quick: bool) -> int:
    """The entry of ``table`` for ``size`` (the nearest smaller key), halved when quick."""
    key = max((k for k in table if k <= size), default=min(table))
    return max(2, table[key] // 2) if quick else table[key]


# -- slopes, tables ---------------------------------------------------------------------


def slopes(curve: Curve, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Between neighbouring steps, for each cost: ratio, slope (ratio / size ratio), exponent, verdict."""
    out = []
    for low, high in itertools.pairwise(steps):
        size_ratio = high["size"] / low["size"]
        for key, label in curve.costs:
            a, b = low.get(key), high.get(key)
            row: dict[str, Any] = {"from": low["size"], "to": high["size"], "cost": key, "label": label}
            if not isinstance(a, int | float) or not isinstance(b, int | float) or a <= 0 or b <= 0:
                row.update(ratio=None, slope=None, exponent=None, verdict="n/a (not positive)")
            else:
                ratio = b / a
                slope = ratio / size_ratio
                row.update(
                    ratio=round(ratio, 3),
                    slope=round(slope, 3),
                    exponent=round(math.log(ratio) / math.log(size_ratio), 2),
                    verdict="linear or better" if slope <= LINEAR else "worse than linear",
                )
            out.append(row)
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "—" if value is None else str(value)


def table(curve: Curve, steps: list[dict[str, Any]], columns: list[tuple[str, str]]) -> str:
    """The curve's steps as a Markdown table, then its slopes."""
    lines = [
        "| " + " | ".join([curve.size_label, *(label for _, label in columns)]) + " |",
        "|" + "---|" * (len(columns) + 1),
    ]
    for step in steps:
        lines.append("| " + " | ".join([_fmt(step["size"]), *(_fmt(step.get(key)) for key, _ in columns)]) + " |")
    lines += [
        "",
        "| step | cost | ratio | slope (ratio / size ratio) | exponent k | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for row in slopes(curve, steps):
        lines.append(
            f"| {_fmt(row['from'])} → {_fmt(row['to'])} | {row['label']} | {_fmt(row['ratio'])} | "
            f"{_fmt(row['slope'])} | {_fmt(row['exponent'])} | {row['verdict']} |"
        )
    return "\n".join(lines)


COLUMNS = {
    "idle": [
        ("rt_p50_ms", "active rt p50 (ms)"),
        ("rt_p99_ms", "active rt p99 (ms)"),
        ("server_cpu_ms_per_rt", "server CPU / rt (ms)"),
        ("rss_mb", "RSS (MiB)"),
        ("rss_growth_mb", "RSS above alone (MiB)"),
        ("kib_per_idle_session", "KiB per idle session"),
        ("open_s", "opening them (s)"),
        ("server_cpu_ms_per_open", "server CPU per open (ms)"),
        ("client_cpu_ms_per_open", "client CPU per open (ms)"),
    ],
    "points": [
        ("rt_p50_ms", "rt p50 (ms)"),
        ("rt_p99_ms", "rt p99 (ms)"),
        ("server_cpu_ms_per_rt", "server CPU / rt (ms)"),
        ("pull_p50_ms", "full pull p50 (ms)"),
        ("pull_p99_ms", "full pull p99 (ms)"),
        ("open_p50_ms", "open + pull p50 (ms)"),
        ("server_cpu_ms_per_open", "server CPU / open (ms)"),
        ("pull_bytes", "pull bytes"),
        ("kib_per_session", "RSS per session (KiB)"),
        ("sessions", "sessions"),
    ],
}
COLUMNS["widgets"] = COLUMNS["points"]
COLUMNS["points"] = [
    *COLUMNS["points"][:5],
    ("echo_pull_p50_ms", "echo floor: same pull p50 (ms)"),
    ("pull_over_echo", "pull / echo"),
    ("tcp_p50_ms", "raw TCP floor: same bytes p50 (ms)"),
    *COLUMNS["points"][5:],
]

CURVES = {
    "idle": Curve(
        "idle",
        "idle sessions beside one active session (bench app)",
        "idle sessions",
        (100, 1000, 10_000),
        (
            ("rt_p50_ms", "active rt p50"),
            ("rt_p99_ms", "active rt p99"),
            ("server_cpu_ms_per_rt", "server CPU per rt"),
            ("rss_growth_mb", "RSS growth"),
        ),
    ),
    "points": Curve(
        "points",
        "document size in points (bench_sized ?points=N, one source)",
        "points",
        (1000, 10_000, 100_000, 1_000_000),
        (
            ("rt_p50_ms", "rt p50"),
            ("rt_p99_ms", "rt p99"),
            ("server_cpu_ms_per_rt", "server CPU per rt"),
            ("pull_p50_ms", "full pull"),
            ("echo_pull_p50_ms", "echo floor's pull"),
            ("tcp_p50_ms", "raw TCP, same bytes"),
            ("kib_per_session", "RSS per session"),
        ),
    ),
    "widgets": Curve(
        "widgets",
        "document size in models (bench_sized ?widgets=M, 1,000 points)",
        "widgets",
        (10, 100, 1000, 10_000),
        (
            ("open_p50_ms", "open + pull"),
            ("server_cpu_ms_per_open", "server CPU per open"),
            ("rt_p50_ms", "rt p50"),
            ("rt_p99_ms", "rt p99"),
            ("server_cpu_ms_per_rt", "server CPU per rt"),
            ("kib_per_session", "RSS per session"),
        ),
    ),
}
QUICK_SIZES = {"idle": (30, 100, 300), "points": (1000, 10_000, 100_000), "widgets": (10, 100, 1000)}
# Sessions opened per size (RSS per session is their mean), and round trips per size.
SESSIONS = {
    "points": {1000: 100, 10_000: 50, 100_000: 20, 1_000_000: 5},
    "widgets": {10: 100, 100: 50, 1000: 20, 10_000: 5},
}
PULLS = {10: 100, 100_000: 50, 1_000_000: 20}  # whole pulls on one connection, per size
#: Seconds between the starts of two pulls on one connection: under docsync's 10 document
#: requests per second per connection (DOCUMENT_REQUESTS_PER_SECOND, docsync/server/connection/rate.py).
PULL_INTERVAL = 0.11
ROUNDS = {"points": {1000: 500, 10_000: 500, 100_000: 200, 1_000_000: 50}, "widgets": {10: 500}}


# -- running -------------------------------------------------------------------------


class Runner:
    """Starts a server per step (by pid, on a free port) and runs a step's coroutine against it."""

    def __init__(self, server: str, workdir: Path, secret: str) -> None:
        self.spec = TARGETS[f"docsync-{server}"]
        self.workdir = workdir
        self.secret = secret

    def run(self, flavour: DocsyncFlavour, step: Callable[[Target], Awaitable[Any]]) -> Any:
        server: RunningServer = start(self.spec, Lifetimes(), secret=self.secret, workdir=self.workdir)
        try:
            target = Target(flavour, server.ws_base, server.pid)
            return _event_loop_run(_bounded(step(target)))
        finally:
            server.stop()

    def run_echo(self, shapes: dict[str, Any], step: Callable[[Target], Awaitable[Any]]) -> Any:
        """Run ``step`` against the echo floor serving ``shapes`` (docsync's frames of this size)."""
        (self.workdir / "shapes.json").write_text(json.dumps({SIZED_APP: shapes}))
        server: RunningServer = start(TARGETS["echo"], Lifetimes(), secret=self.secret, workdir=self.workdir)
        try:
            return _event_loop_run(_bounded(step(Target(make_flavour("echo"), server.ws_base, server.pid))))
        finally:
            server.stop()


async def _bounded(coroutine: Awaitable[Any]) -> Any:
    async with asyncio.timeout(STEP_TIMEOUT):
        return await coroutine


def _event_loop_run(coroutine: Awaitable[Any]) -> Any:
    try:
        import uvloop

        return uvloop.run(coroutine)  # type: ignore[arg-type]
    except ImportError:
        return asyncio.run(coroutine)  # type: ignore[arg-type]


def run_curve(curve: Curve, sizes: tuple[int, ...], runner: Runner, quick: bool) -> list[dict[str, Any]]:
    """Every step of ``curve``: the idle curve in one server, the size curves a fresh server per size."""
    log(f"== {curve.name}: {curve.title}; sizes {sizes}; load average {load_average()}")
    if curve.name == "idle":
        params = {"rounds": 300 if quick else 1000, "seconds": 30.0, "settle": 3.0, "concurrency": 50}
        return list(runner.run(SizedFlavour({}), functools.partial(_idle_curve, sizes, params)))
    steps = []
    for size in sizes:
        arguments = {"points": size} if curve.name == "points" else {"points": 1000, "widgets": size}
        params = {
            "sessions": _scaled(SESSIONS[curve.name], size, quick),
            "rounds": _scaled(ROUNDS[curve.name], size, quick),
            "warmup": 20,
            "pulls": _scaled(PULLS, size, quick),
            "capture": curve.name == "points",
            "seconds": 60.0,
            "settle": 2.0,
        }
        flavour = SizedFlavour({name: [str(value)] for name, value in arguments.items()})
        figures = runner.run(flavour, functools.partial(_sized_step, arguments, params))
        shapes = figures.pop("_shapes", None)
        if shapes is not None:
            echo = functools.partial(_echo_pulls, arguments["points"], params["pulls"], params["seconds"])
            figures.update(runner.run_echo(shapes, echo))
            figures["pull_over_echo"] = round(figures["pull_p50_ms"] / figures["echo_pull_p50_ms"], 2)
            figures.update(tcp_floor(figures["pull_bytes"], max(20, params["pulls"])))
        step = {"size": size, **figures, "load_after": load_average()}
        log(f"  {curve.name} {size}: {step}")
        steps.append(step)
    return steps


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def report(results: dict[str, Any]) -> str:
    """The Markdown report: how it was run, then per curve its table and slopes."""
    lines = [
        "# Cost curves (bench/curves.py)",
        "",
        f"`{results['command']}`, {results['started']} → {results['finished']} UTC, docsync {results['server']}, "
        f"commit {results['commit']}; load average before {results['load_before']}, after {results['load_after']}; "
        f"{results['machine']}.",
        "",
        f"Slope = (cost ratio) / (size ratio) between neighbouring steps; ≤ {LINEAR} is linear or better. "
        "Exponent k: cost ∝ size^k between the two steps (0 flat, 1 linear).",
    ]
    for name, steps in results["curves"].items():
        curve = CURVES[name]
        lines += ["", f"## {curve.title}", "", table(curve, steps, COLUMNS[name])]
    return "\n".join(lines) + "\n"


def prepare(workdir: Path, secret: str) -> None:
    """The servers' database, descriptors for 10,000 sockets, and the secret the tokens are signed with."""
    env = {**os.environ, **docsync_env(Lifetimes(), secret, workdir / "db.sqlite3")}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    os.environ["DJANGO_SECRET_KEY"] = secret  # DocsyncFlavour signs with it


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", choices=["uvicorn", "daphne", "granian", "hypercorn"], default="uvicorn")
    parser.add_argument("--only", help="comma-separated curves: " + ",".join(CURVES))
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer sessions and round trips")
    parser.add_argument("--sizes", help="one curve's sizes instead of its own, comma-separated (with --only NAME)")
    parser.add_argument("--out", help="report path without suffix (default bench/results/curves[-SERVER])")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(CURVES)
    unknown = [n for n in names if n not in CURVES]
    if unknown:
        parser.error(f"unknown curve(s): {', '.join(unknown)}")
    if args.sizes and len(names) != 1:
        parser.error("--sizes goes with --only and one curve")
    if args.sizes and [int(s) for s in args.sizes.split(",")] != sorted({int(s) for s in args.sizes.split(",")}):
        parser.error("--sizes: distinct sizes, smallest first")
    out = Path(args.out) if args.out else RESULTS / ("curves" if args.server == "uvicorn" else f"curves-{args.server}")
    workdir = Path(tempfile.mkdtemp(prefix="docsync-curves-"))
    secret = secrets.token_urlsafe(32)
    log(f"work directory (server logs): {workdir}")
    prepare(workdir, secret)
    runner = Runner(args.server, workdir, secret)
    results: dict[str, Any] = {
        "command": "python bench/curves.py " + " ".join(sys.argv[1:]),
        "server": args.server,
        "commit": _commit(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
        "started": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "load_before": load_average(),
        "curves": {},
    }
    failed = False
    for name in names:
        curve = CURVES[name]
        sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else curve.sizes
        if args.quick and not args.sizes:
            sizes = QUICK_SIZES[name]
        try:
            results["curves"][name] = run_curve(curve, sizes, runner, args.quick)
        except Exception as exc:  # the other curves still run; the server log is kept
            log(f"{name} failed: {type(exc).__name__}: {exc}")
            results.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"[:500]
            failed = True
    results["finished"] = time.strftime("%H:%M", time.gmtime())
    results["load_after"] = load_average()
    results["slopes"] = {name: slopes(CURVES[name], steps) for name, steps in results["curves"].items()}
    text = report(results)
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(text)
    out.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    log(f"wrote {out.with_suffix('.md')} and .json")
    if not failed:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
