"""One client may not take all of a process's sessions or websockets.

A real daphne process; clients are told apart by the address they connect from (on
Linux every 127.x.y.z reaches a server on 127.0.0.1), or by their login. Past its limit
a client is refused with close 1013 and an ERROR naming the limit, while another client
still gets in; the count is given back when its sessions are destroyed or its sockets
close, and with the settings off there is no limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import itertools
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from docsync.protocol import ACK

from .bokeh_tabs import page_token, tab_from
from .harness import (
    Database,
    RawSocket,
    Site,
    expect_refusal,
    open_raw,
    running_site,
    site_on_each_server,
    wait_until,
)

pytestmark = pytest.mark.asyncio

TRY_AGAIN = 1013
BOKEH_CONNECTIONS = 3  # MAX_CONNECTIONS_PER_CLIENT of the Bokeh site
SESSIONS = 3  # MAX_SESSIONS_PER_CLIENT of the limited site
CONNECTIONS = 5  # MAX_CONNECTIONS_PER_CLIENT of the limited site
METRICS_TOKEN = "client-limits-metrics-token"
SESSIONS_REFUSED = f"this client holds its maximum of {SESSIONS} sessions (MAX_SESSIONS_PER_CLIENT)"
CONNECTIONS_REFUSED = f"this client holds its maximum of {CONNECTIONS} connections (MAX_CONNECTIONS_PER_CLIENT)"
#: A fresh source address per test, so that no test sees another's counts.
_addresses = (f"127.0.{n // 250}.{n % 250 + 2}" for n in itertools.count(1))


#: Both ASGI servers report the client's address in the scope: each site's limits hold the same.
site = site_on_each_server(
    "client-limits",
    DOCSYNC_MAX_SESSIONS_PER_CLIENT=str(SESSIONS),
    DOCSYNC_MAX_CONNECTIONS_PER_CLIENT=str(CONNECTIONS),
    DOCSYNC_UNUSED_SESSION_LIFETIME="0.5",
    DOCSYNC_METRICS_TOKEN=METRICS_TOKEN,
)


@pytest.fixture(scope="module")
def unlimited_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    yield from running_site(
        tmp_path_factory,
        database,
        "client-limits-off",
        DOCSYNC_MAX_SESSIONS_PER_CLIENT="none",
        DOCSYNC_MAX_CONNECTIONS_PER_CLIENT="None",
        # Its test makes 201 sessions from one address at once: past the default burst of new sessions too.
        DOCSYNC_NEW_SESSIONS_PER_CLIENT_PER_SECOND="0",
    )


@pytest.fixture(scope="module")
def default_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    yield from running_site(tmp_path_factory, database, "client-limits-default")


class Sockets:
    """Raw sockets opened by a test, closed after it."""

    def __init__(self) -> None:
        self.open: list[RawSocket] = []

    async def accepted(
        self, site: Site, source: str, *, token: str | None = None, user: str | None = None
    ) -> RawSocket:
        """A socket from ``source`` to a new session (or ``token``'s), expecting ACK."""
        browser = site.browser(user)
        token = token or browser.page_config("limits")["token"]
        sock = await open_raw(_ws_url(site), token, source_address=source, headers=browser.cookie_header())
        self.open.append(sock)
        assert sock.messages and sock.messages[0].msgtype == ACK, (sock.errors(), sock.close_code)
        return sock

    async def close_all(self) -> None:
        for sock in self.open:
            with contextlib.suppress(Exception):
                await sock.close()
        self.open.clear()


@pytest_asyncio.fixture
async def sockets() -> AsyncIterator[Sockets]:
    made = Sockets()
    try:
        yield made
    finally:
        await made.close_all()


def _ws_url(site: Site) -> str:
    return f"ws://{site.host}/limits/ws"


def _no_sessions(site: Site) -> bool:
    """The process holds no session of the app (the live-session table lags behind: not it)."""
    return site.metrics().get('docsync_sessions{app="limits"}') == 0


def _metrics(site: Site) -> dict[str, int]:
    found = site.limit_refusals()
    limits = {"MAX_SESSIONS", "MAX_SESSIONS_PER_CLIENT", "MAX_CONNECTIONS_PER_CLIENT"}
    limits |= {"MAX_CONNECTIONS_PER_SESSION", "MAX_CONNECTIONS_PER_SESSION_PER_CLIENT"}
    limits |= {"MAX_INCOMPLETE_BYTES", "MAX_INCOMPLETE_BYTES_PER_CLIENT", "MAX_QUEUED_BYTES_PER_CLIENT"}
    limits |= {"NEW_SESSIONS_PER_CLIENT_PER_SECOND"}
    limits |= {"MAX_PATCHES_PER_SECOND_PER_CLIENT", "MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT"}
    limits |= {"MAX_VALUES_PER_SECOND_PER_CLIENT", "MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT"}
    assert set(found) == limits, found
    return found


async def test_a_client_past_its_sessions_is_refused_and_another_gets_in(site: Site, sockets: Sockets) -> None:
    source, other = next(_addresses), next(_addresses)
    before = _metrics(site)
    held = [await sockets.accepted(site, source) for _ in range(SESSIONS)]
    refused = site.browser().page_config("limits")["token"]
    code, errors = await expect_refusal(_ws_url(site), refused, source_address=source)
    assert (code, errors) == (TRY_AGAIN, [SESSIONS_REFUSED])
    after = _metrics(site)
    assert after["MAX_SESSIONS_PER_CLIENT"] == before["MAX_SESSIONS_PER_CLIENT"] + 1
    assert after["MAX_CONNECTIONS_PER_CLIENT"] == before["MAX_CONNECTIONS_PER_CLIENT"]
    # Another client still makes a session, and the first one's are served as before.
    await sockets.accepted(site, other)
    for sock in held:
        assert sock.close_code is None


async def test_joining_a_live_session_takes_none_of_the_clients_sessions(site: Site, sockets: Sockets) -> None:
    source = next(_addresses)
    tokens = [site.browser().page_config("limits")["token"] for _ in range(SESSIONS)]
    for token in tokens:
        await sockets.accepted(site, source, token=token)
    # At its limit of sessions, a second tab of a session it made is let in.
    await sockets.accepted(site, source, token=tokens[0])


async def test_a_clients_sessions_are_given_back_when_they_expire(site: Site, sockets: Sockets) -> None:
    source = next(_addresses)
    for _ in range(SESSIONS):
        await sockets.accepted(site, source)
    refused = site.browser().page_config("limits")["token"]
    code, errors = await expect_refusal(_ws_url(site), refused, source_address=source)
    assert (code, errors) == (TRY_AGAIN, [SESSIONS_REFUSED])
    # Its tabs close: the sessions expire (0.5 s unused), and the refused page's token
    # opens, with the rest of the client's sessions back too.
    await sockets.close_all()
    await wait_until(lambda: _no_sessions(site), 20, "the client's sessions to expire")
    await sockets.accepted(site, source, token=refused)
    for _ in range(SESSIONS - 1):
        await sockets.accepted(site, source)
    again = site.browser().page_config("limits")["token"]
    assert await expect_refusal(_ws_url(site), again, source_address=source) == (TRY_AGAIN, [SESSIONS_REFUSED])


async def test_a_client_past_its_connections_is_refused_until_one_closes(site: Site, sockets: Sockets) -> None:
    source, other = next(_addresses), next(_addresses)
    before = _metrics(site)
    # Sockets the server refuses (a forged token) are given back as they close.
    for _ in range(CONNECTIONS + 2):
        code, _errors = await expect_refusal(_ws_url(site), "forged", source_address=source)
        assert code == 1008
    # Connections to shared sessions count too: all of them go to two sessions.
    tokens = [site.browser().page_config("limits")["token"] for _ in range(2)]
    held = [await sockets.accepted(site, source, token=tokens[n % 2]) for n in range(CONNECTIONS)]
    code, errors = await expect_refusal(_ws_url(site), tokens[0], source_address=source)
    assert (code, errors) == (TRY_AGAIN, [CONNECTIONS_REFUSED])
    after = _metrics(site)
    assert after["MAX_CONNECTIONS_PER_CLIENT"] == before["MAX_CONNECTIONS_PER_CLIENT"] + 1
    await sockets.accepted(site, other, token=tokens[0])
    # One tab closes: its count is given back.
    await held[0].close()
    await _accepted_soon(site, tokens[0], source, sockets)


async def _accepted_soon(site: Site, token: str, source: str, sockets: Sockets) -> None:
    # The server gives a count back once it has seen the socket close (a moment after the client
    # does; on a loaded machine, seconds): tried until a deadline, not a number of times.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        sock = await open_raw(_ws_url(site), token, source_address=source)
        sockets.open.append(sock)
        if sock.messages and sock.messages[0].msgtype == ACK:
            return
        assert sock.errors() == [CONNECTIONS_REFUSED], sock.errors()
        await asyncio.sleep(0.05)
    raise AssertionError("the closed socket's count was not given back in 60 s")


async def test_a_socket_the_server_closes_gives_its_count_back(site: Site, sockets: Sockets) -> None:
    source = next(_addresses)
    token = site.browser().page_config("limits")["token"]
    held = [await sockets.accepted(site, source, token=token) for _ in range(CONNECTIONS)]
    assert await expect_refusal(_ws_url(site), token, source_address=source) == (TRY_AGAIN, [CONNECTIONS_REFUSED])
    # A frame that is no message: the server closes that socket (1002), and its count is free.
    await held[0].send_frames("{nope")
    assert (await held[0].until_closed()).code == 1002
    await _accepted_soon(site, token, source, sockets)


async def test_a_logged_in_user_counts_as_the_user_from_every_address(site: Site, sockets: Sockets) -> None:
    crowded, first, second = next(_addresses), next(_addresses), next(_addresses)
    # Anonymous tabs fill their address; the user is counted apart from it.
    for _ in range(SESSIONS):
        await sockets.accepted(site, crowded)
    await sockets.accepted(site, crowded, user="alice")
    # The user's sessions from any address are the user's: the limit holds across them.
    await sockets.accepted(site, first, user="alice")
    await sockets.accepted(site, second, user="alice")
    browser = site.browser("alice")
    token = browser.page_config("limits")["token"]
    code, errors = await expect_refusal(
        _ws_url(site), token, source_address=next(_addresses), headers=browser.cookie_header()
    )
    assert (code, errors) == (TRY_AGAIN, [SESSIONS_REFUSED])
    # Another user is not refused.
    await sockets.accepted(site, first, user="bob")


async def test_behind_a_proxy_the_client_is_the_address_the_server_trusts(site: Site, sockets: Sockets) -> None:
    # The only test connecting from 127.0.0.1, a proxy on the same machine: uvicorn takes
    # its X-Forwarded-For by default, daphne only when started with --proxy-headers.
    forwarded_by_uvicorn = site.server.server == "uvicorn"
    first, second = {"X-Forwarded-For": "10.20.0.1"}, {"X-Forwarded-For": "10.20.0.2"}
    tokens = [site.browser().page_config("limits")["token"] for _ in range(SESSIONS + 1)]
    for token in tokens[:SESSIONS]:
        sock = await open_raw(_ws_url(site), token, source_address="127.0.0.1", headers=first)
        sockets.open.append(sock)
        assert sock.messages[0].msgtype == ACK, sock.errors()
    sock = await open_raw(_ws_url(site), tokens[SESSIONS], source_address="127.0.0.1", headers=second)
    sockets.open.append(sock)
    if forwarded_by_uvicorn:
        assert sock.messages[0].msgtype == ACK, "another forwarded address is another client"
    else:
        assert sock.errors() == [SESSIONS_REFUSED], "daphne without --proxy-headers counts the proxy"


# Under uvicorn alone: daphne without --proxy-headers counts the proxy (the test above), so
# only uvicorn hands a forwarded IPv6 address on from a client on 127.0.0.1.
@pytest.mark.parametrize("site", ["uvicorn"], indirect=True)
async def test_an_ipv6_client_counts_by_its_64_network(site: Site, sockets: Sockets) -> None:
    """A host given a /64 may connect from any of its 2**64 addresses: they are one client, not one each."""
    assert site.server.server == "uvicorn"
    tokens = [site.browser().page_config("limits")["token"] for _ in range(2 * SESSIONS + 2)]
    url = _ws_url(site)

    async def from_address(address: str, token: str) -> RawSocket:
        sock = await open_raw(url, token, source_address="127.0.0.1", headers={"X-Forwarded-For": address})
        sockets.open.append(sock)
        return sock

    for n, token in enumerate(tokens[:SESSIONS], start=1):
        sock = await from_address(f"2001:db8:1:1::{n}", token)
        assert sock.messages[0].msgtype == ACK, sock.errors()
    sock = await from_address("2001:db8:1:1:ffff:ffff:ffff:fffe", tokens[SESSIONS])
    assert sock.errors() == [SESSIONS_REFUSED], "another address of the same /64 is the same client"
    assert (await sock.until_closed()).code == TRY_AGAIN
    sock = await from_address("2001:db8:1:2::1", tokens[SESSIONS + 1])
    assert sock.messages[0].msgtype == ACK, ("another /64 is another client", sock.errors())
    # IPv4 addresses mapped into IPv6 (a dual-stack server's) are each their own client, as IPv4 ones.
    for n, token in enumerate(tokens[SESSIONS + 2 :], start=1):
        sock = await from_address(f"::ffff:10.30.0.{n}", token)
        assert sock.messages[0].msgtype == ACK, sock.errors()


async def test_with_the_settings_off_a_client_has_no_limit(unlimited_site: Site, sockets: Sockets) -> None:
    source = next(_addresses)
    # Past the limited site's limits and past the defaults (200 sessions, 500 connections).
    tokens = [unlimited_site.browser().page_config("limits")["token"] for _ in range(201)]
    for token in tokens:
        await sockets.accepted(unlimited_site, source, token=token)
    for n in range(300):
        await sockets.accepted(unlimited_site, source, token=tokens[n % len(tokens)])


async def test_the_default_limit_is_200_sessions_per_client(default_site: Site, sockets: Sockets) -> None:
    source = next(_addresses)
    for _ in range(200):
        await sockets.accepted(default_site, source)
    refused = default_site.browser().page_config("limits")["token"]
    code, errors = await expect_refusal(_ws_url(default_site), refused, source_address=source)
    expected = "this client holds its maximum of 200 sessions (MAX_SESSIONS_PER_CLIENT)"
    assert (code, errors) == (TRY_AGAIN, [expected])
    await sockets.accepted(default_site, next(_addresses))


def _http_get(site: Site, path: str, source: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", site.server.port, timeout=30, source_address=(source, 0))
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.fixture(scope="module")
def bokeh_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
    yield from running_site(
        tmp_path_factory,
        database,
        "client-limits-bokeh",
        DJANGO_SETTINGS_MODULE="tests.bokeh.settings",
        DOCSYNC_MAX_SESSIONS_PER_CLIENT="2",
        DOCSYNC_MAX_CONNECTIONS_PER_CLIENT=str(BOKEH_CONNECTIONS),
        # Long enough that the first pages' sessions are still live at the third page
        # on a loaded machine (at 0.5 s they expired in between under CI's load).
        DOCSYNC_UNUSED_SESSION_LIFETIME="8",
    )


async def test_a_bokeh_page_past_the_clients_sessions_is_refused_with_429(bokeh_site: Site) -> None:
    source, other = next(_addresses), next(_addresses)
    # A Bokeh app's page makes its session (as bokeh serve does): the page is refused.
    statuses = [await asyncio.to_thread(_http_get, bokeh_site, "/bk_function/", source) for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert await asyncio.to_thread(_http_get, bokeh_site, "/bk_function/", other) == 200

    # Unused, the pages' sessions expire, and the client's page is served again.
    async def served() -> bool:
        return await asyncio.to_thread(_http_get, bokeh_site, "/bk_function/", source) == 200

    for _ in range(600):
        if await served():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the expired sessions were never given back")


async def test_a_bokeh_client_past_its_connections_is_refused_with_1013_until_one_closes(bokeh_site: Site) -> None:
    # docs/bokeh.md: what one client holds of a process is bounded by MAX_CONNECTIONS_PER_CLIENT
    # in the Bokeh dialect too; the websocket past it closes 1013 with an ERROR naming it.
    source, other = next(_addresses), next(_addresses)
    token = await asyncio.to_thread(page_token, bokeh_site, "bk_function", source)
    held = [await tab_from(bokeh_site, "bk_function", token, source) for _ in range(BOKEH_CONNECTIONS)]
    try:
        assert [tab.messages[0].msgtype for tab in held] == ["ACK"] * BOKEH_CONNECTIONS
        refused = await tab_from(bokeh_site, "bk_function", token, source)
        closed = await refused.until_closed()
        assert closed.code == TRY_AGAIN
        text = f"this client holds its maximum of {BOKEH_CONNECTIONS} connections (MAX_CONNECTIONS_PER_CLIENT)"
        assert refused.errors() == [text]
        # Another client gets in, to the same session.
        stranger = await tab_from(bokeh_site, "bk_function", token, other)
        held.append(stranger)
        assert stranger.messages[0].msgtype == "ACK"
        # One of the client's tabs closes: its count is given back (once the server saw it close).
        await held.pop(0).close()
        deadline = time.monotonic() + 60
        while True:
            again = await tab_from(bokeh_site, "bk_function", token, source)
            held.append(again)
            if again.messages and again.messages[0].msgtype == "ACK":
                break
            assert again.errors() == [text], again.errors()
            assert time.monotonic() < deadline, "the closed socket's count was not given back in 60 s"
            await asyncio.sleep(0.05)
    finally:
        for tab in held:
            with contextlib.suppress(Exception):
                await tab.close()
