"""One client may not make sessions faster than its bucket allows, in either dialect.

Each new session runs the application's code: one address opening and dropping
sessions (about 200 per 15 s, MAX_SESSIONS_PER_CLIENT bounding only those held at once)
could spend a process's CPU. Against real daphne and uvicorn processes, a site with a
bucket of ``BURST`` sessions refilled at ``RATE`` per second: the sessions past the burst
are refused (close 4029 and an ERROR naming the setting over a websocket; HTTP 429 for a
Bokeh app's page, which makes its session), counted in ``/docsync-metrics``, and run no
app code; joining a live session is never refused; once refilled, a new session is made
again. Each test connects from its own address (on Linux every 127.x.y.z reaches a
server on 127.0.0.1), so each client starts with a full bucket.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import itertools
import re
import socket
from typing import Any

import pytest
import websockets

from docsync.protocol import ACK, ERROR
from docsync.testing import REPLY_TIMEOUT, RawSocket

from .harness import Site, open_raw, site_on_each_server
from .session_rate_apps import calls_file

pytestmark = pytest.mark.asyncio

BURST = 3  # NEW_SESSIONS_PER_CLIENT_BURST of the site
RATE = 0.5  # NEW_SESSIONS_PER_CLIENT_PER_SECOND of the site: a session's worth every 2 s
RATE_LIMITED = 4029
METRICS_TOKEN = "session-rate-metrics-token"
LIMIT = "NEW_SESSIONS_PER_CLIENT_PER_SECOND"
REFUSED = f"this client makes sessions too fast: {BURST} at once, then {RATE:g} per second ({LIMIT})"
#: Enough tries that a bucket of BURST is spent however slowly they run (each takes one).
TRIES = BURST + 20
#: A fresh source address per test, so that no test sees another's bucket.
_addresses = (f"127.0.{n // 250 + 40}.{n % 250 + 2}" for n in itertools.count(1))

site = site_on_each_server(
    "session-rate",
    DJANGO_SETTINGS_MODULE="tests.hardening.session_rate_settings",
    DOCSYNC_NEW_SESSIONS_PER_CLIENT_BURST=str(BURST),
    DOCSYNC_NEW_SESSIONS_PER_CLIENT_PER_SECOND=str(RATE),
    DOCSYNC_METRICS_TOKEN=METRICS_TOKEN,
)


def _calls(site: Site) -> int:
    """How many times the server ran the counted apps' code."""
    path = calls_file(site.db)
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


def _refusals(site: Site) -> int:
    return site.limit_refusals().get(LIMIT, 0)


def _made(site: Site, app: str) -> int:
    return int(site.metrics().get(f'docsync_sessions_created_total{{app="{app}"}}', 0))


async def _native(site: Site, token: str, source: str, headers: dict[str, str]) -> RawSocket:
    """A docsync websocket from ``source`` offering ``token`` (with its browser's cookie), its first message read."""
    return await open_raw(f"ws://{site.host}/rate_counted/ws", token, source_address=source, headers=headers)


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
    url = f"ws://{site.host}/bk_rate_counted/ws"
    ws = await websockets.connect(
        url,
        sock=raw,
        subprotocols=["bokeh", token],
        origin=f"http://{site.host}",
        max_size=None,  # type: ignore[list-item,arg-type]
    )
    sock = RawSocket(ws)
    with contextlib.suppress(websockets.ConnectionClosed):
        await sock.read_message()
    return sock


async def _outcome(sock: RawSocket) -> tuple[str, int | None, list[str]]:
    """``("accepted", None, [])`` for an ACK, else ``("refused", close code, ERROR texts)``."""
    if sock.messages and sock.messages[0].msgtype == ACK:
        return "accepted", None, []
    code = (await sock.until_closed()).code
    assert sock.messages and sock.messages[0].msgtype == ERROR, f"expected ACK or an ERROR, got {sock.messages}"
    return "refused", code, sock.errors()


def _bokeh_token(site: Site, path: str, source: str) -> tuple[int, str]:
    """GET ``path`` of the Bokeh app from ``source``: the status and the token it embeds ("" if none)."""
    connection = http.client.HTTPConnection("127.0.0.1", site.server.port, timeout=30, source_address=(source, 0))
    try:
        connection.request("GET", f"/bk_rate_counted/{path}")
        response = connection.getresponse()
        body = response.read().decode()
    finally:
        connection.close()
    found = re.search(r'"token":\s*"([^"]+)"', body)
    if response.status != 200:
        assert REFUSED in body, body[:500]  # the refusal names the setting
    return response.status, found.group(1) if found else ""


async def _until_accepted(attempt: Any) -> int:
    """Try ``attempt`` (a new session) every 0.2 s until it is accepted; return the refusals met meanwhile."""
    for refused in range(int(REPLY_TIMEOUT * 10 / RATE)):  # a failsafe only: a token comes back every 1 / RATE s
        outcome, code, errors = await attempt()
        if outcome == "accepted":
            return refused
        assert (code, errors) == (RATE_LIMITED, [REFUSED])
        await asyncio.sleep(0.2)
    raise AssertionError("the bucket was never refilled")


async def test_a_client_past_its_burst_is_refused_until_refilled_and_may_rejoin(site: Site) -> None:
    source = next(_addresses)
    browser = site.browser()  # docsync's own page makes nothing: its token's websocket makes the session
    calls, refusals, made = _calls(site), _refusals(site), _made(site, "rate_counted")
    held: list[RawSocket] = []
    tokens: list[str] = []

    async def new_session(source: str = source) -> tuple[str, int | None, list[str]]:
        token = browser.page_config("rate_counted")["token"]
        sock = await _native(site, token, source, browser.cookie_header())
        outcome = await _outcome(sock)
        if outcome[0] == "accepted":
            held.append(sock)
            tokens.append(token)
        return outcome

    try:
        outcomes = [await new_session() for _ in range(BURST)]
        assert outcomes == [("accepted", None, [])] * BURST  # a full bucket at first
        for _ in range(TRIES):
            outcome = await new_session()
            if outcome[0] == "refused":
                break
        assert outcome == ("refused", RATE_LIMITED, [REFUSED])
        accepted = len(tokens)
        assert (_refusals(site) - refusals, _made(site, "rate_counted") - made) == (1, accepted)
        assert _calls(site) - calls == accepted  # the refused session ran no app code
        # Its bucket empty, the client still joins the sessions it made: joining is not making.
        for token in tokens * 2:
            rejoined = await _native(site, token, source, browser.cookie_header())
            assert await _outcome(rejoined) == ("accepted", None, [])
            await rejoined.close()
        # Another client (another address) has a bucket of its own.
        assert await new_session(next(_addresses)) == ("accepted", None, [])
        # Refilled, a new session is made again.
        refused_meanwhile = await _until_accepted(new_session)
        assert _refusals(site) - refusals == 1 + refused_meanwhile
        assert _made(site, "rate_counted") - made == len(tokens) == _calls(site) - calls
    finally:
        for sock in held:
            await sock.close()


async def test_the_bokeh_dialect_refuses_pages_and_websockets_past_the_burst(site: Site) -> None:
    pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
    source = next(_addresses)
    calls, refusals, made = _calls(site), _refusals(site), _made(site, "bk_rate_counted")
    # A Bokeh app's page makes its session (as bokeh serve does): past the burst it is refused with 429.
    pages = [await asyncio.to_thread(_bokeh_token, site, "", source) for _ in range(BURST)]
    assert [status for status, _token in pages] == [200] * BURST
    for _ in range(TRIES):
        status, _token = await asyncio.to_thread(_bokeh_token, site, "", source)
        if status != 200:
            break
        pages.append((status, _token))
    assert status == 429
    accepted = len(pages)
    assert (_refusals(site) - refusals, _made(site, "bk_rate_counted") - made) == (1, accepted)
    assert _calls(site) - calls == accepted  # the refused page ran no app code
    # BokehJS's websocket joins the session its page made: not refused, however empty the bucket.
    for _status, token in pages:
        joined = await _bokeh(site, token, source)
        assert await _outcome(joined) == ("accepted", None, [])
        await joined.close()

    # autoload.js makes nothing: the websocket makes the session, and is refused with 4029.
    async def new_session() -> tuple[str, int | None, list[str]]:
        status, token = await asyncio.to_thread(_bokeh_token, site, "autoload.js?target=here", source)
        assert status == 200
        sock = await _bokeh(site, token, source)
        outcome = await _outcome(sock)
        await sock.close()
        return outcome

    first = await new_session()
    websockets_refused = 0
    if first[0] == "refused":  # (unless its bucket refilled since the page's refusal)
        assert first == ("refused", RATE_LIMITED, [REFUSED])
        websockets_refused = 1
        assert _calls(site) - calls == accepted
    refused_meanwhile = await _until_accepted(new_session)
    assert _refusals(site) - refusals == 1 + websockets_refused + refused_meanwhile
    assert _made(site, "bk_rate_counted") - made == accepted + 1 + (first[0] == "accepted") == _calls(site) - calls
