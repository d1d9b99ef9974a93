"""Floods of cheap messages in docsync's own dialect: every message a client sends counts against a rate.

Against real servers, daphne and uvicorn, with docsync's default limits (``default_site``): SERVER-INFO-REQ
and ACK/OK/ERROR (which the server ignores) count with the patches
(``MAX_PATCHES_PER_SECOND``); past it, close 4029. SERVER-INFO-REQ is a client's barrier
after its patches (docsync.client's ``request_server_info``), so it is not held to the
document requests' 10 a second.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import websockets

from docsync.conf import DEFAULTS
from docsync.protocol import ACK, ERROR, OK, new_message
from docsync.protocol.msgtypes import SERVER_INFO_REQ
from docsync.server.connection.rate import DOCUMENT_REQUESTS_PER_SECOND

from .conftest import default_site_on_each_server
from .harness import Site, open_raw

RATE_LIMITED = 4029
MAX_PATCHES_PER_SECOND = int(DEFAULTS["MAX_PATCHES_PER_SECOND"])

# Each server reads and delivers the websocket's frames its own way.
default_site = default_site_on_each_server("hostile-floods")


async def _flood(site: Site, message: Any, count: int) -> tuple[int | None, list[str], int]:
    """Send ``count`` copies of ``message`` (a fresh msgid each) on one connection: the close code, ERRORs, replies."""
    config = site.browser().page_config("counted")
    sock = await open_raw(config["wsUrl"], config["token"])
    with contextlib.suppress(websockets.ConnectionClosed):  # the server may close first
        for _ in range(count):
            await sock.send_message(message())
    closed = await sock.until_closed(10)
    replies = sum(1 for m in sock.messages if m.reqid is not None)
    return closed.code, sock.errors(), replies


@pytest.mark.asyncio
async def test_a_flood_of_server_info_requests_closes_4029(default_site: Site) -> None:
    count = 8 * MAX_PATCHES_PER_SECOND
    code, errors, replies = await _flood(default_site, lambda: new_message(SERVER_INFO_REQ, {}), count)
    assert code == RATE_LIMITED
    assert errors == ["too many messages per second (SERVER-INFO-REQ)"]
    # The burst is the rate: the requests before the one over it were answered, far more
    # than the 10 a second of the document requests.
    assert MAX_PATCHES_PER_SECOND <= replies < count
    assert replies > 2 * DOCUMENT_REQUESTS_PER_SECOND


@pytest.mark.parametrize("msgtype", [ACK, OK, ERROR])
@pytest.mark.asyncio
async def test_a_flood_of_ignored_messages_closes_4029(default_site: Site, msgtype: str) -> None:
    # What a client sends that the server ignores (ACK, OK, ERROR) counts with the patches.
    content = {"ACK": {}, "OK": {"seq": 0}, "ERROR": {"text": "x", "code": "patch-refused"}}[msgtype]
    count = 8 * MAX_PATCHES_PER_SECOND
    code, errors, _ = await _flood(default_site, lambda: new_message(msgtype, content), count)
    assert code == RATE_LIMITED
    assert errors == [f"too many messages per second ({msgtype})"]
