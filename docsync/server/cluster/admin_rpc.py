"""Admin commands across processes: run where the session lives, answer the asker."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from typing import Any

from ..admin_support.commands import SessionHolder, run_command
from .directory import Directory
from .wire import COMMAND, REPLY

__all__ = ["AdminRPC"]

#: Seconds to wait for another process to answer a command.
_REPLY_TIMEOUT = 10.0


class AdminRPC:
    """Send commands to other processes, and run theirs here."""

    def __init__(self, registry: SessionHolder, layer: Any, directory: Directory, channel: str) -> None:
        self.registry = registry
        self.layer = layer
        self.directory = directory
        self.channel = channel
        self._replies: dict[str, asyncio.Future[Any]] = {}
        self._reqids = itertools.count(1)

    async def command(self, process_id: str, command: str, session_id: str, **arguments: Any) -> Any:
        """Run an admin command in process ``process_id`` and return its result."""
        channel = await self.directory.process_channel(process_id)
        if channel is None:
            raise LookupError(f"process {process_id} is not alive")
        reqid = f"{self.directory.process_id}-{next(self._reqids)}"
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._replies[reqid] = future
        request = {
            "type": COMMAND,
            "reqid": reqid,
            "reply_to": self.channel,
            "command": command,
            "session_id": session_id,
            "arguments": arguments,
        }
        await self.layer.send(channel, request)
        try:
            reply = await asyncio.wait_for(future, timeout=_REPLY_TIMEOUT)
        finally:
            self._replies.pop(reqid, None)
        if not reply.get("ok"):
            raise LookupError(reply.get("error", "command failed"))
        return reply.get("result")

    async def on_command(self, message: dict[str, Any]) -> None:
        """Run a command another process sent, and send it the answer."""
        try:
            result = await run_command(
                self.registry, message["command"], message["session_id"], **message.get("arguments", {})
            )
            reply = {"type": REPLY, "reqid": message["reqid"], "ok": True, "result": _plain(result)}
        except Exception as exc:
            reply = {"type": REPLY, "reqid": message["reqid"], "ok": False, "error": str(exc)}
        await self.layer.send(message["reply_to"], reply)

    def on_reply(self, message: dict[str, Any]) -> None:
        """Hand an answer to the command waiting for it."""
        future = self._replies.pop(message["reqid"], None)
        if future is not None and not future.done():
            future.set_result(message)


def _plain(value: Any) -> Any:
    """Make a command result msgpack-friendly (datetimes become ISO strings)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value
