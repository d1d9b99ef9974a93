"""A patch of many splices based far back cannot hold the process for a second.

Each client splice is shifted past the other origins' splices of its list that the
client had not seen (up to 256 of them, protocol.md §13): a patch of 1,000 splices based
before another client's 250 made 250,000 shifts, a 60 KB message that held the
process's event loop (every session on it) 0.7 to 1.4 s, as often as it was sent. The
splices of one patch are now shifted past at most MAX_SPLICE_SHIFTS unseen splices in
all; the splices past that lose (corrected, as any lost change), and every document
still converges.
"""

from __future__ import annotations

import pytest

from docsync.protocol import OK, PULL_DOC_REPLY, new_message
from docsync.sync.sequencer import MAX_SPLICE_SHIFTS

from .harness import Site, find_model, pull_json, wait_until
from .hostile import Victim, patch

pytestmark = pytest.mark.asyncio


def _insert(selection: str, item: int) -> dict[str, object]:
    splice = {"index": 0, "delete": 0, "items": [item]}
    return {"kind": "ListSpliced", "model": {"id": selection}, "attr": "indices", **splice}


async def test_a_patch_is_shifted_past_a_bounded_number_of_splices(site: Site) -> None:
    victim = await Victim.open(site, "hostile")
    try:
        doc = await pull_json(victim.config)
        selection = find_model(doc, "source")["attributes"]["selected"]["id"]
        first, second = await victim.raw(), await victim.raw()
        try:
            for sock, client_id in ((first, "client-a"), (second, "client-b")):
                reply = await sock.request(new_message("PULL-DOC-REQ", {"client_id": client_id}))
                assert reply.msgtype == PULL_DOC_REPLY
                base = reply.content["seq"]
            # One client inserts 250 items; the other, based before them, 500 (one frame
            # of this site's: 64 KiB).
            unseen, count = 250, 500
            reply = await first.request(patch([_insert(selection, i) for i in range(unseen)], base=base))
            assert reply.msgtype == OK and reply.content["rejected"] == 0, reply.content
            reply = await second.request(patch([_insert(selection, 1000 + i) for i in range(count)], base=base))
            assert reply.msgtype == OK, reply.content
            shifted = MAX_SPLICE_SHIFTS // unseen
            assert reply.content["rejected"] == count - shifted, reply.content
            assert reply.content["lost"] == list(range(shifted, count))
        finally:
            await first.close()
            await second.close()
        # Everyone converges on the server's list: the first client's items, then the
        # second client's that were shifted.
        expected = sorted(range(unseen), reverse=True) + sorted(range(1000, 1000 + shifted), reverse=True)
        held = victim.observer.document.get_model_by_id(selection)
        await wait_until(lambda: list(held.indices) == expected, 5, "the observer's selection")  # type: ignore[union-attr]
        pulled = await pull_json(victim.config)
        assert next(m for m in pulled["models"] if m["id"] == selection)["attributes"]["indices"] == expected
        assert not victim.observer.errors
    finally:
        await victim.close()
