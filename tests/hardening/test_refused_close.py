"""A refused client gets its ERROR and the close frame, however late it reads, under daphne and uvicorn.

A refusal queues an ERROR and a close frame (``DocumentConsumer.close_with``). The
client may still be sending when they leave, and on a loaded machine it may not read
for a while. daphne (autobahn) used to drop the TCP connection with a reset one second
after its close frame when no close came back: the client's next write then failed
with ECONNRESET and its event loop closed the socket without reading what the kernel
held for it, the ERROR and the close frame included (close code 1006, seen by the fuzz
test on a loaded 2-core CI machine). Here the client stalls, without reading, for
longer than that second, and for longer than daphne's wait now (it half-closes then),
then sends on, then reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import websockets

from docsync.server.compat.daphne import CLOSE_HANDSHAKE_SECONDS
from docsync.testing import RawSocket

from .harness import Database, Site

#: Longer than autobahn's close handshake timeout (1 s, the reset's trigger), and than docsync's under daphne.
STALLS = (2.5, CLOSE_HANDSHAKE_SECONDS + 1.5)
BURST = 200  # binary frames sent after the refused message, before and after the stall


@pytest.fixture(scope="module", params=["daphne", "uvicorn"])
def close_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, database: Database
) -> Iterator[Site]:
    site = Site(tmp_path_factory.mktemp(f"refused-{request.param}"), database, server=request.param)
    site.start()
    try:
        yield site
    finally:
        site.stop()


def _refused_frames() -> list[str | bytes]:
    """A RESUME-REQ whose header has num_buffers null (refused with 1002), then binary frames."""
    header = {"msgid": "r1", "msgtype": "RESUME-REQ", "num_buffers": None}
    frames: list[str | bytes] = [json.dumps(header), "{}", json.dumps({"last_seq": 0, "client_id": "c"})]
    return frames + [bytes(64)] * (BURST // 2)


async def _stalled_refusal(site: Site, config: dict[str, Any], stall: float) -> RawSocket:
    sock = await RawSocket.connect(site.ws_url("all_models"), config["token"])
    assert (await sock.read_message()).msgtype == "ACK"
    with contextlib.suppress(websockets.ConnectionClosed):
        for frame in _refused_frames():
            await sock.socket.send(frame)
    # A loaded client: its thread is off the CPU mid-burst, reading nothing, answering no close.
    time.sleep(stall)
    with contextlib.suppress(websockets.ConnectionClosed):
        for _ in range(BURST // 2):
            await sock.socket.send(bytes(64))
    with contextlib.suppress(websockets.ConnectionClosed):
        while True:
            await sock.read_message(timeout=20)
    return sock


@pytest.mark.parametrize("stall", STALLS)
def test_a_stalled_refused_client_still_reads_the_error_and_the_close(close_site: Site, stall: float) -> None:
    config = close_site.browser().page_config("all_models")
    sock = asyncio.run(_stalled_refusal(close_site, config, stall))
    what = f"stall {stall} s: close {sock.close_code}, messages {[m.content for m in sock.messages[1:]]}"
    assert sock.close_code == 1002, what
    assert [m.msgtype for m in sock.messages] == ["ACK", "ERROR"], what
    assert sock.messages[-1].content.get("code") == "close-1002", what
    assert str(sock.messages[-1].content.get("text")).startswith("num_buffers must be a non-negative integer"), what
    assert close_site.alive
    assert "Traceback" not in close_site.log_text()


async def _refused_for(site: Site, config: dict[str, Any], msgtype: str) -> RawSocket:
    sock = await RawSocket.connect(site.ws_url("all_models"), config["token"])
    assert (await sock.read_message()).msgtype == "ACK"
    for frame in (json.dumps({"msgid": "m1", "msgtype": msgtype}, ensure_ascii=False), "{}", "{}"):
        await sock.socket.send(frame)
    with contextlib.suppress(websockets.ConnectionClosed):
        while True:
            await sock.read_message(timeout=20)
    return sock


@pytest.mark.parametrize("character", ["B", "\u00e9", "\U0001f600"])
def test_a_reason_too_long_for_a_close_frame_is_cut_to_its_123_bytes(close_site: Site, character: str) -> None:
    # The reason quotes the unknown msgtype, cut to 60 characters: 60 emoji are 240 bytes
    # of UTF-8, past the 123 bytes a close frame holds for it (RFC 6455 5.5). Cut by
    # characters (120), uvicorn could not send the close frame and dropped the
    # connection (1006, no close code); the ERROR before it carries the whole reason.
    config = close_site.browser().page_config("all_models")
    sock = asyncio.run(_refused_for(close_site, config, character * 300))
    [error] = [m.content for m in sock.messages if m.msgtype == "ERROR"]
    assert error["code"] == "close-1002" and error["text"].startswith("unknown message type '" + character * 17)
    assert sock.close_code == 1002, f"close {sock.close_code} {sock.close_reason!r}"
    reason = sock.close_reason or ""
    assert 0 < len(reason.encode()) <= 123 and error["text"].startswith(reason)
    # As much of the reason as fits: what is cut off would not fit with its next character.
    assert len(reason.encode()) > 123 - len(character.encode()) or reason == error["text"]
