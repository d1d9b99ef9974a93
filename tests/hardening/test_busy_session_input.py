"""A client that keeps sending while its session is busy: the server stops reading it, not queueing without bound.

A session takes one message at a time; while a callback holds it, what its client sends
waits. uvicorn's websockets stop reading the socket at ``--ws-max-queue`` frames; daphne
read on and queued every frame for the application, so one client grew the process by
whatever it sent (60 MiB in 8 s, measured). Now daphne stops reading past
``MAX_QUEUED_BYTES`` of frames waiting (``compat.daphne.bound_incoming``), TCP holds the
client back, and once the session is free every message is taken, in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docsync.protocol import new_message
from docsync.testing import RawSocket

from .harness import Database, Site, running_site

MIB = 1024 * 1024
BOUND = 1 * MIB  # MAX_QUEUED_BYTES on this site (8 MiB by default; lower keeps this short)
CHUNK = 60 * 1024  # under the hardening site's MAX_FRAME_BYTES (64 KiB)
MESSAGES = 400  # 23 MiB: far past the bound and what the kernel's socket buffers hold
METRICS_TOKEN = "busy-session-input-metrics"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    yield from running_site(
        tmp_path_factory,
        database,
        "busy-input",
        DOCSYNC_MAX_QUEUED_BYTES=str(BOUND),
        DOCSYNC_MAX_PATCHES_PER_SECOND="100000",
        DOCSYNC_MAX_PATCHES_PER_SECOND_PER_CLIENT="none",  # its sockets together too
        DOCSYNC_METRICS_TOKEN=METRICS_TOKEN,
    )


def _reads_paused(site: Site) -> int:
    return int(site.metrics()["docsync_reads_paused_total"])


def _message_sent(msg_type: str, msg_data: Any) -> Any:
    return new_message("PATCH-DOC", {"events": [{"kind": "MessageSent", "msg_type": msg_type, "msg_data": msg_data}]})


def test_daphne_stops_reading_a_client_whose_session_is_busy_and_takes_everything_after(
    site: Site, tmp_path: Path
) -> None:
    released = tmp_path / "released"
    chunk = "x" * CHUNK

    async def scenario() -> None:
        config = await asyncio.to_thread(site.browser().page_config, "holding")
        sock = await RawSocket.connect(config["wsUrl"], config["token"])
        paused_before = await asyncio.to_thread(_reads_paused, site)

        async def send_all() -> None:
            await sock.send_message(_message_sent("hold", str(released)))
            for n in range(MESSAGES):
                await sock.send_message(_message_sent("ignored", f"{n}:{chunk}"))

        try:
            assert (await sock.read_message()).msgtype == "ACK"
            sending = asyncio.ensure_future(send_all())
            paused: list[int] = [paused_before]

            async def poll() -> None:
                paused.append(await asyncio.to_thread(_reads_paused, site))

            # On the old code daphne never paused: it read the whole 23 MiB into its queue.
            while paused[-1] == paused_before and not sending.done():
                await poll()
                await asyncio.sleep(0.1)
            assert paused[-1] > paused_before, "daphne read everything the client sent while its session was busy"
            released.touch()
            await asyncio.wait_for(sending, 120)
            # Every message taken, in order, once the session was free: an ERROR each (no handler), no close.
            errors: list[str] = []
            while len(errors) < MESSAGES:
                message = await sock.read_message(60)
                if message.msgtype == "ERROR":
                    errors.append(str(message.content.get("text")))
            assert errors == ["no handler for messages of type 'ignored'"] * MESSAGES, errors[:3]
            assert sock.close_code is None
        finally:
            released.touch()
            await sock.close()

    asyncio.run(scenario())
