"""Patches a second one anonymous client gets applied by reconnecting, on a real server process.

    python bench/reconnect_rate.py [--server daphne|uvicorn] [--seconds 10] [--parallel 1] [--per-socket 195]
                                   [--kind patches|pulls] [--env KEY=VALUE ...]

Each connection has its own buckets, full when it opens (``MAX_PATCHES_PER_SECOND``, 200 at
once; 10 document requests): a client that closes its socket and opens another starts
again. Here one client (127.0.0.1, anonymous) does what helper-195 measured: it opens a
websocket to one session of the ``table`` app, sends ``--per-socket`` patches back to back
(under its socket's burst), reads their answers, closes, and opens the next, for
``--seconds``; ``--parallel`` such loops at once, each to a session of its own (its tabs:
no patch is broadcast to another of its sockets). ``--kind pulls`` sends PULL-DOC-REQs instead
(9 a socket by default, under its 10). Printed: the patches (or pulls) answered per
second of the run, the sockets opened, those refused when opening (4029) and those closed
4029 after some messages. Run it with ``--env DOCSYNC_MAX_PATCHES_PER_SECOND_PER_CLIENT=none
--env DOCSYNC_MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT=none`` for the per-connection
buckets alone (before the client's buckets), or from a checkout of an older commit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docsync.client import fetch_page_config  # noqa: E402
from docsync.protocol import ACK, OK, PATCH_DOC, PULL_DOC_REPLY, Message, new_message, pull_doc_req  # noqa: E402
from docsync.testing import RawSocket, ServerProcess  # noqa: E402


def _select(selected_id: str, n: int) -> Message:
    event = {"kind": "ModelChanged", "model": {"id": selected_id}, "attr": "indices", "new": [n % 100]}
    return new_message(PATCH_DOC, {"events": [event], "references": []})


class Tally:
    """What one client was answered, and how its sockets ended."""

    def __init__(self) -> None:
        self.answered = 0
        self.opened = 0
        self.refused_open = 0
        self.closed_4029 = 0


async def _one_socket(config: dict[str, Any], selected: list[str], kind: str, per_socket: int, tally: Tally) -> None:
    sock = await RawSocket.connect(config["wsUrl"], config["token"])
    tally.opened += 1
    try:
        with contextlib.suppress(websockets.ConnectionClosed):
            await sock.read_message()
        if not sock.messages or sock.messages[0].msgtype != ACK:
            tally.refused_open += 1
            await sock.until_closed()
            return
        if not selected:  # the model to change, read once (a pull: a document request)
            doc = (await sock.pull()).content["doc"]
            source = next(m for m in doc["models"] if m.get("attributes", {}).get("name") == "source")
            selected.append(source["attributes"]["selected"]["id"])
        build = (lambda n: pull_doc_req()) if kind == "pulls" else (lambda n: _select(selected[0], n))
        messages = [build(n) for n in range(per_socket)]
        asked = {m.header["msgid"] for m in messages}
        wanted = PULL_DOC_REPLY if kind == "pulls" else OK
        with contextlib.suppress(websockets.ConnectionClosed):
            for message in messages:
                await sock.send_message(message)
            answered = 0
            while answered < per_socket:
                reply = await sock.read_message(30)
                if reply.reqid in asked:
                    answered += 1
        tally.answered += sum(1 for m in sock.messages if m.reqid in asked and m.msgtype == wanted)
        if sock.close_code == 4029:
            tally.closed_4029 += 1
    finally:
        await sock.close()


async def _client(url: str, seconds: float, parallel: int, kind: str, per_socket: int) -> tuple[Tally, float]:
    tally = Tally()
    sessions = []
    for _ in range(parallel):  # each loop a session of its own (its tab): no broadcast to the others
        config = await asyncio.to_thread(fetch_page_config, url + "table/")
        selected: list[str] = []
        await _one_socket(config, selected, "patches", 1, Tally())  # the session made, the model's id read
        sessions.append((config, selected))
    started = time.monotonic()

    async def loop(config: dict[str, Any], selected: list[str]) -> None:
        while time.monotonic() - started < seconds:
            await _one_socket(config, selected, kind, per_socket, tally)

    await asyncio.gather(*(loop(config, selected) for config, selected in sessions))
    return tally, time.monotonic() - started


def run(server_kind: str, args: argparse.Namespace, extra_env: dict[str, str], workdir: Path) -> None:
    env = {
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "reconnect-rate-bench-" + "x" * 40,
        "DOCSYNC_SQLITE": str(workdir / "db.sqlite3"),
        "DOCSYNC_ADMIN_REFRESH": "0",
        **extra_env,
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env={**os.environ, **env}, check=True)
    server = ServerProcess(server=server_kind, cwd=ROOT, env=env, log_path=workdir / f"{server_kind}.log").start()
    try:
        fetch_page_config(server.url + "table/")  # warm: the app loaded
        per_socket = args.per_socket or (9 if args.kind == "pulls" else 195)
        tally, elapsed = asyncio.run(_client(server.url, args.seconds, args.parallel, args.kind, per_socket))
        settings = " ".join(f"{k}={v}" for k, v in extra_env.items()) or "default limits"
        print(f"{server_kind}, {settings}, {args.parallel} loop(s), {per_socket} {args.kind} a socket")
        print(
            f"{args.kind} answered {tally.answered:,} in {elapsed:.2f} s: {tally.answered / elapsed:,.0f} a second; "
            f"sockets opened {tally.opened:,}, refused when opening {tally.refused_open:,}, "
            f"closed 4029 {tally.closed_4029:,}"
        )
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="daphne", choices=["daphne", "uvicorn"])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--per-socket", type=int, default=0, help="messages a socket (default 195 patches, 9 pulls)")
    parser.add_argument("--kind", default="patches", choices=["patches", "pulls"])
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server's environment")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.env)
    with tempfile.TemporaryDirectory(prefix="reconnect-rate-") as tmp:
        run(args.server, args, extra, Path(tmp))


if __name__ == "__main__":
    main()
