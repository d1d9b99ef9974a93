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

from docsync.protocol import PATCH_DOC, PULL_DOC_REPLY, PUSH_DOC, RESUME_REQ, new_message, pull_doc_req
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


async def test_a_flood_of_patches_each_answered_with_a_reset_is_closed_with_4029(site: Site) -> None:
    # A refused root change resets its sender: the whole document (PUSH-DOC), as a pull's
    # reply. Such resets count with the connection's document requests: before, a client
    # sending 113-byte stale patches at the patches' rate (200 a second) had the server send
    # it a whole document for each (7.5 ms of the event loop each, a 7 MB document).
    victim = await Victim.open(site)
    try:
        sock = await victim.raw()
        closed = asyncio.create_task(sock.until_closed(10))
        count = 5 * int(DOCUMENT_REQUESTS_PER_SECOND)
        # A root defined under a reserved id: refused whole, and its sender reset (protocol.md §9.6).
        root = {"type": "object", "name": "Div", "id": "roots", "attributes": {}}
        patch = {"events": [{"kind": "RootAdded", "model": {"id": "roots"}}], "references": [root]}
        with contextlib.suppress(websockets.ConnectionClosed):  # the server may close first
            for _ in range(count):
                await sock.send_message(new_message(PATCH_DOC, patch))
        assert (await closed).code == RATE_LIMITED
        resets = [m for m in sock.messages if m.msgtype == PUSH_DOC]
        assert DOCUMENT_REQUESTS_PER_SECOND <= len(resets) < count
        assert sock.errors()[-1] == "too many resets per second"
        await victim.assert_unharmed()
    finally:
        await victim.close()
