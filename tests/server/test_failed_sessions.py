"""A session whose application fails is tried again after 1, 2, 4 and 8 s, then never again."""

from __future__ import annotations

import re

import pytest

from docsync.exceptions import ApplicationError, ApplicationStoppedError
from docsync.server.failed_sessions import BACKOFF, FailedSessions
from docsync.server.registry import SessionRegistry
from docsync.testing import REPLY_TIMEOUT, DocsyncCommunicator, RawSocket

from .clients import ServerUnderTest, page_config


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_backoff_then_stop() -> None:
    clock = Clock()
    failed = FailedSessions(clock=clock)
    assert failed.refusal("s") is None
    for count, wait in enumerate(BACKOFF, 1):
        failed.failed("s")
        refusal = failed.refusal("s")
        assert type(refusal) is ApplicationError and refusal.close_code == 1011
        times = "1 time" if count == 1 else f"{count} times"
        assert refusal.reason == (
            f"application error: the application failed to make this session {times}; it is tried again in {wait:.1f} s"
        )
        clock.now += wait
        assert failed.refusal("s") is None  # its turn to be tried again
    failed.failed("s")
    stopped = failed.refusal("s")
    assert isinstance(stopped, ApplicationStoppedError)
    assert (stopped.close_code, stopped.client_action) == (4011, "give-up")
    assert "failed to make this session 5 times" in stopped.reason
    clock.now += 3600
    assert isinstance(failed.refusal("s"), ApplicationStoppedError)  # never again
    assert failed.refusal("other") is None  # other sessions are tried


def test_success_forgets_and_memory_is_bounded() -> None:
    failed = FailedSessions(keep=3, clock=Clock())
    failed.failed("a")
    failed.succeeded("a")
    assert failed.refusal("a") is None
    for name in "bcde":
        failed.failed(name)
    assert failed.refusal("b") is None  # the oldest was dropped
    assert failed.refusal("e") is not None


def _runs(server: ServerUnderTest) -> int:
    """How many times the failing app ran (each run logs one timestamped ERROR)."""
    return len(re.findall(r"ERROR +application modify_fails failed to create a session", server.log.read_text()))


@pytest.mark.asyncio
async def test_a_reconnecting_client_does_not_rerun_the_failing_app(server: ServerUnderTest) -> None:
    config = await page_config(server, "modify_fails")
    runs_before = _runs(server)
    first = await RawSocket.connect(f"{server.ws_base}modify_fails/ws", config["token"])
    code, [error] = await first.until_closed()
    assert (code, error.content["text"]) == (1011, "application error: ValueError: modify_document fails on purpose")
    # At once again, as a client reconnecting would: refused, and the application is not run.
    again = await RawSocket.connect(f"{server.ws_base}modify_fails/ws", config["token"])
    code, [error] = await again.until_closed()
    assert code == 1011 and error.content["text"].startswith(
        "application error: the application failed to make this session 1 time; it is tried again in "
    )
    assert _runs(server) == runs_before + 1


@pytest.mark.asyncio
async def test_a_session_that_failed_too_often_is_closed_with_4011(registry: SessionRegistry) -> None:
    from project.asgi import application

    communicator = DocsyncCommunicator(application, "modify_fails")
    context = registry.get_context("modify_fails")
    assert context is not None
    for _ in range(len(BACKOFF) + 1):
        context.failed_sessions.failed(communicator.session_id)
    connected, _ = await communicator.connect()
    assert connected
    refusal = await communicator.receive_docsync()
    closed = await communicator.receive_output(REPLY_TIMEOUT)
    assert refusal.content["code"] == "close-4011" and "is not tried again for it" in refusal.content["text"]
    assert closed["code"] == 4011
    assert registry.sessions() == []
    await communicator.disconnect()
