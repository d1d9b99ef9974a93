"""An upload in progress when its process drains: the restored session has none; the client starts it again.

Uploads are not part of the document, so a snapshot holds none (persistence.md, *What is
saved*): after the drain (close 4012) and the restore, the upload's next chunk is
refused with a clear ERROR and nothing changed; a new ``upload_start`` then works.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from docsync.client import fetch_page_config
from docsync.protocol import ERROR, OK, PULL_DOC_REPLY, RESUME_REPLY, Message, new_message
from docsync.testing import EVENT_WAIT, RawSocket

from .conftest import Site

pytestmark = pytest.mark.asyncio

CLIENT = "upload-drain-0001"
CHUNK = b"a,b\n" * 25_000  # 100 kB


def upload_event(input_id: str, base: int, msg_type: str, data: dict[str, Any]) -> dict[str, Any]:
    event = {"kind": "MessageSent", "msg_type": msg_type, "msg_data": data, "model": {"id": input_id}}
    return {"events": [event], "references": [], "base": base}


def start(input_id: str, base: int, upload: str, size: int) -> Message:
    entries = [["name", "a.csv"], ["type", "text/csv"], ["size", size]]
    data = {"upload": upload, "files": [{"type": "map", "entries": entries}]}
    return new_message("PATCH-DOC", upload_event(input_id, base, "upload_start", data))


def chunk(input_id: str, base: int, upload: str, offset: int) -> Message:
    data = {"upload": upload, "file": 0, "offset": offset, "data": {"type": "bytes", "buffer": "c"}}
    return new_message("PATCH-DOC", upload_event(input_id, base, "upload_chunk", data), buffers=[("c", CHUNK)])


async def test_an_upload_cut_by_a_drain_is_refused_after_the_restore_and_starts_again(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    site = Site(tmp_path_factory.mktemp("upload-drain"))
    site.start()
    try:
        config = await asyncio.to_thread(fetch_page_config, site.url + "gallery/")
        sock = await RawSocket.connect(site.ws_url("gallery"), config["token"])
        await sock.read_message(EVENT_WAIT)  # ACK
        pulled = await sock.request(new_message("PULL-DOC-REQ", {"client_id": CLIENT}), EVENT_WAIT)
        assert pulled.msgtype == PULL_DOC_REPLY
        doc, seq, incarnation = pulled.content["doc"], pulled.content["seq"], pulled.content["incarnation"]
        upload = next(m["id"] for m in doc["models"] if m.get("attributes", {}).get("name") == "upload")
        assert (await sock.request(start(upload, seq, "u1", 3 * len(CHUNK)), EVENT_WAIT)).msgtype == OK
        assert (await sock.request(chunk(upload, seq, "u1", 0), EVENT_WAIT)).msgtype == OK
        site.server.terminate()  # SIGTERM: the drain
        assert (await sock.until_closed(EVENT_WAIT)).code == 4012
        site.server.wait_stopped()
        site.start()

        sock = await RawSocket.connect(site.ws_url("gallery"), config["token"])
        await sock.read_message(EVENT_WAIT)  # ACK
        resume = {"last_seq": seq, "client_id": CLIENT, "incarnation": incarnation}
        resumed = await sock.request(new_message("RESUME-REQ", resume), EVENT_WAIT)
        assert (resumed.msgtype, resumed.content["mode"]) == (RESUME_REPLY, "replay")  # not fresh: restored
        refused = await sock.request(chunk(upload, seq, "u1", len(CHUNK)), EVENT_WAIT)
        assert (refused.msgtype, refused.content) == (
            ERROR,
            {"text": "FileInput chunk of an upload that is not in progress", "code": "patch-refused"},
        )
        assert (await sock.request(start(upload, seq, "u2", len(CHUNK)), EVENT_WAIT)).msgtype == OK
        done = await sock.request(chunk(upload, seq, "u2", 0), EVENT_WAIT)
        assert (done.msgtype, done.content["rejected"]) == (OK, 0)
        await sock.close()
    finally:
        site.stop()
