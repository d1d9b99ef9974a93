"""Every workaround for a dependency's internals, in one place.

- ``daphne``: close codes other than 1000/3000-4999 and empty frames (daphne/autobahn).
- ``channels``: websocket frames sent below Channels' session wrapper.
- ``uvicorn``: the websocket implementations that take memoryviews as payloads.

The rest of docsync calls these functions and never reaches into a dependency itself.
"""

from __future__ import annotations

from .channels import frame_send
from .daphne import allow_protocol_close_codes
from .uvicorn import takes_views

__all__ = ["allow_protocol_close_codes", "frame_send", "takes_views"]
