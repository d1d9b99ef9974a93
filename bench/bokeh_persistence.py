"""What persistence costs a Bokeh app's session: round trips with it off and on, and a restore.

    python bench/bokeh_persistence.py [--count 300] [--rounds 3] [--app bench|bench_big]

The bench's Bokeh app (bench/bokeh_apps/bench.py: a slider whose callback recomputes a
source of 1,000 points; ``bench_big``: 1,000,000) served as a ``"kind": "bokeh"`` app by uvicorn, one
session, driven by the lean client over Bokeh's protocol (bench/lean_client.py):

1. Round trips (a slider change, until the new ``y`` and the OK arrived) with
   persistence off, on in the database (SQLite, WAL), and in a one-process cluster of a
   private redis-server without and with persistence in it (``--configs``),
   the configurations taking turns ``--rounds`` times (a loaded machine moves every
   figure; neighbours' ratios move less): p50, p90, the server's CPU per round trip,
   and the journal's bytes per change. Every OK and PATCH-DOC waits for the change's
   journal record.
2. Restore: the server stopped (SIGTERM: the drain saves the session) and started again;
   the time to connect with the same token and pull the restored document, against the
   time a new session takes to open (both run the app; the app loaded before either),
   and the snapshot and journal bytes written per change.

Every loop is bounded in count; servers are stopped by their pid.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SECRET = secrets.token_urlsafe(50)
os.environ["DJANGO_SECRET_KEY"] = SECRET  # the lean client signs its tokens with the server's key

from bench.lean_client import BenchError, DocsyncBokehFlavour, open_session  # noqa: E402
from docsync.testing import RedisServer, ServerProcess  # noqa: E402

#: off, persistence in the database, the one-process cluster of Redis without and with persistence in it.
CONFIGS = ("off", "database", "cluster", "redis")
POINTS = {"bench": 1000, "bench_big": 1_000_000}


def _server(tmp: Path, name: str, config: str, redis: RedisServer) -> ServerProcess:
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.bokeh_dialect_settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": SECRET,
        "DOCSYNC_SQLITE": str(tmp / f"{name}.sqlite3"),
        "DOCSYNC_SQLITE_WAL": "1",
        "DOCSYNC_MAX_PATCHES": "1000000",
        "DOCSYNC_MAX_PATCHES_PER_SECOND_PER_CLIENT": "none",
        "DOCSYNC_MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT": "none",
        "DOCSYNC_MAX_VALUES_PER_SECOND_PER_CLIENT": "none",
        "DOCSYNC_MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT": "none",
        # One machine opens every session: no per-client limit.
        "DOCSYNC_MAX_SESSIONS_PER_CLIENT": "none",
        "DOCSYNC_MAX_CONNECTIONS_PER_CLIENT": "none",
        "DOCSYNC_NEW_SESSIONS_PER_CLIENT_PER_SECOND": "0",  # nor a bucket of new sessions
        "DOCSYNC_ADMIN_REFRESH": "0",
        "DOCSYNC_SNAPSHOT_INTERVAL": "1.0",
    }
    if config == "database":
        env["DOCSYNC_PERSISTENCE"] = "database"
    elif config == "redis":
        env |= {"DOCSYNC_PERSISTENCE": "redis", "DOCSYNC_REDIS_URL": redis.url}
    elif config == "cluster":
        env["DOCSYNC_REDIS_URL"] = redis.url
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env={**os.environ, **env}, check=True)
    return ServerProcess(server="uvicorn", cwd=ROOT, env=env, log_path=tmp / f"{name}.log").start()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _timed_open(flavour: DocsyncBokehFlavour, base: str, app: str, token: str | None = None) -> float:
    """Seconds to connect and pull (with ``token``: that session again), trying again as BokehJS does while refused."""
    for attempt in range(5):
        started = time.perf_counter()
        try:
            session = await open_session(flavour, base, app, POINTS[app], token=token)
        except BenchError:  # a cluster (Redis) that still names the dead process: "reconnect"
            if attempt == 4:
                raise
            await asyncio.sleep(1.0)
            continue
        seconds = time.perf_counter() - started
        await session.close()
        return seconds
    raise AssertionError("unreachable")


async def one_run(tmp: Path, name: str, config: str, redis: RedisServer, count: int, app: str) -> dict[str, float]:
    """``count`` round trips on one session; then, persistence on, a stop and start and the restore's time."""
    flavour = DocsyncBokehFlavour()
    server = _server(tmp, name, config, redis)
    base = f"ws://127.0.0.1:{server.port}"
    figures: dict[str, float] = {}
    try:
        await _timed_open(flavour, base, app)  # the app loaded, its first session made
        figures["open_ms"] = 1000 * await _timed_open(flavour, base, app)
        session = await open_session(flavour, base, app, POINTS[app])
        for n in range(20):  # warm-up
            await session.round_trip(float(2 + n % 90))
        times = []
        cpu_before = _cpu_seconds(server.pid)
        for n in range(count):
            times.append(await session.round_trip(float(3 + n % 90), check=n % 50 == 0))
        figures["cpu_ms"] = 1000 * (_cpu_seconds(server.pid) - cpu_before) / count
        times.sort()
        figures["p50_ms"] = 1000 * times[len(times) // 2]
        figures["p90_ms"] = 1000 * times[int(len(times) * 0.9)]
        await session.close()
        server.stop()  # SIGTERM: the drain saves the session and logs what was written
        if config in ("database", "redis"):
            log = (tmp / f"{name}.log").read_text(errors="replace")
            match = re.search(
                r"(\d+) snapshots, (\d+) bytes written since the start; journal: (\d+) records, (\d+) bytes", log
            )
            if match is not None:
                changes = count + 20
                figures["snapshot_bytes_per_change"] = int(match[2]) / changes
                figures["journal_bytes_per_change"] = int(match[4]) / changes
            server.start()
            await _timed_open(flavour, base, app)  # the app loaded again
            figures["restore_ms"] = 1000 * await _timed_open(flavour, base, app, session.token)
    finally:
        server.stop()
    return figures


async def main_async(args: argparse.Namespace) -> None:
    configs = args.configs.split(",")
    results: dict[str, list[dict[str, float]]] = {config: [] for config in configs}
    with tempfile.TemporaryDirectory(prefix="docsync-bench-bokeh-persistence-") as folder, RedisServer() as redis:
        tmp = Path(folder)
        for round_number in range(args.rounds):
            for config in configs:
                name = f"{config}{round_number}"
                results[config].append(await one_run(tmp, name, config, redis, args.count, args.app))
                print(f"round {round_number + 1} {config}: {results[config][-1]}", flush=True)
    print(
        f"\n{args.count} round trips x {args.rounds} rounds, {args.app} ({POINTS[args.app]:,} points), "
        "uvicorn; medians of the rounds:"
    )
    for config in configs:
        runs = results[config]
        row = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        shown = ", ".join(f"{key} {value:.3f}" for key, value in row.items())
        print(f"  {config:8s} {shown}")
    # Each persisted configuration beside the one without persistence run just before it, round by round.
    for config, base in (("database", "off"), ("redis", "cluster")):
        if config in results and base in results:
            ratios = [r["p50_ms"] / b["p50_ms"] for r, b in zip(results[config], results[base], strict=True)]
            print(f"  p50 {config} / {base}: " + " / ".join(f"{ratio:.2f}x" for ratio in ratios))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=300, help="round trips per run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each configuration, in turn")
    parser.add_argument("--app", choices=sorted(POINTS), default="bench", help="the bench app")
    parser.add_argument("--configs", default=",".join(CONFIGS), help=f"comma-separated, of {', '.join(CONFIGS)}")
    args = parser.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
