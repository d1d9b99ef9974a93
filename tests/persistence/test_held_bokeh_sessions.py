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
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

from .test_bokeh_sessions import SETTINGS, _change, _reconnect, named, python_values
from .test_held_sessions import Kill, held_site, idle_past_twice_the_lifetime, kill_after_a_push_back


@pytest.mark.parametrize("store", ["database", "redis"])
def test_a_bokeh_session_idle_past_twice_the_lifetime_with_its_page_open_survives_a_kill_9(
    tmp_path: Path, store: str
) -> None:
    with contextlib.ExitStack() as stack:
        # No snapshot after the one its page made (SNAPSHOT_INTERVAL 30 s): the change is in the journal only.
        site = held_site(
            stack, tmp_path, store, processes=2, DJANGO_SETTINGS_MODULE=SETTINGS, DOCSYNC_SNAPSHOT_INTERVAL="30"
        )
        site.start()
        # The standby makes a session of the app (its page does): Bokeh's imports are behind it.
        with urllib.request.urlopen(f"{site.servers[1].url}bk_sliders/", timeout=60) as page:
            assert page.status == 200

        kills: list[Kill] = []

        async def run() -> tuple[str, dict[str, Any], float]:
            token, session_id, wire = await _change(site, "bk_sliders", 1.5)  # OK: in the journal
            await idle_past_twice_the_lifetime(site, session_id)
            kills.append(await kill_after_a_push_back(site, session_id))  # the standby serves on
            with contextlib.suppress(Exception):
                await wire.socket.close()
            again, doc = await _reconnect(site, "bk_sliders", token)  # what BokehJS does: the same token again
            answered = time.time()
            await again.socket.close()
            return session_id, doc, answered

        session_id, doc, answered = asyncio.run(run())
        # It was a fresh document, the change gone (from the journal).
        assert named(doc, "phase")["attributes"]["value"] == 1.5, kills[0].fresh(answered)
        assert python_values(site, "bk_sliders", "phase", "value", session_id) == [1.5]
        assert f"Bokeh session {session_id} of bk_sliders restored (1 records after its snapshot)" in site.log()
        assert kills[0].stored_until is not None, "the held session's snapshot expired"
