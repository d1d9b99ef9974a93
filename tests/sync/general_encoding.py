"""What ``encode_event``'s general path gives for an event: the reference its shortcuts are held to."""

from __future__ import annotations

from typing import Any

from docsync.document.wire import event_json
from docsync.protocol.wire_json import dumpb
from docsync.serialization import Encoder
from docsync.sync.patches import EncodedEvent, conflict_keys


def general_encoding(event: Any) -> EncodedEvent:
    """The general path, written out: what encode_event did for every event before its shortcuts."""
    encoder = Encoder(buffer_prefix="1.0.")
    body = event_json(event, encoder)
    data: bytes | None
    try:
        data = dumpb(body)
        references_data: bytes | None = b""
        nbytes = len(data)
    except (TypeError, ValueError):
        data = references_data = None
        nbytes = 0
    origin = event.setter if isinstance(event.setter, str) else None
    return EncodedEvent(origin, body, [], encoder.buffers, conflict_keys(event), nbytes + 200, data, references_data)
