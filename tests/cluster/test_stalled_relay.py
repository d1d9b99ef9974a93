"""A relaying process that falls behind its owner: its relayed websocket is closed 4009, told why.

The owner bounds what waits for the relaying process per relayed websocket
(``MAX_QUEUED_BYTES``), as a socket's outbox bounds what waits for its client. The
relaying process is stopped here (SIGSTOP: a process too busy to read its route) while
the session changes by 40 MB; once it runs again it delivers the owner's close, and,
unlike a local slow reader's 4009 (whose client reads nothing), an ERROR naming the
reason before it (protocol.md §12).
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal

import pytest

from docsync.protocol import ERROR, PATCH_DOC, pull_doc_req
from docsync.testing import EVENT_WAIT, RawSocket
from project.examples import board as board_app  # noqa: F401  (defines NoteBoard, which the writer's document holds)

from .conftest import Cluster, connect, run

pytestmark = pytest.mark.cluster

CHANGES = 40
NOTE_BYTES = 1_000_000  # 40 MB in all: past the route's buffers, the kernel's and MAX_QUEUED_BYTES (8 MiB)


def test_a_relayed_websocket_whose_relaying_process_falls_behind_is_told_and_closed_4009(pair: Cluster) -> None:
    cluster = pair

    async def scenario() -> None:
        config = await asyncio.to_thread(cluster.page_config, "board", 0)
        writer = await connect(config, cluster.ws_url("board", 0))  # process 0 makes (owns) the room
        relayed = await RawSocket.connect(cluster.ws_url("board", 1), config["token"])
        await relayed.read_message(EVENT_WAIT)  # ACK
        await relayed.request(pull_doc_req(), EVENT_WAIT)
        board = writer.document.get_model_by_name("board")
        relaying = cluster.servers[1].serving_pid
        os.kill(relaying, signal.SIGSTOP)
        try:
            for _ in range(CHANGES):
                board.notes = [base64.b64encode(os.urandom(NOTE_BYTES * 3 // 4)).decode()]  # type: ignore[union-attr]
                await writer.sync(EVENT_WAIT)
        finally:
            os.kill(relaying, signal.SIGCONT)
        closed = await relayed.until_closed(EVENT_WAIT)
        patches = [m for m in closed.messages if m.msgtype == PATCH_DOC]
        last = closed.messages[-1]
        assert closed.code == 4009
        assert (last.msgtype, last.reqid, last.content) == (
            ERROR,
            None,
            {"text": "relay too far behind", "code": "close-4009"},
        )
        assert 0 < len(patches) < CHANGES, "some changes reached it before the owner gave up on it"
        await writer.close()

    run(scenario())
