"""Bokeh dialect: a patch cannot put back a model the app's callback of its own earlier event just took out.

Against a real daphne serving ``bokeh_crossed.py``: its slider's callback takes the Div
``b`` out of the layout (the app keeps it) when the slider reaches ``REMOVING_VALUE``.
Bokeh reads a patch's references before its first event runs, so a patch
``[slider to REMOVING_VALUE, RootAdded b]`` put ``b`` back as a root, for every tab. The
event naming ``b`` is now left out: ``b`` stays out, another tab never hears of it, and
the sender (followed as BokehJS keeps its document) ends with the server's document.
"""

from __future__ import annotations

from typing import Any

import pytest

from docsync.protocol import PATCH_DOC

from .bokeh_crossed import REMOVING_VALUE
from .bokeh_tabs import Session, Tab, definitions, named
from .harness import Site
from .test_bokeh_crossed_removals import _apply, _state

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
pytestmark = pytest.mark.asyncio


def _attaches(events: list[dict[str, Any]], model_id: str) -> bool:
    """Whether these events (a PATCH-DOC's) add ``model_id`` as a root or define it."""
    return any(e.get("kind") == "RootAdded" and e["model"].get("id") == model_id for e in events) or any(
        d["id"] == model_id for d in definitions(events)
    )


@pytest.mark.parametrize("attach", ["a root", "into the side row"])
async def test_a_model_the_callback_took_out_is_not_put_back_by_the_same_patch(
    shared_bokeh_site: Site, attach: str
) -> None:
    from bokeh.document import Document

    session = Session(shared_bokeh_site, "bk_crossed")
    sender, other = await session.tab(), await session.tab()
    tabs: list[Tab] = [sender, other]
    try:
        doc_json = await sender.document()
        await other.document()
        ids = {name: named(doc_json, name) for name in ("root", "slider", "b", "side")}
        b = {"id": ids["b"]}
        put_back: dict[str, Any] = (
            {"kind": "RootAdded", "model": b}
            if attach == "a root"
            else {"kind": "ModelChanged", "model": {"id": ids["side"]}, "attr": "children", "new": [b]}
        )
        slider = {"kind": "ModelChanged", "model": {"id": ids["slider"]}, "attr": "value", "new": REMOVING_VALUE}
        events: list[dict[str, Any]] = [slider]
        events.append(put_back)
        senders = Document.from_json(doc_json)  # type: ignore[arg-type]
        _apply(senders, events)  # BokehJS applies a change before it sends it
        read = len(sender.messages)
        reply = await sender.patch(events)
        assert reply.msgtype == "OK", reply.content
        for message in [m for m in sender.messages[read:] if m.msgtype == PATCH_DOC]:
            _apply(senders, message.content["events"], message.buffers)
        viewer = await session.tab()
        tabs.append(viewer)
        servers = Document.from_json(await viewer.document())  # type: ignore[arg-type]
        assert ids["b"] not in {model.id for model in servers.models}  # the app's removal stands
        assert [root.id for root in servers.roots] == [ids["root"]]
        assert _state(senders) == _state(servers)
        # The other tab followed the callback's change and was never sent b.
        await other.document()  # (every PATCH-DOC sent to it before comes first)
        received = [m for m in other.messages if m.msgtype == PATCH_DOC]
        assert received and not any(_attaches(m.content["events"], ids["b"]) for m in received)
    finally:
        for tab in tabs:
            await tab.close()
