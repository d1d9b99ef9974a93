"""docsync's Python client keeps to the server's MAX_PATCHES_PER_SECOND: it is never closed 4029.

A real daphne process with ``MAX_PATCHES_PER_SECOND`` 20 (a bucket of 20 at once, then 20
a second), announced to the client in the page (``connection.sendLimits.maxPatchesPerSecond``).
A client doing round trips back to back (each change waits for its answer, as a loop of
``x = v; await sync()`` does) can make a round trip in about a millisecond on localhost,
so it passed the bucket after 20 and was closed with 4029 ``too many patches per second``;
its SERVER-INFO-REQs count in the same bucket. Now it waits for its own bucket, a mirror of
the server's, before it sends: the connection stays open and every change arrives, in order,
at another client of the session. Changes made faster than that, each in its own turn of
the loop, wait in the client and go together in one patch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import pytest_asyncio

from docsync.client import ClientSession
from docsync.document import DocumentEvent
from docsync.protocol import OK

from .harness import Database, Site, open_client, running_site

pytestmark = pytest.mark.asyncio

RATE = 20
ROUND_TRIPS = 3 * RATE  # well past the burst: at the client's own speed, closed after RATE


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    yield from running_site(tmp_path_factory, database, "pacing", DOCSYNC_MAX_PATCHES_PER_SECOND=str(RATE))


@pytest_asyncio.fixture
async def pair(site: Site) -> Any:
    """A client of a new session, and an observer of the same session recording the input's values."""
    config = site.browser().page_config("streamed")
    assert config["connection"]["sendLimits"]["maxPatchesPerSecond"] == RATE
    writer = await open_client(config)
    observer = await open_client(config)
    seen: list[Any] = []

    def record(event: DocumentEvent) -> None:
        if getattr(event, "attr", None) == "value":
            seen.append(event.model.value)  # type: ignore[attr-defined]

    observer.on_change(record)
    try:
        yield writer, observer, seen
    finally:
        await writer.close()
        await observer.close()


def _answers(session: ClientSession) -> int:
    return sum(1 for message in session.received if message.msgtype == OK)


async def test_round_trips_back_to_back_are_never_closed(pair: Any) -> None:
    writer, observer, seen = pair
    text = writer.document.get_model_by_name("input")
    for i in range(ROUND_TRIPS):
        text.value = f"v{i}"
        await writer.sync()  # raises ServerError if the server closed the connection meanwhile
    assert (writer.close_code, writer.close_reason) == (None, None)
    assert writer.connected.is_set() and not writer.errors and not writer.changes_lost
    assert _answers(writer) == ROUND_TRIPS  # one patch each: every change sent, and answered
    await observer.wait_for(lambda: len(seen) == ROUND_TRIPS)
    assert seen == [f"v{i}" for i in range(ROUND_TRIPS)]


async def test_server_info_requests_count_and_wait_too(pair: Any) -> None:
    writer, observer, seen = pair
    text = writer.document.get_model_by_name("input")
    for i in range(RATE):  # two messages of the bucket a round: twice the burst
        text.value = f"w{i}"
        await writer.sync()
        info = await writer.request_server_info()
        assert "version_info" in info
    assert writer.close_code is None and not writer.errors
    await observer.wait_for(lambda: len(seen) == RATE)
    assert seen == [f"w{i}" for i in range(RATE)]


async def test_changes_faster_than_the_rate_go_together(pair: Any) -> None:
    writer, observer, seen = pair
    text = writer.document.get_model_by_name("input")
    count = 4 * RATE
    for i in range(count):
        text.value = f"q{i}"
        await asyncio.sleep(0.001)  # (each change in a turn of the loop of its own)
    await writer.sync()
    assert writer.close_code is None and not writer.errors and not writer.changes_lost
    # Fewer patches than changes: those made while the bucket was empty went in one.
    assert _answers(writer) < count
    await observer.wait_for(lambda: bool(seen) and seen[-1] == f"q{count - 1}")
    assert writer.document.get_model_by_name("input").value == f"q{count - 1}"  # type: ignore[union-attr]
