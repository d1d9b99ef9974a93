"""In-process: DocsyncCommunicator against the site's ASGI application, no subprocess."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

from docsync.document import Document
from docsync.protocol import ACK, OK, PATCH_DOC, PULL_DOC_REPLY, Message, patch_doc, pull_doc_req
from docsync.server.registry import SessionRegistry
from docsync.testing import DocsyncCommunicator


@pytest.mark.asyncio
async def test_ack_pull_and_patch_round_trip(registry: SessionRegistry) -> None:
    from project.asgi import application

    communicator = DocsyncCommunicator(application, "sliders")
    connected, subprotocol = await communicator.connect()
    assert connected and subprotocol == "docsync"
    try:
        assert (await communicator.receive_docsync()).msgtype == ACK

        request = pull_doc_req()
        await communicator.send_docsync(request)
        reply = await communicator.receive_docsync()
        assert (reply.msgtype, reply.reqid, reply.content["seq"]) == (PULL_DOC_REPLY, request.msgid, 0)
        document = Document.from_json(reply.content["doc"], dict(reply.buffers))
        assert document.title == "sliders"
        assert {"frequency", "amplitude", "phase", "offset", "source"} <= {m.name for m in document.models.values()}

        session = registry.find_session(communicator.session_id)
        assert session is not None and len(session.connections) == 1

        frequency = document.get_model_by_name("frequency")
        change = patch_doc([{"kind": "ModelChanged", "model": {"id": frequency.id}, "attr": "value", "new": 3.0}])
        await communicator.send_docsync(change)
        # The answer first, then what the patch caused at its position (the callback's changes).
        ok = await communicator.receive_docsync()
        pushed = await communicator.receive_docsync()
        assert (ok.msgtype, ok.reqid) == (OK, change.msgid)
        assert pushed.msgtype == PATCH_DOC
        assert {e["kind"] for e in pushed.content["events"]} == {"ColumnDataChanged", "ModelChanged"}
        async with session.lock:
            source = session.document.get_model_by_name("source")
            np.testing.assert_allclose(source.data["y"], np.sin(3.0 * source.data["x"]))
    finally:
        await communicator.disconnect()
    assert len(session.connections) == 0


@pytest.mark.asyncio
async def test_an_idle_websocket_holds_no_message_it_was_sent(registry: SessionRegistry) -> None:
    # The consumer's receive loop kept its last ASGI message and the message parsed from it
    # in locals until the next frame: an idle socket held its client's last request (~0.6 KB
    # per session in bench/budget.py). After the reply, nothing of the request is left.
    from project.asgi import application

    communicator = DocsyncCommunicator(application, "sliders")
    connected, _ = await communicator.connect()
    assert connected
    try:
        assert (await communicator.receive_docsync()).msgtype == ACK
        request = pull_doc_req()
        await communicator.send_docsync(request)
        assert (await communicator.receive_docsync()).reqid == request.msgid
        gc.collect()
        parsed = [
            o for o in gc.get_objects() if isinstance(o, Message) and o is not request and o.header == request.header
        ]
        frames = [o for o in gc.get_objects() if type(o) is dict and o.get("type") == "websocket.receive"]
        assert parsed == [] and frames == [], (parsed, frames)
    finally:
        await communicator.disconnect()


@pytest.mark.asyncio
async def test_a_closed_websockets_consumer_is_freed_without_the_collector(registry: SessionRegistry) -> None:
    # Its outbox and its incomplete input held its bound methods: a cycle that left the
    # consumer, its receiver and its limits to the next collection (bench/gc_per_visit.py).
    from project.asgi import application

    communicator = DocsyncCommunicator(application, "sliders")
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_docsync()).msgtype == ACK
    session = registry.find_session(communicator.session_id)
    assert session is not None
    (consumer,) = session.connections
    freed = weakref.ref(consumer)
    del consumer
    gc.collect()
    gc.disable()  # freed by reference counting alone, or not at all
    try:
        await communicator.disconnect()
        assert not session.connections
        assert freed() is None, [type(r).__name__ for r in gc.get_referrers(freed())]
    finally:
        gc.enable()
