"""One client may not take all of a shared session's connections and lock the others out.

A shareable app's session is joined by anyone holding its token (a room, a link passed
around). Before MAX_CONNECTIONS_PER_SESSION_PER_CLIENT one anonymous client opened
MAX_CONNECTIONS_PER_SESSION (64) websockets to it from one address, and every other tab
and user was refused 4008 until it let go. Against real servers with their default
limits, clients told apart by the address they connect from (127.x.y.z, or an address
uvicorn takes from X-Forwarded-For): past its share a client is refused 4008 with the
setting's name, another client still joins, and a closed socket gives its place back.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from docsync.protocol import ACK

from .harness import RawSocket, Site, open_raw, site_on_each_server

pytestmark = pytest.mark.asyncio

APP = "anon_shareable"
SHARE = 16  # MAX_CONNECTIONS_PER_SESSION_PER_CLIENT's default
TOO_MANY_CONNECTIONS = 4008
SHARE_REFUSED = (
    f"this client holds its maximum of {SHARE} connections to this session (MAX_CONNECTIONS_PER_SESSION_PER_CLIENT)"
)
SESSION_CAP = 64  # MAX_CONNECTIONS_PER_SESSION's default
METRICS_TOKEN = "session-share-metrics"
#: A fresh source address per use, so that no test sees another's connections.
_addresses = (f"127.0.{n // 250 + 20}.{n % 250 + 2}" for n in itertools.count(1))


#: docsync's default connection limits (64 per session, 16 of them per client), under both servers.
site = site_on_each_server("session-share", DOCSYNC_METRICS_TOKEN=METRICS_TOKEN)


class Tabs:
    """Raw sockets to one shared session, opened by a test and closed after it."""

    def __init__(self, site: Site) -> None:
        self.site = site
        made = site.browser().page_config(APP)
        self.session_id, self.url, self.token = made["sessionId"], made["wsUrl"], made["token"]
        self.other_token = ""
        self.open: list[RawSocket] = []
        #: The tab that made the session (from an address of its own).
        self.owner: RawSocket | None = None
        self.owner_address = ""

    async def start(self) -> None:
        """Make the session; then anyone may join it: another browser's page of it gives its own token."""
        self.owner_address = next(_addresses)
        self.owner = await self.accepted(self.owner_address)
        joined = await asyncio.to_thread(self.site.browser().page_config, APP, f"?session_id={self.session_id}")
        assert joined["sessionId"] == self.session_id
        self.other_token = joined["token"]

    async def connect(
        self, source: str, *, token: str | None = None, headers: dict[str, str] | None = None
    ) -> RawSocket:
        """A socket to the session from ``source`` (its first message read: ACK or the refusal's ERROR)."""
        sock = await open_raw(self.url, token or self.token, source_address=source, headers=headers)
        self.open.append(sock)
        return sock

    async def accepted(self, source: str, **kwargs: Any) -> RawSocket:
        sock = await self.connect(source, **kwargs)
        assert _accepted(sock), (sock.errors(), sock.close_code)
        return sock

    async def close_all(self) -> None:
        for sock in self.open:
            with contextlib.suppress(Exception):
                await sock.close()
        self.open.clear()


def _accepted(sock: RawSocket) -> bool:
    return bool(sock.messages) and sock.messages[0].msgtype == ACK


@pytest_asyncio.fixture
async def tabs(site: Site) -> AsyncIterator[Tabs]:
    made = Tabs(site)
    try:
        await made.start()
        yield made
    finally:
        await made.close_all()


async def _refused(sock: RawSocket) -> tuple[int | None, list[str]]:
    return (await sock.until_closed()).code, sock.errors()


async def test_one_client_cannot_take_a_shared_sessions_connections(tabs: Tabs) -> None:
    attacker, newcomer = next(_addresses), next(_addresses)
    # The attacker holds the room's token (its own page of it): its share, then no more.
    held = [await tabs.accepted(attacker, token=tabs.other_token) for _ in range(SHARE)]
    refused = await tabs.connect(attacker, token=tabs.other_token)
    assert await _refused(refused) == (TOO_MANY_CONNECTIONS, [SHARE_REFUSED])
    # At 17 of the session's 64, others join: the owner's second tab, a new user elsewhere.
    assert tabs.owner is not None
    await tabs.accepted(tabs.owner_address)
    await tabs.accepted(newcomer, token=tabs.other_token)
    assert tabs.owner.close_code is None and all(sock.close_code is None for sock in held)
    # One of the attacker's sockets closes: its place is given back, and only that one.
    await held[0].close()
    await _accepted_soon(tabs, attacker)
    assert await _refused(await tabs.connect(attacker)) == (TOO_MANY_CONNECTIONS, [SHARE_REFUSED])


async def test_a_socket_the_server_closes_gives_its_place_back(tabs: Tabs) -> None:
    attacker = next(_addresses)
    held = [await tabs.accepted(attacker) for _ in range(SHARE)]
    assert await _refused(await tabs.connect(attacker)) == (TOO_MANY_CONNECTIONS, [SHARE_REFUSED])
    # A frame that is no message: the server closes that socket (1002), and its place is free.
    await held[0].send_frames("{nope")
    assert (await held[0].until_closed()).code == 1002
    await _accepted_soon(tabs, attacker)


async def test_refused_sockets_take_no_place(tabs: Tabs) -> None:
    attacker = next(_addresses)
    held = [await tabs.accepted(attacker) for _ in range(SHARE)]
    for _ in range(5):
        assert await _refused(await tabs.connect(attacker)) == (TOO_MANY_CONNECTIONS, [SHARE_REFUSED])
    await held[-1].close()
    await _accepted_soon(tabs, attacker)


async def test_refusals_of_a_session_are_counted_in_the_metrics_by_limit(site: Site, tabs: Tabs) -> None:
    """4008 refusals had no figure: an operator could not tell a client held back by its share from a full session."""
    before = site.limit_refusals()
    attacker = next(_addresses)
    for _ in range(SHARE):
        await tabs.accepted(attacker)
    for _ in range(2):
        assert await _refused(await tabs.connect(attacker)) == (TOO_MANY_CONNECTIONS, [SHARE_REFUSED])
    # The session's own cap: others fill it (the owner's tab and the attacker's share are in).
    left = SESSION_CAP - 1 - SHARE
    while left:
        source = next(_addresses)
        for _ in range(min(SHARE, left)):
            await tabs.accepted(source)
            left -= 1
    full = await tabs.connect(next(_addresses))
    assert await _refused(full) == (TOO_MANY_CONNECTIONS, ["too many connections to this session"])
    after = site.limit_refusals()
    assert {name: after[name] - before.get(name, 0) for name in after} == {
        "MAX_SESSIONS": 0,
        "MAX_SESSIONS_PER_CLIENT": 0,
        "MAX_CONNECTIONS_PER_CLIENT": 0,
        "MAX_CONNECTIONS_PER_SESSION": 1,
        "MAX_CONNECTIONS_PER_SESSION_PER_CLIENT": 2,
        "MAX_INCOMPLETE_BYTES": 0,
        "MAX_INCOMPLETE_BYTES_PER_CLIENT": 0,
        "MAX_QUEUED_BYTES_PER_CLIENT": 0,
        "NEW_SESSIONS_PER_CLIENT_PER_SECOND": 0,
        "MAX_PATCHES_PER_SECOND_PER_CLIENT": 0,
        "MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT": 0,
        "MAX_VALUES_PER_SECOND_PER_CLIENT": 0,
        "MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT": 0,
    }


async def _accepted_soon(tabs: Tabs, source: str) -> None:
    # The server detaches a socket once it has seen it close (a moment after the client
    # does; on a loaded machine, seconds): tried until a deadline, not a number of times.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        sock = await tabs.connect(source)
        if _accepted(sock):
            return
        assert await _refused(sock) == (TOO_MANY_CONNECTIONS, [SHARE_REFUSED])
        await asyncio.sleep(0.05)
    raise AssertionError("the closed socket's place was not given back in 60 s")


# Under uvicorn alone: only it hands a forwarded address on from a client on 127.0.0.1
# (tests/hardening/test_client_limits.py's IPv6 test says why).
@pytest.mark.parametrize("site", ["uvicorn"], indirect=True)
async def test_an_ipv6_client_shares_by_its_64_network(site: Site, tabs: Tabs) -> None:
    """A host may connect from any address of its /64: they are one client's share, not one each."""

    async def from_address(address: str) -> RawSocket:
        return await tabs.connect("127.0.0.1", headers={"X-Forwarded-For": address})

    for n in range(1, SHARE + 1):
        sock = await from_address(f"2001:db8:7:1::{n}")
        assert _accepted(sock), sock.errors()
    refused = await from_address("2001:db8:7:1:ffff:ffff:ffff:fffe")
    assert await _refused(refused) == (TOO_MANY_CONNECTIONS, [SHARE_REFUSED])
    assert _accepted(await from_address("2001:db8:7:2::1")), "another /64 is another client"
