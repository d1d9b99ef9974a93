"""Silent readers (issue 13): clients that never read, beside clients that round-trip.

    python bench/slow_reader.py [--seconds 60] [--server daphne|uvicorn|both] [--rate 640]

Two scenarios, under each server:

- ``push``: one shared board room; a pusher replaces its note with ``--rate`` KiB/s
  (a note every 100 ms), 10 silent clients (their sockets' receive buffers small, never
  read after their pull) and 10 normal clients, each setting the note and waiting for
  its OK in a loop (a round trip). Run twice: with the silent clients, and without
  them, for the normal clients' round-trip p50/p99 to compare.
- ``pulls``: one client sends 24 PULL-DOC-REQs for ``bench_big`` (16 MB each) and
  never reads; a normal client round-trips on the ``bench`` app meanwhile.

Printed: the server's RSS before, at its peak and after (growth against the bound,
``MAX_QUEUED_BYTES`` per silent connection plus the message being written to it and a
slack of 32 MiB for the ASGI server's and the allocator's own), how the silent
clients ended (close 4009 once over their bound), and the round trips.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.procstat import rss_bytes  # noqa: E402
from docsync.client import fetch_page_config  # noqa: E402
from docsync.protocol import Receiver  # noqa: E402
from docsync.testing import RawSocket, ServerProcess  # noqa: E402

MIB = 1 << 20
SILENT = 10
NORMAL = 10
QUEUED = 8 * MIB  # MAX_QUEUED_BYTES, the default
SLACK = 32 * MIB
BIG_MESSAGE = 16 * MIB  # a bench_big pull


def _frames(msgid: str, msgtype: str, content: dict[str, Any]) -> list[str]:
    header = orjson.dumps({"msgid": msgid, "msgtype": msgtype}).decode()
    return [header, "{}", orjson.dumps(content).decode()]


class Client:
    """A raw docsync connection: sends frames, reads messages (or, silent, stops reading)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.receiver = Receiver(max_frame_bytes=1 << 30, max_message_bytes=1 << 31, max_buffers=1 << 16)
        self.answers: dict[str, asyncio.Future[Any]] = {}
        self.close_code: int | None = None
        self.reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, config: dict[str, Any], *, silent: bool = False) -> Client:
        raw = await RawSocket.connect(
            config["wsUrl"],
            config["token"],
            receive_buffer=16 * 1024 if silent else None,
            max_queue=1 if silent else 64,
        )
        ws = raw.socket
        client = cls(ws)
        await client.next_message()  # ACK
        return client

    async def next_message(self) -> Any:
        while True:
            message = self.receiver.receive(await self.ws.recv())
            if message is not None:
                return message

    async def request(self, msgtype: str, content: dict[str, Any]) -> Any:
        msgid = os.urandom(6).hex()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.answers[msgid] = future
        for frame in _frames(msgid, msgtype, content):
            await self.ws.send(frame)
        return await future

    def read_forever(self) -> None:
        async def read() -> None:
            try:
                while True:
                    message = await self.next_message()
                    future = self.answers.pop(message.header.get("reqid", ""), None)
                    if future is not None and not future.done():
                        future.set_result(message)
            except websockets.ConnectionClosed as exc:
                self.close_code = exc.rcvd.code if exc.rcvd else 1006

        self.reader = asyncio.get_running_loop().create_task(read())

    async def pull(self) -> Any:
        for frame in _frames("pull", "PULL-DOC-REQ", {"client_id": os.urandom(8).hex()}):
            await self.ws.send(frame)
        while True:
            message = await self.next_message()
            if message.msgtype == "PULL-DOC-REPLY":
                return message

    async def until_closed(self, timeout: float) -> int | None:
        """Read everything (a silent client, at the end) until the server's close; return its code."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self.ws.recv()
        except websockets.ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else 1006
        except TimeoutError:
            return None

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        await self.ws.close()


def _model_id(pull: Any, name: str) -> str:
    return next(m["id"] for m in pull.content["doc"]["models"] if m["attributes"].get("name") == name)


def _percentiles(samples: list[float]) -> dict[str, float]:
    if len(samples) < 2:
        return {"n": len(samples)}
    cuts = statistics.quantiles(samples, n=100)
    return {"n": len(samples), "p50_ms": round(cuts[49] * 1000, 2), "p99_ms": round(cuts[98] * 1000, 2)}


async def _round_trips(client: Client, model: str, attr: str, value: Any, until: float, out: list[float]) -> None:
    n = 0
    while time.monotonic() < until:
        n += 1
        event = {"kind": "ModelChanged", "model": {"id": model}, "attr": attr, "new": value(n)}
        start = time.perf_counter()
        await asyncio.wait_for(client.request("PATCH-DOC", {"events": [event], "references": []}), 60)
        out.append(time.perf_counter() - start)
        await asyncio.sleep(0.02)


async def _sample_rss(pid: int, until: float, samples: list[int]) -> None:
    while time.monotonic() < until:
        samples.append(rss_bytes(pid))
        await asyncio.sleep(0.5)


async def _push(url: str, pid: int, seconds: float, rate_kib: int, silent_count: int) -> dict[str, Any]:
    room = f"board/?room=bench-{os.urandom(4).hex()}"
    configs = [await asyncio.to_thread(fetch_page_config, url + room) for _ in range(1 + silent_count + NORMAL)]
    pusher = await Client.open(configs[0])
    board = _model_id(await pusher.pull(), "board")
    pusher.read_forever()
    silent = []
    for config in configs[1 : 1 + silent_count]:
        client = await Client.open(config, silent=True)
        await client.pull()
        silent.append(client)  # and never read again
    normal = []
    for config in configs[1 + silent_count :]:
        client = await Client.open(config)
        await client.pull()
        client.read_forever()
        normal.append(client)
    rss = [rss_bytes(pid)]
    until = time.monotonic() + seconds
    note = "x" * (rate_kib * 1024 // 10)

    async def push() -> None:
        n = 0
        while time.monotonic() < until:
            n += 1
            event = {"kind": "ModelChanged", "model": {"id": board}, "attr": "notes", "new": [f"{n} {note}"]}
            await asyncio.wait_for(pusher.request("PATCH-DOC", {"events": [event], "references": []}), 60)
            await asyncio.sleep(0.1)

    trips: list[float] = []
    await asyncio.gather(
        push(),
        _sample_rss(pid, until, rss),
        *(_round_trips(c, board, "notes", lambda n: [f"rt {n}"], until, trips) for c in normal),
    )
    rss.append(rss_bytes(pid))
    ends = collections.Counter(str(code) for code in await asyncio.gather(*(c.until_closed(30) for c in silent)))
    for client in [pusher, *normal, *silent]:
        await client.close()
    return {"rss": rss, "round_trips": _percentiles(trips), "silent_ended": dict(ends)}


async def _pulls(url: str, pid: int, seconds: float) -> dict[str, Any]:
    silent = await Client.open(await asyncio.to_thread(fetch_page_config, url + "bench_big/"), silent=True)
    await silent.pull()
    normal = await Client.open(await asyncio.to_thread(fetch_page_config, url + "bench/"))
    slider = _model_id(await normal.pull(), "slider")
    normal.read_forever()
    rss = [rss_bytes(pid)]
    for n in range(24):
        for frame in _frames(f"p{n}", "PULL-DOC-REQ", {}):
            await silent.ws.send(frame)
    until = time.monotonic() + seconds
    trips: list[float] = []
    await asyncio.gather(
        _sample_rss(pid, until, rss), _round_trips(normal, slider, "value", lambda n: 1 + n % 50, until, trips)
    )
    rss.append(rss_bytes(pid))
    ended = await silent.until_closed(60)
    await normal.close()
    await silent.close()
    return {"rss": rss, "round_trips": _percentiles(trips), "silent_ended": {str(ended): 1}}


def _report(name: str, kind: str, result: dict[str, Any], bound: int | None) -> None:
    rss = result["rss"]
    growth = max(rss) - rss[0]
    holds = "" if bound is None else f" (bound {bound / MIB:.0f} MiB: {'holds' if growth <= bound else 'EXCEEDED'})"
    print(
        f"{kind:7} {name:24} RSS before {rss[0] / MIB:.0f} MiB, peak {max(rss) / MIB:.0f}, after {rss[-1] / MIB:.0f}: "
        f"growth {growth / MIB:.1f} MiB{holds}; round trips {result['round_trips']}; "
        f"silent clients ended {result['silent_ended']}",
        flush=True,
    )


def run(kind: str, seconds: float, rate_kib: int, workdir: Path) -> None:
    env = {
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "slow-reader-bench-" + "x" * 40,
        "DOCSYNC_SQLITE": str(workdir / "db.sqlite3"),
        "DOCSYNC_ADMIN_REFRESH": "0",
        "DOCSYNC_MAX_PATCHES_PER_SECOND": "100000",
        "DOCSYNC_MAX_PATCHES_PER_SECOND_PER_CLIENT": "none",
        "DOCSYNC_MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT": "none",
        "DOCSYNC_MAX_VALUES_PER_SECOND_PER_CLIENT": "none",
        "DOCSYNC_MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT": "none",
        "DOCSYNC_LOG_LEVEL": "WARNING",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env={**os.environ, **env}, check=True)
    server = ServerProcess(server=kind, cwd=ROOT, env=env, log_path=workdir / f"{kind}.log").start()
    try:
        fetch_page_config(server.url + "board/")  # warm: the app loaded
        push_bound = SILENT * (QUEUED + rate_kib * 1024 // 10) + SLACK
        for silent in (0, SILENT):
            result = asyncio.run(_push(server.url, server.pid, seconds, rate_kib, silent))
            _report(f"push {rate_kib} KiB/s, {silent} silent", kind, result, push_bound if silent else None)
        result = asyncio.run(_pulls(server.url, server.pid, min(seconds, 30.0)))
        _report("24 unread bench_big pulls", kind, result, 2 * BIG_MESSAGE + SLACK)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=int, default=640, help="KiB/s the pusher sends")
    parser.add_argument("--server", default="both", choices=["daphne", "uvicorn", "both"])
    args = parser.parse_args()
    kinds = ["daphne", "uvicorn"] if args.server == "both" else [args.server]
    with tempfile.TemporaryDirectory(prefix="docsync-slow-reader-") as tmp:
        for kind in kinds:
            run(kind, args.seconds, args.rate, Path(tmp))


if __name__ == "__main__":
    main()
