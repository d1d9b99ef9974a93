"""One client patch cannot make the server define the same models again and again for every tab.

A client may take a model the server holds out of the document and put it back by
reference (docs/protocol.md §9): ``[RootRemoved x, RootAdded x]`` of the root, taken at two
positions, the second defining the root again, with all it reaches, for every other
connection. Repeated in one patch it was taken as often: 500 pairs (50 KB) of the 452-model
``many_models`` document held daphne's event loop 1.26 s, raised its peak RSS by 185 MB,
and queued 22 MB for the other tab, which was closed 4009. A patch now attaches at most
twice the models of the document and the patch (or 1,000), each attachment counting all
it reaches (§11): past that it is refused whole, and the sender, whose roots it touched,
is reset.
"""

from __future__ import annotations

import pytest

from docsync.protocol import ERROR, OK, PATCH_DOC, PUSH_DOC
from docsync.testing import EVENT_WAIT

from .harness import Site, canonical, pull_json
from .hostile import Victim, patch

pytestmark = pytest.mark.asyncio


def moves(root: str, times: int) -> list[dict[str, object]]:
    """The root taken out and put back, ``times`` times."""
    return [{"kind": kind, "model": {"id": root}} for _ in range(times) for kind in ("RootRemoved", "RootAdded")]


async def test_a_patch_moving_the_root_three_times_is_refused_whole(site: Site) -> None:
    victim = await Victim.open(site, "hostile_wide")
    try:
        root = victim.model_id("root")
        observed = len(victim.observer.received)
        sock = await victim.raw()
        try:
            pulled = await sock.pull()
            seq = pulled.content["seq"]
            # 3 x 456 models attached: over 2 x 456 and over 1,000.
            reply = await sock.request(patch(moves(root, 3), base=seq))
            assert reply.msgtype == ERROR, f"accepted: {reply.content}"
            assert reply.content["code"] == "patch-refused", reply.content
            assert reply.content["text"].startswith("too many models attached by one patch: more than 1000 ")
            # The sender's roots are put right: it is reset, alone.
            reset = await sock.read_message(EVENT_WAIT)
            assert reset.msgtype == PUSH_DOC, reset.content
            assert canonical(reset.content["doc"]) == canonical(await pull_json(victim.config))
        finally:
            await sock.close()
        assert await victim.document_bytes() == victim.before, "a refused patch changed the document"
        # The other tab was sent nothing of it, and is still connected.
        assert [m.msgtype for m in victim.observer.received[observed:]] == []
        await victim.assert_unharmed()
    finally:
        await victim.close()


async def test_a_patch_moving_the_root_twice_is_taken(site: Site) -> None:
    # Within the bound (2 x 456 models): the moves are taken, at three positions (a new
    # one before each definition again), and the other tab follows them.
    victim = await Victim.open(site, "hostile_wide")
    try:
        root = victim.model_id("root")
        observed = len(victim.observer.received)
        sock = await victim.raw()
        try:
            seq = (await sock.pull()).content["seq"]
            reply = await sock.request(patch(moves(root, 2), base=seq))
            assert reply.msgtype == OK, reply.content
            assert reply.content["rejected"] == 0 and reply.content["applied_seq"] == seq + 3, reply.content
        finally:
            await sock.close()
        await victim.observer.wait_for(lambda: victim.observer.last_seq == seq + 3, EVENT_WAIT)
        patches = [m for m in victim.observer.received[observed:] if m.msgtype == PATCH_DOC]
        assert [m.content["seq"] for m in patches] == [seq + 1, seq + 2, seq + 3]
        server = await pull_json(victim.config)
        assert canonical(victim.observer.document.to_json()[0]) == canonical(server)
        assert victim.observer.close_code is None and not victim.observer.errors
    finally:
        await victim.close()
