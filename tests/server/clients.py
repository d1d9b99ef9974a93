"""Client-side helpers of the server tests: docsync sessions and raw websockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import websockets

from docsync.client import ClientSession, fetch_page_config
from docsync.protocol import PULL_DOC_REPLY, Message, Receiver, pull_doc_req
from docsync.testing import ServerProcess


class ServerUnderTest:
    """A running server process with the files its applications write to."""

    def __init__(self, process: ServerProcess, log: Path, tick_log: Path, hook_log: Path) -> None:
        self.process = process
        self.log = log
        self.tick_log = tick_log
        self.hook_log = hook_log

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.process.port}/"

    def get(self, path: str) -> tuple[int, str]:
        return self.process.get(path)


async def page_config(server: ServerUnderTest, app: str) -> dict[str, Any]:
    """GET the app's page and return the client configuration it embeds."""
    return await asyncio.to_thread(fetch_page_config, f"{server.url}{app}/")


async def open_session(config: dict[str, Any], **kwargs: Any) -> ClientSession:
    """Connect a ClientSession (ACK, then PULL-DOC) with ``config``."""
    session = ClientSession(config, **kwargs)
    await asyncio.wait_for(session.connect(), 10)
    return session


async def pulled_document(config: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """Pull the session's document over a fresh connection: its JSON and buffers."""
    session = await open_session(config)
    try:
        reply = next(m for m in session.received if m.msgtype == PULL_DOC_REPLY)
        return reply.content["doc"], [(i, bytes(b)) for i, b in reply.buffers]
    finally:
        await session.close()


async def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait until ``predicate()`` holds, polling; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.01)


class RawSocket:
    """A websocket that sends any frames, and reads docsync messages and the close code."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.receiver = Receiver(max_frame_bytes=1 << 30, max_message_bytes=1 << 31, max_buffers=1 << 16)
        self.messages: list[Message] = []
        self.close_reason: str | None = None

    @classmethod
    async def connect(
        cls,
        url: str,
        token: str | None,
        *,
        origin: str | None = None,
    ) -> RawSocket:
        protocols = ["docsync"] if token is None else ["docsync", token]
        socket = await websockets.connect(
            url,
            subprotocols=protocols,  # type: ignore[arg-type]
            origin=origin or "http://" + url.split("/")[2],  # type: ignore[arg-type]
            max_size=None,
            compression=None,
            open_timeout=10,
        )
        return cls(socket)

    async def send_frames(self, *frames: str | bytes) -> None:
        for frame in frames:
            await self.socket.send(frame)

    async def send_message(self, message: Message) -> None:
        await self.send_frames(*(f if isinstance(f, str | bytes) else bytes(f) for f in message.to_frames()))

    async def read_message(self, timeout: float = 5.0) -> Message:
        """Read frames until a message is complete."""
        while True:
            frame = await asyncio.wait_for(self.socket.recv(), timeout)
            message = self.receiver.receive(frame)
            if message is not None:
                self.messages.append(message)
                return message

    async def request(self, message: Message, timeout: float = 5.0) -> Message:
        """Send ``message`` and return the first message replying to it."""
        await self.send_message(message)
        while True:
            reply = await self.read_message(timeout)
            if reply.reqid == message.msgid:
                return reply

    async def until_closed(self, timeout: float = 5.0) -> tuple[int | None, list[Message]]:
        """Read until the server closes; return the close code and the messages read.

        The close reason is kept in ``close_reason``.
        """
        read: list[Message] = []
        try:
            async with asyncio.timeout(timeout):
                while True:
                    read.append(await self.read_message(timeout))
        except websockets.ConnectionClosed as exc:
            self.close_reason = exc.rcvd.reason if exc.rcvd else None
            return (exc.rcvd.code if exc.rcvd else None), read

    async def close(self) -> None:
        await self.socket.close()

    async def pull(self) -> Message:
        return await self.request(pull_doc_req())
