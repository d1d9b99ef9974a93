"""Bokeh dialect: a refused patch leaves the document as it was and its sender holding the server's document.

Against a real daphne serving ``bokeh_fuzzed.py``'s app and connections that speak as
BokehJS does. Each case sends one PATCH-DOC pairing a valid change (the slider moved)
with an event the server refuses: a model defined under an id of the server's shape or
one too long, a value out of what the widget offers or of the wrong type, a property no
browser may change, too many events, models or attachments, a document grown too large,
a cycle, a stream of the wrong rows. BokehJS applies a change before it sends it, and
logs an ERROR reply, nothing more: the sender's document is followed as it keeps it (the
pulled document, its own patch, then every PATCH-DOC the server sent it, applied by
Bokeh's own Python ``Document``) and must end equal to a fresh pull's, which must be
the one from before the patch; the other tab hears nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

from docsync.protocol import ERROR, PATCH_DOC, server_info_req

from .bokeh_fuzzed import NAMES
from .bokeh_mirror import apply, state
from .bokeh_tabs import Session, Tab, definitions, named
from .harness import Site

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
pytestmark = pytest.mark.asyncio

Ids = dict[str, str]


def _ref(model_id: str) -> dict[str, str]:
    return {"id": model_id}


def _changed(model_id: str, attr: str, new: Any) -> dict[str, Any]:
    return {"kind": "ModelChanged", "model": _ref(model_id), "attr": attr, "new": new}


def _div(model_id: str, text: str = "mine") -> dict[str, Any]:
    return {"type": "object", "name": "Div", "id": model_id, "attributes": {"text": text}}


def _children(doc: dict[str, Any], ids: Ids) -> list[dict[str, str]]:
    root = next(d for d in definitions(doc) if d["id"] == ids["root"])
    return [_ref(child["id"]) for child in root["attributes"]["children"]]


class Case(NamedTuple):
    """A refused event (or events) to send beside the slider's move, and the start of the ERROR's text."""

    events: Callable[[dict[str, Any], Ids], list[dict[str, Any]]]
    text: str
    #: Whether BokehJS holds what the refused events did (False: it could not have sent them).
    applied: bool = True


CASES = {
    "a root defined under an id of the server's shape": Case(
        lambda doc, ids: [{"kind": "RootAdded", "model": _div("p999999")}],
        "model id 'p999999' is reserved for the server's own models",
    ),
    "a child defined under an id of the server's shape": Case(
        lambda doc, ids: [_changed(ids["root"], "children", [*_children(doc, ids), _div("p999999")])],
        "model id 'p999999' is reserved for the server's own models",
    ),
    "a root defined under an id too long": Case(
        lambda doc, ids: [{"kind": "RootAdded", "model": _div("m" * 129)}],
        "model id too long: 129 > 128 characters",
    ),
    "a value the widget does not offer": Case(
        lambda doc, ids: [_changed(ids["select"], "value", "zzz")],
        "Select.value 'zzz' is not among its options",
    ),
    "a value of the wrong type": Case(
        lambda doc, ids: [_changed(ids["text"], "value", 5)],
        "invalid value for TextInput.value: ",
    ),
    "what a widget offers": Case(
        lambda doc, ids: [_changed(ids["select"], "options", ["zzz"])],
        "Select.options: a browser may not change what a widget offers",
    ),
    "a model's name": Case(
        lambda doc, ids: [_changed(ids["spare"], "name", "renamed")],
        "Div.name: a browser may not name a model",
    ),
    "too many events": Case(
        lambda doc, ids: [_changed(ids["multi"], "value", ["a"])] * 1000,
        "too many events in one patch: 1001 > 1000",
    ),
    "too many models attached": Case(
        lambda doc, ids: [_changed(ids["root"], "children", _children(doc, ids))] * 100,
        "too many models attached by one patch",
    ),
    "too many models created": Case(
        lambda doc, ids: [
            {
                "kind": "RootAdded",
                "model": {
                    "type": "object",
                    "name": "Column",
                    "id": "mine-column",
                    "attributes": {"children": [_div(f"mine-{n}") for n in range(40)]},
                },
            }
        ],
        "too many models created by clients",
    ),
    "a document too large": Case(
        lambda doc, ids: [_changed(ids["spare"], "text", "x" * (3 * 1024 * 1024))],
        "document too large",
    ),
    "a cycle": Case(
        lambda doc, ids: [
            _changed(
                ids["root"],
                "children",
                [
                    *_children(doc, ids),
                    {"type": "object", "name": "Column", "id": "c1", "attributes": {"children": [_ref(ids["root"])]}},
                ],
            )
        ],
        "cycle",
    ),
    "rows of the wrong type streamed": Case(
        lambda doc, ids: [
            {
                "kind": "ColumnsStreamed",
                "model": _ref(ids["source"]),
                "attr": "data",
                "data": {"x": ["a"], "n": [1], "s": ["s"], "l": [1.0], "img": [[[0.0]]]},
                "rollover": None,
            }
        ],
        "rows streamed into column 'x'",
    ),
    "an event the server cannot read": Case(
        lambda doc, ids: [{"kind": "Bogus"}],
        "unknown event kind 'Bogus'",
        applied=False,
    ),
}


async def _barrier(tab: Tab) -> None:
    """Wait until the server answered what ``tab`` sent before (its replies keep their order)."""
    await tab.request(server_info_req())


@pytest.mark.parametrize("case", list(CASES))
async def test_a_refused_patch_leaves_its_sender_with_the_servers_document(shared_bokeh_site: Site, case: str) -> None:
    from bokeh.document import Document

    session = Session(shared_bokeh_site, "bk_fuzzed")
    sender, other = await session.tab(), await session.tab()
    tabs = [sender, other]
    try:
        doc = await sender.document()
        ids = {name: named(doc, name) for name in NAMES}
        before = await other.document()
        moved = _changed(ids["slider"], "value", 42)
        refused = CASES[case].events(doc, ids)
        senders = Document.from_json(doc)
        apply(senders, [moved, *refused] if CASES[case].applied else [moved], validate=False)  # BokehJS applies first
        read, heard = len(sender.messages), len(other.messages)

        reply = await sender.patch([moved, *refused])
        assert reply.msgtype == ERROR, reply.content
        assert reply.content["code"] == "patch-refused", reply.content
        assert str(reply.content["text"]).startswith(CASES[case].text), reply.content

        await _barrier(sender)
        for message in sender.messages[read:]:
            if message.msgtype == PATCH_DOC:
                apply(senders, message.content["events"], message.buffers)
        fresh = await session.tab()
        tabs.append(fresh)
        after = await fresh.document()
        assert after == before, "a refused patch changed the document"
        assert state(senders) == state(Document.from_json(after)), "the sender kept what the server refused"
        await _barrier(other)
        assert [m for m in other.messages[heard:] if m.msgtype == PATCH_DOC] == [], "the other tab heard of it"
    finally:
        for tab in tabs:
            await tab.close()


async def test_corrections_of_refused_patches_are_bounded_per_session(shared_bokeh_site: Site) -> None:
    """A patch of a few bytes may touch a value of megabytes: its correction takes from the session's bucket."""
    from bokeh.document import Document

    session = Session(shared_bokeh_site, "bk_grow")
    sender, other = await session.tab(), await session.tab()  # (a move is sent, and charged, to the other)
    try:
        doc = await sender.document()
        pad = _changed(named(doc, "pad"), "value", 1900)
        assert (await sender.patch([pad])).msgtype == "OK"  # the app pads its Div "first" to 1.9 MiB
        doc = await sender.document()
        root, first = doc["roots"][0]["id"], named(doc, "first")
        move = [{"kind": kind, "model": _ref(root)} for kind in ("RootRemoved", "RootAdded")]
        assert (await sender.patch(move)).msgtype == "OK"  # (it leaves the put-back bucket owing)
        typed = _changed(first, "text", "mine")
        # A put-back refused while the session owes: the text the sender typed beside it is
        # corrected (1.9 MiB); the root it moved is one it still holds, not defined again.
        senders = Document.from_json(doc)
        apply(senders, [typed, *move])
        read = len(sender.messages)
        reply = await sender.patch([typed, *move])
        assert reply.msgtype == ERROR, reply.content
        assert str(reply.content["text"]).startswith("too many models attached again in this session: "), reply.content
        await _barrier(sender)
        [correction] = [m for m in sender.messages[read:] if m.msgtype == PATCH_DOC]
        assert [e["kind"] for e in correction.content["events"]] == ["ModelChanged"]
        apply(senders, correction.content["events"], correction.buffers)
        after = await sender.document()
        assert state(senders) == state(Document.from_json(after))
        # The next refusal, at once, is not corrected: the bucket owes, and the ERROR says so.
        read = len(sender.messages)
        reply = await sender.patch([typed, {"kind": "Bogus"}])
        text = str(reply.content["text"])
        assert text.startswith("unknown event kind 'Bogus'; not corrected: this session's corrections owe "), text
        await _barrier(sender)
        assert [m for m in sender.messages[read:] if m.msgtype == PATCH_DOC] == []
        # Once it refilled, the sender is corrected again.
        await asyncio.sleep(float(text.rsplit("owe ", 1)[1].split(" s")[0]) + 0.1)
        read = len(sender.messages)
        reply = await sender.patch([typed, {"kind": "Bogus"}])
        assert reply.content["text"] == "unknown event kind 'Bogus'", reply.content
        await _barrier(sender)
        assert len([m for m in sender.messages[read:] if m.msgtype == PATCH_DOC]) == 1
    finally:
        await sender.close()
        await other.close()
