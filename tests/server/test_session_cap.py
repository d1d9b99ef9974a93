"""At MAX_SESSIONS, sessions already expired make room before anyone is refused.

The server checks for expired sessions only once an hour here, so only the sweep made
at the cap can free them: two sessions (the cap) are opened, closed and left to expire;
a third opens at once, and its next opener still gets the documented refusal while
the cap holds live sessions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from docsync.client import ClientSession, ServerError

from .clients import ServerUnderTest, open_session, page_config
from .conftest import StartServer

CAP = 2
LIFETIME = 0.5


@pytest.fixture(scope="module")
def capped(start_server: StartServer) -> Iterator[ServerUnderTest]:
    server = start_server(
        "capped",
        DOCSYNC_MAX_SESSIONS=str(CAP),
        DOCSYNC_UNUSED_SESSION_LIFETIME=str(LIFETIME),
        DOCSYNC_CHECK_UNUSED_SESSIONS="3600",
    )
    yield server
    server.server.stop()


@pytest.mark.asyncio
async def test_expired_sessions_make_room_at_the_cap(capped: ServerUnderTest) -> None:
    first = [await open_session(await page_config(capped, "sliders")) for _ in range(CAP)]
    for session in first:
        await session.close()
    await asyncio.sleep(LIFETIME * 2)  # both are now past their lifetime; no periodic check will come
    fresh = [await _open_once_expired(capped) for _ in range(CAP)]
    try:
        with pytest.raises(ServerError) as refused:  # the cap holds live sessions: refused as documented
            await open_session(await page_config(capped, "sliders"))
        refusal = (refused.value.code, str(refused.value))
        assert refusal == ("close-1013", "this process holds its maximum of 2 sessions")
    finally:
        for session in fresh:
            await session.close()


async def _open_once_expired(server: ServerUnderTest) -> ClientSession:
    """Open a session, retrying a refusal at the cap until the closed sessions have outlived their lifetime.

    A session's unused time starts when the server sees its socket go, which under load
    can be later than the client's close returned: until then the cap still holds it.
    A server whose sweep at the cap never frees expired sessions fails here after 60 s.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60.0
    while True:
        try:
            return await open_session(await page_config(server, "sliders"))
        except ServerError as refused:
            if refused.code != "close-1013" or loop.time() > deadline:
                raise
        await asyncio.sleep(LIFETIME / 5)
