"""Server memory under hostile clients (issue 12): 50 connections stalling mid-message or sending maximal ids.

    python bench/hostile_memory.py [--seconds 30] [--server daphne|uvicorn|both]

25 connections each start a PATCH-DOC with a 1 MiB buffer per frame and never finish
it (each tries to hold 64 MiB, the message limit: the process cap MAX_INCOMPLETE_BYTES,
256 MiB, refuses the rest with 1013, and INCOMPLETE_MESSAGE_TIMEOUT, 30 s, drops the
stalled ones); 25 connections on one shared session send patches with 128-character
msgids under a new 64-character client id every 20 patches, as fast as the rate limit
lets them. The server's RSS is sampled every second; the growth over the idle server
is printed against the bound the README states (MAX_INCOMPLETE_BYTES + 128 MiB: the
ASGI server's own buffers of frames in flight, and what the allocator keeps).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.procstat import rss_bytes  # noqa: E402
from docsync.client import fetch_page_config  # noqa: E402
from docsync.testing import ServerProcess  # noqa: E402

MIB = 1 << 20
STALLERS = FLOODERS = 25
BOUND = 256 * MIB + 128 * MIB  # MAX_INCOMPLETE_BYTES + the ASGI server's in-flight frames and allocator slack


def _header(msgid: str, msgtype: str = "PATCH-DOC", **fields: Any) -> str:
    return orjson.dumps({"msgid": msgid, "msgtype": msgtype, **fields}).decode()


async def _connect(config: dict[str, Any]) -> Any:
    socket = await websockets.connect(
        config["wsUrl"], subprotocols=["docsync", config["token"]], max_size=None, compression=None, open_timeout=30
    )
    await socket.recv()  # ACK's frames follow; nothing else is read
    return socket


async def _staller(url: str, until: float, outcome: collections.Counter[str]) -> None:
    config = await asyncio.to_thread(fetch_page_config, url + "sliders/")
    socket = await _connect(config)
    try:
        await socket.send(_header("s1", num_buffers=64))
        await socket.send("{}")
        await socket.send('{"events": []}')
        payload = b"\x00" * MIB
        for n in range(63):  # 63 MiB of the 64 MiB message: never complete
            await socket.send(f'{{"id": "b{n}"}}')
            await socket.send(payload)
        outcome["holding"] += 1
        await asyncio.wait_for(socket.wait_closed(), max(0.1, until - time.monotonic()))
        outcome[f"closed {socket.close_code}"] += 1
    except websockets.ConnectionClosed as exc:
        outcome[f"closed {exc.rcvd.code if exc.rcvd else 'abruptly'}"] += 1
    except TimeoutError:
        outcome["still held at the end"] += 1
    finally:
        await socket.close()


async def _flooder(config: dict[str, Any], until: float, outcome: collections.Counter[str]) -> None:
    socket = await _connect(config)
    slider = None
    sent = 0
    try:
        while time.monotonic() < until:
            client_id = secrets.token_hex(32)  # 64 characters: the longest taken
            await socket.send(_header(secrets.token_hex(64), "PULL-DOC-REQ"))
            await socket.send("{}")
            await socket.send(orjson.dumps({"client_id": client_id}).decode())
            while slider is None:
                frame = await socket.recv()
                if isinstance(frame, str) and '"name":"frequency"' in frame:
                    doc = orjson.loads(frame)["doc"]
                    slider = next(m["id"] for m in doc["models"] if m["attributes"].get("name") == "frequency")
            for _ in range(20):
                event = {"kind": "ModelChanged", "model": {"id": slider}, "attr": "value", "new": 1 + sent % 4}
                await socket.send(_header(secrets.token_hex(64)))  # 128 characters: the longest taken
                await socket.send("{}")
                await socket.send(orjson.dumps({"events": [event]}).decode())
                sent += 1
                await asyncio.sleep(1 / 150)  # under MAX_PATCHES_PER_SECOND (200)
    except websockets.ConnectionClosed as exc:
        outcome[f"flooder closed {exc.rcvd.code if exc.rcvd else 'abruptly'}"] += 1
    finally:
        outcome["patches"] += sent
        await socket.close()


async def _attack(url: str, pid: int, seconds: float) -> dict[str, Any]:
    samples = [rss_bytes(pid)]
    outcome: collections.Counter[str] = collections.Counter()
    until = time.monotonic() + seconds
    shared = await asyncio.to_thread(fetch_page_config, url + "sliders/")

    async def sample() -> None:
        while time.monotonic() < until:
            await asyncio.sleep(1.0)
            samples.append(rss_bytes(pid))

    await asyncio.gather(
        sample(),
        *(_staller(url, until, outcome) for _ in range(STALLERS)),
        *(_flooder(shared, until, outcome) for _ in range(FLOODERS)),
        return_exceptions=True,
    )
    await asyncio.sleep(2.0)
    samples.append(rss_bytes(pid))
    return {"rss": samples, "outcome": dict(outcome)}


@contextlib.contextmanager
def demo_server(server_kind: str, workdir: Path) -> Iterator[ServerProcess]:
    """The demo site on ``server_kind``, migrated in ``workdir``, warmed (the sliders app loaded), stopped after."""
    env = {
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "hostile-memory-bench-" + "x" * 40,
        "DOCSYNC_SQLITE": str(workdir / "db.sqlite3"),
        "DOCSYNC_ADMIN_REFRESH": "0",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env={**os.environ, **env}, check=True)
    server = ServerProcess(server=server_kind, cwd=ROOT, env=env, log_path=workdir / f"{server_kind}.log").start()
    try:
        fetch_page_config(server.url + "sliders/")  # warm: the app loaded, one session made
        time.sleep(1.0)
        yield server
    finally:
        server.stop()


def run(server_kind: str, seconds: float, workdir: Path) -> None:
    with demo_server(server_kind, workdir) as server:
        result = asyncio.run(_attack(server.url, server.pid, seconds))
    rss = result["rss"]
    growth = max(rss) - rss[0]
    print(
        f"{server_kind}: RSS idle {rss[0] / MIB:.0f} MiB, peak {max(rss) / MIB:.0f} MiB, "
        f"after {rss[-1] / MIB:.0f} MiB; "
        f"growth {growth / MIB:.0f} MiB (bound {BOUND / MIB:.0f} MiB: {'holds' if growth <= BOUND else 'EXCEEDED'}); "
        f"{result['outcome']}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--server", default="both", choices=["daphne", "uvicorn", "both"])
    args = parser.parse_args()
    kinds = ["daphne", "uvicorn"] if args.server == "both" else [args.server]
    with tempfile.TemporaryDirectory(prefix="docsync-hostile-memory-") as tmp:
        for kind in kinds:
            run(kind, args.seconds, Path(tmp))


if __name__ == "__main__":
    main()
