"""A websocket frame still being read counts with the incomplete messages of its client and process.

An ASGI server hands a websocket message on only once its last byte is read; until then
it is the server's, and no bound of docsync counted it: 16 websockets of one anonymous
client, each holding an unfinished 60 MiB frame, grew daphne by 901 MiB (20 of 16 MiB grew
uvicorn by 332 MiB). Now what daphne or uvicorn holds of a message being read counts,
after each read, against MAX_INCOMPLETE_BYTES_PER_CLIENT and MAX_INCOMPLETE_BYTES, and
INCOMPLETE_MESSAGE_TIMEOUT's clock runs on it (compat/partial_frames.py).

Against real servers with the test site's limits (frames 64 KiB, messages and the share
256 KiB): a client's first unfinished 200,000-byte frame is held (a frame past the frame
limit is refused 1009 once read whole, as before); its second websocket's passes the
share and is refused 1013 with the share's reason, what it held dropped; another client
is served; and a frame that stops arriving is dropped after the timeout (4408). At HEAD
before this, the process's gauge stayed at 0 and the second websocket was never refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import pytest

from docsync.protocol import ACK, SERVER_INFO_REPLY, new_message
from docsync.server.compat.partial_frames import PIECE_OVERHEAD

from .harness import RawSocket, Site, open_raw, site_on_each_server

pytestmark = pytest.mark.asyncio

SHARE = 262_144  # MAX_INCOMPLETE_BYTES_PER_CLIENT: the test site's MAX_MESSAGE_BYTES
FRAME_LIMIT = 64 * 1024  # the test site's MAX_FRAME_BYTES
DECLARED = 200_000  # each unfinished frame's length: past the frame limit, under the share
SENT = 150_000  # what of it is sent: two pass the share
TIMEOUT = 5.0  # INCOMPLETE_MESSAGE_TIMEOUT
METRICS_TOKEN = "partial-frames-metrics"
SHARE_REFUSED = (
    f"this client holds its maximum of {SHARE} bytes in incomplete messages (MAX_INCOMPLETE_BYTES_PER_CLIENT)"
)

site = site_on_each_server(
    "partial-frames",
    DOCSYNC_MAX_INCOMPLETE_BYTES_PER_CLIENT=str(SHARE),
    DOCSYNC_INCOMPLETE_MESSAGE_TIMEOUT=str(TIMEOUT),
    DOCSYNC_METRICS_TOKEN=METRICS_TOKEN,
)


def _header(length: int) -> bytes:
    """A client's binary frame header announcing ``length`` bytes, masked with zeros (payload sent as it is)."""
    return bytes([0x82, 0x80 | 127]) + length.to_bytes(8, "big") + bytes(4)


def _write(sock: RawSocket, data: bytes) -> None:
    """Write bytes on the socket below the websocket library: a frame it never finishes."""
    sock.socket.transport.write(data)


def _incomplete_bytes(site: Site) -> int:
    return int(site.metrics()["docsync_incomplete_bytes"])


def _about(nbytes: int) -> Callable[[int], bool]:
    """Whether the gauge shows ``nbytes`` held, with a piece's overhead per read the server made of them."""
    return lambda seen: nbytes <= seen <= nbytes + PIECE_OVERHEAD * (4 + nbytes // 1_000)


async def _until_gauge(site: Site, shows: Callable[[int], bool], deadline: float = 60.0) -> int:
    """Poll the process's gauge until ``shows`` says yes (``deadline`` seconds at most); return the last read."""
    end = time.monotonic() + deadline
    while True:
        seen = await asyncio.to_thread(_incomplete_bytes, site)
        if shows(seen) or time.monotonic() > end:
            return seen
        await asyncio.sleep(0.05)


async def _opened(site: Site, source: str) -> RawSocket:
    config = await asyncio.to_thread(site.browser().page_config, "echo")
    sock = await open_raw(config["wsUrl"], config["token"], source_address=source)
    assert sock.messages and sock.messages[0].msgtype == ACK, sock.errors()
    return sock


async def _trickle(sock: RawSocket, sent: list[int]) -> None:
    """Keep the unfinished frame moving: a byte every half second (progress, not a stall)."""
    while True:
        await asyncio.sleep(0.5)
        _write(sock, b"t")
        sent[0] += 1


async def test_a_frame_being_read_counts_against_its_clients_share_and_its_timeout(site: Site) -> None:
    attacker, other = "127.0.31.2", "127.0.31.3"
    socks: list[RawSocket] = []
    trickling: asyncio.Task[None] | None = None
    try:
        assert await asyncio.to_thread(_incomplete_bytes, site) == 0
        first = await _opened(site, attacker)
        socks.append(first)
        _write(first, _header(DECLARED) + b"a" * SENT)
        assert _about(SENT)(await _until_gauge(site, _about(SENT)))  # held by the ASGI server, counted
        sent = [SENT]
        trickling = asyncio.ensure_future(_trickle(first, sent))
        # Its second websocket's frame passes the share: refused, and what it held let go.
        refusals = site.limit_refusals()["MAX_INCOMPLETE_BYTES_PER_CLIENT"]
        second = await _opened(site, attacker)
        socks.append(second)
        _write(second, _header(DECLARED) + b"b" * SENT)
        closed = await second.until_closed(60)
        assert (closed.code, second.errors()) == (1013, [SHARE_REFUSED])
        assert site.limit_refusals()["MAX_INCOMPLETE_BYTES_PER_CLIENT"] == refusals + 1
        # Another client is served meanwhile.
        served = await _opened(site, other)
        socks.append(served)
        reply = await served.request(new_message("SERVER-INFO-REQ", {}))
        assert reply.msgtype == SERVER_INFO_REPLY
        trickling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await trickling
        trickling = None
        assert _about(sent[0])(await _until_gauge(site, _about(sent[0])))  # the first's, alone
        # Read whole, the first's frame is past the frame limit: refused as too large, as before.
        _write(first, b"a" * (DECLARED - sent[0]))
        closed = await first.until_closed(60)
        assert (closed.code, first.errors()) == (1009, [f"frame too large: {DECLARED} > {FRAME_LIMIT} bytes"])
        assert await _until_gauge(site, _about(0)) == 0
        # A frame that stops arriving is dropped after the timeout, with what it held.
        stalled = await _opened(site, attacker)
        socks.append(stalled)
        _write(stalled, _header(DECLARED) + b"c" * 1_000)
        assert _about(1_000)(await _until_gauge(site, _about(1_000)))
        closed = await stalled.until_closed(60)
        assert (closed.code, stalled.errors()) == (4408, [f"message incomplete for {TIMEOUT:g} s"])
        assert await _until_gauge(site, _about(0)) == 0
    finally:
        if trickling is not None:
            trickling.cancel()
        for sock in socks:
            with contextlib.suppress(Exception):
                await sock.close()
