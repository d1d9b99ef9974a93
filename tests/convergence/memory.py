"""The convergence workload in memory: the server's sequencer and the clients' protocols, no sockets.

A ``MemoryNetwork`` holds one ``Sequencer`` of the convergence app (driven by a
``MemoryServer``, which sends its decisions where ``ServerSession`` sends them) and
``MemoryClient``s, each a ``ClientProtocol`` with a document. Both sides are sans I/O:
no event loop, no lock, no thread (the convergence app has no callbacks). Messages
travel as frames (copied when sent, as bytes on a wire are) through one queue per
direction and connection. Nothing moves on its own: the network delivers a random part
of what is queued after every step, from the run's seed, so a seed replays the same
interleaving exactly.

What a socket does, the queues do: messages arrive in order or not at all; a clean
close delivers what was written, an abrupt one a random prefix of it; a patch held
back by the test dies with the connection.
"""

from __future__ import annotations

import random
import secrets
from typing import Any

from docsync.document import Document
from docsync.protocol import Message, ack, error, server_info_reply, server_info_req
from docsync.protocol.msgtypes import PATCH_DOC, PULL_DOC_REPLY, PULL_DOC_REQ, RESUME_REQ, SERVER_INFO_REQ
from docsync.sync import ClientProtocol, ClientState
from docsync.sync.sequencer import Changes, Sequencer, client_id_in

from .apps import convergence_doc
from .draws import Draws
from .harness import Recorder, canonical_document
from .settings import PATCH_LOG_SIZE

__all__ = ["MemoryClient", "MemoryNetwork", "MemoryServer"]

Frames = Message  # a message as it travels: a copy nothing else holds


def _frames(message: Message) -> Frames:
    """Copy ``message`` as far as a wire must: its buffers as bytes, taken now.

    Its JSON is handed over as it is: neither side changes a message's content once it
    is sent or received (the real-server test sends true frames).
    """
    buffers = message.buffers
    return Message(dict(message.header), {}, message.content, [(i, bytes(b)) for i, b in buffers] if buffers else [])


class MemoryConnection:
    """The server's end of one client connection: what it sends goes to the client's queue."""

    def __init__(self, client: MemoryClient) -> None:
        self.client = client
        self.origin = secrets.token_hex(8)
        self.fence = 0
        self.alive = True

    def send_message(self, message: Message) -> None:
        if self.alive:
            self.client.incoming.append(_frames(message))


class MemoryServer:
    """The server's side in memory: a ``Sequencer``, its decisions sent as ``ServerSession`` sends them.

    Only what the workload sends is handled (the convergence app has no callbacks, so a
    patch is received, applied and answered at once).
    """

    def __init__(self, sequencer: Sequencer) -> None:
        self.sequencer = sequencer
        self.connections: list[MemoryConnection] = []

    def receive(self, connection: MemoryConnection, message: Message) -> None:
        """Handle one message from ``connection``, as ``dispatch`` does."""
        msgtype = message.header["msgtype"]  # (``Message.msgtype``, without the call)
        if msgtype == PATCH_DOC:
            outcome = self.sequencer.handle_patch(connection.origin, connection.fence, message)
            kept = self._broadcast(outcome.changes, keep_for=connection)
            connection.send_message(outcome.answer)
            for message in kept:
                connection.send_message(message)
            if outcome.reset is not None:
                if outcome.fence is not None:
                    connection.fence = outcome.fence
                for other in list(self.connections):
                    if other is connection or other.origin == connection.origin:
                        other.send_message(outcome.reset)
        elif msgtype in (PULL_DOC_REQ, RESUME_REQ):
            client_id = client_id_in(message)
            if client_id is not None:
                connection.origin = client_id
            if msgtype == PULL_DOC_REQ:
                connection.send_message(self.sequencer.pull(message))
                return
            resumed = self.sequencer.resume(connection.origin, message, created_session=False)
            if resumed.fence is not None:
                connection.fence = resumed.fence
            connection.send_message(resumed.reply)
        elif msgtype == SERVER_INFO_REQ:
            connection.send_message(server_info_reply(message.msgid, {"docsync": "memory", "server": "docsync"}))
        else:
            connection.send_message(error(message.msgid, f"unexpected message type {msgtype!r}", "bad-request"))

    def _broadcast(self, changes: Changes | None, keep_for: MemoryConnection) -> list[Message]:
        if changes is None:
            return []
        kept: list[Message] = []
        # One copy of a message for all the connections it goes to, as one frame written
        # to many sockets (nothing changes a message once it is sent or received).
        copies: dict[int, Frames] = {}
        for connection in list(self.connections):
            messages = changes.messages_for(connection.origin)
            if connection is keep_for:
                kept = messages
            elif connection.alive:  # (``send_message``, inline)
                incoming = connection.client.incoming
                for message in messages:
                    frames = copies.get(id(message))
                    if frames is None:
                        frames = copies[id(message)] = _frames(message)
                    incoming.append(frames)
        return kept


class MemoryClient(Recorder):
    """A client protocol whose connection is two queues the network moves along."""

    def __init__(self, network: MemoryNetwork, name: str) -> None:
        self.network = network
        self.document = Document()
        self.protocol = ClientProtocol(self.document, client_id=secrets.token_hex(8))
        self._start_recording(name)
        self.hold_in = self.hold_out = False
        self.offline = True
        self.incoming: list[Frames] = []  # sent by the server, not delivered yet
        self.outgoing: list[Frames] = []  # sent by the client, not delivered yet
        self._held: list[Frames] = []  # patches the test holds back (not written yet)
        self._connection: MemoryConnection | None = None

    @property
    def client_id(self) -> str:
        return str(self.protocol.client_id)

    @property
    def last_seq(self) -> int:  # type: ignore[override]
        return self.protocol.last_seq or 0

    @property
    def pending(self) -> int:
        return len(self.protocol.outbox) + (self.protocol.in_flight is not None)

    @property
    def held_in(self) -> int:
        return len(self.incoming)

    @property
    def held_out(self) -> int:
        return len(self._held)

    # -- moving messages ----------------------------------------------------------------

    def flush(self) -> None:
        """Send the waiting changes, as the adapter does once per turn of its loop."""
        self.protocol.flush()
        self._write()

    def _write(self) -> None:
        for message in self.protocol.messages_to_send():
            if message.header["msgtype"] == PATCH_DOC:  # (``_record_sent`` records those alone)
                self._record_sent(message)
                held = self.hold_out or self._held
            else:
                held = False
            (self._held if held else self.outgoing).append(_frames(message))

    def deliver_out(self, count: int) -> None:
        """Hand the server the first ``count`` messages in flight to it."""
        assert self._connection is not None
        receive, connection = self.network.server.receive, self._connection
        for frames in self.outgoing[:count]:
            del self.outgoing[0]
            receive(connection, frames)

    def deliver_in(self, count: int) -> None:
        """Hand the client the first ``count`` messages in flight to it."""
        if not count:
            return
        incoming = self.incoming
        # Taken off the queue at once: handling them only ever adds to the outgoing queues.
        arrived = incoming[:count]
        del incoming[:count]
        protocol, wire, record, write = self.protocol, self.wire, self._record, self._write
        for message in arrived:
            wire.append((message, 0))
            record(message, protocol.last_seq or 0)  # (``last_seq``, without the property's call)
            protocol.receive_message(message)
            protocol.events_received()
            write()

    def move(self, rng: Draws | None = None) -> None:
        """Deliver what is in flight (all of it, or a random part with ``rng``), both ways.

        (Plain calls: the run's steps and the network's turns call this a few times per
        step, and nothing in memory ever waits.)
        """
        if self.offline:
            return
        protocol = self.protocol
        if protocol.in_flight is None and protocol.outbox:
            # (Else ``flush`` sends nothing, and nothing waits to be written: whatever queues
            # a message, a message received or a flush, is followed by ``_write``.)
            protocol.flush()
            self._write()
        if rng is None:
            if self.outgoing:
                self.deliver_out(len(self.outgoing))
            if not self.hold_in:
                self.deliver_in(len(self.incoming))
            return
        # ``rng.randint(0, len(queue))`` for each queue, inline (the same draws, in the same
        # order): a few per client and step, most of them of an empty queue.
        getrandbits = rng.getrandbits
        n = len(self.outgoing) + 1
        k = n.bit_length()
        count = getrandbits(k)
        while count >= n:
            count = getrandbits(k)
        if count:
            self.deliver_out(count)
        if not self.hold_in:
            n = len(self.incoming) + 1
            k = n.bit_length()
            count = getrandbits(k)
            while count >= n:
                count = getrandbits(k)
            if count:
                self.deliver_in(count)

    # -- what a run does ----------------------------------------------------------------

    def release_in(self, count: int | None = None) -> None:
        if not self.offline:
            self.deliver_in(len(self.incoming) if count is None else count)

    async def release_out(self, count: int | None = None) -> None:
        count = len(self._held) if count is None else count
        self.outgoing.extend(self._held[:count])
        del self._held[:count]

    async def release_all(self) -> None:
        self.hold_in = self.hold_out = False
        self.release_in()
        await self.release_out()

    async def sync(self) -> None:
        """Send everything and deliver everything, until nothing of this client is in flight."""
        for _ in range(10_000):
            self.move()
            if not (self.pending or self.outgoing or self.incoming or self._held):
                return
            await self.release_all()
        raise AssertionError(f"client {self.name} did not settle")

    async def request_server_info(self) -> None:
        """A round trip: everything sent before it is answered after it."""
        self.flush()
        self.outgoing.append(_frames(server_info_req()))
        self.move()

    async def connect(self) -> None:
        self._connection = MemoryConnection(self)
        self.network.server.connections.append(self._connection)
        self.offline = False
        self.hold_in = False
        self.protocol.connection_made()
        self._connection.send_message(ack())
        while self.protocol.state is not ClientState.LIVE:
            before = (len(self.outgoing), len(self.incoming))
            self.move()
            if before == (0, 0) and not (self.outgoing or self.incoming):
                raise AssertionError(f"client {self.name} could not connect")

    async def _lose(self, delivered: int) -> None:
        self.deliver_out(delivered)
        assert self._connection is not None
        self._connection.alive = False
        self.network.server.connections.remove(self._connection)
        self.incoming.clear()
        self.outgoing.clear()
        self._held.clear()  # never written: it dies with the connection
        self.protocol.connection_lost()
        self.offline = True

    async def drop(self) -> None:
        """Lose the connection abruptly: a random part of what was written arrives."""
        self.trace.append("drop")
        await self._lose(self.network.rng.randint(0, len(self.outgoing)))

    async def reconnect(self) -> None:
        """Close cleanly (what was written arrives) if connected, then resume."""
        self.trace.append(f"reconnect from {self.last_seq}")
        if not self.offline:
            await self._lose(len(self.outgoing))
        await self.connect()

    async def close(self) -> None:
        if not self.offline:
            await self._lose(len(self.outgoing))
        self.protocol.close()


class MemoryNetwork:
    """One session of the convergence app and its clients, all in memory."""

    log_size = PATCH_LOG_SIZE

    def __init__(self, seed: int) -> None:
        self.rng = Draws(seed ^ 0x5EED)
        self.clients: list[MemoryClient] = []
        self._splices: dict[int, list[dict[str, Any]]] = {}
        document = Document()
        convergence_doc(document)
        sequencer = Sequencer(
            document,
            allow_client_structure=True,
            log_entries=PATCH_LOG_SIZE,
            log_bytes=1 << 30,
            max_client_models=100_000,
            max_array_elements=100_000_000,
        )
        self.server = MemoryServer(sequencer)
        # Every entry, also those the bounded log lets go: the reference reads the
        # splices' places there.
        log, append = sequencer.log, sequencer.log.append

        def append_and_keep(events: list[Any], *, departs: bool | None = None) -> Any:
            entry = append(events, departs=departs)
            self._splices[entry.seq] = [e.json for e in events if e.json.get("kind") == "ListSpliced"]
            return entry

        log.append = append_and_keep  # type: ignore[method-assign]

    async def new_client(self, name: str) -> MemoryClient:
        client = MemoryClient(self, name)
        self.clients.append(client)
        await client.connect()
        assert client.wire[1][0].msgtype == PULL_DOC_REPLY
        return client

    async def server_state(self) -> tuple[dict[str, Any], int]:
        return canonical_document(self.server.sequencer.document), self.server.sequencer.seq

    async def server_splices(self) -> dict[int, list[dict[str, Any]]]:
        return self._splices

    async def idle(self, rng: random.Random, long: bool) -> None:
        for client in self.clients:
            client.move(self.rng)
            if long:
                client.move(self.rng)

    async def after_step(self) -> None:
        """Let a random part of what is in flight arrive (each client flushes, as its loop would)."""
        for client in self.clients:
            client.move(self.rng)
