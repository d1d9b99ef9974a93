"""A client's websocket frames, all its websockets together, against a token bucket.

The ASGI server parses every websocket frame, in its own Python, before docsync sees a
message: about 10 µs of the event loop each under daphne, 4 µs under uvicorn. One socket
writing a message in one-byte fragments, or messages of many empty buffers within the
message rates, held the loop: an honest client's round trip went from a millisecond to
1.7 s (daphne) and 0.16 s p50 / 29 s p99 (uvicorn) (``bench/frame_flood.py``). Now the
data frames of each read are charged to the client's bucket (compat/partial_frames.py,
``MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT``), into debt, since they were parsed already:
``MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST`` at once, then the rate; past it the socket's
input is dropped unparsed and it is closed 4029, and a new websocket of the client is
refused until the debt is paid.

Against real servers (daphne and uvicorn) whose clients may send 2,100 frames at once and
one a second after: 3,000 one-byte fragments are refused, the client's next websocket
too, and another client is served; 3,000 empty pings, and whole messages' frames, count the same.
"""

from __future__ import annotations

import itertools

import orjson
import pytest
import websockets

from docsync.protocol import ACK, OK, SERVER_INFO_REPLY, new_message
from docsync.testing import EVENT_WAIT

from .harness import Site, expect_refusal, open_raw, site_on_each_server

pytestmark = pytest.mark.asyncio

BURST = 2_100  # MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST
RATE = 1  # MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT
LIMIT = "MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT"
REFUSED = f"this client sends too many websocket frames: {BURST} at once, then {RATE} per second ({LIMIT})"
BUFFERS = 8  # the test site's MAX_BUFFERS: a message of them is 19 frames
METRICS_TOKEN = "client-frame-rate-metrics-token"
#: Fresh source addresses, so that no test sees another's buckets.
_addresses = (f"127.0.{n // 250 + 120}.{n % 250 + 2}" for n in itertools.count(1))

site = site_on_each_server(
    "client-frame-rate",
    DOCSYNC_MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST=str(BURST),
    DOCSYNC_MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT=str(RATE),
    DOCSYNC_METRICS_TOKEN=METRICS_TOKEN,
)


def _fragments(count: int) -> bytes:
    """The first ``count`` one-byte fragments of a binary message, masked with zeros, never its last."""
    first = bytes([0x02, 0x81]) + bytes(4) + b"o"
    return first + (bytes([0x00, 0x81]) + bytes(4) + b"o") * (count - 1)


def _buffers_patch(n: int) -> list[str | bytes]:
    """A PATCH-DOC changing nothing with ``BUFFERS`` empty buffers: 3 + 2 x BUFFERS frames."""
    header = orjson.dumps({"msgid": f"b{n}", "msgtype": "PATCH-DOC", "num_buffers": BUFFERS}).decode()
    frames: list[str | bytes] = [header, "{}", '{"events": []}']
    for i in range(BUFFERS):
        frames += [orjson.dumps({"id": str(i)}).decode(), b""]
    return frames


async def _served(url: str, token: str, source: str) -> None:
    """Another client's round trip goes through."""
    other = await open_raw(url, token, source_address=source)
    try:
        assert other.messages and other.messages[0].msgtype == ACK, other.errors()
        reply = await other.request(new_message("SERVER-INFO-REQ", {}), EVENT_WAIT)
        assert reply.msgtype == SERVER_INFO_REPLY
    finally:
        await other.close()


async def test_a_clients_fragments_past_its_frames_are_refused_4029_and_another_client_is_served(site: Site) -> None:
    attacker, honest = next(_addresses), next(_addresses)
    config = site.browser().page_config("echo")
    url, token = str(config["wsUrl"]), str(config["token"])
    refusals = site.limit_refusals().get(LIMIT, 0)
    sock = await open_raw(url, token, source_address=attacker)
    assert sock.messages and sock.messages[0].msgtype == ACK, sock.errors()
    sock.socket.transport.write(_fragments(3_000))  # 21 KB: past the burst within a read or two
    closed = await sock.until_closed(EVENT_WAIT)
    assert (closed.code, sock.errors()) == (4029, [REFUSED])
    assert site.limit_refusals()[LIMIT] - refusals == 1
    # Reconnecting fills nothing: refused at once, until the bucket holds what it refused.
    assert await expect_refusal(url, token, source_address=attacker) == (4029, [REFUSED])
    assert site.limit_refusals()[LIMIT] - refusals == 2
    await _served(url, token, honest)


async def test_pings_count_too(site: Site) -> None:
    attacker, honest = next(_addresses), next(_addresses)
    config = site.browser().page_config("echo")
    url, token = str(config["wsUrl"]), str(config["token"])
    sock = await open_raw(url, token, source_address=attacker)
    assert sock.messages and sock.messages[0].msgtype == ACK, sock.errors()
    sock.socket.transport.write((bytes([0x89, 0x80]) + bytes(4)) * 3_000)  # empty pings, 18 KB
    closed = await sock.until_closed(EVENT_WAIT)
    assert (closed.code, sock.errors()) == (4029, [REFUSED])
    await _served(url, token, honest)


async def test_whole_messages_frames_count_too(site: Site) -> None:
    attacker, honest = next(_addresses), next(_addresses)
    config = site.browser().page_config("echo")
    url, token = str(config["wsUrl"]), str(config["token"])
    sock = await open_raw(url, token, source_address=attacker)
    assert sock.messages and sock.messages[0].msgtype == ACK, sock.errors()
    answered = 0
    for n in range(150):  # one at a time, each answered: 2,850 frames in all, past the burst
        await sock.send_frames(*_buffers_patch(n))
        try:
            reply = await sock.read_message(EVENT_WAIT)
        except websockets.ConnectionClosed:
            break
        if reply.msgtype != OK:
            break
        answered += 1
    closed = await sock.until_closed(EVENT_WAIT)
    assert (closed.code, sock.errors()) == (4029, [REFUSED])
    # Those whose frames fit in the burst (and the rate, meanwhile) were handled; the rest not.
    assert BURST // (3 + 2 * BUFFERS) - 2 <= answered <= BURST // (3 + 2 * BUFFERS) + 10, answered
    await _served(url, token, honest)
