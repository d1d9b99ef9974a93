"""The same project under uvicorn: round trips, binary arrays both ways, a 16 MB pull.

Under uvicorn the consumer hands binary payloads to the server as memoryviews (one
copy fewer than ASGI's bytes); these tests show the arrays still arrive exact.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from docsync.testing import EVENT_WAIT

from .clients import ServerUnderTest, open_session, page_config, pulled_document, wait_until
from .conftest import StartServer


@pytest.fixture(scope="module")
def uvicorn_server(start_server: StartServer) -> Iterator[ServerUnderTest]:
    """A uvicorn process (its default websockets-sansio implementation) serving the test settings."""
    server = start_server("uvicorn", kind="uvicorn")
    yield server
    server.server.stop()


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
        await session.sync(EVENT_WAIT)
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
            await first.sync(EVENT_WAIT)
            np.testing.assert_array_equal(first.document.get_model_by_name("source").data["y"], np.sin(x * value / 10))
        await wait_until(
            lambda: second.document.get_model_by_name("slider").value == 99, 5, "the second connection to follow"
        )
        # A client's own array (binary, client to server) reaches the other connection exact.
        mine = np.arange(1000, dtype=np.float64) * 0.5
        first.document.get_model_by_name("source").data["y"] = mine
        await first.sync(EVENT_WAIT)
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
        before = _write_syscalls(uvicorn_server.server.pid)
        for value in range(1, rounds + 1):
            slider.value = value
            await session.sync(EVENT_WAIT)
        writes = _write_syscalls(uvicorn_server.server.pid) - before
        np.testing.assert_array_equal(source.data["y"], np.sin(x * rounds / 10))
        # 2 per round trip, and some slack for the admin's live-session table (SQLite
        # writes every ADMIN_REFRESH); 8 frame by frame would be 320.
        assert writes <= 3 * rounds, f"{writes} write syscalls for {rounds} round trips"
    finally:
        await session.close()
