"""Websockets that speak docsync messages: to a real server (``RawSocket``) and to an ASGI application in-process."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any, NamedTuple

from channels.testing import WebsocketCommunicator

from ..protocol import ERROR, Message, Receiver, pull_doc_req
from ..server.admission.tokens import generate_session_id, issue_token
from .timeouts import REPLY_TIMEOUT

__all__ = ["Closed", "DocsyncCommunicator", "RawSocket"]


class DocsyncCommunicator(WebsocketCommunicator):  # type: ignore[misc]  # channels ships no types
    """A Channels communicator that opens a docsync session and speaks its messages."""

    def __init__(
        self,
        application: Any,
        app_path: str,
        *,
        session_id: str | None = None,
        user_id: Any = None,
        token: str | None = None,
        headers: list[tuple[bytes, bytes]] | None = None,
        client: tuple[str, int] | None = None,
    ) -> None:
        """``client``: the address an ASGI server would report (None: none, as Channels' communicator; not counted)."""
        self.session_id = session_id or generate_session_id()
        self.token = token or issue_token(self.session_id, app_path, user_id)
        super().__init__(
            application,
            f"/{app_path}/ws",
            headers=headers or [(b"host", b"127.0.0.1"), (b"origin", b"http://127.0.0.1")],
            subprotocols=["docsync", self.token],
        )
        if client is not None:
            self.scope["client"] = list(client)  # the one scope the application was handed
        self._receiver = Receiver()

    async def send_docsync(self, message: Message) -> None:
        """Send every frame of ``message``."""
        for frame in message.to_frames():
            if isinstance(frame, str):
                await self.send_to(text_data=frame)
            else:
                await self.send_to(bytes_data=bytes(frame))

    async def receive_docsync(self, timeout: float = REPLY_TIMEOUT) -> Message:
        """Receive frames until a whole message has arrived."""
        while True:
            event = await self.receive_output(timeout)
            if event["type"] == "websocket.close":
                raise ConnectionError(f"closed with {event.get('code')}: {event.get('reason')}")
            frame = event.get("text")
            if frame is None:
                frame = event.get("bytes")
            message = self._receiver.receive(frame)
            if message is not None:
                return message


class Closed(NamedTuple):
    """How a server closed a websocket: its code (None: no close frame) and the messages read meanwhile."""

    code: int | None
    messages: list[Message]


class RawSocket:
    """A websocket to a real server that sends any frames, and reads docsync messages and the close."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.receiver = Receiver(max_frame_bytes=1 << 30, max_message_bytes=1 << 31, max_buffers=1 << 16)
        self.messages: list[Message] = []
        self.close_code: int | None = None
        self.close_reason: str | None = None

    @classmethod
    async def connect(
        cls,
        url: str,
        token: str | None,
        *,
        headers: dict[str, str] | None = None,
        user_agent: str | None = None,
        origin: str | None = None,
        receive_buffer: int | None = None,
        max_queue: int = 16,
        source_address: str | None = None,
    ) -> RawSocket:
        """Open ``url`` with docsync's subprotocol and ``token`` (none: no token offered).

        A slow reader: ``receive_buffer`` bytes of kernel receive buffer (set before
        connecting, so the TCP window stays that small) and ``max_queue`` frames read
        ahead (websockets' default 16; 1: it stops reading the socket once a frame waits unread).
        ``source_address``: the local address to connect from (another client: on Linux
        every 127.x.y.z reaches a server listening on 127.0.0.1).
        """
        import websockets

        host, port = url.split("/")[2].rsplit(":", 1)
        raw: socket.socket | None = None
        if receive_buffer is not None or source_address is not None:
            raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if receive_buffer is not None:  # set before connecting: the TCP window stays that small
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            raw.setblocking(False)
            try:
                if source_address is not None:
                    raw.bind((source_address, 0))
                await asyncio.wait_for(asyncio.get_running_loop().sock_connect(raw, (host, int(port))), REPLY_TIMEOUT)
            except BaseException:
                raw.close()
                raise
        protocols = ["docsync"] if token is None else ["docsync", token]
        ws = await websockets.connect(
            url,
            sock=raw,
            subprotocols=protocols,  # type: ignore[arg-type]
            origin=origin or f"http://{host}:{port}",  # type: ignore[arg-type]
            additional_headers=headers or {},
            user_agent_header=user_agent or "docsync-tests",
            max_size=None,
            compression=None,
            open_timeout=REPLY_TIMEOUT,
            max_queue=max_queue,
        )
        return cls(ws)

    async def send_frames(self, *frames: str | bytes) -> None:
        """Send these frames as they are."""
        for frame in frames:
            await self.socket.send(frame)

    async def send_message(self, message: Message) -> None:
        """Send every frame of ``message``."""
        await self.send_frames(*(f if isinstance(f, str | bytes) else bytes(f) for f in message.to_frames()))

    async def read_message(self, timeout: float = REPLY_TIMEOUT) -> Message:
        """Read frames until a message is complete (``ConnectionClosed`` when the server closes)."""
        import websockets

        while True:
            try:
                frame = await asyncio.wait_for(self.socket.recv(), timeout)
            except websockets.ConnectionClosed as exc:
                self.close_code = exc.rcvd.code if exc.rcvd else 1006
                self.close_reason = exc.rcvd.reason if exc.rcvd else None
                raise
            message = self.receiver.receive(frame)
            if message is not None:
                self.messages.append(message)
                return message

    async def request(self, message: Message, timeout: float = REPLY_TIMEOUT) -> Message:
        """Send ``message`` and return the first message that replies to it."""
        await self.send_message(message)
        while True:
            reply = await self.read_message(timeout)
            if reply.reqid == message.msgid:
                return reply

    async def pull(self) -> Message:
        """Pull the document (the PULL-DOC-REPLY, or the ERROR)."""
        return await self.request(pull_doc_req())

    async def until_closed(self, timeout: float = REPLY_TIMEOUT) -> Closed:
        """Read until the server closes (``timeout`` at most): its close code and the messages read meanwhile."""
        import websockets

        read: list[Message] = []
        with contextlib.suppress(websockets.ConnectionClosed):
            async with asyncio.timeout(timeout):
                while True:
                    read.append(await self.read_message(timeout))
        return Closed(self.close_code, read)

    async def close(self) -> None:
        """Close from this side, dropping what is still unread.

        websockets stops reading a socket that has ``max_queue`` frames unread, so the
        server's close frame would wait behind them until the close timeout (10 s):
        reading on while closing lets it through.
        """
        import websockets

        async def drop_unread() -> None:
            # RuntimeError (websockets' ConcurrencyError): the caller reads meanwhile, which does the same.
            with contextlib.suppress(websockets.ConnectionClosed, RuntimeError):
                while True:
                    await self.socket.recv()

        dropping = asyncio.ensure_future(drop_unread())
        try:
            await self.socket.close()
        finally:
            dropping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await dropping

    def errors(self) -> list[str]:
        """The texts of the ERROR messages read so far."""
        return [str(m.content.get("text")) for m in self.messages if m.msgtype == ERROR]
