"""Every workaround for a dependency's internals, in one place.

- ``daphne``: close codes other than 1000/3000-4999, empty frames, its 1 MiB message limit
  (daphne/autobahn), a send that never waits for a slow client (Twisted's buffer), and a
  socket read on without bound while the application is busy.
- ``daphne_frames``: a reply's small frames framed here and written to Twisted at once (daphne/autobahn).
- ``autobahn_messages``: a message from autobahn's parser to daphne without the adapter's trampolines
  and an event fired for no observer.
- ``autobahn_logs``: autobahn's debug lines' arguments (its options pretty-printed per connection,
  click-styled names per read and write) formatted only when a line is logged.
- ``channels``: websocket frames sent below Channels' session wrapper; the consumer's own receive loop;
  URLRouter's routing done in the auth middleware's one scope copy.
- ``django``: what docsync.asgi's handler repeats of Django's ASGI handler (the release it follows,
  the handler class a response's close names).
- ``tasks``: asyncio's warning for a pending task whose loop is gone.
- ``threads``: a hook at interpreter exit that runs before threads are joined.
- ``partial_frames``: the bytes daphne/autobahn or uvicorn/websockets hold of a message still being read,
  told after each read (so that docsync counts them with its incomplete messages), and dropped on refusal.
- ``uvicorn``: the websocket implementations that take memoryviews as payloads; its size limit; several
  frames in one socket write; whether its transport holds written bytes back.
- ``uvicorn_queue``: uvicorn's receive queue (an ``asyncio.Queue``, 3.3 KB per websocket) replaced
  by a small one once the websocket is accepted.
- ``uvicorn_parser``: the upgrade request (2.7 KB) that websockets' parser generator and uvicorn keep
  for the websocket's life, let go once it is accepted.
- ``uvicorn_writable``: uvicorn's flow-control ``asyncio.Event`` (0.8 KB per websocket) replaced by
  a small flag once the websocket is accepted.

The workarounds that change a dependency's classes for the whole process (daphne's reply
handler, autobahn's debug lines and message trampolines) are applied once, at start-up, by
:func:`apply_process_workarounds`: from ``DocsyncConfig.ready()``, and again when the
consumer's ASGI app is built (``DocumentConsumer.as_asgi``, for a daphne imported after
Django was set up). They change only a daphne already imported (``daphne.server`` imports
it after installing its reactor; under uvicorn, ``daphne`` in ``INSTALLED_APPS`` does), and
import nothing of Twisted themselves. The others wrap one connection's send or transport
and are applied by the consumer to each connection.

The rest of docsync calls these functions and never reaches into a dependency itself. Each
workaround is gated on the installed release (``versions``) or on the internals it uses,
falls back to the dependency's own behaviour where those are missing, and has a unit
test against the installed dependency in tests/server/test_compat.py. docs/upstream.md
holds the reports that would make them unnecessary.
"""

from __future__ import annotations

from typing import Any

from .autobahn_logs import quiet_debug_lines
from .autobahn_messages import direct_messages
from .channels import consumer_call, frame_send, own_receive_loop
from .daphne import allow_protocol_close_codes, bound_incoming, fit_incoming_limit, send_backpressure
from .daphne import takes_views as daphne_takes_views
from .daphne_frames import frames_writer_now as daphne_frames_writer_now
from .partial_frames import PartialInput, watch_partial_input
from .pongs import bound_pongs
from .tasks import forget_pending_task
from .threads import at_interpreter_exit
from .uvicorn import (
    FrameWriter,
    FrameWriterNow,
    frames_writer,
    frames_writer_now,
    incoming_limit,
    release_handshake_response,
    socket_closed,
    takes_views,
)
from .uvicorn_parser import release_handshake_request
from .uvicorn_queue import slim_receive_queue
from .uvicorn_writable import slim_writable

__all__ = [
    "FrameWriter",
    "FrameWriterNow",
    "PartialInput",
    "allow_protocol_close_codes",
    "apply_process_workarounds",
    "asgi_server_frame_limit",
    "at_interpreter_exit",
    "bound_incoming",
    "bound_pongs",
    "consumer_call",
    "daphne_frames_writer_now",
    "daphne_takes_views",
    "direct_messages",
    "fit_incoming_limit",
    "forget_pending_task",
    "frame_send",
    "frames_writer",
    "frames_writer_now",
    "incoming_limit",
    "own_receive_loop",
    "quiet_debug_lines",
    "release_handshake_request",
    "release_handshake_response",
    "send_backpressure",
    "slim_receive_queue",
    "slim_writable",
    "socket_closed",
    "takes_views",
    "transport_flow",
    "watch_partial_input",
]


def apply_process_workarounds() -> None:
    """Apply the workarounds that change a dependency's classes process-wide, once (later calls change nothing).

    Each is gated on the installed release and the internals it uses, and leaves the
    dependency as it is where those are missing; with daphne not imported, none applies.
    """
    allow_protocol_close_codes()
    quiet_debug_lines()
    direct_messages()


def asgi_server_frame_limit(send: Any, max_frame_bytes: int) -> int | None:
    """Fit the ASGI server's incoming limit to ``max_frame_bytes`` where possible; return it (None: unknown)."""
    limit = fit_incoming_limit(send, max_frame_bytes)
    return limit if limit is not None else incoming_limit(send)


def transport_flow(*writers: Any) -> Any:
    """The transport behind a socket's writer, if it says when it holds written bytes back.

    The writer is daphne's backpressure wait or uvicorn's frames writer; the transport
    has ``held_back()`` and ``drained()`` (``outbox.TransportFlow``). None for another
    server, whose ``send`` returns only once its transport has taken the bytes.
    """
    for writer in writers:
        owner = getattr(writer, "__self__", None)
        if owner is not None and hasattr(owner, "held_back") and hasattr(owner, "drained"):
            return owner
    return None
