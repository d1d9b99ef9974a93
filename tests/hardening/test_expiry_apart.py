"""A session whose callback still runs does not hold up the expiry of the process's other sessions.

Destroying a session waits for its running callbacks (none runs after its
``on_session_destroyed``). The expiry loop destroyed expired sessions one after another,
so one slow callback (a long query, an unlocked coroutine) held up the expiry of every
other session of the process, and the client slots they would give back, until it ended.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from docsync.testing import EVENT_WAIT

from .harness import Database, Site, open_client, running_site, wait_until

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("expiry-apart-files")
    return folder / "release", folder / "ended"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, database: Database, files: tuple[Path, Path]) -> Iterator[Site]:
    release, ended = files
    yield from running_site(
        tmp_path_factory,
        database,
        "expiry-apart",
        DOCSYNC_TEST_RELEASE=str(release),
        DOCSYNC_TEST_ENDED=str(ended),
        DOCSYNC_UNUSED_SESSION_LIFETIME="0.5",
        DOCSYNC_CHECK_UNUSED_SESSIONS="0.2",
    )


def _ended(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


async def test_a_running_callback_holds_up_only_its_own_session_s_expiry(site: Site, files: tuple[Path, Path]) -> None:
    release, ended = files
    held_config = site.browser().page_config("held_sessions")
    held = await open_client(held_config)
    held.document.get_model_by_name("slider").value = 5  # type: ignore[union-attr]
    await held.sync(EVENT_WAIT)  # answered; the callback it started runs on
    await held.close()
    other_config = site.browser().page_config("held_sessions")
    other = await open_client(other_config)
    await other.close()

    # Both are unused now; the other one is destroyed while the held one's callback runs.
    await wait_until(lambda: other_config["sessionId"] in _ended(ended), EVENT_WAIT, "the other session's end")
    assert held_config["sessionId"] not in _ended(ended)
    release.touch()
    await wait_until(lambda: held_config["sessionId"] in _ended(ended), EVENT_WAIT, "the held session's end")
    assert "Traceback" not in site.log_text(), site.log_text()[-3000:]
