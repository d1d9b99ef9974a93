"""Micro-benchmark: the server's own work per round trip, in one process, without sockets.

    python bench/micro_hotpath.py [--n 4000] [--reps 5] [--profile 30] [--app bench_sync]

The project's ASGI application (Channels' router, docsync's auth middleware, the
consumer) is called as an ASGI server would, with an in-memory ``receive`` and ``send``:
the bench app's session is opened and pulled, then the benchmark's round trip — the
three frames of a PATCH-DOC setting the slider, in, and the OK and the PATCH-DOC with
the new ``y``, out — is repeated ``n`` times. It prints the CPU time per round trip
(``time.process_time``, so other processes on the host do not count) of each
repetition, and their median. What it leaves out is the ASGI server's and the
kernel's part (websocket framing, syscalls), which ``bench/run.py`` measures whole.

``--profile N`` prints cProfile's N most expensive functions (by own time) instead;
``--profile-out PATH`` also saves the profile there (for ``pstats``: callers, callees).
``--app bench_sync`` runs the app whose callback is a plain ``def`` (a worker thread per
round trip): the timing then prints the process's context switches per round trip too
(every thread's, from ``/proc/self/task``), and ``--profile`` profiles the worker thread
apart (its calls are not the main thread's).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class Socket:
    """An ASGI websocket's two ends, in memory: frames queued in, frames collected out."""

    def __init__(self) -> None:
        self.incoming: deque[dict[str, Any]] = deque()
        self.waiting: asyncio.Future[None] | None = None
        self.sent: list[Any] = []
        self.expect = 0
        self.done: asyncio.Future[None] | None = None

    async def receive(self) -> dict[str, Any]:
        while not self.incoming:
            self.waiting = asyncio.get_running_loop().create_future()
            await self.waiting
        return self.incoming.popleft()

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] != "websocket.send":
            return
        self.sent.append(message.get("text", message.get("bytes")))
        if self.done is not None and len(self.sent) >= self.expect and not self.done.done():
            self.done.set_result(None)

    async def exchange(self, frames: list[str], expect: int) -> list[Any]:
        """Hand ``frames`` to the application; return once it sent ``expect`` frames."""
        self.sent, self.expect = [], expect
        self.done = asyncio.get_running_loop().create_future()
        for frame in frames:
            self.incoming.append({"type": "websocket.receive", "text": frame})
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_result(None)
        await self.done
        return self.sent


def _message(msgid: int, msgtype: str, content: dict[str, Any]) -> list[str]:
    return [json.dumps({"msgid": str(msgid), "msgtype": msgtype}), "{}", json.dumps(content)]


def context_switches() -> tuple[int, int]:
    """(voluntary, involuntary) context switches of every thread of this process so far."""
    counts = [0, 0]
    for task in Path("/proc/self/task").iterdir():
        try:
            text = (task / "status").read_text()
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
        for line in text.splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                counts[0] += int(line.split()[1])
            elif line.startswith("nonvoluntary_ctxt_switches:"):
                counts[1] += int(line.split()[1])
    return counts[0], counts[1]


async def run(
    n: int, reps: int, profile: int, profile_out: str | None = None, app_path: str = "bench"
) -> list[tuple[float, float, float]]:
    from docsync.server.admission.tokens import generate_session_id, issue_token
    from docsync.server.executor import run_sync
    from project.asgi import application

    session_id = generate_session_id()
    token = issue_token(session_id, app_path, None)
    scope = {
        "type": "websocket",
        "path": f"/{app_path}/ws",
        "raw_path": f"/{app_path}/ws".encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000")],
        "subprotocols": ["docsync", token],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "scheme": "ws",
        "asgi": {"version": "3.0"},
    }
    sock = Socket()
    sock.incoming.append({"type": "websocket.connect"})
    app = asyncio.get_running_loop().create_task(application(scope, sock.receive, sock.send))
    greeting = await sock.exchange([], 3)
    if json.loads(greeting[0])["msgtype"] != "ACK":
        raise SystemExit(f"no ACK: {greeting}")
    pulled = await sock.exchange(_message(1, "PULL-DOC-REQ", {}), 3)
    header = json.loads(pulled[0])
    while len(pulled) < 3 + 2 * int(header.get("num_buffers", 0)):
        await asyncio.sleep(0)
    content = json.loads(pulled[2])
    slider = _find(content["doc"], "slider")
    seq = content["seq"]
    msgid = 1

    async def round_trips(count: int) -> None:
        nonlocal msgid, seq
        for i in range(count):
            msgid += 1
            value = float(2 + i % 90)
            patch = {"events": [{"kind": "ModelChanged", "model": {"id": slider}, "attr": "value", "new": value}]}
            patch.update(references=[], base=seq)
            frames = await sock.exchange(_message(msgid, "PATCH-DOC", patch), 8)
            for frame in frames:
                if isinstance(frame, str) and frame.startswith("{") and '"seq"' in frame:
                    seq = max(seq, json.loads(frame).get("seq", seq))

    await round_trips(200)  # warm-up
    results = []
    if profile:
        profiler, worker = cProfile.Profile(), cProfile.Profile()
        # The worker thread's calls apart: sequential calls all go to the thread that went
        # idle last, so enabling a profiler there (in a call of its own) catches every one.
        await run_sync(worker.enable)
        profiler.enable()
        await round_trips(n)
        profiler.disable()
        await run_sync(worker.disable)
        if profile_out:
            profiler.dump_stats(profile_out)
            worker.dump_stats(profile_out + ".worker")
        stats = pstats.Stats(profiler)
        print(f"Python function calls per round trip, event loop's thread: {stats.total_calls / n:.1f}")  # type: ignore[attr-defined]
        stats.sort_stats("tottime").print_stats(profile)
        if worker.getstats():
            stats = pstats.Stats(worker)
            print(f"Python function calls per round trip, worker thread: {stats.total_calls / n:.1f}")  # type: ignore[attr-defined]
            stats.sort_stats("tottime").print_stats(profile)
    else:
        for _ in range(reps):
            start, switches = time.process_time(), context_switches()
            await round_trips(n)
            after = context_switches()
            results.append(
                ((time.process_time() - start) / n, (after[0] - switches[0]) / n, (after[1] - switches[1]) / n)
            )
    sock.incoming.append({"type": "websocket.disconnect", "code": 1000})
    if sock.waiting is not None and not sock.waiting.done():
        sock.waiting.set_result(None)
    await asyncio.wait_for(app, 10)
    return results


def _find(doc: Any, name: str) -> str:
    stack = [doc]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            attributes = value.get("attributes")
            if "id" in value and isinstance(attributes, dict) and attributes.get("name") == name:
                return str(value["id"])
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    raise SystemExit(f"no model named {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=4000, help="round trips per repetition")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, help="print cProfile's top N functions instead")
    parser.add_argument(
        "--profile-out", help="with --profile, also save the profile to this file (the worker's: .worker)"
    )
    parser.add_argument(
        "--app", default="bench", help="bench (async def callback) or bench_sync (def: a worker thread)"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="docsync-micro-"))
    os.environ.update(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(32),
        DJANGO_DEBUG="0",
        DJANGO_SETTINGS_MODULE="project.settings",
        DOCSYNC_SQLITE=str(workdir / "db.sqlite3"),
        DOCSYNC_LOG_LEVEL="WARNING",
        DOCSYNC_MAX_PATCHES="1000000",
        DOCSYNC_MAX_PATCHES_PER_SECOND_PER_CLIENT="none",
        DOCSYNC_MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT="none",
        DOCSYNC_MAX_VALUES_PER_SECOND_PER_CLIENT="none",
        DOCSYNC_MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT="none",
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, check=True, capture_output=True)
    sys.path.insert(0, str(ROOT))
    import uvloop

    results = uvloop.run(run(args.n, args.reps, args.profile, args.profile_out, args.app))
    if results:
        cpu = [r[0] for r in results]
        shown = ", ".join(f"{1e6 * r:.1f}" for r in cpu)
        best, median = 1e6 * min(cpu), 1e6 * statistics.median(cpu)
        print(f"{args.app}: server CPU per round trip, in process (us): {shown}; median {median:.1f}, best {best:.1f}")
        voluntary, involuntary = (statistics.median(r[i] for r in results) for i in (1, 2))
        print(
            f"{args.app}: context switches per round trip, every thread: voluntary {voluntary:.2f}, "
            f"involuntary {involuntary:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
