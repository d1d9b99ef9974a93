"""Server memory under one client's unfinished websocket frames (the outside attacker's 901 MiB finding).

    python bench/partial_frames.py [--server daphne|uvicorn|both] [--sockets 16] [--mib 60] [--seconds 20]

One client (one address) opens ``--sockets`` websockets on the demo site (default
settings), and on each writes a binary frame header announcing ``--mib`` MiB (at most
the server's frame limit: daphne's is raised to MAX_MESSAGE_BYTES, 64 MiB; uvicorn's
``--ws-max-size`` is 16 MiB) and all of its payload but the last byte, as fast as the
socket takes it, and never the last byte. The server's RSS is sampled every half second
for ``--seconds``; printed: the growth over the idle server, and how each socket ended.
What a server holds of a frame still being read counts against
MAX_INCOMPLETE_BYTES_PER_CLIENT (64 MiB) and MAX_INCOMPLETE_BYTES (256 MiB): the growth
should stay near one share, where it was the sockets' total before.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.hostile_memory import demo_server  # noqa: E402
from bench.procstat import rss_bytes  # noqa: E402
from docsync.client import fetch_page_config  # noqa: E402

MIB = 1 << 20
CHUNK = 256 * 1024
#: The servers' own frame limits (uvicorn's --ws-max-size default; daphne's raised to MAX_MESSAGE_BYTES).
SERVER_FRAME_LIMIT = {"daphne": 64 * MIB, "uvicorn": 16 * MIB}


def _header(length: int) -> bytes:
    """A client's binary frame header announcing ``length`` bytes, masked with zeros (payload sent as it is)."""
    return bytes([0x82, 0x80 | 127]) + length.to_bytes(8, "big") + bytes(4)


async def _holder(config: dict[str, Any], length: int, until: float, outcome: collections.Counter[str]) -> None:
    try:
        socket = await websockets.connect(
            config["wsUrl"], subprotocols=["docsync", config["token"]], max_size=None, compression=None,
            open_timeout=30, ping_interval=None,
        )  # fmt: skip
    except Exception as exc:  # refused at the handshake (MAX_CONNECTIONS_PER_CLIENT)
        outcome[f"not opened: {type(exc).__name__}"] += 1
        return
    try:
        await socket.recv()  # the ACK's first frame
        transport: Any = socket.transport
        transport.write(_header(length))
        sent = 0
        chunk = b"\0" * CHUNK
        while sent < length - 1 and time.monotonic() < until:
            n = min(CHUNK, length - 1 - sent)
            transport.write(chunk[:n])
            sent += n
            while transport.get_write_buffer_size() > 4 * CHUNK and time.monotonic() < until:
                await asyncio.sleep(0.01)  # the server reads no faster than it does
            if socket.close_code is not None:
                break
        await asyncio.wait_for(socket.wait_closed(), max(0.1, until - time.monotonic()))
        outcome[f"closed {socket.close_code}"] += 1
    except TimeoutError:
        outcome["still held at the end"] += 1
    except websockets.ConnectionClosed as exc:
        outcome[f"closed {exc.rcvd.code if exc.rcvd else 'abruptly'}"] += 1
    finally:
        socket.transport.abort()


async def _attack(url: str, pid: int, sockets: int, length: int, seconds: float) -> dict[str, Any]:
    samples = [rss_bytes(pid)]
    outcome: collections.Counter[str] = collections.Counter()
    until = time.monotonic() + seconds
    configs = [await asyncio.to_thread(fetch_page_config, url + "sliders/") for _ in range(sockets)]

    async def sample() -> None:
        while time.monotonic() < until:
            await asyncio.sleep(0.5)
            samples.append(rss_bytes(pid))

    await asyncio.gather(
        sample(), *(_holder(config, length, until, outcome) for config in configs), return_exceptions=True
    )
    return {"rss": samples, "outcome": dict(outcome)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--server", default="both", choices=["daphne", "uvicorn", "both"])
    parser.add_argument("--sockets", type=int, default=16)
    parser.add_argument("--mib", type=float, default=60.0, help="each frame's length (capped at the server's limit)")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    kinds = ["daphne", "uvicorn"] if args.server == "both" else [args.server]
    with tempfile.TemporaryDirectory(prefix="docsync-partial-frames-") as tmp:
        for kind in kinds:
            length = min(int(args.mib * MIB), SERVER_FRAME_LIMIT[kind])
            with demo_server(kind, Path(tmp)) as server:
                result = asyncio.run(_attack(server.url, server.pid, args.sockets, length, args.seconds))
            rss = result["rss"]
            print(
                f"{kind}: {args.sockets} sockets x {length / MIB:.1f} MiB unfinished frames: "
                f"RSS idle {rss[0] / MIB:.0f} MiB, peak growth {(max(rss) - rss[0]) / MIB:.0f} MiB, "
                f"at the end {(rss[-1] - rss[0]) / MIB:.0f} MiB; {result['outcome']}",
                flush=True,
            )


if __name__ == "__main__":
    main()
