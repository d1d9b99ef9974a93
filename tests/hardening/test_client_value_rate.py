"""A client's JSON values, all its websockets together, against a token bucket (``MAX_VALUES_PER_SECOND_PER_CLIENT``).

A message's cost on the event loop grows with its values (parsed, checked, applied), and
the only throughput limits were message counts: one client sending content frames at
``MAX_FRAME_VALUES`` back to back (a Selection's indices, 1.09 million zeros in 2.2 MB, a
fifth of a second of the loop each) held the loop whole, and another client's round trip
went from a millisecond to seconds. Now every text frame's values (counted as
``MAX_FRAME_VALUES`` counts them) are taken from its client's bucket before it is parsed:
``MAX_VALUES_PER_CLIENT_BURST`` at once, then ``MAX_VALUES_PER_SECOND_PER_CLIENT``. Against
a real daphne process whose frames hold at most 8,000 values, whose clients may send
20,000 at once (two maximal messages, headers included, as the defaults' 2,500,000 hold two
of 1,100,000) and 10 a second after: a client's third maximal message is refused with the
client's ERROR and close 4029, unparsed; its first two, each as large as the frame limit
allows, were applied; a new websocket of that client is refused (4029) until its bucket
holds the frame it was refused; another client of the same session is not affected. Each test
connects from its own addresses (on Linux every 127.x.y.z reaches a server on 127.0.0.1),
so each client starts with a full bucket.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Iterator

import pytest
import websockets

from docsync.protocol import ACK, ERROR, OK, Message, pull_doc_req
from docsync.protocol.wire_json import count_separators
from docsync.testing import EVENT_WAIT, RawSocket

from .harness import Database, Site, expect_refusal, find_model, open_raw, running_site
from .hostile import patch

pytestmark = pytest.mark.asyncio

FRAME_VALUES = 8_000  # MAX_FRAME_VALUES (a frame of them within the sites' 64 KiB)
BURST = 20_000  # MAX_VALUES_PER_CLIENT_BURST
RATE = 10  # MAX_VALUES_PER_SECOND_PER_CLIENT: 800 s for a frame's worth
LIMIT = "MAX_VALUES_PER_SECOND_PER_CLIENT"
REFUSED = f"this client sends too many JSON values: {BURST} at once, then {RATE} per second ({LIMIT})"
METRICS_TOKEN = "client-value-rate-metrics-token"
#: Fresh source addresses, so that no test sees another's buckets.
_addresses = (f"127.0.{n // 250 + 90}.{n % 250 + 2}" for n in itertools.count(1))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    yield from running_site(
        tmp_path_factory,
        database,
        "client-value-rate",
        DOCSYNC_MAX_FRAME_VALUES=str(FRAME_VALUES),
        DOCSYNC_MAX_VALUES_PER_CLIENT_BURST=str(BURST),
        DOCSYNC_MAX_VALUES_PER_SECOND_PER_CLIENT=str(RATE),
        DOCSYNC_METRICS_TOKEN=METRICS_TOKEN,
    )


def _selection(selection_id: str, first: int) -> Message:
    """A patch setting a Selection's indices, its content frame holding exactly ``FRAME_VALUES`` values."""

    def made(count: int) -> Message:
        indices = list(range(first, first + count))
        return patch([{"kind": "ModelChanged", "model": {"id": selection_id}, "attr": "indices", "new": indices}])

    overhead = count_separators(str(made(1).to_frames()[2]))  # the content's own, one index
    message = made(FRAME_VALUES - overhead + 1)
    assert count_separators(str(message.to_frames()[2])) == FRAME_VALUES  # as large as the frame limit allows
    return message


async def _selection_id(site: Site, url: str, token: str, source: str) -> str:
    """The id of the app's source's Selection, pulled from ``source`` (a pull's values count too: another address)."""
    sock = await open_raw(url, token, source_address=source)
    try:
        doc = (await sock.request(pull_doc_req())).content["doc"]
    finally:
        await sock.close()
    selected = find_model(doc, "source")["attributes"]["selected"]
    return str(selected["id"])


async def _flood(sock: RawSocket, messages: list[Message]) -> list[Message]:
    """Send ``messages`` back to back, read until the server closes: its answers to them (OK or ERROR)."""
    closed = asyncio.create_task(sock.until_closed(EVENT_WAIT))
    with contextlib.suppress(websockets.ConnectionClosed):  # the server may close first
        for message in messages:
            await sock.send_message(message)
    await closed
    asked = {message.header["msgid"] for message in messages}
    return [m for m in sock.messages if m.reqid in asked]


async def test_a_client_past_its_values_is_closed_4029_and_another_client_is_not(site: Site) -> None:
    attacker, honest, puller = next(_addresses), next(_addresses), next(_addresses)
    config = site.browser().page_config("hostile")
    url, token = str(config["wsUrl"]), str(config["token"])
    selection = await _selection_id(site, url, token, puller)
    refusals = site.limit_refusals().get(LIMIT, 0)
    sock = await open_raw(url, token, source_address=attacker)
    assert sock.messages and sock.messages[0].msgtype == ACK, sock.errors()
    # Three maximal messages back to back: the bucket holds two (and their headers' few values).
    answers = await _flood(sock, [_selection(selection, n * FRAME_VALUES) for n in range(3)])
    assert [m.msgtype for m in answers] == [OK, OK], ([(m.msgtype, m.content) for m in sock.messages], sock.close_code)
    assert sock.close_code == 4029
    assert sock.errors() == [REFUSED]
    assert [m.content.get("code") for m in sock.messages if m.msgtype == ERROR] == ["close-4029"]
    assert site.limit_refusals()[LIMIT] - refusals == 1
    # Reconnecting fills nothing: a new websocket of that client is refused at once, unread,
    # until its bucket holds the frame it was refused (800 s at this rate).
    assert await expect_refusal(url, token, source_address=attacker) == (4029, [REFUSED])
    # Another client of the same session: a maximal message, then another, both applied.
    other = await open_raw(url, token, source_address=honest)
    try:
        assert other.messages and other.messages[0].msgtype == ACK, other.errors()
        for n in range(2):
            reply = await other.request(_selection(selection, n), EVENT_WAIT)
            assert reply.msgtype == OK, reply.content
    finally:
        await other.close()
    assert site.limit_refusals()[LIMIT] - refusals == 2
