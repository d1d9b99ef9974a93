"""Relayed against direct round trips in a cluster (issues 7 and 20).

Starts a private redis-server and ``--processes`` docsync processes (3 by default, under
``--server``) on free ports; opens bench sessions whose websockets land on their owner
(direct), on another process (relayed through the channel layer), or, as with no sticky
sessions behind a load balancer, on any process at random (the session claimed by a
random process, its websocket on a random one: 1 in N lands on the owner); prints
round-trip percentiles and throughput of each, and what one round trip costs: Redis
commands (from the server's own counters) and CPU time of the server processes and of
redis-server (figures that hold on a loaded machine, unlike the times).

    python bench/relay.py [--processes 3] [--server uvicorn] [--route layer] [--layer core]
                          [--round-trips 300] [--sessions 20] [--seconds 10] [--json PATH]

Relays go on direct routes between the processes (``PEER_ADDRESS``, the demo's default);
``--route layer`` relays over the channel layer instead.

The channel layer is docsync's variant of channels-redis's core layer (two Redis round
trips per message, docsync/server/cluster/layer.py); ``--layer core`` relays over the
stock core layer (eight), ``--layer pubsub`` over channels-redis's pub/sub layer (a
comparison: that layer bounds no queue). ``--json`` also writes the figures to a file:
``bench/run.py`` runs this script as its ``relay`` scenario and checks issue 20's targets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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

from bench.procstat import cpu_seconds  # noqa: E402
from docsync.client import ClientSession, fetch_page_config  # noqa: E402
from docsync.testing import RedisServer, ServerProcess  # noqa: E402

WARM_UP = 5  # round trips before the measured ones: the first warm up caches and threads


class Meter:
    """Redis commands by name, and CPU seconds of the servers and of redis-server, as counters."""

    def __init__(self, redis: RedisServer, servers: list[ServerProcess]) -> None:
        import redis as redis_client

        assert redis.process is not None
        self.client = redis_client.Redis.from_url(redis.url)
        self.redis_pid = redis.process.pid
        self.server_pids = [server.serving_pid for server in servers]

    def read(self) -> dict[str, float]:
        """Counters now; subtract two readings for what happened between them."""
        stats = self.client.info("commandstats")
        counters = {name.removeprefix("cmdstat_"): float(value["calls"]) for name, value in stats.items()}
        counters["cpu servers"] = sum(cpu_seconds(pid) for pid in self.server_pids)
        counters["cpu redis"] = cpu_seconds(self.redis_pid)
        return counters

    def since(self, before: dict[str, float], count: int) -> dict[str, float]:
        """What each counter rose by since ``before``, per round trip (this reading's own INFO not counted)."""
        after = self.read()
        rises = {name: (value - before.get(name, 0.0)) / count for name, value in after.items()}
        rises["info"] = rises.get("info", 0.0) - 1 / count
        return {name: rise for name, rise in rises.items() if rise > 0}


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


async def latency(
    servers: list[ServerProcess], mode: str, count: int, meter: Meter
) -> tuple[list[float], dict[str, float]]:
    """Round-trip times of one client, and the Redis commands and CPU each cost."""
    client = await open_client(servers, mode, random.Random(1))
    for i in range(WARM_UP):
        await round_trip(client, 2 + (i % 98))
    before = meter.read()
    times = [await round_trip(client, 2 + (i % 98)) for i in range(count - WARM_UP)]
    costs = meter.since(before, len(times))
    await client.close()
    return times, costs


async def round_trips_until(clients: list[ClientSession], deadline: float) -> list[int]:
    """Every client round-trips back to back until ``deadline`` (perf_counter); return each one's count."""
    counts = [0] * len(clients)

    async def loop(index: int) -> None:
        i = 0
        while time.perf_counter() < deadline:
            await round_trip(clients[index], 2 + (i % 98))
            i += 1
        counts[index] = i

    await asyncio.gather(*(loop(i) for i in range(len(clients))))
    return counts


async def throughput(servers: list[ServerProcess], mode: str, sessions: int, seconds: float) -> float:
    pick = random.Random(2)
    clients = [await open_client(servers, mode, pick) for _ in range(sessions)]
    start = time.perf_counter()
    counts = await round_trips_until(clients, start + seconds)
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
    parser.add_argument("--route", choices=["direct", "layer"], default="direct", help="how relays travel")
    parser.add_argument("--layer", choices=["docsync", "core", "pubsub"], default="docsync", help="channel layer")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
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
            "DOCSYNC_MAX_PATCHES_PER_SECOND_PER_CLIENT": "none",
            "DOCSYNC_MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT": "none",
            "DOCSYNC_MAX_VALUES_PER_SECOND_PER_CLIENT": "none",
            "DOCSYNC_MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT": "none",
            # One machine is every client: no per-client limit.
            "DOCSYNC_MAX_SESSIONS_PER_CLIENT": "none",
            "DOCSYNC_MAX_CONNECTIONS_PER_CLIENT": "none",
            "DOCSYNC_NEW_SESSIONS_PER_CLIENT_PER_SECOND": "0",  # nor a bucket of new sessions
            "DOCSYNC_CHANNEL_LAYER": args.layer,
            **({"DOCSYNC_PEER_ADDRESS": ""} if args.route == "layer" else {}),
        }
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env={**os.environ, **env}, check=True)
        servers = [ServerProcess(server=args.server, cwd=ROOT, env=env).start() for _ in range(args.processes)]
        try:
            # Latency of one client per mode; random landing is a mix of the two, seen in throughput.
            meter = Meter(redis, servers)
            measured = {mode: asyncio.run(latency(servers, mode, args.round_trips, meter)) for mode in modes[:2]}
            times = {mode: measured[mode][0] for mode in measured}
            costs = {mode: measured[mode][1] for mode in measured}
            rates = {mode: asyncio.run(throughput(servers, mode, args.sessions, args.seconds)) for mode in modes}
        finally:
            for server in servers:
                server.stop()
    ms = 1000
    print(
        f"{args.processes} {args.server} processes, relays by {args.route} route, {args.layer} channel layer; "
        f"round trips: {args.round_trips - WARM_UP} per mode; "
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
    if args.json is not None:
        figures = {
            "processes": args.processes,
            "server": args.server,
            "layer": args.layer,
            "route": args.route,
            **{f"{mode}_p50_ms": percentile(times[mode], 50) * ms for mode in times},
            **{f"{mode}_p99_ms": percentile(times[mode], 99) * ms for mode in times},
            **{f"{mode}_rate": rates[mode] for mode in modes},
            "added_p50_ms": added,
            "relayed_vs_direct": rates["relayed"] / rates["direct"],
            "random_vs_direct": rates["random"] / rates["direct"],
        }
        args.json.write_text(json.dumps(figures, indent=1))
    print("per round trip of one client (its latency run; Redis counts each command a script runs, and the script):")
    for mode in measured:
        cost = costs[mode]
        redis_calls = {name: n for name, n in cost.items() if not name.startswith("cpu ")}
        listed = ", ".join(f"{name} {n:.1f}" for name, n in sorted(redis_calls.items(), key=lambda item: -item[1]))
        print(
            f"  {mode:8} CPU {cost.get('cpu servers', 0) * ms:.2f} ms servers + {cost.get('cpu redis', 0) * ms:.2f} ms "
            f"redis-server; Redis commands {sum(redis_calls.values()):.1f}: {listed}"
        )


if __name__ == "__main__":
    main()
