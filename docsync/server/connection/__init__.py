"""The websocket side: one consumer per browser tab (or Python client), and its rate limit.

- ``consumer``: :class:`DocumentConsumer` — admits the websocket, attaches it to its
  session (or relays it to the process that owns the session), reads frames into
  messages and hands them to the session.
- ``rate``: the token bucket that bounds patches per second per connection.
"""

from __future__ import annotations

from .consumer import DocumentConsumer

__all__ = ["DocumentConsumer"]
