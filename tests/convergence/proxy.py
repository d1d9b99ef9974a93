"""A TCP proxy in front of the server, so that a test can cut a connection from its side.

``cut()`` aborts both legs of every connection: the server sees its peer vanish (no
close frame, the transport closed under it) and the client sees the same, as when a
network path dies or the server kills the socket. While ``blocked``, new connections
are closed as soon as they arrive (the network is down). ``downstream`` counts the bytes
the server sent through the proxy, per connection, in the order they were accepted.
"""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["TcpProxy"]


class TcpProxy:
    """Forward 127.0.0.1:<port> to 127.0.0.1:<target>, byte for byte."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._legs: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.blocked = False
        self.downstream: list[int] = []

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.blocked:
            writer.transport.abort()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._legs.append((writer, up_writer))
        self.downstream.append(0)
        index = len(self.downstream) - 1
        for source, sink, counted in ((reader, up_writer, None), (up_reader, writer, index)):
            task = asyncio.get_running_loop().create_task(self._pipe(source, sink, counted))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, counted: int | None) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await source.read(65536):
                if counted is not None:
                    self.downstream[counted] += len(data)
                sink.write(data)
                await sink.drain()
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            sink.close()

    def cut(self) -> int:
        """Abort every connection on both legs; return how many were cut."""
        legs, self._legs = self._legs, []
        for client_leg, server_leg in legs:
            server_leg.transport.abort()
            client_leg.transport.abort()
        return len(legs)

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
