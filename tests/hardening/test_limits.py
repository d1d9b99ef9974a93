"""Each limit is refused with its ERROR and close code, and nothing is lost.

After every refused input the session's document, pulled afresh over another
connection, is exactly what it was, and a valid patch that follows (on a new connection
when the refused one was closed) is applied. The main site's cases run under daphne and
under uvicorn (the ASGI server reads each frame first); the process's session cap is
docsync's own count, on one daphne site.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
import pytest_asyncio
import websockets

from docsync.client import ClientSession
from docsync.protocol import ERROR, OK, PATCH_DOC, PUSH_DOC, new_message
from docsync.testing import EVENT_WAIT

from .conftest import MAX_CONNECTIONS_PER_SESSION, MAX_PATCHES_PER_SECOND, main_site_on_each_server
from .harness import (
    Database,
    RawSocket,
    Site,
    expect_refusal,
    find_model,
    open_client,
    open_raw,
    pull_json,
    running_site,
    set_value_patch,
    wait_until,
)
from .settings import MAX_BUFFERS, MAX_CLIENT_MODELS, MAX_FRAME_BYTES, MAX_MESSAGE_BYTES

TOO_BIG, PROTOCOL_ERROR, TRY_AGAIN, TOO_MANY_CONNECTIONS, RATE_LIMITED = 1009, 1002, 1013, 4008, 4029
_values = itertools.count(1)

site = main_site_on_each_server("limits")


@dataclass
class Target:
    """A live session of the limits app, kept alive by an observer connection."""

    config: dict[str, Any]
    observer: ClientSession
    before: dict[str, Any]

    @property
    def url(self) -> str:
        return str(self.config["wsUrl"])

    @property
    def slider_id(self) -> str:
        return str(find_model(self.before, "slider")["id"])

    async def raw(self) -> RawSocket:
        sock = await open_raw(self.url, self.config["token"])
        assert sock.messages[0].msgtype == "ACK"
        return sock

    async def assert_nothing_lost(self) -> None:
        """The document is as it was, and a valid patch on a new connection applies."""
        assert await pull_json(self.config) == self.before, "a refused input changed the document"
        value = float(next(_values))
        writer = await open_client(self.config)
        try:
            writer.document.get_model_by_name("slider").value = value  # type: ignore[union-attr]
            await writer.sync(EVENT_WAIT)
            assert not writer.errors, [e.content for e in writer.errors]
        finally:
            await writer.close()
        after = await pull_json(self.config)
        assert find_model(after, "slider")["attributes"]["value"] == value
        assert not self.observer.errors and self.observer.close_code is None
        await self.observer.wait_for(
            lambda: self.observer.document.get_model_by_name("slider").value == value,  # type: ignore[union-attr]
            EVENT_WAIT,
        )
        self.before = after


async def _target(site: Site, app: str = "limits") -> Target:
    config = site.browser().page_config(app)
    observer = await open_client(config)
    return Target(config, observer, await pull_json(config))


@pytest_asyncio.fixture
async def target(site: Site) -> AsyncIterator[Target]:
    made = await _target(site)
    try:
        yield made
    finally:
        await made.observer.close()


def _header(msgtype: str = PATCH_DOC, **fields: Any) -> str:
    return orjson.dumps({"msgid": "x1", "msgtype": msgtype, **fields}).decode()


def _buffers(count: int, size: int) -> list[str | bytes]:
    frames: list[str | bytes] = []
    for i in range(count):
        frames += [orjson.dumps({"id": f"b{i}"}).decode(), bytes(size)]
    return frames


#: name -> (frames, close code, ERROR text)
OVERSIZED: dict[str, tuple[Callable[[], list[str | bytes]], int, str]] = {
    "text frame too large": (
        lambda: ["x" * (MAX_FRAME_BYTES + 1)],
        TOO_BIG,
        f"frame too large: {MAX_FRAME_BYTES + 1} > {MAX_FRAME_BYTES} bytes",
    ),
    "binary frame too large": (
        lambda: [_header(num_buffers=1), "{}", '{"events": []}', '{"id": "b"}', bytes(MAX_FRAME_BYTES + 1)],
        TOO_BIG,
        f"frame too large: {MAX_FRAME_BYTES + 1} > {MAX_FRAME_BYTES} bytes",
    ),
    "message too large": (
        # Every frame is under the frame limit; together they are over the message limit.
        lambda: [_header(num_buffers=MAX_BUFFERS), "{}", '{"events": []}', *_buffers(MAX_BUFFERS, MAX_FRAME_BYTES)],
        TOO_BIG,
        "message too large: ",
    ),
    "too many buffers": (
        lambda: [_header(num_buffers=MAX_BUFFERS + 1)],
        TOO_BIG,
        f"too many buffers: {MAX_BUFFERS + 1} > {MAX_BUFFERS}",
    ),
    "invalid JSON header": (lambda: ["{nope"], PROTOCOL_ERROR, "invalid JSON in header frame"),
    "binary header": (lambda: [b"\x00\x01"], PROTOCOL_ERROR, "expected text header frame, got binary frame"),
    "unknown message type": (lambda: [_header("NOPE")], PROTOCOL_ERROR, "unknown message type 'NOPE'"),
}


def test_limits_are_settings_below_the_frames_sent() -> None:
    assert MAX_BUFFERS * MAX_FRAME_BYTES > MAX_MESSAGE_BYTES


@pytest.mark.asyncio
@pytest.mark.parametrize("case", sorted(OVERSIZED))
async def test_oversized_or_malformed_input_closes_with_its_code(target: Target, case: str) -> None:
    frames, code, text = OVERSIZED[case]
    sock = await target.raw()
    await sock.send_frames(*frames())
    assert (await sock.until_closed()).code == code
    errors = sock.errors()
    assert len(errors) == 1 and errors[0].startswith(text), errors
    await target.assert_nothing_lost()


@pytest.mark.asyncio
async def test_a_deflated_frame_is_held_to_the_frame_limit_once_inflated(site: Site, target: Target) -> None:
    """A client frame compressed on the wire is judged by the bytes docsync reads, under either server.

    uvicorn takes the permessage-deflate a client offers (every browser does) unless started
    with ``--ws-per-message-deflate false``; daphne does not compress (docs/howto/deploying.md,
    *The server*). Under uvicorn this text frame of one byte over the frame limit travels as
    83 bytes, and uvicorn hands docsync all of it: refused as too large (1009).
    """
    host = target.url.split("/")[2]
    socket = await websockets.connect(
        target.url,
        subprotocols=["docsync", target.config["token"]],  # type: ignore[list-item]
        origin=f"http://{host}",  # type: ignore[arg-type]
        compression="deflate",
        max_size=None,
    )
    sock = RawSocket(socket)
    assert (await sock.read_message()).msgtype == "ACK"
    offered = socket.response.headers.get("Sec-WebSocket-Extensions", "")
    assert offered.startswith("permessage-deflate") is (site.server.server == "uvicorn"), offered
    await sock.send_frames("x" * (MAX_FRAME_BYTES + 1))
    assert (await sock.until_closed()).code == TOO_BIG
    assert sock.errors() == [f"frame too large: {MAX_FRAME_BYTES + 1} > {MAX_FRAME_BYTES} bytes"]
    await target.assert_nothing_lost()


@pytest.mark.asyncio
async def test_connections_per_session(target: Target) -> None:
    # The observer is one; the page's token opens the others.
    others = [await target.raw() for _ in range(MAX_CONNECTIONS_PER_SESSION - 1)]
    code, errors = await expect_refusal(target.url, target.config["token"])
    assert (code, errors) == (TOO_MANY_CONNECTIONS, ["too many connections to this session"])
    # Those already attached are served as before.
    for sock in others:
        reply = await sock.request(set_value_patch(target.slider_id, "value", 7.0))
        assert reply.msgtype == OK
        await sock.close()
    target.before = await _pull_when_free(target)
    await target.assert_nothing_lost()


async def _pull_when_free(target: Target) -> dict[str, Any]:
    # Closed sockets are detached by the server shortly after they close (on a loaded
    # machine, seconds): tried until a deadline, not a number of times.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            return await pull_json(target.config)
        except AssertionError:
            await asyncio.sleep(0.05)
    raise AssertionError("the session had no free connection slot again in 60 s")


@pytest.mark.asyncio
async def test_patches_per_second(target: Target) -> None:
    sock = await target.raw()
    closed = asyncio.create_task(sock.until_closed(10))
    sent: dict[str, float] = {}
    count = 8 * MAX_PATCHES_PER_SECOND
    with contextlib.suppress(websockets.ConnectionClosed):  # the server may close first
        for value in range(1, count + 1):
            patch = set_value_patch(target.slider_id, "value", float(value))
            sent[patch.msgid] = float(value)
            await sock.send_message(patch)
    assert (await closed).code == RATE_LIMITED
    assert sock.errors() == ["too many patches per second"]
    answered = [m for m in sock.messages if m.msgtype == OK]
    # The burst allowance is the rate itself; what was accepted is in the document, in order.
    assert MAX_PATCHES_PER_SECOND <= len(answered) < count
    last = max(sent[m.reqid] for m in answered if m.reqid is not None)
    assert last == len(answered)
    target.before["models"] = [
        {**m, "attributes": {**m["attributes"], "value": last}} if m["id"] == target.slider_id else m
        for m in target.before["models"]
    ]
    await target.assert_nothing_lost()


@pytest.mark.asyncio
async def test_models_created_by_the_client(target: Target) -> None:
    sock = await target.raw()
    count = MAX_CLIENT_MODELS + 1
    references = [
        {"type": "object", "name": "Div", "id": f"client-{i}", "attributes": {"text": f"new {i}"}} for i in range(count)
    ]
    events = [{"kind": "RootAdded", "model": {"id": f"client-{i}"}} for i in range(count)]
    patch = new_message(PATCH_DOC, {"events": events, "references": references})
    reply = await sock.request(patch)
    assert reply.msgtype == ERROR
    text = f"too many models created by clients: at most {MAX_CLIENT_MODELS} ({count} defined by this patch, 0 before)"
    assert reply.content["text"] == text
    # The refused structural change reset the sender's document to the server's (after the
    # answer, as everything the patch caused).
    while not any(m.msgtype == PUSH_DOC for m in sock.messages):
        await sock.read_message(5.0)
    resets = [m for m in sock.messages if m.msgtype == PUSH_DOC]
    assert len(resets) == 1 and resets[0].content["doc"] == target.before
    # The same connection goes on: a valid patch applies.
    assert (await sock.request(set_value_patch(target.slider_id, "value", 3.0))).msgtype == OK
    await sock.close()
    target.before = await pull_json(target.config)
    assert find_model(target.before, "slider")["attributes"]["value"] == 3.0
    await target.assert_nothing_lost()


@pytest.fixture(scope="module")
def small_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    """A site that may hold two sessions."""
    yield from running_site(
        tmp_path_factory,
        database,
        "small",
        DOCSYNC_MAX_SESSIONS="2",
        DOCSYNC_UNUSED_SESSION_LIFETIME="0.5",
        DOCSYNC_METRICS_TOKEN="small-site-metrics-token",
    )


@pytest.mark.asyncio
async def test_sessions_per_process(small_site: Site) -> None:
    first, second = await _target(small_site), await _target(small_site)
    third = small_site.browser().page_config("limits")
    try:
        code, errors = await expect_refusal(third["wsUrl"], third["token"])
        assert code == TRY_AGAIN
        assert errors == ["this process holds its maximum of 2 sessions"]
        for held in (first, second):
            await held.assert_nothing_lost()
        # Once a session expires, the refused page's token opens its session.
        await second.observer.close()
        # The process's own count, not the admin table: that table is written on a period, so
        # it could show one row while the process still held both (a flake on a loaded CI).
        await wait_until(
            lambda: small_site.metrics().get('docsync_sessions{app="limits"}') == 1, 10, "the second session to expire"
        )
        accepted = await open_client(third)
        await accepted.close()
    finally:
        await first.observer.close()
        await second.observer.close()
