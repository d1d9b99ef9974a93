"""A held Bokeh session keeps its snapshot and journal in the store, however long it is idle.

As tests/persistence/test_held_sessions.py for Bokeh's dialect: a real daphne with
``SNAPSHOT_LIFETIME`` at 8 s, SQLite or a private redis-server, and a client speaking
Bokeh's protocol (tests/persistence/test_bokeh_sessions.py). A change, then the page
open and idle for twice the lifetime: the store held nothing of the session any more
(its snapshot written when the page made it, its change's journal record), and after a
kill -9 BokehJS's reconnection pulled a fresh document, the change gone.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

from .test_bokeh_sessions import SETTINGS, _change, _reconnect, named, python_values
from .test_held_sessions import held_site, idle_past_twice_the_lifetime, stored_until


@pytest.mark.parametrize("store", ["database", "redis"])
def test_a_bokeh_session_idle_past_twice_the_lifetime_with_its_page_open_survives_a_kill_9(
    tmp_path: Path, store: str
) -> None:
    with contextlib.ExitStack() as stack:
        # No snapshot after the one its page made (SNAPSHOT_INTERVAL 30 s): the change is in the journal only.
        site = held_site(stack, tmp_path, store, DJANGO_SETTINGS_MODULE=SETTINGS, DOCSYNC_SNAPSHOT_INTERVAL="30")
        site.start()

        kept: list[float | None] = []

        async def run() -> tuple[str, dict[str, Any]]:
            token, session_id, wire = await _change(site, "bk_sliders", 1.5)  # OK: in the journal
            await idle_past_twice_the_lifetime(site, session_id)
            kept.append(stored_until(site, session_id))
            site.server.kill()
            with contextlib.suppress(Exception):
                await wire.socket.close()
            await asyncio.to_thread(site.start)
            again, doc = await _reconnect(site, "bk_sliders", token)  # what BokehJS does: the same token again
            await again.socket.close()
            return session_id, doc

        session_id, doc = asyncio.run(run())
        assert named(doc, "phase")["attributes"]["value"] == 1.5
        assert python_values(site, "bk_sliders", "phase", "value", session_id) == [1.5]
        assert f"Bokeh session {session_id} of bk_sliders restored (1 records after its snapshot)" in site.log()
        assert kept[0] is not None, "the held session's snapshot expired"
