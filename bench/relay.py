"""Relayed against direct round trips in a cluster (issues 7 and 20).

Starts a private redis-server and ``--processes`` docsync processes (3 by default, under
``--server``) on free ports; opens bench sessions whose websockets land on their owner
(direct), on another process (relayed through the channel layer), or, as with no sticky
sessions behind a load balancer, on any process at random (the session claimed by a
random process, its websocket on a random one: 1 in N lands on the owner); prints
round-trip percentiles and throughput of each.

    python bench/relay.py [--processes 3] [--server uvicorn] [--round-trips 300] [--sessions 20] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
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


async def open_client(servers: list[ServerProcess], mode: str, pick: random.Random) -> ClientSession:
    """Open a bench session: claimed by one process, its websocket on the owner, another, or any."""
    owner_index = pick.randrange(len(servers)) if mode == "random" else 0
    config = await asyncio.to_thread(fetch_page_config, servers[owner_index].url + "bench/")
    owner = ClientSession(dict(config, wsUrl=f"ws://127.0.0.1:{servers[owner_index].port}/bench/ws"))
    await owner.connect()  # this process claims the session
    if mode == "direct":
        return owner
    await owner.close()
    via = pick.randrange(len(servers)) if mode == "random" else 1
    client = ClientSession(dict(config, wsUrl=f"ws://127.0.0.1:{servers[via].port}/bench/ws"))
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


async def latency(servers: list[ServerProcess], mode: str, count: int) -> list[float]:
    client = await open_client(servers, mode, random.Random(1))
    times = [await round_trip(client, 2 + (i % 98)) for i in range(count)]
    await client.close()
    return times[5:]  # the first few warm up caches and threads


async def throughput(servers: list[ServerProcess], mode: str, sessions: int, seconds: float) -> float:
    pick = random.Random(2)
    clients = [await open_client(servers, mode, pick) for _ in range(sessions)]
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
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--server", choices=["daphne", "uvicorn", "granian", "hypercorn"], default="uvicorn")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="docsync-relay-"))
    modes = ("direct", "relayed", "random")
    with RedisServer() as redis:
        env = {
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "DOCSYNC_REDIS_URL": redis.url,
            "DOCSYNC_SQLITE": str(tmp / "db.sqlite3"),
            "DOCSYNC_ADMIN_REFRESH": "0",
            "DOCSYNC_MAX_PATCHES_PER_SECOND": "100000",
        }
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env={**os.environ, **env}, check=True)
        servers = [ServerProcess(server=args.server, cwd=ROOT, env=env).start() for _ in range(args.processes)]
        try:
            # Latency of one client per mode; random landing is a mix of the two, seen in throughput.
            times = {mode: asyncio.run(latency(servers, mode, args.round_trips)) for mode in modes[:2]}
            rates = {mode: asyncio.run(throughput(servers, mode, args.sessions, args.seconds)) for mode in modes}
        finally:
            for server in servers:
                server.stop()
    ms = 1000
    print(
        f"{args.processes} {args.server} processes; round trips: {args.round_trips - 5} per mode; "
        f"throughput: {args.sessions} sessions x {args.seconds:g} s"
    )
    print(f"{'':10} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'rt/s':>8}")
    for mode in modes:
        if mode not in times:
            print(f"{mode:10} {'':8} {'':8} {'':8} {rates[mode]:8.0f}")
            continue
        print(
            f"{mode:10} {percentile(times[mode], 50) * ms:8.2f} {percentile(times[mode], 99) * ms:8.2f} "
            f"{statistics.mean(times[mode]) * ms:8.2f} {rates[mode]:8.0f}"
        )
    added = (percentile(times["relayed"], 50) - percentile(times["direct"], 50)) * ms
    print(f"relay adds {added:.2f} ms at p50; relayed throughput is {rates['relayed'] / rates['direct']:.2f}x direct")
    print(f"no sticky sessions (random landing): throughput {rates['random'] / rates['direct']:.2f}x direct")


if __name__ == "__main__":
    main()
