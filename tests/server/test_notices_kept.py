"""A session keeps the admin's last ``KEPT_NOTICES`` notices for its detail page, not every one ever sent."""

from __future__ import annotations

import pytest

from docsync.document import Document
from docsync.server.session.notices import KEPT_NOTICES
from docsync.server.session.session import ServerSession
from docsync.sync.sequencer import Sequencer


@pytest.mark.asyncio
async def test_a_session_keeps_only_the_last_notices() -> None:
    sequencer = Sequencer(
        Document(),
        allow_client_structure=False,
        log_entries=100,
        log_bytes=1 << 20,
        max_client_models=100,
        max_array_elements=1000,
    )
    session = ServerSession("s", sequencer, app_path="app", request={})
    for number in range(KEPT_NOTICES + 5):
        await session.send_notice(f"notice {number}")
    # Bounded (every buffer is): the oldest go first, the detail page lists the newest.
    assert list(session.notices) == [f"notice {n}" for n in range(5, KEPT_NOTICES + 5)]
