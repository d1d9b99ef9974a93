"""A message of millions of JSON values, on a server with docsync's default limits.

A message's JSON is parsed and judged on the event loop every session of the process
shares, at a cost that grows with its number of values, not its bytes: one 12 MB
PATCH-DOC of two million one-item lists held the process about 4 s. Now a frame of more
than ``MAX_FRAME_CONTAINERS`` arrays and objects is refused before it is parsed (ERROR
``close-1009``, close 1009), and the legitimate big messages (a selection of a million
points, a patch of thousands of lines) are still taken. Meanwhile another session's
round trips are answered. (No assertion on wall-clock time: the commit messages hold
the measurements.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from docsync.conf import DEFAULTS
from docsync.protocol import ERROR, OK, SERVER_INFO_REPLY, Message, server_info_req
from docsync.testing import EVENT_WAIT, RawSocket

from .harness import Site
from .hostile import Victim, patch, raw_pull

LIMIT = DEFAULTS["MAX_FRAME_CONTAINERS"]
VALUES = DEFAULTS["MAX_FRAME_VALUES"]
TOO_BIG = 1009


@pytest_asyncio.fixture
async def victim(default_site: Site) -> AsyncIterator[Victim]:
    made = await Victim.open(default_site)
    try:
        yield made
    finally:
        await made.close()


@pytest_asyncio.fixture
async def bystander(default_site: Site) -> AsyncIterator[RawSocket]:
    """A connection to another session of the same process."""
    other = await Victim.open(default_site)
    sock = await other.raw()
    try:
        yield sock
    finally:
        await sock.close()
        await other.close()


async def _server_info_while(sock: RawSocket, task: asyncio.Future[Any]) -> int:
    """SERVER-INFO round trips on ``sock``, one at least, until ``task`` is done; how many were answered."""
    answered = 0
    while True:
        reply = await sock.request(server_info_req(), EVENT_WAIT)
        assert reply.msgtype == SERVER_INFO_REPLY, reply.content
        answered += 1
        if task.done():
            return answered


def _set_data(source_id: str, columns: dict[str, Any]) -> Message:
    entries = [[name, column] for name, column in columns.items()]
    new = {"type": "map", "entries": entries}
    return patch([{"kind": "ModelChanged", "model": {"id": source_id}, "attr": "data", "new": new}])


@pytest.mark.asyncio
async def test_two_million_one_item_lists_are_refused_unparsed_while_another_session_is_served(
    victim: Victim, bystander: RawSocket
) -> None:
    column = [[1.5]] * 1_000_000
    message = _set_data(victim.model_id("source"), {"x": column, "y": column})
    frames = [frame if isinstance(frame, str) else bytes(frame) for frame in message.to_frames()]
    assert len(frames[2]) < DEFAULTS["MAX_FRAME_BYTES"]  # 12 MB: under the byte limits
    # The lists, and the content's 4 objects and 7 other arrays (events, entries, 2 entries,
    # 2 columns, references).
    containers = 2_000_011
    sock = await victim.raw()
    try:
        sending = asyncio.ensure_future(sock.send_frames(*frames))
        answered = await _server_info_while(bystander, sending)
        closed = await sock.until_closed(EVENT_WAIT)
    finally:
        await sock.close()
    assert closed.code == TOO_BIG
    assert sock.errors() == [f"too many arrays and objects in content frame: {containers} > {LIMIT}"]
    errors = [m for m in sock.messages if m.msgtype == ERROR]
    assert [m.content["code"] for m in errors] == ["close-1009"]
    assert answered >= 1
    assert (await bystander.request(server_info_req(), EVENT_WAIT)).msgtype == SERVER_INFO_REPLY
    await victim.assert_unharmed()


@pytest.mark.asyncio
async def test_lines_of_small_ints_past_the_value_limit_are_refused_unparsed_while_another_session_is_served(
    victim: Victim, bystander: RawSocket
) -> None:
    # The worst message the container limit let through: 76,000 lines of 100 one-digit ints
    # (15 MB, 76,009 containers), 7.6 million values, held the loop over a second.
    line = [i % 10 for i in range(100)]
    message = _set_data(victim.model_id("source"), {"x": [line] * 76_000})
    frames = [frame if isinstance(frame, str) else bytes(frame) for frame in message.to_frames()]
    assert len(frames[2]) < DEFAULTS["MAX_FRAME_BYTES"]
    assert frames[2].count("[") + frames[2].count("{") < LIMIT
    # 99 commas a line, 75,999 between the lines, the content's other 6 commas (between the
    # event's 4 members, the map's 2, the entry's name and column, events and references)
    # and its 9 colons (events, kind, model, id, attr, new, type, entries, references).
    separators = 76_000 * 99 + 75_999 + 6 + 9
    sock = await victim.raw()
    try:
        sending = asyncio.ensure_future(sock.send_frames(*frames))
        answered = await _server_info_while(bystander, sending)
        closed = await sock.until_closed(EVENT_WAIT)
    finally:
        await sock.close()
    assert closed.code == TOO_BIG
    assert sock.errors() == [f"too many values in content frame: {separators} > {VALUES}"]
    assert [m.content["code"] for m in sock.messages if m.msgtype == ERROR] == ["close-1009"]
    assert answered >= 1
    await victim.assert_unharmed()


@pytest.mark.asyncio
async def test_a_selection_of_a_million_points_and_thousands_of_lines_are_taken(
    victim: Victim, bystander: RawSocket
) -> None:
    source = victim.observer.document.get_model_by_name("source")
    selection_id = source.selected.id  # type: ignore[union-attr]
    indices = list(range(1_000_000))
    select = patch([{"kind": "ModelChanged", "model": {"id": selection_id}, "attr": "indices", "new": indices}])
    # A MultiLine's columns: 5,000 lines of 100 points each (10,000 arrays), as a plain JSON patch.
    line = [float(i) for i in range(100)]
    lines = _set_data(source.id, {"x": [line] * 5000, "s": [line[:3]] * 5000})  # type: ignore[union-attr]
    sock = await victim.raw()
    try:
        for message in (select, lines):
            reply_task = asyncio.ensure_future(sock.request(message, EVENT_WAIT))
            await _server_info_while(bystander, reply_task)
            reply = await reply_task
            assert reply.msgtype == OK, reply.content
    finally:
        await sock.close()
    selection = victim.observer.document.get_model_by_id(selection_id)
    await victim.observer.wait_for(lambda: len(selection.indices) == 1_000_000, EVENT_WAIT)  # type: ignore[union-attr]
    await victim.observer.wait_for(lambda: len(source.data["x"]) == 5000, EVENT_WAIT)  # type: ignore[union-attr]
    assert selection.indices == indices  # type: ignore[union-attr]
    assert source.data["x"][4999] == line  # type: ignore[union-attr]
    reply, _ = await raw_pull(victim.url, victim.config["token"])
    pulled = reply.content["doc"]
    assert any(m["id"] == selection_id and m["attributes"].get("indices") == indices for m in pulled["models"])
    assert not victim.observer.errors and victim.observer.close_code is None
