"""The convergence workload over real websockets: a fresh room of a real server per run.

The end-to-end counterpart of ``memory.py``: the clients are ``ControlledClient``s (real
``ClientSession``s), the server a real daphne process (``conftest.convergence_server``).
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from docsync.client import ClientSession
from docsync.protocol.msgtypes import PATCH_DOC, PULL_DOC_REPLY

from .conftest import ConvergenceServer
from .harness import ControlledClient, canonical
from .settings import PATCH_LOG_SIZE

__all__ = ["RealNetwork"]


class RealNetwork:
    """A fresh room of the ``convergence`` app on the real server, reached over websockets."""

    log_size = PATCH_LOG_SIZE

    def __init__(self, server: ConvergenceServer, seed: int) -> None:
        self.server = server
        self.seed = seed
        self.config: dict[str, Any] | None = None
        # Connected all along, never held: it receives every change the server makes.
        self.observer: ClientSession | None = None

    async def new_client(self, name: str) -> ControlledClient:
        if self.config is None:
            self.config = await self.server.room_config("convergence", f"random-{self.seed}-{time.time_ns()}")
            self.observer = ClientSession(self.config)
            await self.observer.connect()
        client = ControlledClient(self.config, name=name)
        await client.connect()
        return client

    async def server_splices(self) -> dict[int, list[dict[str, Any]]]:
        assert self.observer is not None
        await self.observer.request_server_info()
        splices: dict[int, list[dict[str, Any]]] = {}
        for message in self.observer.received:
            if message.msgtype == PATCH_DOC:
                events = message.content["events"]
                splices[message.content["seq"]] = [e for e in events if e.get("kind") == "ListSpliced"]
        await self.observer.close()
        return splices

    async def server_state(self) -> tuple[dict[str, Any], int]:
        assert self.config is not None
        fresh = ClientSession(self.config)
        await fresh.connect()
        try:
            reply = next(m for m in fresh.received if m.msgtype == PULL_DOC_REPLY)
            return canonical(reply.content["doc"], reply.buffers), reply.content["seq"]
        finally:
            await fresh.close()

    async def idle(self, rng: random.Random, long: bool) -> None:
        await asyncio.sleep(rng.uniform(0, 0.004) if long else 0)

    async def after_step(self) -> None:
        return  # the readers and the server run meanwhile
