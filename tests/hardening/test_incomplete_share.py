"""One client may not hold the whole process's room for incomplete messages.

A process holds at most MAX_INCOMPLETE_BYTES in messages not yet complete (every
connection's together), and refuses a frame that would pass it with close 1013. Each
message's first frames count there, so once one anonymous client held it all (a few
sockets, each sending the first frames of a message as large as the limits allow and the
rest a frame at a time, never the last), every other client's next message was refused
1013 and its reconnections too: the process served no one. Now a client (a logged-in
user, else an address) holds at most MAX_INCOMPLETE_BYTES_PER_CLIENT of it.

Against real servers with a 1,000,000-byte process cap and a share of 262,144 bytes (the
test site's largest message): the attacker's five sockets of 200,000 bytes each filled
the process at HEAD, and a client from another address was refused; now its second is
refused with the share's reason and the other client is served.
"""

from __future__ import annotations

import asyncio
import contextlib

import orjson
import pytest

from docsync.protocol import ACK, SERVER_INFO_REPLY, new_message

from .harness import RawSocket, Site, open_raw, site_on_each_server

pytestmark = pytest.mark.asyncio

CAP = 1_000_000  # MAX_INCOMPLETE_BYTES
SHARE = 262_144  # MAX_INCOMPLETE_BYTES_PER_CLIENT: one largest message of the test site (MAX_MESSAGE_BYTES)
HELD = 200_000  # what each of the attacker's sockets holds: five fill the process
FRAME = 60_000  # under the test site's MAX_FRAME_BYTES (64 KiB)
METRICS_TOKEN = "incomplete-share-metrics"
SHARE_REFUSED = (
    f"this client holds its maximum of {SHARE} bytes in incomplete messages (MAX_INCOMPLETE_BYTES_PER_CLIENT)"
)


site = site_on_each_server(
    "incomplete-share",
    DOCSYNC_MAX_INCOMPLETE_BYTES=str(CAP),
    DOCSYNC_MAX_INCOMPLETE_BYTES_PER_CLIENT=str(SHARE),
    DOCSYNC_METRICS_TOKEN=METRICS_TOKEN,
)


def _first_frames(total: int) -> list[str | bytes]:
    """The first frames of a PATCH-DOC of 8 buffers, ``total`` bytes in all, its last buffer never sent."""
    header = orjson.dumps({"msgid": "held", "msgtype": "PATCH-DOC", "num_buffers": 8}).decode()
    frames: list[str | bytes] = [header, "{}"]
    padding = FRAME - len(b'{"events":[],"p":""}')
    frames.append(orjson.dumps({"events": [], "p": "x" * padding}).decode())
    left = total - sum(len(frame) for frame in frames)
    n = 0
    while left > 0:
        buffer_header = orjson.dumps({"id": str(n)}).decode()
        payload = min(FRAME, left - len(buffer_header))
        frames += [buffer_header, b"\0" * payload]
        left -= len(buffer_header) + payload
        n += 1
    assert n < 8 and left == 0 and sum(len(frame) for frame in frames) == total
    return frames


def _incomplete_bytes(site: Site) -> int:
    return int(site.metrics()["docsync_incomplete_bytes"])


async def _hold(site: Site, url: str, token: str, source: str, expected: int) -> tuple[RawSocket, bool]:
    """Open a socket from ``source`` holding HELD bytes; return it and whether the server holds them.

    Held once the process's gauge shows ``expected``; refused once the socket closes.
    """
    sock = await open_raw(url, token, source_address=source)
    assert sock.messages and sock.messages[0].msgtype == ACK, sock.errors()
    await sock.send_frames(*_first_frames(HELD))
    closing = asyncio.ensure_future(sock.until_closed(120))
    try:
        while not closing.done():
            if await asyncio.to_thread(_incomplete_bytes, site) == expected:
                return sock, True
            await asyncio.sleep(0.05)
        return sock, False
    finally:
        if not closing.done():
            closing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await closing


async def test_one_client_cannot_take_the_processs_room_for_incomplete_messages(site: Site) -> None:
    attacker, other = "127.0.30.2", "127.0.30.3"
    config = await asyncio.to_thread(site.browser().page_config, "echo")
    url, token = config["wsUrl"], config["token"]
    held: list[RawSocket] = []
    try:
        assert await asyncio.to_thread(_incomplete_bytes, site) == 0
        total = 0
        refused = []
        for _ in range(CAP // HELD):
            sock, holding = await _hold(site, url, token, attacker, total + HELD)
            held.append(sock)
            if holding:
                total += HELD
            else:
                refused.append((sock.close_code, sock.errors()))
        # Another client is served: its messages' first frames find room.
        sock = await open_raw(url, token, source_address=other)
        held.append(sock)
        reply = await sock.request(new_message("SERVER-INFO-REQ", {}))
        assert reply.msgtype == SERVER_INFO_REPLY, (reply.msgtype, reply.content, total)
        assert total <= SHARE, f"one client holds {total} of the process's {CAP} bytes of incomplete messages"
        assert refused == [(1013, [SHARE_REFUSED])] * (CAP // HELD - 1)
        assert site.limit_refusals()["MAX_INCOMPLETE_BYTES_PER_CLIENT"] >= CAP // HELD - 1
    finally:
        for sock in held:
            with contextlib.suppress(Exception):
                await sock.close()


async def test_a_message_over_the_message_limit_is_refused_as_too_large_not_as_the_clients_share(site: Site) -> None:
    """A message over MAX_MESSAGE_BYTES is closed 1009, as protocol.md §11 says, whatever the share.

    The share defaults to one largest message (``MAX_INCOMPLETE_BYTES_PER_CLIENT`` =
    ``MAX_MESSAGE_BYTES``, as here), so the frame that takes a message over the message
    limit takes its client over the share too: it was refused 1013 "this client holds its
    maximum of ... bytes in incomplete messages" (retry later, the same message again),
    not 1009 "message too large" (do not send that message again). A client holding
    nothing else is not busy: its message is too large.
    """
    config = await asyncio.to_thread(site.browser().page_config, "echo")
    sock = await open_raw(config["wsUrl"], config["token"], source_address="127.0.30.4")
    try:
        assert sock.messages and sock.messages[0].msgtype == ACK, sock.errors()
        frames = _first_frames(HELD)  # under the share: held
        n = 6
        while sum(len(frame) for frame in frames) <= SHARE:  # then past MAX_MESSAGE_BYTES (= SHARE)
            frames += [orjson.dumps({"id": str(n)}).decode(), b"\0" * FRAME]
            n += 1
        total = sum(len(frame) for frame in frames)
        assert total - FRAME <= SHARE < total and n <= 8
        await sock.send_frames(*frames)
        closed = await sock.until_closed()
        assert (closed.code, sock.errors()) == (1009, [f"message too large: {total} > {SHARE} bytes"])
    finally:
        with contextlib.suppress(Exception):
            await sock.close()
