"""The session protocol, sans I/O: a client's state machine and the list-splice rule.

Pure: no Django, Channels or networking here, and no ``async def``. Adapters move its
messages between it and a socket (``docsync.client`` in Python, ``connection.js`` in
the browser, whose ``client_protocol.js`` mirrors this package).
"""

from __future__ import annotations

from .client import NOTICE, SERVER, ClientProtocol, ClientState
from .client_events import ChangesLost, ClientEvent, ErrorReported, Live, Reply, Reset, describe_change
from .outbox import Batch, Outbox, OutboxEntry

__all__ = [
    "NOTICE",
    "SERVER",
    "Batch",
    "ChangesLost",
    "ClientEvent",
    "ClientProtocol",
    "ClientState",
    "ErrorReported",
    "Live",
    "Outbox",
    "OutboxEntry",
    "Reply",
    "Reset",
    "describe_change",
]
