"""Bokeh dialect: a client's patch naming a model another change just removed leaves it holding the server's document.

Against a real daphne serving a Bokeh app (``bokeh_crossed.py``) and connections that
speak as BokehJS does. One tab (or the app's callback, at its change) removes the Div
``b`` from the layout; another, which had not yet heard of it, sends a patch naming
``b``. Bokeh drops such a patch whole and answers OK (the change crossed the removal on
the wire); its sender had applied it already. The sender's document is followed as
BokehJS keeps it: the pulled document, its own patch, then every PATCH-DOC the server
sent it (applied by Bokeh's own Python ``Document``), and must end equal to a new
pull's. Before the server sent the sender its values back, it kept ``b`` in the Row,
as a root, or inside the Column it defined, and the slider value the patch also moved.
"""

from __future__ import annotations

from typing import Any

import pytest

from docsync.protocol import PATCH_DOC

from .bokeh_crossed import REMOVING_VALUE
from .bokeh_mirror import apply as _apply
from .bokeh_mirror import state as _state
from .bokeh_tabs import Session, Tab, definitions, named
from .harness import Site

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
pytestmark = pytest.mark.asyncio


def _ref(model_id: str) -> dict[str, str]:
    return {"id": model_id}


def _children(doc_json: dict[str, Any], name: str) -> list[dict[str, str]]:
    attributes = next(d["attributes"] for d in definitions(doc_json) if d.get("attributes", {}).get("name") == name)
    return [_ref(child["id"]) for child in attributes["children"]]


def _the_senders(doc_json: dict[str, Any], ids: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """What the tab that had not heard of the removal sends, by case."""
    b, side, slider = _ref(ids["b"]), _ref(ids["side"]), _ref(ids["slider"])
    moved = {"kind": "ModelChanged", "model": side, "attr": "children", "new": [b]}
    column = {"type": "object", "name": "Column", "id": "client-column", "attributes": {"children": [b]}}
    return {
        "moved": [moved, {"kind": "ModelChanged", "model": slider, "attr": "value", "new": 3}],
        "moved by a callback's removal": [
            moved,
            {"kind": "ModelChanged", "model": _ref(ids["a"]), "attr": "text", "new": "changed too"},
        ],
        # It then dropped the Row it moved b into: the Row's correction must define it again.
        "moved into a model it then detached": [
            moved,
            {"kind": "ModelChanged", "model": _ref(ids["root"]), "attr": "children", "new": [slider, b]},
        ],
        "a root": [{"kind": "RootAdded", "model": b}],
        "inside a definition": [{"kind": "RootAdded", "model": column}],
    }


def _removal(doc_json: dict[str, Any], ids: dict[str, str], case: str) -> list[dict[str, Any]]:
    if case == "moved by a callback's removal":  # the app's callback removes b
        return [{"kind": "ModelChanged", "model": _ref(ids["slider"]), "attr": "value", "new": REMOVING_VALUE}]
    kept = [child for child in _children(doc_json, "root") if child["id"] != ids["b"]]
    return [{"kind": "ModelChanged", "model": _ref(ids["root"]), "attr": "children", "new": kept}]


CASES = [
    "moved",
    "moved by a callback's removal",
    "moved into a model it then detached",
    "a root",
    "inside a definition",
]


@pytest.mark.parametrize("case", CASES)
async def test_a_patch_naming_a_model_removed_meanwhile_leaves_its_sender_with_the_servers_document(
    shared_bokeh_site: Site, case: str
) -> None:
    from bokeh.document import Document

    session = Session(shared_bokeh_site, "bk_crossed")
    remover, sender = await session.tab(), await session.tab()
    tabs: list[Tab] = [remover, sender]
    try:
        doc_json = await sender.document()
        ids = {name: named(doc_json, name) for name in ("root", "slider", "a", "b", "side")}
        senders = Document.from_json(doc_json)
        events = _the_senders(doc_json, ids)[case]
        _apply(senders, events)  # BokehJS applies a change before it sends it
        read = len(sender.messages)

        assert (await remover.patch(_removal(doc_json, ids, case))).msgtype == "OK"
        reply = await sender.patch(events)  # sent before it heard of the removal
        assert reply.msgtype == "OK", reply.content  # dropped whole, as Bokeh does

        received = [m for m in sender.messages[read:] if m.msgtype == PATCH_DOC]
        for message in received:
            _apply(senders, message.content["events"], message.buffers)
        viewer = await session.tab()
        tabs.append(viewer)
        servers = Document.from_json(await viewer.document())
        assert ids["b"] not in {model.id for model in servers.models}  # the removal stands
        assert _state(senders) == _state(servers)
    finally:
        for tab in tabs:
            await tab.close()
