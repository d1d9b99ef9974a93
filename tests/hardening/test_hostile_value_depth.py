"""A value a client sends cannot nest so deep that the document can no longer be pulled.

The value depth bound (64, docs/protocol.md §6) counted values, not JSON levels: a
``map`` entry is written three levels deep (its object, its entries, the pair), so a
column item of 41 nested maps (123 levels) fit a client's 128-level frame, was taken, and
every pull then carried it three levels deeper than it came: 130 levels, past what every
receiver parses (docsync's Python and JavaScript clients alike). No new tab could load
the session, no tab could resume it. Now the depth counts JSON levels. Against a real
daphne (the main hardening site): the attack is refused and the document is unchanged,
and the deepest value taken is pulled and replayed by an honest client.

A value is bounded as its property holds it, not as the event carried it: a cell patch
of 64 levels was taken (each event value is decoded by itself), and the pull then
carried it two levels deeper, in its column in the data: 66 levels, which the Python
client's and the browser's decoders refuse, as a restore of the snapshot did.
"""

from __future__ import annotations

from typing import Any

import pytest

from docsync.protocol import RESUME_REPLY, new_message
from docsync.serialization import Decoder

from .harness import open_client
from .hostile import Victim, patch

pytestmark = pytest.mark.asyncio


def maps(count: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(count):
        value = {"type": "map", "entries": [[1, value]]}
    return value


async def test_a_column_item_of_41_nested_maps_is_refused(victim: Victim) -> None:
    new_data = {"x": [1.0, 2.0, 3.0, 4.0], "s": [maps(41)] * 4}
    event = {"kind": "ModelChanged", "model": {"id": victim.model_id("source")}, "attr": "data", "new": new_data}
    text = await victim.refused(patch([event]), code="patch-refused")
    assert text == "value nested deeper than 64 levels"
    await victim.assert_unharmed()


def cell_patch(victim: Victim, value: Any) -> Any:
    cells = {"s": [[0, value]]}
    event = {"kind": "ColumnsPatched", "model": {"id": victim.model_id("source")}, "attr": "data", "patches": cells}
    return patch([event])


async def test_a_cell_past_the_bound_as_its_column_holds_it_is_refused(victim: Victim) -> None:
    # 21 maps around a list: 64 levels, each event value's bound; 66 as the data holds it.
    text = await victim.refused(cell_patch(victim, maps(21, [1])), code="patch-refused")
    assert text == "patch of column 's' nested deeper than 64 JSON levels"
    await victim.assert_unharmed()


async def test_the_deepest_value_taken_is_pulled_and_replayed(victim: Victim) -> None:
    # 20 maps (60 levels) around two lists: as deep as a cell may be (62, 64 as the data
    # holds it), in a cell patch (the event kind whose value a replay writes deepest:
    # patches, events, patches, column, pair).
    sock = await victim.raw()
    try:
        reply = await sock.request(cell_patch(victim, maps(20, [[1]])))
        assert reply.msgtype == "OK", reply.content
    finally:
        await sock.close()
    await victim.document_bytes()  # a pull that parses (the Receiver's 128 levels)
    tab = await open_client(victim.config)  # and decodes (the Decoder's 64 levels per value)
    try:
        assert tab.document.get_model_by_name("source").data["s"][0] == Decoder().decode(maps(20, [[1]]))  # type: ignore[union-attr]
    finally:
        await tab.close()
    sock = await victim.raw()
    try:
        resumed = await sock.request(new_message("RESUME-REQ", {"last_seq": 0, "client_id": "deep-replay"}))
        assert resumed.msgtype == RESUME_REPLY and resumed.content["mode"] == "replay", resumed.content
        assert resumed.content["patches"], resumed.content
    finally:
        await sock.close()
    victim.before = await victim.document_bytes()
    await victim.assert_unharmed()
