"""Clean shutdown: ``on_server_unloaded`` runs on ASGI lifespan shutdown, or at exit."""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
from typing import Any

from .server.connection.consumer import close_abandoned_websockets
from .server.executor import run_inline, shutdown_executor
from .server.registry import get_registry

__all__ = ["LifespanApp"]

logger = logging.getLogger("docsync.server")
_state = {"unloaded": False}


async def _shutdown() -> None:
    if _state["unloaded"]:
        return
    _state["unloaded"] = True
    await get_registry().shutdown()


class LifespanApp:
    """ASGI app for the ``lifespan`` scope (uvicorn sends it; daphne does not)."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await _shutdown()
                finally:
                    await send({"type": "lifespan.shutdown.complete"})
                return


def _at_exit() -> None:
    # Servers without the lifespan protocol (daphne) end here after a clean stop; the
    # server's loop is gone, so the hooks run on a fresh one.
    close_abandoned_websockets()
    if _state["unloaded"] or not get_registry().contexts:
        return
    run_inline()
    # The server's loop is gone: the ORM may run on this (only) thread.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    try:
        asyncio.run(_shutdown())
    except Exception:
        logger.exception("error while unloading applications at exit")
    shutdown_executor()


atexit.register(_at_exit)
