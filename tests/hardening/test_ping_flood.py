"""A client that pings and never reads may not grow the server: pongs are bounded too.

daphne and uvicorn answer each ping with a pong written straight to the socket's
transport, outside the flow control that bounds what docsync sends. One anonymous
websocket that sent 125-byte pings and read nothing grew the server by about what it sent,
without end (150 MB of pings: uvicorn +137 MiB, daphne +169 MiB, runserver alike). Now
past 64 KiB of pongs held unsent, a ping gets no pong until the client reads again.

Against real daphne and uvicorn, over a raw TCP socket speaking the websocket framing
(no library reads ahead): the client sends ``FLOOD`` bytes of pings without reading,
then a PULL-DOC-REQ, and reads up to its reply. Everything the server wrote for the
pings before that reply arrives first: the pong bytes it held for this one client.
Before the bound they were all of them; now at most what the kernel's socket buffers
took while the client did not read, and 64 KiB. The client reading again gets a pong
for its next ping, and the session goes on.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
from collections.abc import Iterator

import pytest

from .harness import Site, site_on_each_server

#: The test site's default limits, under both servers, but for the client's bucket of
#: websocket frames: it closes this flood (384,000 pings) at its 20,000th frame, 4029
#: (test_client_frame_rate.py); the pongs' bound is for a client within it.
site = site_on_each_server("ping-flood", DOCSYNC_MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT="none")

FLOOD = 48 * 1024 * 1024
#: Pong bytes the server may have written while the client read nothing: the socket
#: buffers of both ends (the client's 64 KiB window, the server's send buffer, which
#: grows to 4 MiB on Linux by default) and the 64 KiB docsync lets a transport hold; far
#: below the flood.
HELD_AT_MOST = 12 * 1024 * 1024
PING = bytes([0x89, 0x80 | 125]) + b"\0\0\0\0" + b"p" * 125  # masked with zeros: the payload as it is


def _frame(opcode: int, payload: bytes) -> bytes:
    """A client's frame (masked with zeros), final."""
    size = len(payload)
    if size < 126:
        head = bytes([0x80 | opcode, 0x80 | size])
    elif size < 1 << 16:
        head = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack("!H", size)
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack("!Q", size)
    return head + b"\0\0\0\0" + payload


class RawWebsocket:
    """A websocket over a plain socket: sends frames, reads the server's one at a time."""

    def __init__(self, site: Site, token: str) -> None:
        self.sock = socket.socket()
        # A small receive window, set before connecting: the kernel then holds little for the client.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        self.sock.connect(("127.0.0.1", site.server.port))
        self.sock.settimeout(60)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /limits/ws HTTP/1.1\r\nHost: {site.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://{site.host}\r\n"
            f"Sec-WebSocket-Protocol: docsync, {token}\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _fill(self) -> None:
        chunk = self.sock.recv(1 << 20)
        assert chunk, "the server closed the connection"
        self.buffer += chunk

    def _take(self, n: int) -> bytes:
        while len(self.buffer) < n:
            self._fill()
        taken, self.buffer = self.buffer[:n], self.buffer[n:]
        return taken

    def read_frame(self) -> tuple[int, bytes]:
        """The server's next frame: its opcode and payload."""
        first, second = self._take(2)
        size = second & 0x7F
        if size == 126:
            size = struct.unpack("!H", self._take(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", self._take(8))[0]
        return first & 0x0F, self._take(size)

    def send_text(self, text: str) -> None:
        self.sock.sendall(_frame(0x1, text.encode()))

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw(site: Site) -> Iterator[RawWebsocket]:
    config = site.browser().page_config("limits")
    ws = RawWebsocket(site, config["token"])
    try:
        yield ws
    finally:
        ws.close()


def _pull_and_count_pongs(ws: RawWebsocket) -> tuple[int, dict[str, object]]:
    """Send a PULL-DOC-REQ; read up to its reply: the pong bytes before it, and the reply's header."""
    ws.send_text(json.dumps({"msgid": "pull-1", "msgtype": "PULL-DOC-REQ"}))
    ws.send_text("{}")
    ws.send_text("{}")
    pongs = 0
    while True:
        opcode, payload = ws.read_frame()
        if opcode == 0xA:
            pongs += len(payload) + 2
        elif opcode == 0x1 and payload.startswith(b"{"):
            header = json.loads(payload)
            if header.get("reqid") == "pull-1":
                return pongs, header


def test_pings_from_a_client_that_does_not_read_are_not_all_held(raw: RawWebsocket) -> None:
    opcode, payload = raw.read_frame()  # the ACK's header
    assert opcode == 0x1 and json.loads(payload)["msgtype"] == "ACK"
    raw.read_frame(), raw.read_frame()  # its metadata and content
    chunk = PING * 1000
    for _ in range(FLOOD // len(chunk)):
        raw.sock.sendall(chunk)
    held, header = _pull_and_count_pongs(raw)
    assert header["msgtype"] == "PULL-DOC-REPLY", header
    assert held <= HELD_AT_MOST, f"the server held {held} bytes of pongs for a client that read nothing"
    # Reading again, the client gets its next ping's pong.
    raw.sock.sendall(_frame(0x9, b"after"))
    while True:
        opcode, payload = raw.read_frame()
        if opcode == 0xA and payload == b"after":
            break
