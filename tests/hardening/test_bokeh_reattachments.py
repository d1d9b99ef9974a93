"""Bokeh dialect: one patch cannot make the server define the same models again and again for every tab.

A BokehJS patch of ``[RootRemoved r, RootAdded r]`` pairs of a held root is applied pair
by pair, each ``RootAdded`` defining the root again, with all it reaches, in a PATCH-DOC of
its own for every other tab: 50 pairs (5 KB) of a root whose Div the application had
padded to 100 KiB sent 5.1 MB to another tab. As in docsync's dialect (protocol.md §11),
a patch now attaches at most twice the bytes of the models it attaches, each once (or
1 MiB), and twice the models of the document and the patch (or 1,000).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time

import pytest

from docsync.protocol import PATCH_DOC, server_info_req
from docsync.sync.sequencer import CORRECTION_BURST, MAX_CORRECTION_BYTES

from .bokeh_tabs import Session, named
from .harness import Site

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
pytestmark = pytest.mark.asyncio


async def test_a_patch_moving_a_padded_root_fifty_times_is_refused(shared_bokeh_site: Site) -> None:
    session = Session(shared_bokeh_site, "bk_grow")
    sender, watcher = await session.tab(), await session.tab()
    try:
        doc_json = await watcher.document()
        pad = {"kind": "ModelChanged", "model": {"id": named(doc_json, "pad")}, "attr": "value", "new": 100}
        assert (await sender.patch([pad])).msgtype == "OK"  # the app pads its Div "first" to 100 KiB
        before = await watcher.document()
        root = before["roots"][0]["id"]
        read = len(watcher.messages)
        moves = [{"kind": kind, "model": {"id": root}} for _ in range(50) for kind in ("RootRemoved", "RootAdded")]
        reply = await sender.patch(moves)
        assert reply.msgtype == "ERROR", f"accepted: {reply.content}"
        assert str(reply.content["text"]).startswith("too many bytes attached by one patch: "), reply.content
        await watcher.request(server_info_req())  # (its reply follows what the patch sent it)
        assert [m.msgtype for m in watcher.messages[read:] if m.msgtype == PATCH_DOC] == []
        assert await watcher.document() == before
        # One move is taken, and reaches the other tab.
        read = len(watcher.messages)
        assert (await sender.patch(moves[:2])).msgtype == "OK"
        await watcher.request(server_info_req())
        assert len([m for m in watcher.messages[read:] if m.msgtype == PATCH_DOC]) == 1
        after = await watcher.document()  # (the root moved to the end of the roots)
        assert after["roots"] == [*before["roots"][1:], before["roots"][0]]
    finally:
        await sender.close()
        await watcher.close()


async def test_moves_of_a_padded_root_patch_after_patch_are_bounded_for_every_tab(shared_bokeh_site: Site) -> None:
    # One move a patch is within one patch's bounds, but each defined the padded root again
    # for every other tab: 100 such patches (10 KB) sent 10.3 MB to another tab in a quarter
    # of a second. As in docsync's dialect, the session's put-backs take from a bucket of
    # 1 MiB at once, then 256 KiB a second; owing, a patch attaching a held model is refused.
    session = Session(shared_bokeh_site, "bk_grow")
    sender, watcher = await session.tab(), await session.tab()
    try:
        doc_json = await watcher.document()
        pad = {"kind": "ModelChanged", "model": {"id": named(doc_json, "pad")}, "attr": "value", "new": 100}
        assert (await sender.patch([pad])).msgtype == "OK"  # the app pads its Div "first" to 100 KiB
        before = await watcher.document()
        root = before["roots"][0]["id"]
        await watcher.request(server_info_req())
        read = len(watcher.messages)
        move = [{"kind": kind, "model": {"id": root}} for kind in ("RootRemoved", "RootAdded")]
        # A lone change naming a model the document keeps (the shelf's Div) defines nothing
        # again: it is taken, between two moves refused (while the bucket owes).
        shelf, first = named(before, "shelf"), named(before, "first")
        lone = [{"kind": "ModelChanged", "model": {"id": shelf}, "attr": "children", "new": [{"id": first}]}]
        started = time.monotonic()
        replies, lone_replies = [], []
        for _ in range(100):
            replies.append(await sender.patch(move))
            lone_replies.append(await sender.patch(lone))
        await watcher.request(server_info_req())  # (its reply follows what the patches sent it)
        elapsed = time.monotonic() - started
        refusals = [str(r.content["text"]) for r in replies if r.msgtype == "ERROR"]
        assert refusals, "every move taken"
        assert all(t.startswith("too many models attached again in this session: ") for t in refusals), refusals[0]
        assert [r.content for r in lone_replies if r.msgtype != "OK"] == []
        assert any(a.msgtype == b.msgtype == "ERROR" for a, b in itertools.pairwise(replies)), "never owing twice"
        sent = sum(len(json.dumps(m.content)) for m in watcher.messages[read:] if m.msgtype == PATCH_DOC)
        one = len(json.dumps(before))  # (a move defines the root again: at most the document)
        bound = (CORRECTION_BURST + elapsed) * MAX_CORRECTION_BYTES + one + 100 * 1000  # (+ the lone changes)
        assert sent <= bound, f"{sent} bytes of moves sent to another tab, more than {bound:.0f}"
        # What was refused changed nothing; once the bucket refilled, a move is taken again.
        roots = [r["id"] for r in (await watcher.document())["roots"]]
        assert sorted(roots) == sorted(r["id"] for r in before["roots"])
        wait = float(refusals[-1].rsplit("try again in ", 1)[1].split(" s")[0])
        await asyncio.sleep(wait + 0.2)
        assert (await sender.patch(move)).msgtype == "OK"
    finally:
        await sender.close()
        await watcher.close()


async def test_a_move_of_a_heavy_root_leaves_the_bucket_owing_a_burst_at_most(shared_bokeh_site: Site) -> None:
    # Moves of a root the app padded to 1.9 MiB (its document's bound is 2 MiB). Each one
    # taken sends that to every other tab; before, one taken whenever the bucket owed
    # nothing left it owing 1.9 MiB, every move (and in docsync's dialect every correction)
    # refused for 7 s. One put-back may now leave it owing a burst at most: taken while it
    # is full (1 MiB held, a burst owed), refused once it is empty, saying when it fits.
    session = Session(shared_bokeh_site, "bk_grow")
    sender, watcher = await session.tab(), await session.tab()
    try:
        doc_json = await watcher.document()
        pad = {"kind": "ModelChanged", "model": {"id": named(doc_json, "pad")}, "attr": "value", "new": 1900}
        assert (await sender.patch([pad])).msgtype == "OK"  # the app pads its Div "first" to 1.9 MiB
        root = doc_json["roots"][0]["id"]
        move = [{"kind": kind, "model": {"id": root}} for kind in ("RootRemoved", "RootAdded")]
        assert (await sender.patch(move)).msgtype == "OK"  # (the bucket was full)
        reply = await sender.patch(move)
        assert reply.msgtype == "ERROR", f"accepted: {reply.content}"
        owing = str(reply.content["text"])
        assert owing.startswith("too many models attached again in this session: "), owing
        await asyncio.sleep(float(owing.rsplit("try again in ", 1)[1].split(" s")[0]) + 0.1)
        before = await watcher.document()
        await watcher.request(server_info_req())
        read = len(watcher.messages)
        reply = await sender.patch(move)  # (owing nothing, holding next to nothing)
        assert reply.msgtype == "ERROR", f"accepted: {reply.content}"
        text = str(reply.content["text"])
        assert text.startswith("too many bytes put back by one patch: "), text
        burst = CORRECTION_BURST * MAX_CORRECTION_BYTES
        assert f"(at most {2 * burst}: {burst} at once and {burst} owed, then {MAX_CORRECTION_BYTES} a second)" in text
        assert "; try again in " in text, text
        await watcher.request(server_info_req())
        assert [m.msgtype for m in watcher.messages[read:] if m.msgtype == PATCH_DOC] == []
        assert await watcher.document() == before
        # A move of the root made light again is taken: the refusal owed nothing.
        pad["new"] = 100
        assert (await sender.patch([pad])).msgtype == "OK"
        reply = await sender.patch(move)
        assert reply.msgtype == "OK", reply.content
    finally:
        await sender.close()
        await watcher.close()
