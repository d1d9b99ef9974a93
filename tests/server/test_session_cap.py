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

from docsync.client import ServerError

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
    fresh = [await open_session(await page_config(capped, "sliders")) for _ in range(CAP)]
    try:
        with pytest.raises(ServerError) as refused:  # the cap holds live sessions: refused as documented
            await open_session(await page_config(capped, "sliders"))
        refusal = (refused.value.code, str(refused.value))
        assert refusal == ("close-1013", "this process holds its maximum of 2 sessions")
    finally:
        for session in fresh:
            await session.close()
