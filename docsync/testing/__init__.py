"""Test helpers: a real server process on a free port, raw websockets to it, and in-process communicators.

``ServerProcess`` runs daphne (or uvicorn) in a subprocess, stopped by its own pid.
``SiteUnderTest`` runs a Django project under test: its settings and environment, one
server process or several (a cluster sharing a private ``RedisServer``), started and
stopped together.
``RawSocket`` is a websocket to a real server that sends any frames and reads docsync
messages and the close (it needs the ``websockets`` package, in the test extra).
``DocsyncCommunicator`` speaks docsync messages to an ASGI application in-process.

The socket helpers (``Closed``, ``DocsyncCommunicator``, ``RawSocket``) are imported when
first asked for: their module imports ``channels.testing``, which imports Django's
static files, HTTP and ORM layers (0.3 s of CPU), which a test process needing only a
timeout or a server process (the in-memory convergence tests) never uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .ports import PORT_ATTEMPTS, PortTakenError, free_port, wait_for_port
from .processes import ServerProcess, running_server, start_all, stop_all
from .services import PostgresServer, RedisServer
from .sites import SiteUnderTest
from .timeouts import EVENT_WAIT, REPLY_TIMEOUT, START_TIMEOUT

if TYPE_CHECKING:
    from .sockets import Closed, DocsyncCommunicator, RawSocket

__all__ = [
    "EVENT_WAIT",
    "PORT_ATTEMPTS",
    "REPLY_TIMEOUT",
    "START_TIMEOUT",
    "Closed",
    "DocsyncCommunicator",
    "PortTakenError",
    "PostgresServer",
    "RawSocket",
    "RedisServer",
    "ServerProcess",
    "SiteUnderTest",
    "free_port",
    "running_server",
    "start_all",
    "stop_all",
    "wait_for_port",
]

#: The names of ``sockets``, imported when first asked for.
_SOCKETS = frozenset({"Closed", "DocsyncCommunicator", "RawSocket"})


def __getattr__(name: str) -> Any:
    if name in _SOCKETS:
        from . import sockets

        return getattr(sockets, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
