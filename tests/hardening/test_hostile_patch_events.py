"""A patch of more events than MAX_PATCH_EVENTS is refused whole, before any is checked.

Each event is checked against the document as the earlier ones leave it, on the event
loop under the session's lock; some checks cost as much as the list they splice, so one
message of 20,000 small splices held a process for 15 s. Against a real server.
"""

from __future__ import annotations

import pytest

from docsync.sync.patches import MAX_PATCH_EVENTS

from .harness import Site
from .hostile import Victim, patch

pytestmark = pytest.mark.asyncio


async def test_a_patch_of_too_many_events_is_refused_and_changes_nothing(site: Site) -> None:
    victim = await Victim.open(site)
    try:
        # The smallest events, so that the message fits the test site's 64 KiB frames.
        events = [{"kind": "TitleChanged", "title": str(i % 10)} for i in range(MAX_PATCH_EVENTS + 1)]
        text = await victim.refused(patch(events), code="patch-refused")
        assert text == f"too many events in one patch: {MAX_PATCH_EVENTS + 1} > {MAX_PATCH_EVENTS}"
        await victim.assert_unharmed()
    finally:
        await victim.close()
