"""Bokeh dialect: a callback attaches a model, detaches it and attaches it again; a reader of its patches converges.

Against a real daphne serving a Bokeh app (``bokeh_reattach.py``) and a connection that
speaks as BokehJS does, whose PATCH-DOCs Bokeh's own Python document applies (as a Python
Bokeh client does). The transaction used to go out as one PATCH-DOC defining the model
twice: Bokeh's reader keeps the first definition of an id (BokehJS sets the later one's
values before any event), so the model ended with the values of before. Now the changes
from the second definition on go in a PATCH-DOC of their own.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from docsync.protocol import PATCH_DOC

from .bokeh_tabs import Session, definitions, named
from .harness import Site

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
pytestmark = pytest.mark.asyncio


async def test_a_model_attached_twice_in_one_transaction_reaches_a_reader_as_it_is(shared_bokeh_site: Site) -> None:
    from bokeh.core.serialization import Buffer, Serialized
    from bokeh.core.types import ID
    from bokeh.document import Document

    session = Session(shared_bokeh_site, "bk_reattach")
    sender, watcher = await session.tab(), await session.tab()
    try:
        doc_json = await watcher.document()
        document = Document.from_json(doc_json)
        change = {"kind": "ModelChanged", "model": {"id": named(doc_json, "slider")}, "attr": "value", "new": 5}
        assert (await sender.patch([change])).msgtype == "OK"
        # The session sent the transaction's PATCH-DOCs before the OK: they come before this pull's reply.
        read = len(watcher.messages)
        expected = await watcher.document()
        patches = [m for m in watcher.messages[read:] if m.msgtype == PATCH_DOC]
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # Bokeh's reader warns of an id it knows already ("reference already known")
            for message in patches:
                buffers = [Buffer(ID(i), bytes(b)) for i, b in message.buffers]
                document.apply_json_patch(Serialized(message.content, buffers))
        assert len(patches) == 2
        note = document.get_model_by_name("note 5")
        assert note is not None and note.text == "changed while detached 5"  # type: ignore[attr-defined]
        assert named(expected, "note 5") == note.id
        children = [child.id for child in document.get_model_by_name("root").children]  # type: ignore[union-attr]
        assert children == [ref["id"] for ref in _attributes(expected, "root")["children"]]
    finally:
        await sender.close()
        await watcher.close()


def _attributes(doc_json: dict[str, Any], name: str) -> dict[str, Any]:
    return next(d["attributes"] for d in definitions(doc_json) if d.get("attributes", {}).get("name") == name)
