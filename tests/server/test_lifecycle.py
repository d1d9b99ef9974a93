"""Lifecycle hooks, session expiry and its timing, and callbacks removed on expiry."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from docsync.testing import REPLY_TIMEOUT

from .clients import LIFETIME, ServerUnderTest, open_session, page_config, wait_until
from .conftest import StartServer

#: How long a test waits for an expiry before calling it lost: a bound against hanging,
#: far beyond ``LIFETIME + CHECK_INTERVAL`` (the tests assert no upper bound on timing).
EXPIRY_WAIT = LIFETIME + REPLY_TIMEOUT


def _lines(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    return [line.split() for line in path.read_text(encoding="utf-8").splitlines()]


def _destroyed(path: Path, session_id: str) -> list[float]:
    return [float(line[2]) for line in _lines(path) if line[:2] == ["destroyed", session_id]]


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["daphne", "uvicorn"])
async def test_every_hook_fires_once_in_order(start_server: StartServer, kind: str) -> None:
    # docs/howto/deploying.md: on_server_unloaded runs at the process's exit under daphne,
    # and on uvicorn's lifespan shutdown (--lifespan on).
    server = start_server(f"lifecycle-{kind}", kind)
    try:
        config = await page_config(server, "lifecycle")
        assert not server.hook_log.exists()  # the page creates no session
        first = await open_session(config)
        second = await open_session(config)  # the same session: no second creation
        assert first.document.get_model_by_name("intro") is not None
        await first.close()
        await second.close()
        await wait_until(
            lambda: any(line[0] == "on_session_destroyed" for line in _lines(server.hook_log)),
            EXPIRY_WAIT,
            "the session to expire",
        )
        before_stop = _lines(server.hook_log)
        assert [line[0] for line in before_stop] == ["on_server_loaded", "on_session_created", "on_session_destroyed"]
    finally:
        exit_code = server.server.stop()  # SIGTERM: a clean stop

    # uvicorn (0.29 and later) exits by the SIGTERM it caught, once its shutdown is done.
    assert exit_code == 0 or (kind == "uvicorn" and exit_code == -signal.SIGTERM), exit_code
    assert _lines(server.hook_log) == [
        ["on_server_loaded", "lifecycle"],
        ["on_session_created", config["sessionId"]],
        ["on_session_destroyed", config["sessionId"]],
        ["on_server_unloaded", "lifecycle"],
    ]


@pytest.mark.asyncio
async def test_unused_session_expires_after_its_lifetime(server: ServerUnderTest) -> None:
    config = await page_config(server, "ticker")
    session = await open_session(config)
    # Taken before the close starts: the server may see the socket go (and start the
    # lifetime) before the client's close() returns, so a time taken after it could be
    # later than the server's and fail a server that kept the session its whole lifetime.
    closing = time.time()
    await session.close()

    await wait_until(
        lambda: bool(_destroyed(server.tick_log, config["sessionId"])),
        EXPIRY_WAIT,
        "the unused session to expire",
    )
    [destroyed] = _destroyed(server.tick_log, config["sessionId"])
    assert destroyed - closing >= LIFETIME, "destroyed before its lifetime"
    created = [line for line in _lines(server.tick_log) if line[:2] == ["created", config["sessionId"]]]
    assert len(created) == 1


async def expired_ticker(server: ServerUnderTest) -> float:
    """Open and close a ticker session, wait until it expires; return when it was destroyed (server's clock).

    By then every session that was unused for longer had its chance to expire too: a
    clock made of the server's own expiry, not of sleeps.
    """
    config = await page_config(server, "ticker")
    await (await open_session(config)).close()
    await wait_until(lambda: bool(_destroyed(server.tick_log, config["sessionId"])), EXPIRY_WAIT, "an expiry")
    return _destroyed(server.tick_log, config["sessionId"])[0]


@pytest.mark.asyncio
async def test_connected_session_does_not_expire(server: ServerUnderTest) -> None:
    config = await page_config(server, "sliders")
    session = await open_session(config)
    try:
        await expired_ticker(server)  # opened after this one, expired already
        # Still the same session: a change round-trips and a new connection sees it.
        session.document.get_model_by_name("phase").value = 1.0
        await session.sync(timeout=REPLY_TIMEOUT)
        other = await open_session(config)
        try:
            assert other.document.get_model_by_name("phase").value == 1.0
        finally:
            await other.close()
    finally:
        await session.close()


@pytest.mark.asyncio
async def test_no_callback_runs_after_session_destroyed(server: ServerUnderTest) -> None:
    config = await page_config(server, "ticker")
    session = await open_session(config)
    tag = session.document.get_model_by_name("tag").text

    def ticks(of: str) -> list[tuple[float, float]]:
        return [(float(line[2]), float(line[3])) for line in _lines(server.tick_log) if line[:2] == ["tick", of]]

    await wait_until(lambda: len(ticks(tag)) >= 3, REPLY_TIMEOUT, "the periodic callback to run")
    await session.close()
    closed = time.time()
    await wait_until(
        lambda: bool(_destroyed(server.tick_log, config["sessionId"])),
        EXPIRY_WAIT,
        "the session to expire",
    )
    [destroyed] = _destroyed(server.tick_log, config["sessionId"])
    # A callback wrongly left scheduled would tick with another session's: wait for ten
    # of those after the destruction (the server's progress, not a sleep).
    witness = await open_session(config)
    try:
        witness_tag = witness.document.get_model_by_name("tag").text
        await wait_until(
            lambda: sum(start > destroyed for start, _ in ticks(witness_tag)) >= 10,
            REPLY_TIMEOUT,
            "ten ticks of another session",
        )
    finally:
        await witness.close()

    recorded = ticks(tag)
    assert any(start > closed for start, _ in recorded), "ticks stopped when the connection closed"
    late = [(start, end) for start, end in recorded if end > destroyed]
    assert late == [], f"callbacks ran after on_session_destroyed at {destroyed}: {late}"
