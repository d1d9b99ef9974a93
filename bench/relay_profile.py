"""Where relayed round trips' CPU goes: cProfile in the owning and the relaying process (issue 20).

    python bench/relay_profile.py [--root CHECKOUT] [--mode relayed] [--sessions 20] [--seconds 5] [--top 25]

Starts a private redis-server and three uvicorn processes of ``--root`` (default: this
checkout) as ``bench/relay.py`` does, each under a cProfile that is off until the
throughput phase: ``--sessions`` bench sessions claimed by process 0 (the owner), their
websockets on process 1 (``--mode relayed``) or on process 0 (``direct``), round trips
for ``--seconds``. SIGUSR1 turns each profiler on just before it, SIGUSR2 off and writes
its stats just after. Prints, per process, Python calls and CPU milliseconds per round
trip (calls do not depend on the machine's load; CPU and the rate do), and its
``--top`` functions by own time; and the CPU of the bench's own clients per round trip.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pstats
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.procstat import cpu_seconds  # noqa: E402
from bench.relay import open_client, round_trip, round_trips_until  # noqa: E402
from docsync.testing import RedisServer, ServerProcess  # noqa: E402

_WRAPPER = """
import cProfile, os, runpy, signal, sys
profiler = cProfile.Profile()
def _on(*_):
    profiler.enable()
def _off(*_):
    profiler.disable()
    profiler.dump_stats(os.environ["RELAY_PROFILE_OUT"])
signal.signal(signal.SIGUSR1, _on)
signal.signal(signal.SIGUSR2, _off)
sys.argv = ["uvicorn", *sys.argv[1:]]
runpy.run_module("uvicorn", run_name="__main__")
"""


class ProfiledServer(ServerProcess):
    """A uvicorn process whose profiler SIGUSR1 starts and SIGUSR2 stops (writing its stats)."""

    def command(self) -> list[str]:
        command = super().command()
        assert command[1:3] == ["-m", "uvicorn"]
        return [sys.executable, "-c", _WRAPPER, *command[3:]]


def _counters(pid: int) -> dict[str, float]:
    """CPU seconds, read and write syscalls and context switches of ``pid`` so far."""
    counters = {"cpu": cpu_seconds(pid)}
    with open(f"/proc/{pid}/io") as io:
        for line in io:
            name, value = line.split(":")
            if name in ("syscr", "syscw"):
                counters[name] = float(value)
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                name, value = line.split(":")
                counters[name.split("_")[0]] = float(value)
    return counters


async def throughput(
    servers: list[ServerProcess],
    mode: str,
    sessions: int,
    seconds: float,
    profile: bool,
    before: list[dict[str, float]],
    after: list[dict[str, float]],
) -> int:
    """Round trips of ``sessions`` clients for ``seconds``, the profilers on meanwhile; return the count."""
    pick = random.Random(2)
    clients = [await open_client(servers, mode, pick) for _ in range(sessions)]
    for client in clients:  # warm up: each session's first round trips
        for i in range(3):
            await round_trip(client, 2 + i)
    for server in servers:
        if profile:
            os.kill(server.pid, signal.SIGUSR1)
    # The last entry: this process's own CPU (the clients share the two cores with the servers).
    before[:] = [*(_counters(server.pid) for server in servers), {"cpu": time.process_time()}]
    await asyncio.sleep(0.2)
    counts = await round_trips_until(clients, time.perf_counter() + seconds)
    after[:] = [*(_counters(server.pid) for server in servers), {"cpu": time.process_time()}]
    for server in servers:
        if profile:
            os.kill(server.pid, signal.SIGUSR2)
    await asyncio.sleep(1.0)
    for client in clients:
        await client.close()
    return sum(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=HERE.parent, help="the checkout whose servers run")
    parser.add_argument("--mode", choices=["relayed", "direct"], default="relayed")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-profile", dest="profile", action="store_false", help="counters only, no cProfile")
    args = parser.parse_args()
    root = args.root.resolve()
    tmp = Path(tempfile.mkdtemp(prefix="docsync-relay-profile-"))
    with RedisServer() as redis:
        env = {
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "PYTHONPATH": str(root),
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
        }
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=root, env={**os.environ, **env}, check=True)
        servers: list[ServerProcess] = [
            ProfiledServer(server="uvicorn", cwd=root, env={**env, "RELAY_PROFILE_OUT": str(tmp / f"p{i}.prof")})
            for i in range(3)
        ]
        for server in servers:
            server.start()
        try:
            before: list[dict[str, float]] = []
            after: list[dict[str, float]] = []
            count = asyncio.run(
                throughput(servers, args.mode, args.sessions, args.seconds, args.profile, before, after)
            )
        finally:
            for server in servers:
                server.stop()
    load = os.getloadavg()
    profiled = "profiled" if args.profile else "not profiled"
    print(f"{root} {args.mode}: {count} round trips, {count / args.seconds:.0f}/s ({profiled}); load {load[0]:.2f}")
    client_ms = (after[-1]["cpu"] - before[-1]["cpu"]) * 1000 / count
    print(f"the bench's clients (this process): CPU {client_ms:.3f} ms per round trip")
    names = {0: "owner", 1: "relaying" if args.mode == "relayed" else "idle", 2: "idle"}
    for i in range(2):
        rises = {name: (after[i][name] - before[i].get(name, 0.0)) / count for name in after[i]}
        figures = (
            f"CPU {rises['cpu'] * 1000:.3f} ms, read syscalls {rises['syscr']:.2f}, write syscalls "
            f"{rises['syscw']:.2f}, switches {rises['voluntary']:.2f} + {rises['nonvoluntary']:.2f} forced"
        )
        if not args.profile:
            print(f"process {i} ({names[i]}) per round trip: {figures}")
            continue
        stats = pstats.Stats(str(tmp / f"p{i}.prof"))
        calls = stats.total_calls  # type: ignore[attr-defined]
        print(f"process {i} ({names[i]}) per round trip: {calls / count:.1f} Python calls; {figures}")
        if args.top:
            stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
