"""What persistence costs: snapshot size and time, drain time, round trips with it on and off.

    python bench/persistence.py [--quick]

1. In one process, no server: a snapshot of the bench apps' sessions (1,000 and
   1,000,000 points): its bytes, the time under the session lock (document JSON and
   the copy of its buffers), the time to encode it, and to restore it into a new
   session (decode, run the app again, lay the snapshot over it).
2. A real daphne with ``PERSISTENCE = "database"`` (SQLite): N sessions opened with a
   change each, then SIGTERM: the drain's own time (from its log line) and the time
   from the signal to the process's exit.
3. Round trips (a slider change and its answer, docsync's Python client, one session)
   against daphne (or ``--server uvicorn``) with persistence off, on in the database, and
   on in a private redis-server, the configurations taking turns ``--rounds`` times (a
   loaded machine moves every figure; the ratio of neighbours moves less): p50 and p90,
   and what was written per change (write amplification: snapshot bytes, and the
   journal's bytes, per change). Every OK waits for its change's journal record.

Every loop is bounded in count; servers are stopped by their pid.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import re
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("DOCSYNC_ADMIN_REFRESH", "0")  # no live-session table: neither here nor in the servers
# This process's own sessions (part 1) need a database for the registry's shutdown.
_OWN_DB = tempfile.mkdtemp(prefix="docsync-bench-persistence-db-")
atexit.register(shutil.rmtree, _OWN_DB, True)
os.environ["DOCSYNC_SQLITE"] = os.path.join(_OWN_DB, "db.sqlite3")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0, interactive=False)

from docsync.client import ClientSession, fetch_page_config  # noqa: E402
from docsync.conf import docsync_settings  # noqa: E402
from docsync.server.persistence.capture import (  # noqa: E402
    app_model_ids,
    app_model_names,
    apply_snapshot,
    take_snapshot,
)
from docsync.server.persistence.saved_request import saved_request  # noqa: E402
from docsync.server.persistence.snapshot import decode_snapshot, encode_snapshot  # noqa: E402
from docsync.server.registry import SessionRegistry  # noqa: E402
from docsync.testing import PostgresServer, RedisServer, ServerProcess  # noqa: E402

LIMIT = 1 << 31


async def snapshot_costs(app: str, repeats: int) -> dict[str, float]:
    """Bytes and milliseconds of one snapshot of a session of ``app`` (median of ``repeats``)."""
    registry = SessionRegistry()
    request: dict[str, Any] = {"arguments": {}, "headers": {}, "cookies": {}, "user": None, "path": app}
    session = await registry.open_session(app, "bench-session", request)
    app_ids, app_names = app_model_ids(session), app_model_names(session)
    saved = saved_request(session.request)[0]  # what the keeper reads once per session
    capture, encode, restore = [], [], []
    data = b""
    for n in range(repeats):
        started = time.perf_counter()
        async with session.lock:
            snapshot = take_snapshot(session, app_ids, app_names, saved)
        capture.append(time.perf_counter() - started)
        started = time.perf_counter()
        data = encode_snapshot(snapshot, LIMIT)
        encode.append(time.perf_counter() - started)
        started = time.perf_counter()
        back = decode_snapshot(data, app_path=app, session_id="bench-session", max_bytes=LIMIT)
        fresh = await registry.open_session(app, f"bench-restored-{n}", request)
        async with fresh.lock:
            apply_snapshot(fresh, back, int(docsync_settings().MAX_ARRAY_ELEMENTS))
        restore.append(time.perf_counter() - started)
    await registry.shutdown()
    return {
        "bytes": len(data),
        "capture_ms": 1000 * statistics.median(capture),
        "encode_ms": 1000 * statistics.median(encode),
        "restore_ms": 1000 * statistics.median(restore),
    }


def _server(tmp: Path, name: str, kind: str = "daphne", **env: str) -> ServerProcess:
    db = tmp / f"{name}.sqlite3"
    full_env = {
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),  # the demo refuses its public key with DEBUG off
        "DOCSYNC_SQLITE": str(db),
        "DOCSYNC_MAX_PATCHES": "1000000",
        "DOCSYNC_MAX_PATCHES_PER_SECOND_PER_CLIENT": "none",
        "DOCSYNC_MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT": "none",
        "DOCSYNC_MAX_VALUES_PER_SECOND_PER_CLIENT": "none",
        "DOCSYNC_MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT": "none",
        "DOCSYNC_LOG_LEVEL": "WARNING",
        # One machine opens every session (thousands for the drain): no per-client limit.
        "DOCSYNC_MAX_SESSIONS_PER_CLIENT": "none",
        "DOCSYNC_MAX_CONNECTIONS_PER_CLIENT": "none",
        "DOCSYNC_NEW_SESSIONS_PER_CLIENT_PER_SECOND": "0",  # nor a bucket of new sessions
        **env,
    }
    import subprocess

    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env={**os.environ, **full_env}, check=True
    )
    return ServerProcess(server=kind, cwd=ROOT, env=full_env, log_path=tmp / f"{name}.log").start()


async def _client(server: ServerProcess, app: str = "bench") -> ClientSession:
    config = await asyncio.to_thread(fetch_page_config, server.url + f"{app}/")
    client = ClientSession(config)
    await client.connect()
    return client


async def drain_time(tmp: Path, sessions: int) -> dict[str, float]:
    """Open ``sessions`` sessions with one change each, SIGTERM, and time the drain."""
    server = _server(tmp, f"drain{sessions}", DOCSYNC_PERSISTENCE="database", DOCSYNC_SNAPSHOT_INTERVAL="60")
    clients = []
    try:
        for n in range(sessions):
            client = await _client(server)
            client.document.get_model_by_name("slider").value = 2 + n % 90  # type: ignore[union-attr]
            await client.sync()
            clients.append(client)
        assert server.process is not None
        started = time.perf_counter()
        server.process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(server.process.wait, 120)
        exited = time.perf_counter() - started
        server.process = None
    finally:
        for client in clients:
            await client.close()
        server.stop()
    log = (tmp / f"drain{sessions}.log").read_text(errors="replace")
    match = re.search(r"drained (\d+) sessions \((\d+) saved, (\d+) connections closed\) in ([0-9.]+) s", log)
    if match is None:
        raise RuntimeError(f"no drain line in the log of {sessions} sessions")
    return {"sessions": float(match[1]), "saved": float(match[2]), "drain_s": float(match[4]), "exit_s": exited}


def _cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres(tmp: Path) -> PostgresServer | None:
    """A private PostgreSQL server, if PostgreSQL is installed (its folder open to its own user)."""
    if PostgresServer.bin_dir() is None:
        return None
    folder = Path(tempfile.mkdtemp(prefix="docsync-bench-pg-"))
    folder.chmod(0o755)
    atexit.register(shutil.rmtree, folder, True)
    return PostgresServer(folder / "pg").start()


async def round_trips(tmp: Path, name: str, count: int, kind: str, **env: str) -> dict[str, float]:
    """``count`` slider round trips on one session: p50/p90 ms, then the writers' bytes per change."""
    server = _server(tmp, name, kind, **env)
    try:
        client = await _client(server)
        slider = client.document.get_model_by_name("slider")
        for n in range(20):  # warm-up
            slider.value = 2 + n % 90  # type: ignore[union-attr]
            await client.sync()
        times = []
        cpu_before = _cpu_seconds(server.pid)
        for n in range(count):
            started = time.perf_counter()
            slider.value = 3 + n % 90  # type: ignore[union-attr]
            await client.sync()
            times.append(time.perf_counter() - started)
        cpu = _cpu_seconds(server.pid) - cpu_before
        await client.close()
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(server.process.wait, 60)
        server.process = None
    finally:
        server.stop()
    times.sort()
    figures = {"p50_ms": 1000 * times[len(times) // 2], "p90_ms": 1000 * times[int(len(times) * 0.9)]}
    figures["cpu_ms"] = 1000 * cpu / count  # the server's CPU per round trip: less moved by other work
    log = (tmp / f"{name}.log").read_text(errors="replace")
    match = re.search(
        r"(\d+) snapshots, (\d+) bytes written since the start; journal: (\d+) records, (\d+) bytes in (\d+) writes",
        log,
    )
    if match is not None:
        figures["snapshots"] = float(match[1])
        figures["snapshot_bytes"] = float(match[2])
        figures["records"] = float(match[3])
        figures["journal_bytes"] = float(match[4])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer sessions and round trips")
    parser.add_argument("--only", choices=["snapshot", "drain", "roundtrip"], help="one part only")
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne", help="the ASGI server")
    parser.add_argument("--rounds", type=int, default=3, help="round-trip runs of each configuration, in turn")
    args = parser.parse_args()
    parts = {args.only} if args.only else {"snapshot", "drain", "roundtrip"}
    if "snapshot" in parts:
        print("== snapshot of one session (median)")
    for app, repeats in (("bench", 20), ("bench_big", 3)) if "snapshot" in parts else ():
        figures = asyncio.run(snapshot_costs(app, repeats))
        print(
            f"{app:10s} {figures['bytes'] / 1024:10.1f} KiB  under the lock {figures['capture_ms']:7.2f} ms  "
            f"encode {figures['encode_ms']:7.2f} ms  restore {figures['restore_ms']:7.2f} ms"
        )
    with tempfile.TemporaryDirectory(prefix="docsync-bench-persistence-") as folder:
        tmp = Path(folder)
        if "drain" in parts:
            print("== drain on SIGTERM (daphne, database store)")
        for sessions in ((10, 50) if args.quick else (10, 50, 200)) if "drain" in parts else ():
            figures = asyncio.run(drain_time(tmp, sessions))
            print(
                f"{sessions:4d} sessions: {figures['saved']:.0f} saved, drain {figures['drain_s']:.3f} s "
                f"({1000 * figures['drain_s'] / sessions:.2f} ms per session), "
                f"SIGTERM to exit {figures['exit_s']:.2f} s"
            )
        if "roundtrip" not in parts:
            return
        count = 200 if args.quick else 1000
        print(f"== round trips, one session, {count} slider changes ({args.server}), {args.rounds} rounds in turn")
        redis = RedisServer().start()
        postgres = _postgres(tmp)
        configurations: dict[str, dict[str, str]] = {
            "off": {},
            # SQLite as Django sets it up; the store switches it to WAL (SQLITE_WAL, the default).
            "database": {"DOCSYNC_PERSISTENCE": "database"},
            # WAL and synchronous=NORMAL on every connection of the site (its init_command).
            "sqlite-wal": {"DOCSYNC_PERSISTENCE": "database", "DOCSYNC_SQLITE_WAL": "1"},
            # The demo site with a Redis URL is a (one-process) cluster: its Redis holds the
            # snapshots and the journal. The same cluster without persistence is its baseline.
            "cluster": {"DOCSYNC_REDIS_URL": redis.url},
            "redis": {"DOCSYNC_PERSISTENCE": "redis", "DOCSYNC_REDIS_URL": redis.url},
        }
        if postgres is not None:
            configurations["postgres"] = {"DOCSYNC_PERSISTENCE": "database", **postgres.env}
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in configurations}
        try:
            for round_ in range(args.rounds):
                for name, env in configurations.items():
                    run = f"{name}{round_}"
                    runs[name].append(asyncio.run(round_trips(tmp, run, count, args.server, **env)))
        finally:
            redis.stop()
            if postgres is not None:
                postgres.stop()
        for name, figures_list in runs.items():
            base_name = "cluster" if name == "redis" else "off"
            against = "the cluster without persistence" if name == "redis" else "off"
            ratios = [f["p50_ms"] / b["p50_ms"] for f, b in zip(figures_list, runs[base_name], strict=True)]
            p50s = [f["p50_ms"] for f in figures_list]
            line = f"{name:9s} p50 {statistics.median(p50s):6.3f} ms (runs {' '.join(f'{p:.3f}' for p in p50s)})"
            line += f"  p90 {statistics.median(f['p90_ms'] for f in figures_list):6.3f} ms"
            cpus = [f["cpu_ms"] for f in figures_list]
            line += f"  server CPU/rt {statistics.median(cpus):.3f} ms"
            if name not in ("off", "cluster"):
                cpu_ratios = [f["cpu_ms"] / b["cpu_ms"] for f, b in zip(figures_list, runs[base_name], strict=True)]
                line += f" ({statistics.median(cpu_ratios):.2f}x)"
            if name not in ("off", "cluster"):
                line += (
                    f"  vs {against}: {' '.join(f'{r:.2f}x' for r in ratios)} (median {statistics.median(ratios):.2f}x)"
                )
            print(line)
            figures = figures_list[-1]
            if "snapshots" in figures:
                changes = count + 20
                print(
                    f"{'':9s} last run: {figures['snapshots']:.0f} snapshots, "
                    f"{figures['snapshot_bytes'] / 1024:.0f} KiB"
                    f" ({figures['snapshot_bytes'] / changes:.0f} bytes per change); journal {figures['records']:.0f}"
                    f" records, {figures['journal_bytes'] / 1024:.0f} KiB ({figures['journal_bytes'] / changes:.0f}"
                    " bytes per change)"
                )


if __name__ == "__main__":
    main()
