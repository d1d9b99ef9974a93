"""The upgrade request uvicorn's sansio websocket keeps for the connection's life, let go once accepted.

websockets' ``ServerProtocol.parse`` is a generator that reads the upgrade request into a
local and then runs the frame loop (``Protocol.parse``) inside the same frame, so the
parsed ``Request`` (its path and ``Headers``: about 2.7 KB under tracemalloc) stays
referenced for as long as the websocket lives; uvicorn also keeps it as ``request``,
which it never reads again (docs/upstream.md). Once the websocket is accepted and the
parser waits at a frame boundary, a fresh frame loop in the same state takes its place:
the old generator, its ``request`` local and the last frame it read go with it.
"""

from __future__ import annotations

import functools
from typing import Any

from .versions import Version, checked

__all__ = ["CHECKED", "WEBSOCKETS_CHECKED", "release_handshake_request"]

_SANSIO = "uvicorn.protocols.websockets.websockets_sansio_impl"
#: The uvicorn releases whose sansio websocket was checked not to read ``request`` after the handshake.
CHECKED: tuple[Version, Version] = ((0, 52), (0, 56))
#: The websockets releases whose parser was checked to be ``ServerProtocol.parse`` around
#: ``Protocol.parse``, waiting between frames in ``StreamReader.at_eof`` with no state of
#: its own that the next frame needs.
WEBSOCKETS_CHECKED: tuple[Version, Version] = ((17, 0), (18, 0))


def release_handshake_request(send: Any) -> bool:
    """Let uvicorn's sansio websocket behind ``send`` drop its upgrade request; say whether it did.

    Only once accepted, in the checked releases, and only while websockets' parser waits
    for a frame's first byte with nothing buffered: there a fresh ``Protocol.parse`` of
    the same connection, started, is in the very state of the old one's frame loop (its
    locals are set anew for each frame; everything else lives on the connection). Mid
    frame, or in any other state, nothing is changed.
    """
    owner: Any = getattr(send, "__self__", None)
    if type(owner).__module__ != _SANSIO or not checked("uvicorn", *CHECKED):
        return False
    if not checked("websockets", *WEBSOCKETS_CHECKED):
        return False
    if not getattr(owner, "handshake_complete", False) or getattr(owner, "initial_response", None) is not None:
        return False
    conn = getattr(owner, "conn", None)
    if conn is None or not _between_frames(conn):
        return False
    fresh = _parser_parts()[1].parse(conn)
    next(fresh)  # runs to the same wait: StreamReader.at_eof with an empty buffer
    old, conn.parser = conn.parser, fresh
    old.close()  # GeneratorExit at its yield: parse() catches Exception only, so nothing runs
    owner.request = None
    return True


@functools.cache
def _parser_parts() -> tuple[Any, Any, Any, Any]:
    """websockets' OPEN, ``Protocol``, ``ServerProtocol`` and ``StreamReader``, imported once (on first use).

    An import statement per websocket was not free: ``from websockets.x import ...`` asks
    the ``websockets`` package for ``__path__``, which its lazy-import ``__getattr__``
    answers by raising (three exceptions per websocket).
    """
    from websockets.protocol import OPEN, Protocol
    from websockets.server import ServerProtocol
    from websockets.streams import StreamReader

    return OPEN, Protocol, ServerProtocol, StreamReader


def _between_frames(conn: Any) -> bool:
    """Whether ``conn``'s parser is ``ServerProtocol.parse`` waiting, open, for the next frame's first byte."""
    OPEN, Protocol, ServerProtocol, StreamReader = _parser_parts()

    if conn.state is not OPEN or conn.parser_exc is not None or conn.handshake_exc is not None:
        return False
    reader = conn.reader
    if type(reader) is not StreamReader or reader.buffer or reader.eof:
        return False
    outer = conn.parser
    if getattr(outer, "gi_code", None) is not ServerProtocol.parse.__code__:
        return False  # already replaced, or discard() after a close
    loop = outer.gi_yieldfrom
    if getattr(loop, "gi_code", None) is not Protocol.parse.__code__:
        return False
    wait = loop.gi_yieldfrom
    return getattr(wait, "gi_code", None) is StreamReader.at_eof.__code__
