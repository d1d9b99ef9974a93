"""A callback that detaches a model and attaches it again: every client reads the server's patches and converges.

A model attached, detached and attached again in one callback was defined twice in the
PATCH-DOC the server broadcast, which every decoder refuses ("duplicate model id"): a
live client could not apply it. A model the clients held, detached, changed and attached
again was defined in the patch whose receivers still held it when they read it: they
kept theirs, as it was. Each definition now comes at a position after the change that
detached the model (docs/protocol.md, PATCH-DOC).
"""

from __future__ import annotations

import pytest

from docsync.document import Document
from docsync.protocol import PATCH_DOC, PULL_DOC_REPLY
from docsync.protocol.wire_json import dumps
from docsync.testing import EVENT_WAIT

from .harness import Site, open_client, open_raw, pull_json

pytestmark = pytest.mark.asyncio

#: The most PATCH-DOCs the watcher reads for one slider change (the callback's make a few).
_MOST_PATCHES = 20


def _canonical(doc_json: dict[str, object]) -> str:
    """The document JSON with its models in id order: two equal documents give the same text."""
    models = sorted(doc_json["models"], key=lambda m: m["id"])  # type: ignore[index, call-overload]
    return dumps({**doc_json, "models": models})


async def test_every_client_applies_the_patches_of_a_callback_that_attaches_a_model_twice(site: Site) -> None:
    config = site.browser().page_config("reattach")
    sender = await open_client(config)
    watcher = await open_raw(str(config["wsUrl"]), config["token"])
    try:
        reply = await watcher.pull()
        assert reply.msgtype == PULL_DOC_REPLY, reply.content
        document = Document.from_json(reply.content["doc"], dict(reply.buffers))
        sender.document.get_model_by_name("slider").value = 5  # type: ignore[union-attr]
        await sender.sync(EVENT_WAIT)
        expected = _canonical(await pull_json(config))
        seqs = []
        for _ in range(_MOST_PATCHES):
            message = await watcher.read_message(EVENT_WAIT)
            assert message.msgtype == PATCH_DOC, message.content
            seqs.append(message.content["seq"])
            # As a client reads the server's patches (ClientProtocol): it refused this one.
            decoded = document.decode_patch(message.content, dict(message.buffers), keep_known=True)
            document.apply_patch(decoded)
            if _canonical(document.to_json()[0]) == expected:
                break
        assert _canonical(document.to_json()[0]) == expected
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) and len(seqs) > 1
        note = document.get_model_by_name("note 5")
        assert note is not None and note.text == "changed while detached 5"  # type: ignore[attr-defined]
        assert document.get_model_by_name("kept").text == "kept 5"  # type: ignore[union-attr]
        assert _canonical(sender.document.to_json()[0]) == expected
        assert not sender.errors and not sender.changes_lost
    finally:
        await watcher.close()
        await sender.close()
