"""Per-client counts under concurrency, in-process: a client opening many sessions at once gets exactly its limit."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer
from django.test import override_settings

from docsync.protocol import ACK, ERROR
from docsync.server.admission.tokens import generate_session_id
from docsync.server.cluster.relay_in import RelayIn
from docsync.server.metrics import render_metrics
from docsync.server.registry import SessionRegistry
from docsync.testing import EVENT_WAIT, DocsyncCommunicator

from . import apps_for_tests
from .settings import DOCSYNC as TEST_DOCSYNC

LIMIT = 5
AT_ONCE = 20


def _communicator(application: Any, client: tuple[str, int] | None) -> DocsyncCommunicator:
    communicator = DocsyncCommunicator(application, "counted")
    if client is not None:
        # What daphne and uvicorn put in the scope: the peer's (host, port).
        communicator.scope["client"] = client
    return communicator


@pytest.mark.asyncio
async def test_a_client_opening_many_sessions_at_once_gets_exactly_its_limit(registry: SessionRegistry) -> None:
    from project.asgi import application

    apps_for_tests.counted_calls.clear()
    limits = {**TEST_DOCSYNC, "ADMIN_REFRESH": 0, "MAX_SESSIONS_PER_CLIENT": LIMIT}
    with override_settings(DOCSYNC=limits):
        # The app takes 50 ms to build a document: every opening overlaps the others'.
        communicators = [_communicator(application, ("10.9.9.9", 40000 + n)) for n in range(AT_ONCE)]
        try:
            await asyncio.gather(*(c.connect() for c in communicators))
            first = await asyncio.gather(*(c.receive_docsync() for c in communicators))
            accepted = [m for m in first if m.msgtype == ACK]
            refused = [m for m in first if m.msgtype == ERROR]
            assert len(accepted) == LIMIT and len(refused) == AT_ONCE - LIMIT
            reason = f"this client holds its maximum of {LIMIT} sessions (MAX_SESSIONS_PER_CLIENT)"
            assert {(m.content["text"], m.content["code"]) for m in refused} == {(reason, "close-1013")}
            assert len(apps_for_tests.counted_calls) == LIMIT  # the refused ones ran no application code
            assert len(registry.sessions()) == LIMIT
            assert registry.clients.held("sessions", "address:10.9.9.9") == LIMIT
            assert registry.clients.refused["sessions"] == AT_ONCE - LIMIT
        finally:
            await asyncio.gather(*(c.disconnect() for c in communicators))
        # Every socket gave its count back; the sessions wait for their expiry.
        assert registry.clients.held("connections", "address:10.9.9.9") == 0
        await registry.cleanup_now()  # not expired yet: still held
        assert registry.clients.held("sessions", "address:10.9.9.9") == LIMIT
        for session in registry.sessions():
            await registry.get_context("counted").discard_session(session)  # type: ignore[union-attr]
        assert registry.clients.held("sessions", "address:10.9.9.9") == 0


@pytest.mark.asyncio
async def test_a_socket_whose_server_reports_no_address_counts_against_no_one(registry: SessionRegistry) -> None:
    from project.asgi import application

    limits = {**TEST_DOCSYNC, "ADMIN_REFRESH": 0, "MAX_SESSIONS_PER_CLIENT": 1, "MAX_CONNECTIONS_PER_CLIENT": 1}
    with override_settings(DOCSYNC=limits):
        communicators = [_communicator(application, None) for _ in range(3)]
        try:
            await asyncio.gather(*(c.connect() for c in communicators))
            first = await asyncio.gather(*(c.receive_docsync() for c in communicators))
            assert [m.msgtype for m in first] == [ACK] * 3
            # The same from an address: the second is refused.
            counted = [_communicator(application, ("10.9.9.10", 1)), _communicator(application, ("10.9.9.10", 2))]
            communicators += counted
            await counted[0].connect()
            assert (await counted[0].receive_docsync()).msgtype == ACK
            await counted[1].connect()
            refused = await counted[1].receive_docsync()
            reason = "this client holds its maximum of 1 connections (MAX_CONNECTIONS_PER_CLIENT)"
            assert (refused.msgtype, refused.content["text"]) == (ERROR, reason)
        finally:
            await asyncio.gather(*(c.disconnect() for c in communicators))


@pytest.mark.asyncio
async def test_at_its_limit_a_client_gets_the_room_its_expired_sessions_left_before_the_next_sweep(
    registry: SessionRegistry,
) -> None:
    from project.asgi import application

    lifetime = 0.2
    limits = {
        **TEST_DOCSYNC,
        "ADMIN_REFRESH": 0,
        "MAX_SESSIONS_PER_CLIENT": 2,
        "UNUSED_SESSION_LIFETIME": lifetime,
        "CHECK_UNUSED_SESSIONS": 3600,  # the periodic sweep never comes during the test
    }
    with override_settings(DOCSYNC=limits):
        first = [_communicator(application, ("10.9.9.11", n)) for n in range(2)]
        for communicator in first:
            await communicator.connect()
            assert (await communicator.receive_docsync()).msgtype == ACK
            await communicator.disconnect()
        await asyncio.sleep(lifetime * 2)  # both unused past their lifetime, neither swept
        assert len(registry.sessions()) == 2
        third = _communicator(application, ("10.9.9.11", 3))
        try:
            await third.connect()
            assert (await third.receive_docsync()).msgtype == ACK
            assert len(registry.sessions()) == 1
        finally:
            await third.disconnect()


async def _relayed_open(relay_in: RelayIn, layer: InMemoryChannelLayer, session_id: str, client: str) -> dict[str, Any]:
    """Open a relayed websocket on the owner as another process would; return the first thing sent back."""
    await relay_in.on_open(
        {
            "type": "relay.open",
            "conn_id": session_id[:8],
            "relay_channel": "relay.holder",
            "relay_process": "holder:1",
            "origin": "o",
            "session_id": session_id,
            "app": "counted",
            "user_id": None,
            "visitor": None,
            "client": client,
            "args": {},
            "request_info": {},
            "token_expired": False,
        }
    )
    sent: dict[str, Any] = await asyncio.wait_for(layer.receive("relay.holder"), EVENT_WAIT)
    return sent


@pytest.mark.asyncio
async def test_a_session_made_for_a_relayed_socket_counts_against_the_client_the_relay_names(
    registry: SessionRegistry,
) -> None:
    # The owner's side of a relay over Channels' own in-memory layer (what a cluster's
    # Redis layer carries): the holding process named the socket's client in its open.
    layer = InMemoryChannelLayer()
    relay_in = RelayIn(registry, layer)
    with override_settings(DOCSYNC={**TEST_DOCSYNC, "ADMIN_REFRESH": 0, "MAX_SESSIONS_PER_CLIENT": 1}):
        made = await _relayed_open(relay_in, layer, generate_session_id(), "address:10.9.9.12")
        assert made["type"] == "relay.frames"  # its ACK
        assert registry.clients.held("sessions", "address:10.9.9.12") == 1
        assert registry.clients.held("connections", "address:10.9.9.12") == 0  # counted where the socket is held
        refused = await _relayed_open(relay_in, layer, generate_session_id(), "address:10.9.9.12")
        assert refused["type"] == "relay.close" and refused["code"] == 1013
        assert refused["reason"] == "this client holds its maximum of 1 sessions (MAX_SESSIONS_PER_CLIENT)"
        other = await _relayed_open(relay_in, layer, generate_session_id(), "address:10.9.9.13")
        assert other["type"] == "relay.frames"
        for conn_id in list(relay_in.remotes):
            relay_in.on_closed({"conn_id": conn_id})


@pytest.mark.asyncio
async def test_refusals_at_the_process_limit_are_counted_in_the_metrics(registry: SessionRegistry) -> None:
    from project.asgi import application

    with override_settings(DOCSYNC={**TEST_DOCSYNC, "ADMIN_REFRESH": 0, "MAX_SESSIONS": 1}):
        communicators = [_communicator(application, None) for _ in range(3)]
        try:
            replies = []
            for communicator in communicators:
                await communicator.connect()
                replies.append(await communicator.receive_docsync())
            assert [m.msgtype for m in replies] == [ACK, ERROR, ERROR]
            assert replies[1].content["text"] == "this process holds its maximum of 1 sessions"
        finally:
            await asyncio.gather(*(c.disconnect() for c in communicators))
        text = render_metrics(registry)
        assert 'docsync_limit_refusals_total{limit="MAX_SESSIONS"} 2\n' in text
        assert 'docsync_limit_refusals_total{limit="MAX_SESSIONS_PER_CLIENT"} 0\n' in text
