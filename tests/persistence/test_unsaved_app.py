"""An app whose entry says ``"persist": False`` keeps its sessions in memory only (real daphne, killed, restarted)."""

from __future__ import annotations

import asyncio

import pytest

from docsync.client import ClientSession, fetch_page_config
from docsync.testing import EVENT_WAIT

from .conftest import Site
from .test_kill_and_drain import notes_of, wait_until

pytestmark = pytest.mark.asyncio


async def _open(site: Site, app: str) -> ClientSession:
    client = ClientSession(await asyncio.to_thread(fetch_page_config, site.url + app + "/"))
    await client.connect()
    return client


async def test_a_docsync_app_with_persist_false_stores_no_snapshot_and_starts_afresh_after_a_kill(site: Site) -> None:
    site.start()
    saved, unsaved = await _open(site, "board"), await _open(site, "board_unsaved")
    try:
        for client in (saved, unsaved):
            notes_of(client).items.append("written")
            await client.sync(EVENT_WAIT)
        # The same app with persistence on (the control): its snapshot is stored.
        await wait_until(lambda: (site.saved_seq(saved.id) or -1) >= saved.last_seq, "the persisted app's snapshot")
        assert site.snapshot_row(unsaved.id) is None

        site.server.kill()  # type: ignore[union-attr]
        await wait_until(lambda: not unsaved.connected.is_set(), "the client to see its socket drop")
        site.start()
        await saved.reconnect()
        await unsaved.reconnect()
        assert not saved.resumed_fresh
        assert notes_of(saved).items == ["written"]
        assert unsaved.resumed_fresh  # its session was made again from the app, its note gone
        assert notes_of(unsaved).items == []
    finally:
        await saved.close()
        await unsaved.close()
