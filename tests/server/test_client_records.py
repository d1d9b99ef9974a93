"""The Python client keeps the newest ``KEPT_RECORDS`` of what it records, not every message of a long connection."""

from __future__ import annotations

import pytest

import docsync.client
from docsync.protocol import Message
from docsync.testing import EVENT_WAIT

from .clients import ServerUnderTest, open_session, page_config

pytestmark = pytest.mark.asyncio


async def test_received_keeps_only_the_newest_messages(
    server: ServerUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docsync.client, "KEPT_RECORDS", 4)
    session = await open_session(await page_config(server, "sliders"))
    seen: list[Message] = []
    dispatch = session._dispatch

    def recording(message: Message) -> None:
        seen.append(message)
        dispatch(message)

    session._dispatch = recording  # type: ignore[method-assign]
    try:
        amplitude = session.document.get_model_by_name("amplitude")
        for value in (1.5, 2.0, 2.5, 3.0):
            amplitude.value = value
            await session.sync(EVENT_WAIT)
        # Each change earns an answer and the callback's patch: more than are kept.
        assert len(seen) > 4
        assert session.received == seen[-4:]
    finally:
        await session.close()
