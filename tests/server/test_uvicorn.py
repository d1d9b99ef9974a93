"""The same project under uvicorn: round trips, binary arrays both ways, a 16 MB pull.

Under uvicorn the consumer hands binary payloads to the server as memoryviews (one
copy fewer than ASGI's bytes); these tests show the arrays still arrive exact.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from channels.sessions import InstanceSessionWrapper
from uvicorn.protocols.websockets.websockets_impl import WebSocketProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from docsync.server.compat import asgi_server_frame_limit, frame_send, incoming_limit, takes_views

from .clients import ServerUnderTest, open_session, page_config, pulled_document, wait_until
from .conftest import StartServer


@pytest.fixture(scope="module")
def uvicorn_server(start_server: StartServer) -> Iterator[ServerUnderTest]:
    """A uvicorn process (its default websockets-sansio implementation) serving the test settings."""
    server = start_server("uvicorn", kind="uvicorn")
    yield server
    server.process.stop()


def test_views_go_only_to_servers_known_to_copy_them() -> None:
    # Only the bound send is looked at, so bare instances do.
    assert takes_views(WebSocketsSansIOProtocol.__new__(WebSocketsSansIOProtocol).send)
    assert takes_views(WebSocketProtocol.__new__(WebSocketProtocol).asgi_send)

    async def other_send(message: dict[str, object]) -> None:
        return None

    assert not takes_views(other_send)
    assert not takes_views(print)
    assert frame_send(other_send) is other_send


def test_frames_are_sent_below_every_session_wrapper() -> None:
    async def server_send(message: dict[str, object]) -> None:
        return None

    outer = InstanceSessionWrapper({"type": "websocket", "cookies": {}}, server_send)
    inner = InstanceSessionWrapper(outer.scope, outer.send)  # a second session middleware inside
    assert outer.activated and not inner.activated
    assert frame_send(inner.send) is server_send
    assert frame_send(outer.send) is server_send


def test_asgi_server_limits_are_read_and_daphnes_raised_to_docsyncs() -> None:
    from functools import partial
    from types import SimpleNamespace

    from daphne.server import Server
    from daphne.ws_protocol import WebSocketProtocol as DaphneProtocol

    sansio = WebSocketsSansIOProtocol.__new__(WebSocketsSansIOProtocol)
    sansio.config = SimpleNamespace(ws_max_size=1000)  # type: ignore[assignment]
    assert incoming_limit(sansio.send) == 1000
    assert asgi_server_frame_limit(sansio.send, 5000) == 1000  # uvicorn's is only read (W008 and a log say the fix)

    daphne = DaphneProtocol.__new__(DaphneProtocol)
    daphne.maxMessagePayloadSize = daphne.maxFramePayloadSize = 1 << 20  # daphne's default
    send = partial(Server.__new__(Server).handle_reply, daphne)  # as daphne makes it
    assert asgi_server_frame_limit(send, 16 << 20) == 16 << 20
    assert (daphne.maxMessagePayloadSize, daphne.maxFramePayloadSize) == (16 << 20, 16 << 20)
    daphne.maxMessagePayloadSize = daphne.maxFramePayloadSize = 1 << 30  # set higher by the operator: kept
    assert asgi_server_frame_limit(send, 16 << 20) == 1 << 30
    assert asgi_server_frame_limit(print, 16 << 20) is None


@pytest.mark.asyncio
async def test_big_document_pull_and_binary_patches_under_uvicorn(uvicorn_server: ServerUnderTest) -> None:
    config = await page_config(uvicorn_server, "bench_big")
    session = await open_session(config)
    try:
        source = session.document.get_model_by_name("source")
        x = source.data["x"]
        assert x.dtype == np.float64 and x.shape == (1_000_000,)
        np.testing.assert_array_equal(x, np.linspace(0, 10, 1_000_000))
        np.testing.assert_array_equal(source.data["y"], np.sin(x / 10))

        # Slider → the callback's new y comes back as a binary buffer.
        session.document.get_model_by_name("slider").value = 7
        await session.sync()
        np.testing.assert_array_equal(source.data["y"], np.sin(x * 7 / 10))

        # A second connection pulls the session's arrays as they are now.
        doc_json, buffers = await pulled_document(config)
        assert doc_json["roots"] and len(buffers) == 2
        assert {len(data) for _, data in buffers} == {8_000_000}
        assert any(np.array_equal(np.frombuffer(data, dtype=np.float64), np.sin(x * 7 / 10)) for _, data in buffers)
    finally:
        await session.close()


@pytest.mark.asyncio
async def test_round_trips_on_a_shared_session_under_uvicorn(uvicorn_server: ServerUnderTest) -> None:
    config = await page_config(uvicorn_server, "bench")
    first = await open_session(config)
    second = await open_session(config)  # the same token: the same session
    try:
        x = first.document.get_model_by_name("source").data["x"]
        for value in (3, 42, 99):
            first.document.get_model_by_name("slider").value = value
            await first.sync()
            np.testing.assert_array_equal(first.document.get_model_by_name("source").data["y"], np.sin(x * value / 10))
        await wait_until(
            lambda: second.document.get_model_by_name("slider").value == 99, 5, "the second connection to follow"
        )
        # A client's own array (binary, client to server) reaches the other connection exact.
        mine = np.arange(1000, dtype=np.float64) * 0.5
        first.document.get_model_by_name("source").data["y"] = mine
        await first.sync()
        await wait_until(
            lambda: np.array_equal(second.document.get_model_by_name("source").data["y"], mine),
            5,
            "the client's array to reach the second connection",
        )
    finally:
        await first.close()
        await second.close()


def _write_syscalls(pid: int) -> int:
    """The write syscalls the process made so far (all its threads; /proc/<pid>/io)."""
    for line in open(f"/proc/{pid}/io").read().splitlines():  # noqa: SIM115 - read at once
        if line.startswith("syscw:"):
            return int(line.split()[1])
    raise AssertionError("no syscw in /proc/<pid>/io")


@pytest.mark.asyncio
async def test_each_reply_is_one_socket_write_under_uvicorn(uvicorn_server: ServerUnderTest) -> None:
    # A round trip's answer is two messages, 8 frames (OK: 3; PATCH-DOC with y's buffer: 5).
    # Each frame was a write syscall of its own; each message is now one write of all its
    # frames, still separate websocket frames that the client parses as before.
    config = await page_config(uvicorn_server, "bench")
    session = await open_session(config)
    try:
        source = session.document.get_model_by_name("source")
        x = source.data["x"]
        slider = session.document.get_model_by_name("slider")
        rounds = 40
        before = _write_syscalls(uvicorn_server.process.pid)
        for value in range(1, rounds + 1):
            slider.value = value
            await session.sync()
        writes = _write_syscalls(uvicorn_server.process.pid) - before
        np.testing.assert_array_equal(source.data["y"], np.sin(x * rounds / 10))
        # 2 per round trip, and some slack for the admin's live-session table (SQLite
        # writes every ADMIN_REFRESH); 8 frame by frame would be 320.
        assert writes <= 3 * rounds, f"{writes} write syscalls for {rounds} round trips"
    finally:
        await session.close()
