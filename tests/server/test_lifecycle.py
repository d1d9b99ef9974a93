"""Lifecycle hooks, session expiry and its timing, and callbacks removed on expiry."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from .apps_for_tests import TICK_BUSY_S, TICK_PERIOD_MS
from .clients import ServerUnderTest, open_session, page_config, wait_until
from .conftest import CHECK_INTERVAL, LIFETIME, StartServer

#: Scheduling slack allowed beyond ``lifetime + check interval`` on a busy machine.
SLACK = 1.0


def _lines(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    return [line.split() for line in path.read_text(encoding="utf-8").splitlines()]


def _destroyed(path: Path, session_id: str) -> list[float]:
    return [float(line[2]) for line in _lines(path) if line[:2] == ["destroyed", session_id]]


@pytest.mark.asyncio
async def test_every_hook_fires_once_in_order(start_server: StartServer) -> None:
    server = start_server("lifecycle")
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
            LIFETIME + CHECK_INTERVAL + SLACK + 2,
            "the session to expire",
        )
        before_stop = _lines(server.hook_log)
        assert [line[0] for line in before_stop] == ["on_server_loaded", "on_session_created", "on_session_destroyed"]
    finally:
        exit_code = server.process.stop()  # SIGTERM: a clean stop

    assert exit_code == 0
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
    await session.close()
    closed = time.time()

    await asyncio.sleep(LIFETIME * 0.8)
    assert _destroyed(server.tick_log, config["sessionId"]) == [], "destroyed before its lifetime"

    await wait_until(
        lambda: bool(_destroyed(server.tick_log, config["sessionId"])),
        LIFETIME + CHECK_INTERVAL + SLACK,
        "the unused session to expire",
    )
    [destroyed] = _destroyed(server.tick_log, config["sessionId"])
    assert LIFETIME <= destroyed - closed <= LIFETIME + CHECK_INTERVAL + SLACK
    created = [line for line in _lines(server.tick_log) if line[:2] == ["created", config["sessionId"]]]
    assert len(created) == 1


@pytest.mark.asyncio
async def test_connected_session_does_not_expire(server: ServerUnderTest) -> None:
    config = await page_config(server, "sliders")
    session = await open_session(config)
    try:
        await asyncio.sleep(LIFETIME + 2 * CHECK_INTERVAL + 0.2)
        # Still the same session: a change round-trips and a new connection sees it.
        session.document.get_model_by_name("phase").value = 1.0
        await session.sync(timeout=5)
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

    def ticks() -> list[tuple[float, float]]:
        return [(float(line[2]), float(line[3])) for line in _lines(server.tick_log) if line[:2] == ["tick", tag]]

    await wait_until(lambda: len(ticks()) >= 3, 5, "the periodic callback to run")
    await session.close()
    await wait_until(
        lambda: bool(_destroyed(server.tick_log, config["sessionId"])),
        LIFETIME + CHECK_INTERVAL + SLACK,
        "the session to expire",
    )
    [destroyed] = _destroyed(server.tick_log, config["sessionId"])
    # Give a callback that was wrongly left scheduled many periods to show itself.
    await asyncio.sleep(10 * (TICK_PERIOD_MS / 1000 + TICK_BUSY_S))

    recorded = ticks()
    assert len(recorded) >= (LIFETIME / (TICK_PERIOD_MS / 1000 + TICK_BUSY_S)) / 2, "ticks stopped early"
    late = [(start, end) for start, end in recorded if end > destroyed]
    assert late == [], f"callbacks ran after on_session_destroyed at {destroyed}: {late}"
