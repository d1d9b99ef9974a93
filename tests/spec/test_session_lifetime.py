"""docs/protocol.md §13, "How long a session waits for its client", against a real server.

The lifetimes are shortened through the settings the paragraph names, which the spec
settings (``project.settings``) read from the environment: ``DOCSYNC_UNUSED_SESSION_LIFETIME``,
``DOCSYNC_CHECK_UNUSED_SESSIONS`` and ``DOCSYNC_SESSION_TOKEN_EXPIRATION``. The tests wait
for states (a session gone, a token old enough), never bound how long something takes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest

from docsync.testing import ServerProcess

from .conftest import SERVER_KINDS, spec_site
from .wire_client import WireClient, changed, cookie_header, model_by, page_config

#: Seconds: a session without connection is destroyed 2 to 2.25 s after its last one
#: closed; a page's token may create a session for 8 s (long after that).
_LIFETIME, _CHECK, _EXPIRATION = 2.0, 0.25, 8
#: Generous cap on a wait for a state, so that a broken server fails the test rather than hanging it.
_STATE_WAIT = 120.0


@pytest.fixture(scope="module", params=SERVER_KINDS)
def short_lived(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, database: Path
) -> Iterator[ServerProcess]:
    """The spec site with UNUSED_SESSION_LIFETIME 2 s, CHECK_UNUSED_SESSIONS 0.25 s, SESSION_TOKEN_EXPIRATION 8 s."""
    env = {
        "DOCSYNC_UNUSED_SESSION_LIFETIME": str(_LIFETIME),
        "DOCSYNC_CHECK_UNUSED_SESSIONS": str(_CHECK),
        "DOCSYNC_SESSION_TOKEN_EXPIRATION": str(_EXPIRATION),
    }
    with spec_site(tmp_path_factory.mktemp(f"spec-lifetime-{request.param}"), database, request.param, **env) as site:
        yield site.server


async def _until_gone(server: ServerProcess, session_id: str, jar: CookieJar) -> None:
    """Wait until the server no longer holds ``session_id``: a page naming it gets another (§4)."""
    deadline = time.monotonic() + _STATE_WAIT
    while page_config(server.url + f"spec/?session_id={session_id}", jar)["sessionId"] == session_id:
        assert time.monotonic() < deadline, f"session {session_id} still held after {_STATE_WAIT} s"
        await asyncio.sleep(0.1)


async def _until_older_than(issued_before: float, age: float) -> None:
    """Wait until a token issued after ``issued_before`` (time.time()) is older than ``age`` seconds."""
    while (left := issued_before + age - time.time()) >= 0:
        await asyncio.sleep(left + 0.1)


async def _resume(config: dict[str, Any], jar: CookieJar, request: dict[str, Any]) -> tuple[WireClient, Any]:
    """Open a websocket of ``config`` as the client ``request`` names and send RESUME-REQ; return both."""
    client = await WireClient.connect(config, client_id=request["client_id"], headers=cookie_header(jar))
    assert (await client.receive()).msgtype == "ACK"
    return client, await client.request("RESUME-REQ", request)


@pytest.mark.asyncio
async def test_a_dropped_client_resumes_replayed_then_fresh_then_its_token_expires(short_lived: ServerProcess) -> None:
    # §13: a resume soon after a drop is a replay; once the session is destroyed
    # (UNUSED_SESSION_LIFETIME plus at most CHECK_UNUSED_SESSIONS after its last
    # connection) the same token makes a new session and the resume is full and fresh;
    # once the token is past SESSION_TOKEN_EXPIRATION it is refused, token expired, 1008.
    jar = CookieJar()
    issued_before = time.time()
    config = page_config(short_lived.url + "spec/", jar)
    a = await WireClient.connect(config, headers=cookie_header(jar))
    level = str(model_by(await a.handshake(), name="level")["id"])
    ok = await a.patch([changed(level, "value", 6.0)])
    seq, incarnation = ok.content["applied_seq"], a.incarnation
    request = {"last_seq": seq, "client_id": a.client_id, "incarnation": incarnation}
    a.drop()

    # Within the lifetime: the session the client knew, nothing missed.
    again, reply = await _resume(config, jar, request)
    assert (reply.content["mode"], reply.content["seq"], reply.content["patches"]) == ("replay", seq, [])
    again.drop()

    # Destroyed: the same token makes a new session under the same id, fresh.
    await _until_gone(short_lived, config["sessionId"], jar)
    later, reply = await _resume(config, jar, request)
    assert (reply.content["mode"], reply.content["fresh"]) == ("full", True)
    assert reply.content["incarnation"] != incarnation
    assert model_by(reply.content["doc"], name="level")["attributes"]["value"] == 1.0  # the app's new document
    await later.close()

    # Past the token's expiry, and that new session destroyed too: refused.
    await _until_older_than(issued_before, _EXPIRATION)
    await _until_gone(short_lived, config["sessionId"], jar)
    refused = await WireClient.connect(config, client_id=a.client_id, headers=cookie_header(jar))
    closed = await refused.until_closed()
    [error] = [m for m in refused.inbox if m.msgtype == "ERROR"]
    assert (closed.code, error.content) == (1008, {"text": "token expired", "code": "close-1008"})


@pytest.mark.asyncio
async def test_a_session_kept_by_another_connection_takes_a_resume_past_the_token_s_expiry(
    short_lived: ServerProcess,
) -> None:
    # §13: a session that keeps another connection (a second tab) is not destroyed: a
    # client resumes into it while its token may rejoin (SESSION_TOKEN_REUSE), past
    # SESSION_TOKEN_EXPIRATION and the unused lifetime.
    jar = CookieJar()
    issued_before = time.time()
    config = page_config(short_lived.url + "spec/", jar)
    a = await WireClient.connect(config, headers=cookie_header(jar))
    level = str(model_by(await a.handshake(), name="level")["id"])
    tab = await WireClient.connect(config, headers=cookie_header(jar))
    await tab.handshake()
    request = {"last_seq": a.last_seq, "client_id": a.client_id, "incarnation": a.incarnation}
    a.drop()

    await _until_older_than(issued_before, max(_EXPIRATION, _LIFETIME + _CHECK))
    ok = await tab.patch([changed(level, "value", 3.0)])
    again, reply = await _resume(config, jar, request)
    assert (reply.content["mode"], reply.content["seq"]) == ("replay", ok.content["applied_seq"])
    assert [p["events"] for p in reply.content["patches"]] == [[changed(level, "value", 3.0)]]
    await again.close()
    await tab.close()
