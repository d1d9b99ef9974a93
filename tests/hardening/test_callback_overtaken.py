"""A patch that changes a property after a callback of its own earlier change did: every tab ends equal.

Found by the interleaved session fuzz (``test_fuzz_sessions.py``, seed 4001): one patch
moved the ``workers`` app's range (whose callback sets the slider to its middle, 47)
and then the slider itself. The server applied them in that order and held the
patch's slider value; the sender was sent the callbacks' changes after its own, the
slider's 47 among them, and stayed at 47, never told otherwise.
"""

from __future__ import annotations

import pytest

from docsync.testing import EVENT_WAIT

from .harness import Site, find_model, open_client, pull_json


@pytest.mark.asyncio
async def test_the_patchs_own_later_change_wins_in_its_senders_document_too(site: Site) -> None:
    config = site.browser().page_config("workers")
    sender, other = await open_client(config), await open_client(config)
    try:
        # Made in one turn of the loop: one patch, the range's change first.
        sender.document.get_model_by_name("range").value = (9, 85)  # type: ignore[union-attr]
        sender.document.get_model_by_name("slider").value = 5  # type: ignore[union-attr]
        await sender.sync(EVENT_WAIT)
        assert find_model(await pull_json(config), "slider")["attributes"]["value"] == 5
        slider = other.document.get_model_by_name("slider")
        await other.wait_for(lambda: slider.value == 5, EVENT_WAIT)  # type: ignore[union-attr]
        assert sender.document.get_model_by_name("slider").value == 5  # type: ignore[union-attr]
        assert not sender.errors and not other.errors
    finally:
        await sender.close()
        await other.close()
