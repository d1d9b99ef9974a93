"""A load balancer with no sticky sessions, in front of several server processes (TCP, in a thread).

Each TCP connection goes to a backend chosen by its first request line: app pages go to
the processes in turn, and every websocket to a process *other* than the one that
served the latest page, so a page's websocket never reaches the process holding its
session (the worst case a balancer without stickiness can produce). Everything else
(BokehJS files, test endpoints) goes to the processes in turn. Plain HTTP requests are
sent with ``Connection: close``, so that every request is routed on its own (a browser
would otherwise reuse a connection). Where each connection went is kept in ``routes``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections.abc import Sequence

from docsync.testing import free_port

__all__ = ["Balancer"]

_REQUEST_LINE = re.compile(rb"^GET (\S+) HTTP/1\.1")


class Balancer:
    """Listen on 127.0.0.1:<port>; spread connections over ``backends`` (ports)."""

    def __init__(self, backends: Sequence[int]) -> None:
        self.backends = list(backends)
        self.port = free_port()
        #: (path of the first request, index of the backend) of every connection, in order.
        self.routes: list[tuple[str, int]] = []
        self._turn = 0
        self._last_page = 0
        self._ws_turn = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="balancer", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> Balancer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def websockets(self) -> list[tuple[str, int]]:
        """The websockets' routes: (path, backend index)."""
        return [(path, index) for path, index in self.routes if path.endswith("/ws")]

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    def _choose(self, path: str) -> int:
        count = len(self.backends)
        if path.endswith("/ws"):
            self._ws_turn += 1
            return (self._last_page + 1 + self._ws_turn % (count - 1)) % count
        index = self._turn % count
        self._turn += 1
        if re.fullmatch(r"/[\w-]+/(\?.*)?", path) or path.startswith("/_test/bokeh/embedded"):
            self._last_page = index  # an app's page: its session is made in that process
        return index

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            return
        match = _REQUEST_LINE.match(head)
        path = match.group(1).decode() if match else "?"
        if b"\r\nupgrade: websocket" not in head.lower():
            lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
            head = b"\r\n".join([*lines[:-2], b"Connection: close", b"", b""])
        index = self._choose(path)
        self.routes.append((path, index))
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.backends[index])
        except OSError:
            writer.close()
            return
        up_writer.write(head)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(OSError):
                writer.close()
