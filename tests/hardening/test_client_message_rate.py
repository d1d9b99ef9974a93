"""A client's message rate holds across its websockets and its reconnects, in either dialect.

Each connection has its own buckets (``MAX_PATCHES_PER_SECOND``, and 10 document requests
per second), full when it opens: one anonymous client reconnecting made 1,322 patches a
second, 6.6 times the rate. The client's buckets (``MAX_PATCHES_PER_CLIENT_BURST`` at once,
then ``MAX_PATCHES_PER_SECOND_PER_CLIENT``; the same for document requests) are shared by
its websockets and kept after they close. Against a real daphne process whose client
buckets refill at 0.01 a second (a message's worth every 100 s): what a client is answered
over a bounded number of reconnects is counted, and bounded by the bucket's own arithmetic
(its burst, plus its rate times the time taken), never by the clock alone. A new websocket
of a client whose bucket is empty is refused with 4029 before any session is made (no app
code runs). A logged-in user is one client from every address. Each test connects from its
own address (on Linux every 127.x.y.z reaches a server on 127.0.0.1), so each client
starts with full buckets.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import itertools
import re
import socket
import time
from collections.abc import Awaitable, Callable, Iterator

import pytest
import websockets

from docsync.protocol import ACK, PULL_DOC_REPLY, Message, pull_doc_req, server_info_req
from docsync.testing import RawSocket

from .harness import Database, Site, open_raw, running_site
from .session_rate_apps import calls_file

pytestmark = pytest.mark.asyncio

PER_CONNECTION = 3  # MAX_PATCHES_PER_SECOND: each connection's bucket, a burst of as many
BURST = 8  # MAX_PATCHES_PER_CLIENT_BURST
DOCUMENT_BURST = 4  # MAX_DOCUMENT_REQUESTS_PER_CLIENT_BURST (a connection may send 10)
RATE = 0.01  # both clients' rates, per second
RECONNECTS = 8
LIMIT = "MAX_PATCHES_PER_SECOND_PER_CLIENT"
DOCUMENT_LIMIT = "MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT"
REFUSED = f"this client sends too many messages: {BURST} at once, then {RATE:g} per second ({LIMIT})"
DOCUMENTS_REFUSED = (
    f"this client sends too many document requests: {DOCUMENT_BURST} at once, then {RATE:g} per second "
    f"({DOCUMENT_LIMIT})"
)
METRICS_TOKEN = "client-message-rate-metrics-token"
#: A fresh source address per test, so that no test sees another's buckets.
_addresses = (f"127.0.{n // 250 + 60}.{n % 250 + 2}" for n in itertools.count(1))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    yield from running_site(
        tmp_path_factory,
        database,
        "client-message-rate",
        DJANGO_SETTINGS_MODULE="tests.hardening.session_rate_settings",
        DOCSYNC_MAX_PATCHES_PER_SECOND=str(PER_CONNECTION),
        DOCSYNC_MAX_PATCHES_PER_CLIENT_BURST=str(BURST),
        DOCSYNC_MAX_PATCHES_PER_SECOND_PER_CLIENT=str(RATE),
        DOCSYNC_MAX_DOCUMENT_REQUESTS_PER_CLIENT_BURST=str(DOCUMENT_BURST),
        DOCSYNC_MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT=str(RATE),
        DOCSYNC_METRICS_TOKEN=METRICS_TOKEN,
    )


def _calls(site: Site) -> int:
    """How many times the server ran the counted apps' code."""
    path = calls_file(site.db)
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


async def _bokeh(site: Site, token: str, source: str) -> RawSocket:
    """A BokehJS-protocol websocket from ``source`` offering ``token``, its first message read."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setblocking(False)
    try:
        raw.bind((source, 0))
        await asyncio.wait_for(asyncio.get_running_loop().sock_connect(raw, ("127.0.0.1", site.server.port)), 10)
    except BaseException:
        raw.close()
        raise
    ws = await websockets.connect(
        f"ws://{site.host}/bk_rate_counted/ws",
        sock=raw,
        subprotocols=["bokeh", token],  # type: ignore[list-item]
        origin=f"http://{site.host}",  # type: ignore[arg-type]
        max_size=None,
    )
    sock = RawSocket(ws)
    with contextlib.suppress(websockets.ConnectionClosed):
        await sock.read_message()
    return sock


def _bokeh_token(site: Site, source: str) -> str:
    """The token of a new session of the Bokeh app: its autoload.js makes none (the websocket will)."""
    connection = http.client.HTTPConnection("127.0.0.1", site.server.port, timeout=30, source_address=(source, 0))
    try:
        connection.request("GET", "/bk_rate_counted/autoload.js?target=here")
        response = connection.getresponse()
        body = response.read().decode()
    finally:
        connection.close()
    assert response.status == 200, body[:300]
    found = re.search(r'"token":\s*"([^"]+)"', body)
    assert found is not None, body[:300]
    return found.group(1)


Opener = Callable[[str], Awaitable[RawSocket]]


def _opener(site: Site, dialect: str, source: str, username: str | None = None) -> tuple[Opener, Opener]:
    """Open a websocket of one session (made by the first), and one of a new session each call."""
    if dialect == "bokeh":
        pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
        token = _bokeh_token(site, source)

        async def same(source: str) -> RawSocket:
            return await _bokeh(site, token, source)

        async def new(source: str) -> RawSocket:
            return await _bokeh(site, await asyncio.to_thread(_bokeh_token, site, source), source)

        return same, new
    browser = site.browser(username)
    token = browser.page_config("rate_counted")["token"]
    url = f"ws://{site.host}/rate_counted/ws"

    async def same_native(source: str) -> RawSocket:
        return await open_raw(url, token, source_address=source, headers=browser.cookie_header())

    async def new_native(source: str) -> RawSocket:
        fresh = browser.page_config("rate_counted")["token"]
        return await open_raw(url, fresh, source_address=source, headers=browser.cookie_header())

    return same_native, new_native


def _accepted(sock: RawSocket) -> bool:
    return bool(sock.messages) and sock.messages[0].msgtype == ACK


async def _flood(sock: RawSocket, messages: list[Message]) -> list[Message]:
    """Send ``messages`` back to back, read until the server closes: the messages it answered."""
    closed = asyncio.create_task(sock.until_closed())
    with contextlib.suppress(websockets.ConnectionClosed):  # the server may close first
        for message in messages:
            await sock.send_message(message)
    await closed
    asked = {message.header["msgid"] for message in messages}
    return [m for m in sock.messages if m.reqid in asked and m.msgtype != "ERROR"]


async def _reconnecting(open_socket: Opener, source: str, build: Callable[[], Message], per_socket: int) -> Tally:
    """Open RECONNECTS websockets one after another, each sending ``per_socket`` messages."""
    tally = Tally()
    for _ in range(RECONNECTS):
        sock = await open_socket(source)
        if not _accepted(sock):  # refused at the handshake: an ERROR, then the close
            tally.refused_open.append(((await sock.until_closed()).code, sock.errors()))
            continue
        tally.answered += len(await _flood(sock, [build() for _ in range(per_socket)]))
        tally.closes.append((sock.close_code, sock.errors()))
    return tally


class Tally:
    """What the server answered over the reconnects, and how it closed or refused each websocket."""

    def __init__(self) -> None:
        self.answered = 0
        self.closes: list[tuple[int | None, list[str]]] = []
        self.refused_open: list[tuple[int | None, list[str]]] = []


@pytest.mark.parametrize("dialect", ["docsync", "bokeh"])
async def test_reconnecting_does_not_refill_the_clients_message_bucket(site: Site, dialect: str) -> None:
    source = next(_addresses)
    same, new = _opener(site, dialect, source)
    refusals = site.limit_refusals().get(LIMIT, 0)
    started = time.monotonic()
    # Each websocket sends twice its own burst: before, each was answered its burst (3 x 8 = 24).
    tally = await _reconnecting(same, source, server_info_req, 2 * PER_CONNECTION)
    elapsed = time.monotonic() - started
    # The client's bucket and what refilled it meanwhile, whatever the number of sockets.
    assert BURST <= tally.answered <= BURST + RATE * elapsed, tally.answered
    assert tally.closes[-1] == (4029, [REFUSED])  # the socket that emptied it
    assert tally.refused_open and all(refused == (4029, [REFUSED]) for refused in tally.refused_open)
    # A new session's websocket is refused too, before the session is made: no app code runs.
    calls = _calls(site)
    refused = await new(source)
    assert not _accepted(refused)
    assert ((await refused.until_closed()).code, refused.errors()) == (4029, [REFUSED])
    assert _calls(site) == calls
    assert site.limit_refusals()[LIMIT] - refusals == 1 + len(tally.refused_open) + 1
    # Another client (another address) has a bucket of its own.
    other = await same(next(_addresses))
    assert _accepted(other)
    assert len(await _flood(other, [server_info_req() for _ in range(2 * PER_CONNECTION)])) == PER_CONNECTION


async def test_reconnecting_does_not_refill_the_clients_document_requests(site: Site) -> None:
    source = next(_addresses)
    same, _new = _opener(site, "docsync", source)
    started = time.monotonic()
    # Six pulls per websocket, within its own 10: before, every one of them was answered (48).
    tally = await _reconnecting(same, source, pull_doc_req, 6)
    elapsed = time.monotonic() - started
    assert DOCUMENT_BURST <= tally.answered <= DOCUMENT_BURST + RATE * elapsed, tally.answered
    assert tally.closes == [(4029, [DOCUMENTS_REFUSED])]
    assert tally.refused_open == [(4029, [DOCUMENTS_REFUSED])] * (RECONNECTS - 1)


async def test_a_logged_in_user_is_one_client_from_every_address(site: Site) -> None:
    first, second = next(_addresses), next(_addresses)
    same, _new = _opener(site, "docsync", first, username="bob")
    tally = await _reconnecting(same, first, server_info_req, 2 * PER_CONNECTION)
    assert BURST <= tally.answered < 2 * BURST
    # From another address, the same user's websocket finds the bucket as it left it.
    refused = await same(second)
    assert not _accepted(refused)
    assert ((await refused.until_closed()).code, refused.errors()) == (4029, [REFUSED])
    # An anonymous client of that address is another client.
    anonymous, _new = _opener(site, "docsync", second)
    sock = await anonymous(second)
    assert _accepted(sock)
    reply = await sock.request(pull_doc_req())
    assert reply.msgtype == PULL_DOC_REPLY
    await sock.close()
