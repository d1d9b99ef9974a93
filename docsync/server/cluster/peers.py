"""The direct route: relayed websockets' messages on one authenticated TCP stream per pair of processes.

With ``DOCSYNC["PEER_ADDRESS"]`` set, each process listens there and advertises the
address in Redis next to its liveness key. A process relaying a websocket connects to
the owner once, and every message of its relays to that owner (open, client messages,
closed) goes on that stream; the owner answers (frames, close) on the same stream. Over
the channel layer each of them cost a Redis script and a blocking pop, each a redis-py
round trip on both ends: most of a relayed round trip's CPU.

Records are a 4-byte big-endian length and a msgpack'd dict, the same dicts the
channel layer carries, but for one: a listener that says so in its handshake (``parsed``)
is sent each relayed client message as the relaying process parsed it (header, metadata,
content and buffers, and its size), not as the client's frames, so that the owner does
not parse it again. Records written in one turn of the event loop go in one write.

Peers prove they know the site's ``SECRET_KEY``: the listener sends a random nonce and
its process id; the connector answers with its own id and nonce and an HMAC (a key
derived from ``SECRET_KEY``) over both nonces and both ids; the listener checks it and
proves itself with an HMAC over them in the other order (and says what it takes beyond
frames: ``parsed``; a listener of an older release does not, and is sent frames). Anything else is closed
within ``_HANDSHAKE_TIMEOUT`` having been told nothing but a nonce and a process id.

At most ``_MAX_HANDSHAKES`` connections are unproven at once; a new one beyond that
closes the oldest unproven one of the address holding most of them rather than being
refused, so that whoever holds connections open saying nothing only has them closed
under it, and a flood of new connections from one address closes its own: a peer's
handshake (one round trip) from another address is not pushed out, and its relays keep
the direct route.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import msgpack

__all__ = ["PeerLink", "Peers", "parse_address"]

logger = logging.getLogger("docsync.cluster")

_HANDSHAKE_TIMEOUT = 5.0
_HANDSHAKE_BYTES = 1024  # a handshake record is a few dozen bytes
_MAX_HANDSHAKES = 64  # unauthenticated connections at once; a new one beyond closes the oldest
#: A process whose route failed is not tried again for this long (its relays use the channel layer).
_RETRY_AFTER = 2.0
#: Bytes a stream may hold unsent before writers wait; a peer that takes nothing for
#: _STALLED seconds is as good as gone (the channel layer gave up on a full channel alike).
_HIGH_WATER = 4 << 20
_STALLED = 30.0
_SALT = "docsync.cluster.peers"
#: Bytes asked of the stream at once: every whole record they hold is handled before the
#: next read (records written in one turn arrive together: one await for all of them).
_READ_SIZE = 1 << 16

#: What a record is handed to: it returns an awaitable when handling it must wait (an
#: open), else None (a relayed message or frames: no coroutine per record).
OnMessage = Callable[[dict[str, Any], "PeerLink"], Awaitable[None] | None]
OnLost = Callable[["PeerLink"], None]


def parse_address(address: str) -> tuple[str, int]:
    """Split ``"host:port"`` (port 0: any free port); raise ValueError on anything else."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f'PEER_ADDRESS must be "host:port", not {address!r}')
    if host in ("0.0.0.0", "::", "[::]"):  # refused, not bound: peers could not be told where to go
        raise ValueError(f"PEER_ADDRESS {address!r}: give an address the other processes can reach")
    return host.strip("[]"), int(port)


def _proof(*parts: bytes) -> bytes:
    from django.utils.crypto import salted_hmac

    return salted_hmac(_SALT, b"|".join(parts), algorithm="sha256").digest()


def _host_of(writer: asyncio.StreamWriter) -> str:
    """The remote host of an accepted connection ("" when the transport cannot tell)."""
    peername = writer.get_extra_info("peername")
    return str(peername[0]) if isinstance(peername, tuple) and peername else ""


def _why(exc: Exception) -> str:
    """What a refused handshake's log line says: the error's text, or what the silent ones mean."""
    # A timeout has no text of its own: the log said "refused a peer connection from ...: "
    # and nothing more for a connection that said nothing, or too little, for 5 s.
    if isinstance(exc, TimeoutError):
        return f"no handshake within {_HANDSHAKE_TIMEOUT:g} s"
    return str(exc) or type(exc).__name__


def _record(message: dict[str, Any]) -> bytes:
    data: bytes = msgpack.packb(message, use_bin_type=True)
    return len(data).to_bytes(4, "big") + data


async def _read_record(reader: asyncio.StreamReader, limit: int | None = None) -> dict[str, Any]:
    size = int.from_bytes(await reader.readexactly(4), "big")
    if limit is not None and size > limit:
        raise ValueError(f"a {size}-byte record during the handshake")
    message = msgpack.unpackb(await reader.readexactly(size), raw=False)
    if not isinstance(message, dict):
        raise ValueError("a record is not a map")
    return message


class PeerLink:
    """One authenticated stream to another process; records written without waiting."""

    def __init__(
        self,
        peer: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_lost: OnLost,
        parsed: bool = False,
    ) -> None:
        self.peer = peer
        #: Whether the peer takes relayed client messages parsed (``RelayOut.forward``), not as frames.
        self.parsed = parsed
        self.reader = reader
        self.writer = writer
        self.closed = False
        self._on_lost = on_lost
        self._pending: list[bytes] = []
        #: One packer for the link's records: ``msgpack.packb`` makes (and frees) a Packer
        #: and its buffer per record (~0.3 µs of ~0.5 per relayed message's record).
        self._pack = msgpack.Packer(use_bin_type=True).pack
        writer.transport.set_write_buffer_limits(high=_HIGH_WATER)
        #: The transport's count of bytes it holds unsent, looked up once (read per relayed message).
        self._unsent = writer.transport.get_write_buffer_size

    def send(self, message: dict[str, Any]) -> None:
        """Queue one record; what is queued in this turn of the loop goes in one write."""
        if self.closed:
            raise ConnectionError(f"the route to {self.peer} is closed")
        pending = self._pending
        if not pending:
            asyncio.get_running_loop().call_soon(self._flush)
        data: bytes = self._pack(message)  # (``_record``, inline: per relayed message)
        pending.append(len(data).to_bytes(4, "big") + data)

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if not self.closed and pending:
            self.writer.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def backed_up(self) -> bool:
        """Whether the stream holds more than its high-water mark (writers should wait: ``drain``)."""
        return self._unsent() > _HIGH_WATER

    async def drain(self) -> None:
        """Wait while the stream holds more than its high-water mark; close it if the peer takes nothing."""
        if not self.backed_up():
            return
        try:
            await asyncio.wait_for(self.writer.drain(), _STALLED)
        except (TimeoutError, ConnectionError) as exc:
            self.close()
            raise ConnectionError(f"the route to {self.peer} stalled") from exc

    async def read_forever(self, on_message: OnMessage) -> None:
        """Hand each record to ``on_message`` until the stream ends; then the link is lost."""
        reader = self.reader
        buffer = bytearray()
        try:
            while True:
                # A record larger than what is buffered is asked for whole (one read, not many).
                need = int.from_bytes(buffer[:4], "big") + 4 - len(buffer) if len(buffer) >= 4 else 0
                chunk = await reader.read(max(_READ_SIZE, need))
                if not chunk:
                    return  # the stream ended (mid-record or not): the link is lost
                buffer += chunk
                start, end = 0, len(buffer)
                while end - start >= 4:
                    stop = start + 4 + int.from_bytes(buffer[start : start + 4], "big")
                    if stop > end:
                        break
                    message = msgpack.unpackb(buffer[start + 4 : stop], raw=False)
                    start = stop
                    if not isinstance(message, dict):
                        raise ValueError("a record is not a map")
                    waits = on_message(message, self)
                    if waits is not None:
                        await waits
                del buffer[:start]
        except (ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("cluster: a bad record from %s; closing its route", self.peer, exc_info=True)
        finally:
            self.close()

    def close(self) -> None:
        """Close the stream; the first call tells ``on_lost``."""
        if self.closed:
            return
        self._flush()  # what was sent before a clean stop (a drain's closes) still goes
        self.closed = True
        self.writer.close()  # the transport writes what it holds, then closes
        self._on_lost(self)

    def __repr__(self) -> str:
        return f"PeerLink({self.peer})"


class Peers:
    """This process's listener and its links to other processes."""

    def __init__(self, process_id: str, on_message: OnMessage, on_lost: OnLost) -> None:
        self.process_id = process_id
        self._on_message = on_message
        self._on_lost = on_lost
        self.address: str | None = None
        self._server: asyncio.Server | None = None
        self._links: dict[str, PeerLink] = {}  # ours, to owners, by process id
        self._accepted: set[PeerLink] = set()
        self._connecting: dict[str, asyncio.Future[PeerLink | None]] = {}
        self._failed_at: dict[str, float] = {}
        #: Connections not proven yet, oldest first, each with its remote host.
        self._unproven: dict[asyncio.StreamWriter, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def listen(self, address: str) -> str:
        """Listen on ``address`` (``host:port``, port 0 for any); return the address to advertise."""
        host, port = parse_address(address)
        self._server = await asyncio.start_server(self._accept, host, port)
        bound = self._server.sockets[0].getsockname()
        self.address = f"[{host}]:{bound[1]}" if ":" in host else f"{host}:{bound[1]}"
        return self.address

    async def link(self, peer: str, address: str) -> PeerLink | None:
        """The link to process ``peer`` at ``address``, connected if need be; None if it cannot be had now."""
        link = self._links.get(peer)
        if link is not None and not link.closed:
            return link
        if time.monotonic() - self._failed_at.get(peer, -_RETRY_AFTER) < _RETRY_AFTER:
            return None
        waiting = self._connecting.get(peer)
        if waiting is not None:
            return await asyncio.shield(waiting)
        future: asyncio.Future[PeerLink | None] = asyncio.get_running_loop().create_future()
        self._connecting[peer] = future
        link = None
        try:
            link = await asyncio.wait_for(self._connect(peer, address), _HANDSHAKE_TIMEOUT)
        except Exception as exc:
            logger.info("cluster: no direct route to %s at %s (%s); using the channel layer", peer, address, exc)
            now = time.monotonic()
            # Forget old failures (of processes long gone): the dict stays as small as the cluster.
            self._failed_at = {p: t for p, t in self._failed_at.items() if now - t < _RETRY_AFTER}
            self._failed_at[peer] = now
        finally:
            del self._connecting[peer]
            if link is not None:
                self._links[peer] = link
                self._start(link)
            future.set_result(link)  # also when cancelled: whoever waits for it goes on
        return link

    async def _connect(self, peer: str, address: str) -> PeerLink:
        host, port = parse_address(address)
        reader, writer = await asyncio.open_connection(host, port)
        try:
            hello = await _read_record(reader, _HANDSHAKE_BYTES)
            if hello.get("process") != peer:  # an address another process took over since
                raise ConnectionError(f"{address} is process {hello.get('process')!r}, not {peer}")
            theirs, ours = bytes(hello["nonce"]), secrets.token_bytes(16)
            me = self.process_id.encode()
            proof = _proof(b"connect", theirs, ours, me, peer.encode())
            writer.write(_record({"process": self.process_id, "nonce": ours, "proof": proof}))
            answer = await _read_record(reader, _HANDSHAKE_BYTES)
            expected = _proof(b"accept", ours, theirs, peer.encode(), me)
            if not hmac.compare_digest(bytes(answer.get("proof", b"")), expected):
                raise ConnectionError(f"{address} did not prove it knows this site's SECRET_KEY")
        except BaseException:
            writer.close()
            raise
        return PeerLink(peer, reader, writer, self._lost, parsed=answer.get("parsed") is True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = _host_of(writer)
        if len(self._unproven) >= _MAX_HANDSHAKES:
            # Close the oldest unproven connection (its handshake reads the end of its stream
            # and stops), not the new one: holding connections open wins nobody a slot. The
            # oldest of the address holding most: a fast flood (probed: ~1,100 connections a
            # second from one address) pushed a peer's handshake out in 6 of 47 tries.
            counts = Counter(self._unproven.values())
            most = max(counts.values())
            oldest = next(w for w, h in self._unproven.items() if counts[h] == most)
            del self._unproven[oldest]
            oldest.close()
        self._unproven[writer] = host
        try:
            peer = await asyncio.wait_for(self._prove(reader, writer), _HANDSHAKE_TIMEOUT)
        except Exception as exc:
            peername = writer.get_extra_info("peername")
            if writer in self._unproven:
                logger.warning("cluster: refused a peer connection from %s: %s", peername, _why(exc))
            else:
                logger.debug("cluster: closed an unproven peer connection from %s for a newer one", peername)
            writer.close()
            return
        finally:
            self._unproven.pop(writer, None)
        link = PeerLink(peer, reader, writer, self._lost)
        self._accepted.add(link)
        await link.read_forever(self._on_message)

    async def _prove(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str:
        ours = secrets.token_bytes(16)
        writer.write(_record({"process": self.process_id, "nonce": ours}))
        hello = await _read_record(reader, _HANDSHAKE_BYTES)
        peer, theirs, proof = hello.get("process"), hello.get("nonce"), hello.get("proof")
        if not isinstance(peer, str) or not isinstance(theirs, bytes) or not isinstance(proof, bytes):
            raise ValueError("a malformed handshake")
        me = self.process_id.encode()
        if not hmac.compare_digest(proof, _proof(b"connect", ours, theirs, peer.encode(), me)):
            raise ValueError("no proof of this site's SECRET_KEY")
        # Told only to a proven peer: relayed messages may come parsed (the owner's RelayIn takes both).
        writer.write(_record({"proof": _proof(b"accept", theirs, ours, me, peer.encode()), "parsed": True}))
        return peer

    def _start(self, link: PeerLink) -> None:
        task = asyncio.get_running_loop().create_task(link.read_forever(self._on_message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _lost(self, link: PeerLink) -> None:
        if self._links.get(link.peer) is link:
            del self._links[link.peer]
        self._accepted.discard(link)
        logger.info("cluster: the direct route with %s closed", link.peer)
        self._on_lost(link)

    async def close(self) -> None:
        """Stop listening and close every link."""
        if self._server is not None:
            self._server.close()
        for link in [*self._links.values(), *self._accepted]:
            with contextlib.suppress(Exception):
                link.close()
        for writer in list(self._unproven):  # their handshakes read the end of the stream and stop
            writer.close()
        for task in list(self._tasks):
            task.cancel()
