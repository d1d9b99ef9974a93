"""Pulls and resumes are limited per connection: each is answered with the whole document.

A 50-byte PULL-DOC-REQ costs the server an encoding of the whole document under the
session's lock (12 ms for a 10 MB one) and its sending; a client pipelining thousands
kept the process busy. Past DOCUMENT_REQUESTS_PER_SECOND (a burst of as many) the
connection is closed with 4029, as for patches. Against a real server.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import websockets

from docsync.protocol import PULL_DOC_REPLY, RESUME_REQ, new_message, pull_doc_req
from docsync.server.connection.rate import DOCUMENT_REQUESTS_PER_SECOND

from .harness import Site
from .hostile import Victim

pytestmark = pytest.mark.asyncio
RATE_LIMITED = 4029


@pytest.mark.parametrize("kind", ["pull", "resume"])
async def test_a_flood_of_document_requests_is_closed_with_4029(site: Site, kind: str) -> None:
    victim = await Victim.open(site)
    try:
        sock = await victim.raw()
        closed = asyncio.create_task(sock.until_closed(10))
        count = 5 * int(DOCUMENT_REQUESTS_PER_SECOND)
        with contextlib.suppress(websockets.ConnectionClosed):  # the server may close first
            for _ in range(count):
                if kind == "pull":
                    await sock.send_message(pull_doc_req())
                else:
                    await sock.send_message(new_message(RESUME_REQ, {"last_seq": 0, "client_id": "flood"}))
        assert (await closed).code == RATE_LIMITED
        assert sock.errors() == ["too many document requests per second"]
        answered = [m for m in sock.messages if m.msgtype in (PULL_DOC_REPLY, "RESUME-REPLY")]
        assert DOCUMENT_REQUESTS_PER_SECOND <= len(answered) < count
        await victim.assert_unharmed()
    finally:
        await victim.close()
