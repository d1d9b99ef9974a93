"""One client's uploads in progress, over all its sessions, are bounded as its documents are.

``MAX_UPLOAD_BYTES`` bounds the uploads in progress of one session (the server holds what
they were sent until each finishes); a client may make ``MAX_SESSIONS_PER_CLIENT``
sessions, and against runserver six sessions of the gallery each holding a 32 MiB upload
grew the process by 192 MB (200 sessions: 6.4 GB). A session's uploads in progress now
count, at the size they announce, against its maker's ``MAX_DOCUMENT_BYTES_PER_CLIENT``
with its documents: the announcement that would pass it is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from docsync.protocol import ERROR, OK, PATCH_DOC, new_message
from docsync.serialization import Encoder
from docsync.testing import RawSocket

from .harness import Database, Site, open_raw, pull_json, running_site

pytestmark = pytest.mark.asyncio

UPLOAD = 900_000  # under each session's own bound (MAX_UPLOAD_BYTES below)
CAP = 3_000_000  # three of them, not four


@pytest.fixture(scope="module")
def upload_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    yield from running_site(
        tmp_path_factory,
        database,
        "upload-share",
        DOCSYNC_MAX_UPLOAD_BYTES="1000000",
        DOCSYNC_MAX_DOCUMENT_BYTES_PER_CLIENT=str(CAP),
        DOCSYNC_UNUSED_SESSION_LIFETIME="0.5",
    )


def _upload_event(file_input: str, msg_type: str, data: Any) -> Any:
    encoder = Encoder()
    event = {"kind": "MessageSent", "msg_type": msg_type, "msg_data": encoder.encode(data), "model": {"id": file_input}}
    return new_message(PATCH_DOC, {"events": [event]}, buffers=encoder.buffers)


def _start(file_input: str) -> Any:
    return _upload_event(
        file_input, "upload_start", {"upload": "u", "files": [{"name": "a.bin", "type": "", "size": UPLOAD}]}
    )


async def _session(site: Site) -> tuple[RawSocket, str]:
    """A new session of the all-models app (made by this socket), and its FileInput's id."""
    config = site.browser().page_config("all_models")
    sock = await open_raw(config["wsUrl"], config["token"])
    doc = await pull_json(config)
    return sock, next(m["id"] for m in doc["models"] if m["name"] == "FileInput")


async def test_uploads_in_progress_count_against_the_client(upload_site: Site) -> None:
    sessions = [await _session(upload_site) for _ in range(4)]
    try:
        for sock, file_input in sessions[:3]:
            reply = await sock.request(_start(file_input))
            assert reply.msgtype == OK, reply.content
        sock, file_input = sessions[3]
        reply = await sock.request(_start(file_input))
        assert reply.msgtype == ERROR and reply.content == {
            "text": "upload refused: this client's documents and uploads in progress would pass what it may hold"
            " (MAX_DOCUMENT_BYTES_PER_CLIENT)",
            "code": "patch-refused",
        }
        # A cancelled upload gives its bytes back; so does a session that ends.
        first, first_input = sessions[0]
        assert (await first.request(_upload_event(first_input, "upload_cancel", {"upload": "u"}))).msgtype == OK
        assert (await sock.request(_start(file_input))).msgtype == OK
        second = sessions[1][0]
        await second.close()
        fifth, fifth_input = await _session(upload_site)
        sessions.append((fifth, fifth_input))
        for _ in range(50):  # the session ends half a second after its socket went
            reply = await fifth.request(_start(fifth_input))
            if reply.msgtype == OK:
                break
            await asyncio.sleep(0.2)
        assert reply.msgtype == OK, reply.content
    finally:
        for sock, _ in sessions:
            await sock.close()
