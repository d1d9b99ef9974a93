"""daphne and autobahn internals: a reply's small frames framed here and written to Twisted in one go.

Under daphne every ASGI ``websocket.send`` crossed daphne's server and protocol,
autobahn's ``sendMessage``, ``sendFrame`` and ``sendData``, and Twisted's ``write``: a
round trip's reply of 8 frames cost about 1,100 Python calls there (cProfile,
bench/calls_per_roundtrip.py --server daphne), a third of them formatting a debug line
nobody logs (``compat.autobahn_logs``). :func:`frames_writer_now` frames several frames
here, byte for byte as autobahn frames them, and hands them to Twisted in one ``write``,
only where that changes nothing on the wire: autobahn's checked release, its debug
logging off (its per-write debug line is not made), the connection open without
compression, masking, fragmentation, frame logging or a send queue of autobahn's own.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Sequence
from typing import Any

from .autobahn_logs import AUTOBAHN_CHECKED, autobahn_debugging
from .daphne import LARGE_FRAME_BYTES, PLAIN_OPTIONS_OFF, buffered_bytes, daphne_protocol
from .versions import checked

__all__ = ["frames_writer_now"]

#: What else must be off or unset for autobahn to write a message as one plain frame.
_PLAIN = (*PLAIN_OPTIONS_OFF, "autoFragmentSize")

_SHORT = struct.Struct("!BB").pack
_MEDIUM = struct.Struct("!BBH").pack


def _applies() -> bool:
    module = sys.modules.get("daphne.ws_protocol")
    return (
        module is not None
        and checked("autobahn", *AUTOBAHN_CHECKED)
        and getattr(module.WebSocketProtocol.handle_reply, "docsync_close_codes", False)
        and not autobahn_debugging()
    )


class _Writer:
    """One daphne websocket, written to directly: several small frames, one Twisted ``write``."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol

    def write_now(self, frames: Sequence[str | bytes | bytearray | memoryview]) -> bool:
        """Write ``frames`` if they are small, the connection plain and open and Twisted's buffer not full; say whether.

        Otherwise nothing is written, and the caller sends them one by one through daphne
        (which drops them on a closed connection, waits on a full buffer, lets autobahn
        compress ...). ``frames`` together stay under ``LARGE_FRAME_BYTES``: a large
        frame waits for an empty buffer (``compat.daphne._Drain``).
        """
        protocol = self._protocol
        if protocol.state != protocol.STATE_OPEN:
            return False
        for name in _PLAIN:
            if getattr(protocol, name, True):
                return False
        transport = protocol.transport
        if getattr(transport, "producerPaused", False) or buffered_bytes(transport) > LARGE_FRAME_BYTES:
            return False
        chunks: list[bytes | bytearray | memoryview] = []
        total = 0
        for frame in frames:
            data: bytes | bytearray | memoryview
            if isinstance(frame, str):
                data, first = frame.encode(), 0x81  # FIN, text
            else:
                data, first = frame, 0x82  # FIN, binary
            size = data.nbytes if type(data) is memoryview else len(data)
            total += size
            if total >= LARGE_FRAME_BYTES:
                return False
            chunks.append(_SHORT(first, size) if size < 126 else _MEDIUM(first, 126, size))
            chunks.append(data)
        transport.write(b"".join(chunks))
        return True


def frames_writer_now(send: Any) -> Any:
    """Return a writer putting a batch of small frames on daphne's transport at once, or None.

    ``send`` is the innermost ASGI send (``compat.frame_send``); call it after
    ``allow_protocol_close_codes`` (whose handling of empty frames and close codes this
    keeps). The writer says False where it wrote nothing: the frames then go through
    ``send`` as before. None under another server, another autobahn release, or with
    autobahn's debug logging on.
    """
    protocol = daphne_protocol(send)
    if protocol is None or not _applies() or getattr(protocol, "transport", None) is None:
        return None
    return _Writer(protocol).write_now
