"""The direct route's records, in process: two ``Peers`` on loopback, a real handshake (no Redis, no server)."""

from __future__ import annotations

import asyncio
from typing import Any

from docsync.protocol import Receiver, new_message
from docsync.protocol.message import frame_nbytes
from docsync.server.cluster.peers import PeerLink, Peers
from docsync.server.cluster.relay_out import Relay, RelayOut
from docsync.server.cluster.wire import RELAY_MESSAGE, message_from_parts
from docsync.testing import EVENT_WAIT


def test_a_relayed_message_crosses_the_route_as_parsed_not_as_frames_for_the_owner_to_parse_again() -> None:
    """On the old code the owner was sent the client's frames, and parsed each message a second time."""
    sent = new_message(
        "PATCH-DOC",
        {"events": [{"kind": "MessageSent", "msg_type": "n\u00e9ws", "msg_data": [1, 2.5, None, {"k": "\u00fc"}]}]},
        buffers=[("b1", b"\x00\x01\xff")],
    )
    frames = [f if isinstance(f, str | bytes) else bytes(f) for f in sent.to_frames()]
    receiver = Receiver()  # as the relaying process's consumer receives its client's frames
    received = [receiver.receive(frame) for frame in frames][-1]
    assert received is not None
    nbytes = sum(frame_nbytes(frame) for frame in frames)  # UTF-8: more than the characters here

    async def scenario() -> dict[str, Any]:
        records: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        def on_record(record: dict[str, Any], link: PeerLink) -> None:
            records.put_nowait(record)

        owner = Peers("owner", on_record, lambda link: None)
        relaying = Peers("relaying", lambda record, link: None, lambda link: None)
        try:
            address = await owner.listen("127.0.0.1:0")
            link = await relaying.link("owner", address)
            assert link is not None
            assert link.parsed  # the owner said, once the relaying process proved itself, that it takes them
            relay_out = RelayOut(None, None, "relaying-channel", relaying)  # type: ignore[arg-type]  # no Redis: a direct route
            await relay_out.forward(Relay("conn-1", "owner", "owner-channel", link), received, nbytes)
            return await asyncio.wait_for(records.get(), EVENT_WAIT)
        finally:
            await relaying.close()
            await owner.close()

    record = asyncio.run(scenario())
    assert record["type"] == RELAY_MESSAGE and record["conn_id"] == "conn-1"
    assert "frames" not in record
    assert record["nbytes"] == nbytes
    message = message_from_parts(record["message"])
    assert (message.header, message.metadata, message.content) == (received.header, {}, received.content)
    assert message.buffers == [("b1", b"\x00\x01\xff")]
