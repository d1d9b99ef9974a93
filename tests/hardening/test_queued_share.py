"""One client's sockets that read nothing hold at most its share of what the process sends, under daphne and uvicorn.

Each connection's outbox is bounded by ``MAX_QUEUED_BYTES``, but one address may hold
``MAX_CONNECTIONS_PER_CLIENT`` (500) sockets: one that read none of them, each sent whole
documents and patches, had the process hold up to 500 times the bound (and, under
uvicorn, a whole message more per socket in its transport), limited by nothing. Now a
client's sockets together hold at most ``MAX_QUEUED_BYTES_PER_CLIENT``: what is queued
for them, being written, or written and still held by the server's transport.

Here three silent sockets of one address join a shared board, and a writer from another
address puts 60 KiB notes on it. Each silent socket is sent far less than its own bound
(8 MiB), but together they pass the share (2 MiB) once the kernel's buffers are full:
one is closed with 4009, naming the setting, while the writer, a reader and a new joiner
of the other address go on, the silent ones still open are served once they read, and
the closed one resumes. At HEAD~ no socket was closed: the loop pushed every note.

The connection closed is the one holding the most, not the one the message passing the
share was for: a silent socket and a reading tab of one address (a NAT) share a room,
the silent one's small replies pile up until the tab's pull of the document would pass
the share, and the silent one is closed while the tab is served and is sent every note
after. Before, the tab was closed 4009 on that pull, and on every sizeable message after
each resume: the silent socket kept its address's honest tabs in a resume loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from typing import Any

import pytest
import websockets

from docsync.client import ClientSession
from docsync.protocol import ACK, PATCH_DOC, PULL_DOC_REPLY, RESUME_REPLY, SERVER_INFO_REPLY, Message, new_message
from docsync.protocol.msgtypes import PULL_DOC_REQ, RESUME_REQ, SERVER_INFO_REQ
from docsync.testing import EVENT_WAIT, RawSocket
from project.examples import board as _board  # noqa: F401  (defines NoteBoard, which the client then reads)

from .harness import ServerLog, Site, open_client, site_on_each_server

pytestmark = pytest.mark.asyncio

MIB = 1024 * 1024
SHARE = 2 * MIB  # MAX_QUEUED_BYTES_PER_CLIENT; MAX_QUEUED_BYTES stays 8 MiB
SILENT = 3
NOTE_BYTES = 60 * 1024  # under the hardening site's MAX_FRAME_BYTES (64 KiB)
#: At most this many notes: 7 MiB to each silent socket, under its own bound (8 MiB) and
#: more than the kernel's buffers take (loopback: about 3 MiB per socket).
NOTES = 120
SHARE_CLOSE = b"closing with 4009: client reads too slowly"
METRICS_TOKEN = "queued-share-metrics-token"


site = site_on_each_server(
    "queued-share",
    DOCSYNC_MAX_QUEUED_BYTES_PER_CLIENT=str(SHARE),
    DOCSYNC_MAX_PATCHES_PER_SECOND="100000",
    DOCSYNC_MAX_PATCHES_PER_SECOND_PER_CLIENT="none",  # its sockets together too
    DOCSYNC_LOG_LEVEL="INFO",
    DOCSYNC_METRICS_TOKEN=METRICS_TOKEN,
)


async def _silent(config: dict[str, Any], source: str) -> tuple[RawSocket, str, int, str]:
    """A socket that reads its ACK and its pull, then nothing; with its client id, seq and incarnation."""
    sock = await RawSocket.connect(
        config["wsUrl"], config["token"], receive_buffer=16 * 1024, max_queue=1, source_address=source
    )
    assert (await sock.read_message()).msgtype == ACK
    client_id = uuid.uuid4().hex[:16]
    reply = await sock.request(new_message(PULL_DOC_REQ, {"client_id": client_id}), timeout=EVENT_WAIT)
    assert reply.msgtype == PULL_DOC_REPLY
    return sock, client_id, int(reply.content["seq"]), str(reply.content["incarnation"])


async def _outcome(sock: RawSocket) -> tuple[str, int | None]:
    """Read what waits for ``sock``: ("served", None) if it answers a request after it, else ("closed", code)."""
    try:
        reply = await sock.request(new_message(SERVER_INFO_REQ, {}), timeout=EVENT_WAIT)
    except websockets.ConnectionClosed:
        return "closed", sock.close_code
    assert reply.msgtype == SERVER_INFO_REPLY
    return "served", None


def _share_refusals(site: Site) -> int:
    return site.limit_refusals()["MAX_QUEUED_BYTES_PER_CLIENT"]


def _notes(client: ClientSession) -> list[str]:
    return list(client.document.get_model_by_name("board").notes)  # type: ignore[union-attr]


async def test_one_clients_silent_sockets_hold_at_most_its_share(site: Site) -> None:
    attacker = "127.0.33.2"  # everyone else connects from 127.0.0.1
    room = f"?room=share-{uuid.uuid4().hex[:8]}"
    browser = await asyncio.to_thread(site.browser)
    configs = [await asyncio.to_thread(browser.page_config, "board", room) for _ in range(SILENT + 3)]
    writer = await open_client(configs[0])
    reader = await open_client(configs[1])
    clients = [writer, reader]
    silent = [await _silent(config, attacker) for config in configs[2 : 2 + SILENT]]
    log = ServerLog(site.log_path())
    try:
        board = writer.document.get_model_by_name("board")
        closes: list[bytes] = []
        pushed = 0
        while not closes and pushed < NOTES:
            note = f"note {pushed} " + "x" * NOTE_BYTES
            board.notes = [note]  # type: ignore[union-attr]  # a whole new value: the document stays small
            await writer.sync(EVENT_WAIT)  # its OK came: the session was not held up
            pushed += 1
            # Logged as the note was queued, before the writer's OK: no wait for it.
            closes = log.lines(SHARE_CLOSE)
        assert closes, f"{SILENT} silent sockets of one address held {pushed} notes of {NOTE_BYTES} bytes each"
        assert all(b"(MAX_QUEUED_BYTES_PER_CLIENT)" in line for line in closes), closes

        # The silent ones read now: the one closed finds 4009 after what it was sent, the others are served.
        outcomes = await asyncio.gather(*(_outcome(sock) for sock, *_ in silent))
        print(f"closed after {pushed} notes: {outcomes}")
        assert set(outcomes) <= {("closed", 4009), ("served", None)}, outcomes
        # Not all: what the one closed held was given back.
        assert ("closed", 4009) in outcomes and ("served", None) in outcomes, outcomes
        assert await asyncio.to_thread(_share_refusals, site) == outcomes.count(("closed", 4009))

        # The other address's clients went on: the reader has the last note, a joiner loads it.
        await reader.wait_for(lambda: _notes(reader) == [note], EVENT_WAIT)
        joiner = await open_client(configs[-1])
        clients.append(joiner)
        assert _notes(joiner) == [note] and writer.close_code is None and reader.close_code is None

        # The closed client resumes, and gets the board as it is.
        index = next(n for n, outcome in enumerate(outcomes) if outcome[0] == "closed")
        _, client_id, seq, incarnation = silent[index]
        back = await RawSocket.connect(
            configs[2 + index]["wsUrl"], configs[2 + index]["token"], source_address=attacker
        )
        try:
            assert (await back.read_message()).msgtype == ACK
            resume = new_message(RESUME_REQ, {"last_seq": seq, "client_id": client_id, "incarnation": incarnation})
            reply = await back.request(resume, timeout=EVENT_WAIT)
            assert reply.msgtype == RESUME_REPLY and reply.content["mode"] == "full", reply.content  # it missed many
            (model,) = [m for m in reply.content["doc"]["models"] if m["attributes"].get("name") == "board"]
            assert model["attributes"]["notes"] == [note]
        finally:
            await back.close()
    finally:
        for client in clients:
            await client.close()
        for sock, *_ in silent:
            with contextlib.suppress(Exception):
                await sock.close()


#: Requests the silent socket sends between two of the tab's pulls: their replies it
#: leaves unread (116 bytes each) add far less than one pull (60 KiB), so the message
#: that passes the share is the tab's pull, never one of these.
BURST = 300
#: The tab pulls at most this often: a connection's document requests are limited to 10 a second.
PULL_EVERY = 0.11


def _queued_bytes(site: Site) -> int:
    return int(site.metrics()["docsync_queued_bytes"])


class Tab:
    """A socket that reads everything it is sent as it comes (an honest browser tab)."""

    def __init__(self, sock: RawSocket) -> None:
        self.sock = sock
        self.arrived = asyncio.Event()
        self.reading = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await self.sock.read_message(timeout=3600)
                self.arrived.set()
        self.arrived.set()

    async def request(self, message: Message) -> Message:
        """Send ``message``; return its reply (fail if the socket is closed first)."""
        await self.sock.send_message(message)
        async with asyncio.timeout(EVENT_WAIT):
            while True:
                for reply in self.sock.messages:
                    if reply.reqid == message.msgid:
                        return reply
                if self.reading.done():
                    pytest.fail(f"the reading tab was closed {self.sock.close_code}: {self.sock.close_reason}")
                self.arrived.clear()
                await self.arrived.wait()

    def notes(self) -> list[int]:
        """The numbers of the notes it was sent in patches, in order."""
        texts = [str(m.content) for m in self.sock.messages if m.msgtype == PATCH_DOC]
        return [int(found) for text in texts for found in re.findall(r"note (\d+) x", text)]


async def test_the_silent_socket_is_closed_not_its_addresss_reading_tab(site: Site) -> None:
    address = "127.0.33.3"  # the silent socket and the tab; the writer connects from 127.0.0.1
    room = f"?room=share-tab-{uuid.uuid4().hex[:8]}"
    browser = await asyncio.to_thread(site.browser)
    configs = [await asyncio.to_thread(browser.page_config, "board", room) for _ in range(3)]
    writer = await open_client(configs[0])
    board = writer.document.get_model_by_name("board")
    silent, *_ = await _silent(configs[1], address)
    sock = await RawSocket.connect(configs[2]["wsUrl"], configs[2]["token"], source_address=address)
    assert (await sock.read_message()).msgtype == ACK
    tab = Tab(sock)
    log = ServerLog(site.log_path())
    refused = await asyncio.to_thread(_share_refusals, site)
    pushed = 0

    async def push() -> None:
        nonlocal pushed
        pushed += 1
        board.notes = [f"note {pushed} " + "x" * NOTE_BYTES]  # type: ignore[union-attr]  # each pull: 60 KiB
        await writer.sync(EVENT_WAIT)

    try:
        # Notes fill the kernel's buffers for the silent one, then most of its share: a note
        # (60 KiB to it, and to the tab until written) is far from passing it.
        while await asyncio.to_thread(_queued_bytes, site) < SHARE - 6 * NOTE_BYTES and pushed < NOTES:
            await push()
        assert not log.lines(SHARE_CLOSE), f"closed by {pushed} notes"
        # Then the silent one's unread replies, a little at a time, until the tab's pull would pass the share.
        pulls = 0
        closes: list[bytes] = []
        while not closes and pulls < 50:
            for _ in range(BURST):
                await silent.send_message(new_message(SERVER_INFO_REQ, {}))
            await asyncio.sleep(PULL_EVERY)
            assert (await tab.request(new_message(PULL_DOC_REQ, {}))).msgtype == PULL_DOC_REPLY
            pulls += 1
            closes = log.lines(SHARE_CLOSE)
        print(f"closed after {pushed} notes and {pulls} pulls")
        assert closes and all(b"(MAX_QUEUED_BYTES_PER_CLIENT)" in line for line in closes), closes
        assert await asyncio.to_thread(_share_refusals, site) == refused + 1  # one socket closed

        # The silent one finds 4009 after what it was sent; the tab goes on, sent every note.
        assert await _outcome(silent) == ("closed", 4009)
        for _ in range(5):
            await push()
        await tab.request(new_message(SERVER_INFO_REQ, {}))  # answered after every patch before it
        assert tab.notes() == list(range(1, pushed + 1))
        assert not tab.reading.done() and writer.close_code is None
    finally:
        await writer.close()
        tab.reading.cancel()
        for closing in (silent, sock):
            with contextlib.suppress(Exception):
                await closing.close()
