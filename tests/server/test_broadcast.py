"""server_context.broadcast from callbacks, in one process: every session gets it, the caller's own too.

And a server-context callback waits (as on I/O) without its session's lock, then writes
under it (README, *What waits under a session's lock*).

Callbacks run holding their session's lock (asyncio.Lock is not re-entrant): a broadcast
that waited for every session's lock deadlocked on the caller's. Sync callbacks run in a
worker thread and use ``broadcast_nowait``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from docsync.client import ClientSession
from docsync.protocol.msgtypes import PATCH_DOC
from docsync.testing import EVENT_WAIT

from .clients import ServerUnderTest, open_session, page_config


def _news(client: ClientSession) -> list[str]:
    texts = []
    for message in client.received:
        if message.msgtype != PATCH_DOC:
            continue
        for event in message.content.get("events", []):
            if event.get("kind") == "MessageSent" and event.get("msg_type") == "news":
                texts.append(event["msg_data"]["text"])
    return texts


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_a_callback_broadcasts_to_every_session_its_own_included(server: ServerUnderTest, kind: str) -> None:
    clients: list[ClientSession] = []
    try:
        for _ in range(3):
            clients.append(await open_session(await page_config(server, "broadcaster")))
        sender = clients[1]
        for round_ in range(3):
            sender.document.send_message(f"broadcast-{kind}", f"round {round_}")
            await sender.sync(EVENT_WAIT)
        expected = [f"{kind} round {n}" for n in range(3)]
        for client in clients:
            # In the order sent, once each; the sender's session too (its lock was held).
            await client.wait_for(lambda c=client: _news(c) == expected, EVENT_WAIT)  # type: ignore[misc]
        # The sessions still answer: nothing is left holding a lock.
        for client in clients:
            client.document.send_message("broadcast-async", "after")
            await client.sync(EVENT_WAIT)
    finally:
        for client in clients:
            await client.close()


@pytest.mark.asyncio
async def test_broadcasts_from_both_kinds_of_callback_keep_their_order(server: ServerUnderTest) -> None:
    first = await open_session(await page_config(server, "broadcaster"))
    second = await open_session(await page_config(server, "broadcaster"))
    try:
        order: list[Any] = []
        for n in range(6):
            kind = "sync" if n % 2 else "async"
            order.append(f"{kind} {n}")
            first.document.send_message(f"broadcast-{kind}", str(n))
            await first.sync(EVENT_WAIT)
        for client in (first, second):
            await client.wait_for(lambda c=client: _news(c) == order, EVENT_WAIT)  # type: ignore[misc]
    finally:
        await asyncio.gather(first.close(), second.close())


@pytest.mark.asyncio
async def test_a_server_context_callback_waits_without_the_session_lock_and_writes_under_it(
    server: ServerUnderTest,
) -> None:
    client = await open_session(await page_config(server, "io_waiter"))
    try:
        out = client.document.get_model_by_name("out")
        client.document.send_message("start", None)
        await client.sync(EVENT_WAIT)
        # While the scheduled callback waits, the session takes another message and runs its
        # callback (which needs the lock): the wait holds no lock.
        client.document.send_message("release", None)
        await client.sync(EVENT_WAIT)
        # Then the waiting callback writes its result under the lock, and it reaches the page.
        await client.wait_for(lambda: out.text == "fetched", EVENT_WAIT)  # type: ignore[union-attr]
        assert not client.errors, client.errors
    finally:
        await client.close()
