"""A client that stops reading, in a shared room, under daphne and uvicorn: nobody else waits for it.

Sessions queue what they send; each connection's writer drains its own queue, bounded by
``MAX_QUEUED_BYTES`` (docsync/server/outbox.py). The silent client here reads the ACK and
its pull, then nothing: its socket's receive buffer is small, so the server's socket
fills after a few notes. Meanwhile the others keep getting their OKs and every note, a
new joiner loads the board, the admin's detail page answers (and shows the bytes queued
for the silent one), and once its queue passes the bound the silent client is closed
with 4009; it resumes afterwards and gets the board as it is. The server's RSS grows by
less than what was pushed at it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from docsync.client import ClientSession
from docsync.protocol import ACK, PULL_DOC_REPLY, RESUME_REPLY, new_message
from docsync.protocol.msgtypes import PULL_DOC_REQ, RESUME_REQ
from docsync.testing import EVENT_WAIT, RawSocket
from project.examples import board as _board  # noqa: F401  (defines NoteBoard, which the client then reads)

from .harness import Site, open_client, site_on_each_server, wait_until

MIB = 1024 * 1024
#: The per-connection bound the site runs with (the default is 8 MiB; lower keeps this short).
BOUND = 1 * MIB
NOTE_BYTES = 60 * 1024  # under the hardening site's MAX_FRAME_BYTES (64 KiB)
NOTES = 600  # 35 MiB pushed at the silent client, far beyond what kernel buffers take
#: What the server may keep besides: the note being written to the silent one, the patch
#: log (PATCH_LOG_BYTES, 1 MiB), a few copies of the current note, the ASGI server's and
#: the allocator's slack. Without the bound, daphne kept everything pushed (35 MiB).
RSS_SLACK = 8 * MIB


slow_site = site_on_each_server(
    "slow",
    DOCSYNC_MAX_QUEUED_BYTES=str(BOUND),
    DOCSYNC_MAX_PATCHES_PER_SECOND="100000",
    DOCSYNC_MAX_PATCHES_PER_SECOND_PER_CLIENT="none",  # its sockets together too
    DOCSYNC_LOG_LEVEL="INFO",
)


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def _silent_client(config: dict[str, Any]) -> tuple[RawSocket, str, int, str]:
    """Connect with a small receive buffer, take the ACK and the pull; return (socket, client id, seq, incarnation)."""
    # A small window, and the library stops reading the socket once a frame waits unread.
    silent = await RawSocket.connect(config["wsUrl"], config["token"], receive_buffer=16 * 1024, max_queue=1)
    assert (await silent.read_message()).msgtype == ACK
    client_id = uuid.uuid4().hex[:16]
    reply = await silent.request(new_message(PULL_DOC_REQ, {"client_id": client_id}), timeout=EVENT_WAIT)
    assert reply.msgtype == PULL_DOC_REPLY
    return silent, client_id, int(reply.content["seq"]), str(reply.content["incarnation"])


class SilentClient:
    """The silent client, on a thread and event loop of its own: it reads again as soon as the server logs its close.

    daphne drops a socket whose client does not answer a close within 1 s, and the close
    frame waits behind the data the client left unread: a client that starts reading later
    sees 1006, not 4009. The test's own loop decodes every 60 KiB note for three clients
    and can be late by more than that under load; this thread only tails the log (the
    new bytes, every 10 ms) and then reads, so it is not held up by them.
    """

    def __init__(self, config: dict[str, Any], log: Path) -> None:
        self.config = config
        self.log = log
        self.offset = log.stat().st_size if log.exists() else 0  # only what is logged from now on
        self.started: concurrent.futures.Future[tuple[str, int, str]] = concurrent.futures.Future()
        #: The close code it read, and the reason.
        self.closed: concurrent.futures.Future[tuple[int | None, str | None]] = concurrent.futures.Future()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), name="silent-client", daemon=True)
        self.thread.start()

    def _close_logged(self, tail: bytes) -> tuple[bool, bytes]:
        with self.log.open("rb") as log:
            log.seek(self.offset)
            new = log.read()
        self.offset += len(new)
        tail += new
        return b"closing with 4009" in tail, tail[-64:]  # a line may be cut between two reads

    async def _run(self) -> None:
        try:
            silent, client_id, seq, incarnation = await _silent_client(self.config)
        except BaseException as exc:
            self.started.set_exception(exc)
            return
        self.started.set_result((client_id, seq, incarnation))
        try:
            tail, logged = b"", False
            while not logged and not self.stop.is_set():  # the test sets stop when it ends
                await asyncio.sleep(0.01)
                logged, tail = self._close_logged(tail)
            if logged:
                code = (await silent.until_closed(timeout=EVENT_WAIT)).code
                self.closed.set_result((code, silent.close_reason))
        except BaseException as exc:
            self.closed.set_exception(exc)
        finally:
            await silent.close()

    def close(self) -> None:
        """Stop waiting (if it still does) and wait for the thread to close its socket."""
        self.stop.set()
        self.thread.join(EVENT_WAIT)


def _notes(client: ClientSession) -> list[str]:
    return list(client.document.get_model_by_name("board").notes)  # type: ignore[union-attr]


def _queued_bytes(detail_page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td class="queued-bytes">(\d+)</td>', detail_page)]


@pytest.mark.asyncio
async def test_a_client_that_stops_reading_holds_up_no_one_and_is_closed_at_its_bound(slow_site: Site) -> None:
    room = f"?room=slow-{uuid.uuid4().hex[:8]}"
    browser = await asyncio.to_thread(slow_site.browser)
    configs = [await asyncio.to_thread(browser.page_config, "board", room) for _ in range(4)]
    session_id = configs[0]["sessionId"]
    operator = await asyncio.to_thread(slow_site.browser, "operator")
    detail_url = f"admin/docsync/livesession/{session_id}/live/"
    writer = await open_client(configs[0])
    reader = await open_client(configs[1])
    # It reads again as soon as the server has closed it, as a client that had only
    # stalled for a while (daphne drops a socket that does not answer a close in 1 s).
    silent = SilentClient(configs[2], slow_site.log_path())
    clients = [writer, reader]
    try:
        client_id, seq, incarnation = await asyncio.wrap_future(silent.started)
        await wait_until(lambda: slow_site.live_rows("board") != [], 10, "the room in the admin's table")
        rss_before = _rss(slow_site.server.pid)
        board = writer.document.get_model_by_name("board")
        queued_seen: list[int] = []
        for n in range(NOTES):
            note = f"note {n} " + "x" * NOTE_BYTES
            board.notes = [note]  # type: ignore[union-attr]  # a whole new value: the document stays small
            await writer.sync(EVENT_WAIT)  # its OK came: the session was not held up
            if n % 50 == 0:
                await reader.wait_for(lambda note=note: _notes(reader) == [note], EVENT_WAIT)  # type: ignore[misc]
            if not queued_seen:
                detail = await asyncio.to_thread(operator.get, detail_url)
                assert detail.status == 200
                queued_seen = [q for q in _queued_bytes(detail.body) if q > 0]
            if n == NOTES // 2:
                joiner = await open_client(configs[3])  # a new joiner loads meanwhile
                clients.append(joiner)
                assert _notes(joiner) == [note]
        await reader.wait_for(lambda: _notes(reader) == _notes(writer), EVENT_WAIT)
        # The admin showed bytes waiting for the silent client while it was stuck.
        assert queued_seen and max(queued_seen) >= NOTE_BYTES, queued_seen
        # Reading again, it found what was sent before the close, then the close: 4009.
        code, reason = await asyncio.wait_for(asyncio.wrap_future(silent.closed), EVENT_WAIT)
        assert code == 4009, (code, reason)
        assert "client reads too slowly" in slow_site.log_text()
        growth = _rss(slow_site.server.pid) - rss_before
        pushed = NOTES * NOTE_BYTES
        print(f"RSS growth {growth / MIB:.1f} MiB")
        assert growth < BOUND + RSS_SLACK, f"RSS grew by {growth / MIB:.1f} MiB ({pushed / MIB:.0f} MiB pushed)"

        # It resumes: it missed notes (far more than the patch log keeps), and gets the board as it is.
        back = await RawSocket.connect(configs[2]["wsUrl"], configs[2]["token"])
        assert (await back.read_message()).msgtype == ACK
        resume = new_message(RESUME_REQ, {"last_seq": seq, "client_id": client_id, "incarnation": incarnation})
        reply = await back.request(resume, timeout=EVENT_WAIT)
        assert reply.msgtype == RESUME_REPLY and reply.content["mode"] == "full" and not reply.content["fresh"]
        (model,) = [m for m in reply.content["doc"]["models"] if m["attributes"].get("name") == "board"]
        assert model["attributes"]["notes"] == _notes(writer)
        await back.close()

        # The admin can still end the session: everyone connected is closed with 4001.
        answer = await asyncio.to_thread(operator.post, detail_url, {"action": "expire"})
        assert answer.status == 302
        for client in clients:
            await client.wait_for(lambda c=client: c.close_code is not None, EVENT_WAIT)  # type: ignore[misc]
            assert client.close_code == 4001
    finally:
        for client in clients:
            await client.close()
        await asyncio.to_thread(silent.close)
