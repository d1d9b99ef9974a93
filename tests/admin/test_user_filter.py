"""The live-session list's "By user" filter on a site with many users online (a real daphne)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator

import pytest

from tests.hardening.harness import Database, Site

from .conftest import CHANGELIST, changelist_rows
from .test_live_sessions import _user_filter

USERS = 60  # three times the filter's bound


@pytest.fixture(scope="module")
def crowded_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    """A site listing sessions of another machine's process: user k has k % 5 + 1 of them; one is anonymous."""
    site = Site(tmp_path_factory.mktemp("crowded"), database, DOCSYNC_PROCESS_TIMEOUT="600")
    now = f"{dt.datetime.now(tz=dt.UTC):%Y-%m-%d %H:%M:%S}"
    rows = [(f"user{k:02d}", n) for k in range(USERS) for n in range(k % 5 + 1)] + [("", 0)]  # ids name no user
    with contextlib.closing(sqlite3.connect(site.db, timeout=20)) as db, db:
        db.executemany(
            "INSERT INTO docsync_livesession (session_id, app, user, process, created, last_activity, connections,"
            " models_count, messages_in, messages_out, bytes_in, bytes_out, keep_alive, snapshot_bytes, reported)"
            " VALUES (?, 'sliders', ?, 'another-machine:4321', ?, ?, 1, 3, 0, 0, 0, 0, 0, 0, ?)",
            [(f"session-{i:04d}", user, now, now, now) for i, (user, _) in enumerate(rows)],
        )
    site.start()
    try:
        yield site
    finally:
        site.stop()


@pytest.mark.asyncio
async def test_the_user_filter_lists_the_users_with_most_sessions_and_search_finds_the_others(
    crowded_site: Site,
) -> None:
    viewer = await asyncio.to_thread(crowded_site.browser, "viewer")
    page = (await asyncio.to_thread(viewer.get, CHANGELIST)).body
    users = [text for _, text, _ in _user_filter(page) if text not in ("All", "anonymous")]
    # The 12 users with 5 sessions and the first 8 (by name) of the 12 with 4, of 60 (all 60 listed before).
    with_five = [f"user{k:02d}" for k in range(USERS) if k % 5 == 4]
    with_four = [f"user{k:02d}" for k in range(USERS) if k % 5 == 3]
    assert len(users) == 20  # docsync.admin.MAX_USER_CHOICES (not imported: the test process configures no Django)
    assert users == sorted(with_five + with_four[:8])
    assert "anonymous" in {text for _, text, _ in _user_filter(page)}
    # A user left out is still chosen by its link (shown, selected), and found by the search box.
    chosen = await asyncio.to_thread(viewer.get, CHANGELIST + "?user=user00")
    assert [text for _, text, on in _user_filter(chosen.body) if on] == ["user00"]
    assert "Search by session id or user name." in page
    found = await asyncio.to_thread(changelist_rows, viewer, "?q=user00")
    assert [row["user_name"] for row in found] == ["user00"]
