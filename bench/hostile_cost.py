"""Event-loop time of the largest client messages a server accepts (or refuses), on a real server process.

    python bench/hostile_cost.py [--server daphne|uvicorn] [--reps 3] [--only NAME] [--env KEY=VALUE ...]

One process serves every session from one event loop, so the time a message costs that
loop is time every other session waits. Each message below goes to a fresh session of
the ``table`` app over its own websocket, while another session's connection sends
SERVER-INFO-REQs one after the other. Printed per message: its bytes and JSON values,
the server's main-thread CPU time from the first frame sent to the answer (the loop's
time: the ASGI server reading the frames, parse, judge, apply, log, answer), the longest
SERVER-INFO round trip meanwhile (what another session saw), and the answer. Values
are counted as MAX_FRAME_VALUES counts them: the content frame's commas and colons. The median
of ``--reps`` runs. ``--env DOCSYNC_MAX_FRAME_VALUES=1000000000`` measures without the bound
on values (project/settings.py reads DOCSYNC_MAX_FRAME_VALUES and DOCSYNC_MAX_FRAME_CONTAINERS).
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docsync.client import fetch_page_config  # noqa: E402
from docsync.conf import DEFAULTS  # noqa: E402
from docsync.protocol import ERROR, PATCH_DOC, Message, new_message, server_info_req  # noqa: E402
from docsync.serialization import Encoder  # noqa: E402
from docsync.testing import RawSocket, ServerProcess  # noqa: E402

Ids = dict[str, str]
Build = Callable[[Ids], Message]


def _main_thread_seconds(pid: int) -> float:
    # The event loop's thread is the main thread of daphne and uvicorn; schedstat counts ns.
    with open(f"/proc/{pid}/task/{pid}/schedstat") as schedstat:
        return int(schedstat.read().split()[0]) / 1e9


def _set_data(columns: dict[str, Any]) -> Build:
    def build(ids: Ids) -> Message:
        encoder = Encoder()
        new = encoder.encode(columns)  # arrays as buffers, lists as JSON
        event = {"kind": "ModelChanged", "model": {"id": ids["source"]}, "attr": "data", "new": new}
        return new_message(PATCH_DOC, {"events": [event], "references": []}, buffers=encoder.buffers)

    return build


def _select(indices: list[int]) -> Build:
    def build(ids: Ids) -> Message:
        event = {"kind": "ModelChanged", "model": {"id": ids["selected"]}, "attr": "indices", "new": indices}
        return new_message(PATCH_DOC, {"events": [event], "references": []})

    return build


def _message_sent(data: dict[str, Any]) -> Build:
    def build(ids: Ids) -> Message:
        event = {"kind": "MessageSent", "msg_type": "bench", "msg_data": data}
        return new_message(PATCH_DOC, {"events": [event], "references": []})

    return build


def _messages() -> dict[str, Build]:
    """The worst message before the value bound, and messages just under it (at the default)."""
    n = DEFAULTS["MAX_FRAME_VALUES"] - 20
    line = [i % 10 for i in range(100)]
    return {
        "76k lines of 100 1-digit ints (worst before)": _set_data({"x": [line] * 76_000}),
        "lines of 100 1-digit ints": _set_data({"x": [line] * (n // 100)}),
        "lines of 12 1-digit ints": _set_data({"x": [line[:12]] * (n // 12)}),
        "1-digit ints, one column": _set_data({"x": [i % 10 for i in range(n)]}),
        "ints and floats, one column": _set_data({"x": [1, 1.5] * (n // 2)}),
        "short strings, one column": _set_data({"x": ["ab"] * n}),
        "1M floats, one column": _set_data({"x": [i * 0.5 + 0.1 for i in range(1_000_000)]}),
        "a selection of 1M indices": _select(list(range(1_000_000))),
        "an object's members (MessageSent)": _message_sent({f"k{i}": i % 10 for i in range(n // 2)}),
        "1M-point binary columns (2 x float64)": _set_data({c: np.arange(1_000_000, dtype=np.float64) for c in "xy"}),
    }


async def _ids(sock: RawSocket) -> Ids:
    doc = (await sock.pull()).content["doc"]
    source = next(m for m in doc["models"] if m.get("attributes", {}).get("name") == "source")
    return {"source": source["id"], "selected": source["attributes"]["selected"]["id"]}


async def _answer(sock: RawSocket, message: Message) -> str:
    try:
        reply = await sock.request(message, timeout=120)
    except websockets.ConnectionClosed as closed:
        return f"closed {closed.rcvd.code if closed.rcvd else '?'}: {'; '.join(sock.errors())[:70]}"
    return reply.msgtype if reply.msgtype != ERROR else f"ERROR {reply.content['text'][:70]}"


async def _one(url: str, pid: int, build: Build) -> dict[str, Any]:
    victim_config = await asyncio.to_thread(fetch_page_config, url + "table/")
    other_config = await asyncio.to_thread(fetch_page_config, url + "table/")
    sock = await RawSocket.connect(victim_config["wsUrl"], victim_config["token"])
    other = await RawSocket.connect(other_config["wsUrl"], other_config["token"])
    try:
        await sock.read_message()  # ACK
        await other.read_message()
        message = build(await _ids(sock))
        frames = [f if isinstance(f, str) else bytes(f) for f in message.to_frames()]
        text = frames[2]
        assert isinstance(text, str)
        await asyncio.sleep(0.3)
        before = _main_thread_seconds(pid)
        sending = asyncio.ensure_future(_answer(sock, message))
        longest = 0.0
        while not sending.done():
            start = time.perf_counter()
            await other.request(server_info_req(), timeout=120)
            longest = max(longest, time.perf_counter() - start)
        loop = _main_thread_seconds(pid) - before
        answer = sending.result()
        return {
            "bytes": sum(len(f) for f in frames),
            # As MAX_FRAME_VALUES counts them (no string in these messages holds a comma or a colon).
            "values": text.count(",") + text.count(":"),
            "loop": loop,
            "stall": longest,
            "answer": answer,
        }
    finally:
        await sock.close()
        await other.close()


def run(server_kind: str, reps: int, only: str | None, extra_env: dict[str, str], workdir: Path) -> None:
    env = {
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "hostile-cost-bench-" + "x" * 40,
        "DOCSYNC_SQLITE": str(workdir / "db.sqlite3"),
        "DOCSYNC_ADMIN_REFRESH": "0",
        **extra_env,
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env={**os.environ, **env}, check=True)
    server = ServerProcess(server=server_kind, cwd=ROOT, env=env, log_path=workdir / f"{server_kind}.log").start()
    try:
        fetch_page_config(server.url + "table/")  # warm: the app loaded
        print(f"{server_kind} {' '.join(f'{k}={v}' for k, v in extra_env.items())}".strip())
        print(f"{'message':45s} {'MB':>6s} {'values':>10s} {'loop s':>7s} {'stall s':>7s}  answer")
        for name, build in _messages().items():
            if only and only not in name:
                continue
            results = [asyncio.run(_one(server.url, server.serving_pid, build)) for _ in range(reps)]
            loop = statistics.median(r["loop"] for r in results)
            stall = statistics.median(r["stall"] for r in results)
            first = results[0]
            size = f"{first['bytes'] / 1e6:6.1f} {first['values']:10,d}"
            print(f"{name:45s} {size} {loop:7.3f} {stall:7.3f}  {first['answer']}", flush=True)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="daphne", choices=["daphne", "uvicorn"])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--only", default=None, help="run only the messages whose name contains this")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server's environment")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.env)
    with tempfile.TemporaryDirectory(prefix="hostile-cost-") as tmp:
        run(args.server, args.reps, args.only, extra, Path(tmp))


if __name__ == "__main__":
    main()
