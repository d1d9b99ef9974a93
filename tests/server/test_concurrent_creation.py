"""Many connections for one new session id at once create exactly one session, each counted before it attaches."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from django.conf import settings
from django.test import override_settings

from docsync.conf import docsync_settings
from docsync.document import Document
from docsync.document.models import Div
from docsync.handlers import Application, FunctionHandler
from docsync.protocol import ACK, ERROR
from docsync.server.admission.tokens import generate_session_id
from docsync.server.application_context import ApplicationContext
from docsync.server.registry import SessionRegistry
from docsync.testing import DocsyncCommunicator

from . import apps_for_tests

CONCURRENT = 50


@pytest.mark.asyncio
async def test_concurrent_create_session_if_needed_builds_one_document() -> None:
    calls: list[float] = []

    def build(doc: Document) -> None:
        calls.append(time.monotonic())
        time.sleep(0.05)  # in a worker thread: every other caller arrives meanwhile
        doc.add_root(Div(text="one", name="root"))

    context = ApplicationContext(Application(FunctionHandler(build)), "many", options={})
    session_id = generate_session_id()
    sessions = await asyncio.gather(
        *(context.create_session_if_needed(session_id, {}, docsync_settings(), 0) for _ in range(CONCURRENT))
    )
    try:
        assert len(calls) == 1
        assert all(session is sessions[0] for session in sessions)
        assert context.sessions == {session_id: sessions[0]}
        assert context.sessions_created == 1
        # Later callers find it, and another id gets a session of its own.
        assert await context.create_session_if_needed(session_id, {}, docsync_settings(), 1) is sessions[0]
        other = await context.create_session_if_needed(generate_session_id(), {}, docsync_settings(), 1)
        assert other is not sessions[0] and len(calls) == 2
    finally:
        await context.unload()


@pytest.mark.asyncio
async def test_concurrent_failed_creation_fails_every_caller_and_can_be_retried() -> None:
    attempts: list[int] = []

    def build(doc: Document) -> None:
        attempts.append(1)
        time.sleep(0.05)
        if len(attempts) == 1:
            raise ValueError("first build fails")
        doc.add_root(Div(text="second try", name="root"))

    context = ApplicationContext(Application(FunctionHandler(build)), "retry", options={})
    session_id = generate_session_id()
    results = await asyncio.gather(
        *(context.create_session_if_needed(session_id, {}, docsync_settings(), 0) for _ in range(10)),
        return_exceptions=True,
    )
    try:
        assert len(attempts) == 1
        assert all(isinstance(r, ValueError) and str(r) == "first build fails" for r in results)
        assert context.sessions == {}
        session = await context.create_session_if_needed(session_id, {}, docsync_settings(), 0)
        assert len(attempts) == 2 and context.sessions == {session_id: session}
    finally:
        await context.unload()


@pytest.mark.asyncio
async def test_concurrent_websockets_for_one_new_session(registry: SessionRegistry) -> None:
    from project.asgi import application

    apps_for_tests.counted_calls.clear()
    session_id = generate_session_id()
    communicators = [DocsyncCommunicator(application, "counted", session_id=session_id) for _ in range(20)]
    try:
        results = await asyncio.gather(*(c.connect() for c in communicators))
        assert all(connected for connected, _ in results)
        acks = await asyncio.gather(*(c.receive_docsync() for c in communicators))
        assert [m.msgtype for m in acks] == [ACK] * len(communicators)
        assert len(apps_for_tests.counted_calls) == 1
        session = registry.find_session(session_id)
        assert session is not None and len(session.connections) == len(communicators)
        assert len(registry.sessions()) == 1
    finally:
        await asyncio.gather(*(c.disconnect() for c in communicators))


@pytest.mark.asyncio
async def test_websockets_waiting_for_a_new_session_get_only_their_clients_share(registry: SessionRegistry) -> None:
    """Those that waited for the session's making are counted before they attach, as later ones are."""
    from project.asgi import application

    share, session_id = 3, generate_session_id()
    crowd = [
        DocsyncCommunicator(application, "counted", session_id=session_id, client=("10.9.8.7", 40000 + n))
        for n in range(2 * share + 2)
    ]
    other = DocsyncCommunicator(application, "counted", session_id=session_id, client=("10.9.8.6", 40000))
    communicators = [*crowd, other]
    with override_settings(DOCSYNC={**settings.DOCSYNC, "MAX_CONNECTIONS_PER_SESSION_PER_CLIENT": share}):
        try:
            await asyncio.gather(*(c.connect() for c in communicators))
            first = await asyncio.gather(*(c.receive_docsync() for c in communicators))
            answers = [m.msgtype for m in first[: len(crowd)]]
            assert sorted(answers) == [ACK] * share + [ERROR] * (len(crowd) - share), answers
            reason = f"this client holds its maximum of {share} connections to this session"
            assert {m.content["text"].split(" (")[0] for m in first if m.msgtype == ERROR} == {reason}
            assert first[-1].msgtype == ACK, "another client joins"
            session = registry.find_session(session_id)
            assert session is not None and len(session.connections) == share + 1
        finally:
            await asyncio.gather(*(c.disconnect() for c in communicators))


@pytest.mark.asyncio
async def test_a_websocket_whose_task_is_cancelled_leaves_its_session(registry: SessionRegistry) -> None:
    """daphne cancels an application that has not finished 10 s after its disconnect: no disconnect() runs then."""
    from project.asgi import application

    communicator = DocsyncCommunicator(application, "counted", client=("10.9.8.5", 40000))
    await communicator.connect()
    assert (await communicator.receive_docsync()).msgtype == ACK
    session = registry.find_session(communicator.session_id)
    assert session is not None and len(session.connections) == 1
    communicator.future.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await communicator.future
    # Its place (and its client's share) is given back: the session may expire, others join.
    assert session.connections == set()
    assert registry.clients.held("connections", "address:10.9.8.5") == 0
