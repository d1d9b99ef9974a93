"""The reference model's reading of the rule, on patches written out by hand (no server, no run)."""

from __future__ import annotations

from typing import Any

import pytest

from docsync.protocol import Message
from docsync.protocol.msgtypes import OK

from .harness import SentPatch
from .reference import ReferenceFailure, replay
from .reference_document import PlainDocument, Ref


def _item_in_both_layouts() -> PlainDocument:
    """Two layouts holding the same item (a document may hold a model in two places)."""
    stack = "convergence.Stack"
    models = [
        {"id": "left", "name": stack, "attributes": {"children": [{"id": "m"}]}},
        {"id": "right", "name": stack, "attributes": {"children": [{"id": "m"}]}},
        {"id": "m", "name": "convergence.Item", "attributes": {}},
    ]
    return PlainDocument.from_json({"title": "", "roots": [{"id": "left"}, {"id": "right"}], "models": models}, {})


def _removal(origin: str, layout: str, seq: int, *, lost: bool) -> tuple[SentPatch, dict[str, Any]]:
    """A patch based on 0 taking the item out of ``layout``, answered at ``seq``; and the splice as broadcast."""
    splice = {"kind": "ListSpliced", "model": {"id": layout}, "attr": "children", "index": 0, "delete": 1, "items": []}
    answer = {"seq": seq, "applied_seq": seq, "rejected": int(lost), **({"lost": [0]} if lost else {})}
    reply = Message({"msgtype": OK, "msgid": f"ok{seq}", "reqid": f"p{seq}"}, content=answer)
    content = {"events": [splice], "references": [], "base": 0}
    return SentPatch(origin, seq, f"p{seq}", content, [], [reply], {0: ["m"]}), splice


def test_a_splice_is_not_judged_against_the_splices_of_another_list() -> None:
    """Taking an item out of one layout does not touch the splices of the other layout holding it.

    protocol.md §13 rule 4: a ListSpliced is judged against other origins' splices of its
    list, and loses only if it touches the same items. Bob takes the item out of the left
    layout at 1; Alice, based before, takes it out of the right one at 2: kept (the server's
    answer, seed 5400003303), the item out of the document. The reference model compared
    every splice made meanwhile by item, whatever its list, and raised 'kept, yet its items
    were touched'.
    """
    bobs, left = _removal("bob", "left", 1, lost=False)
    alices, right = _removal("alice", "right", 2, lost=False)
    model = replay(_item_in_both_layouts(), [bobs, alices], {}, 100, {1: [left], 2: [right]})
    assert model.accepted_events == 2 and model.rejected_events == 0
    assert model.document.models["left"][1]["children"] == []
    assert model.document.models["right"][1]["children"] == []
    assert "m" not in model.document.models


def test_a_splice_of_the_same_list_touching_its_items_still_loses() -> None:
    """The same two removals of the left layout: the second touches the items of the first, and must lose."""
    bobs, left = _removal("bob", "left", 1, lost=False)
    alices, _ = _removal("alice", "left", 2, lost=False)
    with pytest.raises(ReferenceFailure, match="splice 0 kept, yet its items were touched"):
        replay(_item_in_both_layouts(), [bobs, alices], {}, 100, {1: [left], 2: []})
    alices, _ = _removal("alice", "left", 2, lost=True)  # (lost: its property corrected at 2)
    model = replay(_item_in_both_layouts(), [bobs, alices], {}, 100, {1: [left]})
    assert model.accepted_events == 1 and model.rejected_events == 1


def _splice_patch(
    origin: str, seq: int, base: int, layout: str, at: tuple[int, int], items: list[str], view: list[str]
) -> tuple[SentPatch, dict[str, Any]]:
    """A patch splicing ``layout``'s children, made on ``view``, taken at ``seq``; and the splice as broadcast."""
    splice = {
        "kind": "ListSpliced",
        "model": {"id": layout},
        "attr": "children",
        "index": at[0],
        "delete": at[1],
        "items": [{"id": item} for item in items],
    }
    reply = Message({"msgtype": OK, "msgid": f"ok{seq}", "reqid": f"p{seq}"}, content={"seq": seq, "rejected": 0})
    content = {"events": [splice], "references": [], "base": base}
    return SentPatch(origin, seq, f"p{seq}", content, [], [reply], {0: view}), splice


def test_an_item_inserted_again_where_an_insertion_made_meanwhile_had_put_it_is_not_read_as_before_it() -> None:
    """An insertion between the neighbours of one made meanwhile, of the same item, deleted since, is in its place.

    Seed 6900015873 (child moves in memory): the item in the left layout; bob puts it into
    the empty right layout too (1: a model in two places) and takes it out of it again
    (2); alice, based before both, moves it into the right layout (3: kept, the item still
    held). Both insertions went between the list's ends: the reference model read the
    item of bob's, deleted since, where alice's put it, and raised 'went before'.
    """
    stack = "convergence.Stack"
    models = [
        {"id": "left", "name": stack, "attributes": {"children": [{"id": "m"}]}},
        {"id": "right", "name": stack, "attributes": {"children": []}},
        {"id": "m", "name": "convergence.Item", "attributes": {}},
    ]
    document = PlainDocument.from_json({"title": "", "roots": [{"id": "left"}, {"id": "right"}], "models": models}, {})
    bobs_in, put_in = _splice_patch("bob", 1, 0, "right", (0, 0), ["m"], [])
    bobs_out, took_out = _splice_patch("bob", 2, 1, "right", (0, 1), [], ["m"])
    alices, put_again = _splice_patch("alice", 3, 0, "right", (0, 0), ["m"], [])
    model = replay(document, [bobs_in, bobs_out, alices], {}, 100, {1: [put_in], 2: [took_out], 3: [put_again]})
    assert model.accepted_events == 3 and model.rejected_events == 0
    assert model.document.models["right"][1]["children"] == [Ref("m")]


def test_an_insertion_made_meanwhile_that_landed_past_the_place_is_not_read_as_after_it() -> None:
    """An insertion between the neighbours one made meanwhile was made between, which landed past them, is first.

    Seed 7300001285 (child moves in memory): bob moves the list's one item, ``p``, out
    and back to its place (1); alice, based before, inserts ``x`` before ``p`` (2):
    shifted past bob's insertion at her index, applied first, it lands after ``p`` (a
    neighbour inserted meanwhile: either side is hers). Carol, based on bob's, inserts
    ``y`` before ``p`` (3): alice's insertion, at another index, does not shift hers, so
    ``y`` goes first. The reference model read alice's ``x``, past ``p``, as at carol's
    place, and raised 'went before'.
    """
    stack = "convergence.Stack"
    models = [
        {"id": "s", "name": stack, "attributes": {"children": [{"id": "p"}]}},
        {"id": "p", "name": "convergence.Item", "attributes": {}},
        {"id": "x", "name": "convergence.Item", "attributes": {}},
        {"id": "y", "name": "convergence.Item", "attributes": {}},
    ]
    roots = [{"id": "s"}, {"id": "x"}, {"id": "y"}]
    document = PlainDocument.from_json({"title": "", "roots": roots, "models": models}, {})
    bobs_out, took_out = _splice_patch("bob", 1, 0, "s", (0, 1), [], ["p"])
    bobs_back, put_back = _splice_patch("bob", 2, 1, "s", (0, 0), ["p"], [])
    alices, made = _splice_patch("alice", 3, 0, "s", (0, 0), ["x"], ["p"])
    inserted = {**made, "index": 1}  # (as the server shifted it)
    carols, first = _splice_patch("carol", 4, 2, "s", (0, 0), ["y"], ["p"])
    broadcast = {1: [took_out], 2: [put_back], 3: [inserted], 4: [first]}
    model = replay(document, [bobs_out, bobs_back, alices, carols], {}, 100, broadcast)
    assert model.accepted_events == 4 and model.rejected_events == 0
    assert model.document.models["s"][1]["children"] == [Ref("y"), Ref("p"), Ref("x")]
