"""Relayed against direct round trips in a two-process cluster (issue 7's benchmark).

Starts a private redis-server and two daphne processes on free ports; opens bench
sessions whose websockets land on their owner (direct) or on the other process
(relayed through the channel layer); prints round-trip percentiles and throughput.

    python bench/relay.py [--round-trips 300] [--sessions 20] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docsync.client import ClientSession, fetch_page_config  # noqa: E402
from docsync.testing import RedisServer, ServerProcess  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    """Return the q-th percentile (0..100) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def open_client(servers: list[ServerProcess], relayed: bool) -> ClientSession:
    """Open a bench session owned by process 0, connected directly or through process 1."""
    config = await asyncio.to_thread(fetch_page_config, servers[0].url + "bench/")
    owner = ClientSession(dict(config, wsUrl=f"ws://127.0.0.1:{servers[0].port}/bench/ws"))
    await owner.connect()  # process 0 claims the session
    if not relayed:
        return owner
    await owner.close()
    client = ClientSession(dict(config, wsUrl=f"ws://127.0.0.1:{servers[1].port}/bench/ws"))
    await client.connect()
    return client


async def round_trip(client: ClientSession, value: float) -> float:
    """Set the slider and wait for the callback's new y; return seconds."""
    slider = client.document.get_model_by_name("slider")
    source = client.document.get_model_by_name("source")
    before = source.data["y"]  # type: ignore[union-attr]
    start = time.perf_counter()
    slider.value = value  # type: ignore[union-attr]
    await client.sync()
    await client.wait_for(lambda: source.data["y"] is not before, 10)  # type: ignore[union-attr]
    return time.perf_counter() - start


async def latency(servers: list[ServerProcess], relayed: bool, count: int) -> list[float]:
    client = await open_client(servers, relayed)
    times = [await round_trip(client, 2 + (i % 98)) for i in range(count)]
    await client.close()
    return times[5:]  # the first few warm up caches and threads


async def throughput(servers: list[ServerProcess], relayed: bool, sessions: int, seconds: float) -> float:
    clients = [await open_client(servers, relayed) for _ in range(sessions)]
    deadline = time.perf_counter() + seconds
    counts = [0] * sessions

    async def loop(index: int) -> None:
        i = 0
        while time.perf_counter() < deadline:
            await round_trip(clients[index], 2 + (i % 98))
            i += 1
        counts[index] = i

    start = time.perf_counter()
    await asyncio.gather(*(loop(i) for i in range(sessions)))
    elapsed = time.perf_counter() - start
    for client in clients:
        await client.close()
    return sum(counts) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--round-trips", type=int, default=300)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="docsync-relay-"))
    with RedisServer() as redis:
        env = {
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "DOCSYNC_REDIS_URL": redis.url,
            "DOCSYNC_SQLITE": str(tmp / "db.sqlite3"),
            "DOCSYNC_ADMIN_REFRESH": "0",
            "DOCSYNC_MAX_PATCHES_PER_SECOND": "100000",
        }
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env={**os.environ, **env}, check=True)
        servers = [ServerProcess(cwd=ROOT, env=env).start() for _ in range(2)]
        try:
            direct = asyncio.run(latency(servers, False, args.round_trips))
            relayed = asyncio.run(latency(servers, True, args.round_trips))
            direct_rate = asyncio.run(throughput(servers, False, args.sessions, args.seconds))
            relayed_rate = asyncio.run(throughput(servers, True, args.sessions, args.seconds))
        finally:
            for server in servers:
                server.stop()
    ms = 1000
    print(f"round trips: {len(direct)} per mode; throughput: {args.sessions} sessions x {args.seconds:g} s")
    print(f"{'':10} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'rt/s':>8}")
    for name, times, rate in (("direct", direct, direct_rate), ("relayed", relayed, relayed_rate)):
        print(
            f"{name:10} {percentile(times, 50) * ms:8.2f} {percentile(times, 99) * ms:8.2f} "
            f"{statistics.mean(times) * ms:8.2f} {rate:8.0f}"
        )
    added = (percentile(relayed, 50) - percentile(direct, 50)) * ms
    print(f"relay adds {added:.2f} ms at p50; relayed throughput is {relayed_rate / direct_rate:.2f}x direct")


if __name__ == "__main__":
    main()
