"""The event loop under one client's flood of tiny websocket frames, beside an honest client's round trips.

    python bench/frame_flood.py [--server daphne|uvicorn|both] [--sockets 4] [--seconds 10]

An ASGI server parses every websocket frame before docsync sees a message: a one-byte
frame costs daphne (autobahn) about 10 µs and uvicorn (websockets) about 4 µs of the
event loop, in Python, whatever docsync does with it. The attacker (one address, the
demo site, default settings) opens ``--sockets`` websockets and on each writes a binary
message in one-byte fragments, never its last, as fast as the server reads them,
reconnecting whenever it is closed (``fragments``); or sends PATCH-DOCs of 1,024 empty
buffers, the most a message may carry (``buffers``); or writes empty pings, never
reading the pongs (``pings``). An honest client on another
address round-trips SERVER-INFO-REQ meanwhile. Printed per server and flood: the honest
round trip's p50/p99 without and with the flood, the server's CPU per second during the
flood, the fragments or frames the attacker got written, and how its sockets ended.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import concurrent.futures
import functools
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.hostile_memory import demo_server  # noqa: E402
from bench.procstat import cpu_seconds  # noqa: E402
from docsync.client import fetch_page_config  # noqa: E402
from docsync.protocol import new_message  # noqa: E402
from docsync.testing import RawSocket  # noqa: E402

FRAGMENT = bytes([0x00, 0x81]) + bytes(4) + b"o"  # a continuation frame of one byte, masked with zeros
FIRST = bytes([0x02, 0x81]) + bytes(4) + b"o"  # the first fragment of a binary message
PING = bytes([0x89, 0x80]) + bytes(4)  # an empty ping, masked
BATCH = 1_000  # fragments per write
HONEST = "127.0.0.2"
BUFFERS = 1_024  # MAX_BUFFERS


async def _round_trips(config: dict[str, Any], until: float) -> list[float]:
    """The honest client's SERVER-INFO-REQ round trips (ms) until ``until``."""
    sock = await RawSocket.connect(config["wsUrl"], config["token"], source_address=HONEST)
    # Its three frames go out at once (Nagle held the second for the first's ACK: 40 ms).
    sock.socket.transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    times: list[float] = []
    try:
        await sock.read_message()  # ACK
        while time.monotonic() < until:
            start = time.perf_counter()
            await sock.request(new_message("SERVER-INFO-REQ", {}), timeout=60)
            times.append((time.perf_counter() - start) * 1000)
            await asyncio.sleep(0.01)
    finally:
        await sock.close()
    return times


def _honest(config: dict[str, Any], seconds: float) -> list[float]:
    """The honest client, in a process of its own: the attacker's loop here would delay its reads."""
    return asyncio.run(_round_trips(config, time.monotonic() + seconds))


async def _connect(url: str) -> Any:
    config = await asyncio.to_thread(fetch_page_config, url + "sliders/")
    socket = await websockets.connect(
        config["wsUrl"], subprotocols=["docsync", config["token"]], max_size=None, compression=None,
        open_timeout=30, ping_interval=None,
    )  # fmt: skip
    await socket.recv()  # the ACK's first frame
    return socket


async def _opened(url: str, outcome: collections.Counter[str]) -> Any:
    """A new websocket of the attacker, or None (counted) when the server refused it."""
    try:
        return await _connect(url)
    except Exception as exc:
        outcome[f"not opened: {type(exc).__name__}"] += 1
        await asyncio.sleep(0.2)
        return None


async def _fragments(url: str, until: float, outcome: collections.Counter[str], first: bytes = FIRST) -> None:
    """Write one-byte fragments of a message never finished (or ``PING``s), reconnecting whenever closed."""
    frame, what = (FRAGMENT, "fragments") if first else (PING, "pings")
    while time.monotonic() < until:
        socket = await _opened(url, outcome)
        if socket is None:
            continue
        transport: Any = socket.transport
        transport.write(first)
        try:
            while time.monotonic() < until and socket.close_code is None and not transport.is_closing():
                transport.write(frame * BATCH)
                outcome[f"{what} written"] += BATCH
                while transport.get_write_buffer_size() > 64 * 1024 and time.monotonic() < until:
                    await asyncio.sleep(0.005)
                await asyncio.sleep(0)
            outcome[f"closed {socket.close_code}" if socket.close_code is not None else "open at the end"] += 1
        finally:
            transport.abort()


def _buffers_message(n: int) -> list[str | bytes]:
    header = orjson.dumps({"msgid": f"b{n}", "msgtype": "PATCH-DOC", "num_buffers": BUFFERS}).decode()
    frames: list[str | bytes] = [header, "{}", '{"events": []}']
    for i in range(BUFFERS):
        frames += [orjson.dumps({"id": str(i)}).decode(), b""]
    return frames


async def _buffers(url: str, until: float, outcome: collections.Counter[str]) -> None:
    """Send PATCH-DOCs of 1,024 empty buffers back to back, reconnecting whenever closed."""
    n = 0
    while time.monotonic() < until:
        socket = await _opened(url, outcome)
        if socket is None:
            continue
        try:
            while time.monotonic() < until:
                for frame in _buffers_message(n):
                    await socket.send(frame)
                n += 1
                outcome["frames written"] += 3 + 2 * BUFFERS
        except websockets.ConnectionClosed as exc:
            outcome[f"closed {exc.rcvd.code if exc.rcvd else 'abruptly'}"] += 1
        finally:
            socket.transport.abort()


async def _run(url: str, pid: int, flood: str, sockets: int, seconds: float) -> dict[str, Any]:
    config = await asyncio.to_thread(fetch_page_config, url + "sliders/")
    loop = asyncio.get_running_loop()
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        quiet = await loop.run_in_executor(pool, _honest, config, seconds / 2)
        outcome: collections.Counter[str] = collections.Counter()
        until = time.monotonic() + seconds
        attack = {
            "fragments": _fragments,
            "buffers": _buffers,
            "pings": functools.partial(_fragments, first=b""),
        }[flood]
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        honest = loop.run_in_executor(pool, _honest, config, seconds)
        await asyncio.gather(*(attack(url, until, outcome) for _ in range(sockets)), return_exceptions=True)
        cpu = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)
        loud = await honest
    return {"quiet": quiet, "loud": loud, "cpu": cpu, "outcome": dict(outcome)}


def _p(times: list[float], q: float) -> float:
    return statistics.quantiles(times, n=100)[int(q) - 1] if len(times) >= 2 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--server", default="both", choices=["daphne", "uvicorn", "both"])
    parser.add_argument("--flood", default="all", choices=["fragments", "buffers", "pings", "all"])
    parser.add_argument("--sockets", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    kinds = ["daphne", "uvicorn"] if args.server == "both" else [args.server]
    floods = ["fragments", "buffers", "pings"] if args.flood == "all" else [args.flood]
    with tempfile.TemporaryDirectory(prefix="docsync-frame-flood-") as tmp:
        for kind in kinds:
            with demo_server(kind, Path(tmp)) as server:
                for flood in floods:
                    r = asyncio.run(_run(server.url, server.pid, flood, args.sockets, args.seconds))
                    quiet, loud = r["quiet"], r["loud"]
                    print(
                        f"{kind} {flood}: honest round trip p50 {statistics.median(quiet):.2f} -> "
                        f"{statistics.median(loud) if loud else float('nan'):.2f} ms, p99 {_p(quiet, 99):.2f} -> "
                        f"{_p(loud, 99):.2f} ms ({len(loud)} round trips in {args.seconds:g} s); "
                        f"server CPU {r['cpu']:.2f} s/s; {r['outcome']}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
