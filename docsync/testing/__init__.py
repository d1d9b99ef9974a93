"""Test helpers: a real server process on a free port, raw websockets to it, and in-process communicators.

``ServerProcess`` runs daphne (or uvicorn) in a subprocess, stopped by its own pid.
``SiteUnderTest`` runs a Django project under test: its settings and environment, one
server process or several (a cluster sharing a private ``RedisServer``), started and
stopped together.
``RawSocket`` is a websocket to a real server that sends any frames and reads docsync
messages and the close (it needs the ``websockets`` package, in the test extra).
``DocsyncCommunicator`` speaks docsync messages to an ASGI application in-process.
"""

from __future__ import annotations

from .ports import free_port, wait_for_port
from .processes import ServerProcess, running_server, start_all, stop_all
from .services import PostgresServer, RedisServer
from .sites import SiteUnderTest
from .sockets import Closed, DocsyncCommunicator, RawSocket
from .timeouts import EVENT_WAIT, REPLY_TIMEOUT, START_TIMEOUT

__all__ = [
    "EVENT_WAIT",
    "REPLY_TIMEOUT",
    "START_TIMEOUT",
    "Closed",
    "DocsyncCommunicator",
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
