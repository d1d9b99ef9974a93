"""The size limits of the ``DOCSYNC`` setting, made to agree with each other.

The wire limits (``MAX_FRAME_BYTES``, ``MAX_MESSAGE_BYTES``, ``MAX_BUFFERS``) hold both
ways: the server refuses bigger client messages, the page hands them to the docsync
JavaScript client (which refuses bigger server messages), and the server sends nothing
bigger. What clients may make of a document is bounded below them, so that a pull of
any document clients grew still fits: see docs/protocol.md §11.
"""

from __future__ import annotations

from typing import Any

from .conf import docsync_settings
from .document import DocumentLimits

__all__ = ["client_receiver_limits", "client_send_limits", "document_limits"]


def document_limits(settings: Any = None) -> DocumentLimits:
    """Return the bounds a client's change obeys, from the settings (None: derived)."""
    settings = settings or docsync_settings()
    document = settings.MAX_DOCUMENT_BYTES
    column = settings.MAX_COLUMN_BYTES
    return DocumentLimits(
        max_column_bytes=int(settings.MAX_FRAME_BYTES if column is None else column),
        # The document's JSON travels in one frame: the content frame of a pull.
        max_json_bytes=int(settings.MAX_FRAME_BYTES),
        max_document_bytes=int(settings.MAX_MESSAGE_BYTES // 2 if document is None else document),
        max_buffers=int(settings.MAX_BUFFERS),
    )


def client_receiver_limits(settings: Any = None) -> dict[str, int]:
    """Return the limits the JavaScript client's Receiver takes (the server's own)."""
    settings = settings or docsync_settings()
    return {
        "maxFrameBytes": int(settings.MAX_FRAME_BYTES),
        "maxMessageBytes": int(settings.MAX_MESSAGE_BYTES),
        "maxBuffers": int(settings.MAX_BUFFERS),
    }


def client_send_limits(settings: Any = None) -> dict[str, int | float]:
    """Return what the server takes from a client, for docsync's clients to check before they send.

    A message over them gets its connection closed (1009); the client keeps such a change
    to itself instead (``sendLimits`` in client_protocol.js). ``maxPatchesPerSecond``: the
    rate of a connection's messages past which it is closed (4029), which both of
    docsync's clients keep to (``docsync.sync.pacing``, ``pacing.js``).
    """
    settings = settings or docsync_settings()
    return {
        **client_receiver_limits(settings),
        "maxFrameContainers": int(settings.MAX_FRAME_CONTAINERS),
        "maxFrameValues": int(settings.MAX_FRAME_VALUES),
        "maxPatchesPerSecond": float(settings.MAX_PATCHES_PER_SECOND),
    }
