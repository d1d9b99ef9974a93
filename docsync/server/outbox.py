"""Outbox: one connection's messages waiting to be written, and the task that writes them.

A session decides under its lock and queues; it never awaits a socket. Each connection
has one outbox, written by one task, so its messages keep their order and a client that
reads slowly holds up no one but itself. The bytes waiting behind the message being
written are bounded (``MAX_QUEUED_BYTES``): a message that would take them over it,
while over half of it waits already, is not queued, and the connection is closed (see
the consumer: close 4009), its client to resume later with what it missed. With a
client's share (queued_shares.py), the bytes it holds count there too, until the
transport has taken them (``TransportFlow``): a message that would take the client past
its share closes the client's connection holding the most, the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from .queued_shares import QueuedShare

__all__ = ["Outbox", "TransportFlow"]

logger = logging.getLogger("docsync.server")

#: Messages that wait together are written together up to this many bytes.
BATCH_BYTES = 256 * 1024

#: Writes messages (their frames, in order) to the connection.
WriteMessage = Callable[[list[Any]], Awaitable[None]]
#: Something to do once every message queued before it is written (a close).
Action = Callable[[], Awaitable[None]]
#: Writes messages' frames at once if that takes no waiting; says whether it did.
WriteNow = Callable[[list[Any]], bool]


async def _written_nowhere(frames: list[Any]) -> None:
    """The write of a released outbox: its socket is over, nothing is written."""


def _overflow_ignored(queued: int, size: int) -> None:
    """The overflow callback of a released outbox: its connection is closed already."""


class TransportFlow(Protocol):
    """The ASGI server's transport of one socket: whether it holds written bytes back, and their drain."""

    def held_back(self) -> bool:
        """Whether the transport holds more than it writes at once (its client is not reading them)."""

    async def drained(self) -> None:
        """Return once the transport holds no more than it writes at once."""


class Outbox:
    """A bounded queue of one connection's outgoing messages, drained by one task.

    ``write`` writes the frames of one or more messages; ``on_overflow(queued, size)`` is told (once) that a
    message of ``size`` bytes did not fit behind the ``queued`` ones: the outbox is
    stopped by then, and the connection should be closed. ``on_written(sizes)`` counts
    the messages of each write once written (their sizes, in order). With ``write_now``
    (a socket's writer that can write without waiting), what is queued is written by a
    callback soon after, without a task, as long as ``write_now`` takes it; the task
    writes the rest.

    With a ``share`` (set by the connection once it knows its client), every message
    counts against its client's share from its queueing until ``flow`` (the transport)
    has taken it. A message that would pass the cap first closes the client's other
    connections holding more than this one, biggest first (``give_way``), until it fits;
    the outbox of each connection closed so, or this one if it holds the most, has its
    ``on_share_overflow(held, size, cap)`` told (once), as ``on_overflow`` is.
    """

    # One per connection, for its life: slots, not a __dict__ (80 bytes less each).
    __slots__ = (
        "_drain_task",
        "_flush_soon",
        "_items",
        "_last_write",
        "_on_overflow",
        "_on_share_overflow",
        "_on_written",
        "_pace",
        "_pace_when",
        "_stopped_task",
        "_task",
        "_track",
        "_waiters",
        "_write",
        "_write_now",
        "draining_bytes",
        "flow",
        "max_bytes",
        "overflowed",
        "queued_bytes",
        "share",
        "stopped",
        "writing_bytes",
    )

    def __init__(
        self,
        write: WriteMessage,
        *,
        max_bytes: int,
        on_overflow: Callable[[int, int], None],
        on_written: Callable[[list[int]], None] | None = None,
        track: Callable[[asyncio.Task[None]], None] | None = None,
        pace: float = 0.0,
        pace_when: Callable[[], bool] | None = None,
        write_now: WriteNow | None = None,
        on_share_overflow: Callable[[int, int, int], None] | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self._write = write
        self._on_overflow = on_overflow
        self._on_share_overflow = on_share_overflow
        self._on_written = on_written
        self._track = track
        # Made when something is queued and dropped when the writer has emptied it: an
        # empty deque is 760 bytes, and most connections are idle most of the time.
        self._items: deque[tuple[list[Any], int] | Action] | None = None
        #: Bytes of the messages waiting behind the one being written.
        self.queued_bytes = 0
        #: Bytes of the message being written now (0 when none is).
        self.writing_bytes = 0
        #: Bytes written that the transport still holds back (counted only with a share).
        self.draining_bytes = 0
        #: The client's share these bytes count against, and the transport that says when
        #: written bytes have left the process (None: the write's return says so).
        self.share: QueuedShare | None = None
        self.flow: TransportFlow | None = None
        self._drain_task: asyncio.Task[None] | None = None
        self.overflowed = False
        self.stopped = False
        # At most one write per ``pace`` seconds (while ``pace_when()`` says so, if given):
        # what comes meanwhile joins the next. A relay's writes are Redis publishes,
        # paced only while the process publishes a lot; a socket's are not paced.
        self._pace = pace
        self._pace_when = pace_when
        self._last_write = 0.0
        self._task: asyncio.Task[None] | None = None
        # A task and its coroutines per reply were the writer's main cost (a round trip's
        # OK and PATCH-DOC): a callback writes them when the socket takes them at once.
        self._write_now = write_now if not pace else None
        self._flush_soon = False
        self._stopped_task: asyncio.Task[None] | None = None
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def pending_bytes(self) -> int:
        """Bytes queued and not yet written, the message being written (and held by the transport) included."""
        return self.queued_bytes + self.writing_bytes + self.draining_bytes

    def __len__(self) -> int:
        return len(self._items) if self._items is not None else 0

    def put(self, frames: list[Any], size: int) -> bool:
        """Queue one message of ``size`` bytes; return False if it was not queued.

        A message is always taken while at most half of ``max_bytes`` waits (a document
        bigger than the bound still goes out); otherwise the waiting bytes may not exceed
        ``max_bytes``; nor may its client's share pass its cap, unless it holds nothing.
        """
        if self.stopped:
            return False
        # Only bytes that pile up tell a slow reader. A session queues an answer and what
        # it caused in one go (an OK, then a large patch or a reset PUSH-DOC), before the
        # writer ran at all: were the large one refused for the few bytes ahead of it, a
        # client reading promptly would be closed 4009, its ERROR lost with the socket.
        if self.queued_bytes > self.max_bytes // 2 and self.queued_bytes + size > self.max_bytes:
            queued = self.queued_bytes
            self.overflowed = True
            self.stop()
            self._on_overflow(queued, size)
            return False
        share = self.share
        if share is not None:
            # Per connection the bound held, but one client's hundreds of sockets each
            # held a whole document and MAX_QUEUED_BYTES: gigabytes from one address.
            held = share.held + size
            if held > share.cap and share.held:
                if not self._make_room(share, size):
                    self._share_overflow(share, size)
                    return False
                held = share.held + size
            share.held = held
        # (``_queue`` and ``_start``, inline: per message.)
        items = self._items
        if items is None:
            items = self._items = deque()
        items.append((frames, size))
        self.queued_bytes += size
        if self._task is None:
            if self._write_now is None:
                self._start_task(None)
            elif not self._flush_soon:  # soon: once the caller queued the rest of its reply
                self._flush_soon = True
                asyncio.get_running_loop().call_soon(self._flush)
        return True

    def _make_room(self, share: QueuedShare, size: int) -> bool:
        """Close the client's connections holding more than this one, biggest first, until ``size`` fits.

        Say whether it fits now; if not, this one holds the most, and is closed instead.
        """
        # Closing the connection the message was for let one silent socket, holding a
        # whole document, have every reading tab of its address (a NAT) closed 4009 in
        # turn. Rare: only here are the client's connections walked.
        for holder in share.biggest_holders(self):
            holder.give_way(size)
            if share.held + size <= share.cap or not share.held:
                return True
        return False

    def give_way(self, size: int) -> None:
        """Close this connection (4009), giving back what it holds, so another's ``size`` bytes fit the share."""
        share = self.share
        if share is not None and not self.stopped:
            self._share_overflow(share, size)

    def _share_overflow(self, share: QueuedShare, size: int) -> None:
        held = share.held
        self.overflowed = True
        self.stop()
        if self._on_share_overflow is not None:
            self._on_share_overflow(held, size, share.cap)
        else:
            self._on_overflow(held, size)

    def then(self, action: Action) -> None:
        """Run ``action`` once every message queued before it is written."""
        if self.stopped:
            return
        self._queue(action)
        self._start()

    def _queue(self, item: tuple[list[Any], int] | Action) -> None:
        if self._items is None:
            self._items = deque()
        self._items.append(item)

    def stop(self) -> None:
        """Drop what is queued and stop the writer (the connection is closing or closed)."""
        self.stopped = True
        self._items = None
        share = self.share
        if share is not None:  # what it held leaves with it (a cut write, the transport's too)
            share.held -= self.queued_bytes + self.writing_bytes + self.draining_bytes
            drain, self._drain_task = self._drain_task, None
            if drain is not None and drain is not asyncio.current_task():
                drain.cancel()
        self.queued_bytes = self.writing_bytes = self.draining_bytes = 0
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:  # nothing more will be written: none waits for ever
            if not waiter.done():
                waiter.set_result(None)
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            self._stopped_task = task

    def release(self) -> None:
        """Stop, and drop the callbacks into its connection (its socket is over).

        They are the connection's bound methods, and the connection holds this outbox: a
        cycle that only the garbage collector freed, with the connection and all it held
        (a consumer, its receiver, its limits) left until a collection ran.
        """
        self.stop()
        self._write = _written_nowhere
        self._on_overflow = _overflow_ignored
        self._on_share_overflow = None
        self._on_written = None
        self._write_now = None
        self._track = None
        self.flow = None

    async def written(self) -> None:
        """Wait until everything queued so far is written, a close included (or the outbox stopped)."""
        if self.stopped or (not self._items and self._task is None):
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(done)

        async def mark() -> None:
            if done in self._waiters:
                self._waiters.remove(done)
            if not done.done():
                done.set_result(None)

        self.then(mark)
        await done

    async def stopped_writer(self) -> None:
        """Stop, and wait until the writer has let go of the connection (it may be cut mid-message)."""
        self.stop()
        task, self._stopped_task = self._stopped_task, None
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    def _start(self) -> None:
        # The writer ends when the queue is empty: an idle connection holds no task.
        if self._task is not None:
            return
        if self._write_now is not None:
            if not self._flush_soon:  # soon: once the caller queued the rest of its reply
                self._flush_soon = True
                asyncio.get_running_loop().call_soon(self._flush)
            return
        self._start_task(None)

    def _start_task(self, batch: tuple[list[Any], list[int]] | None) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(batch))
        if self._track is not None:
            self._track(self._task)

    def _flush(self) -> None:
        """Write what waits while the socket takes it at once; leave the rest to the task."""
        self._flush_soon = False
        write_now, items = self._write_now, self._items
        if self._task is not None or self.stopped or write_now is None:
            return
        try:
            while items:
                item = items.popleft()
                if callable(item):
                    items.appendleft(item)
                    self._start_task(None)
                    return
                batch = self._batch(item)
                if not write_now(batch[0]):
                    self._start_task(batch)  # it waits until the socket takes it
                    return
                self._done(batch[1])
        except Exception:  # the socket is gone: nothing more can be written to it
            logger.debug("writing to a connection failed", exc_info=True)
            self.stop()
            return
        self._items = None  # empty now: an idle connection holds no queue either

    def _batch(self, item: tuple[list[Any], int]) -> tuple[list[Any], list[int]]:
        """Take ``item`` and the messages waiting behind it into one write; return their frames and sizes."""
        # Messages waiting together go in one write (one syscall under uvicorn: an OK
        # and the patch after it, say), up to BATCH_BYTES.
        items = self._items
        frames, size = list(item[0]), item[1]
        sizes = [size]
        while items and not callable(items[0]) and size < BATCH_BYTES:
            more_frames, more = items.popleft()  # type: ignore[misc]
            frames.extend(more_frames)
            sizes.append(more)
            size += more
        self.queued_bytes -= size
        self.writing_bytes = size
        return frames, sizes

    def _done(self, sizes: list[int]) -> None:
        share = self.share
        if share is not None:
            flow = self.flow
            if flow is not None and flow.held_back():
                # Written, but the transport keeps it while its client reads nothing: it is
                # still this process's, until the transport drains.
                self._hold(self.writing_bytes)
            else:
                share.held -= self.writing_bytes
        self.writing_bytes = 0
        if self._on_written is not None:
            self._on_written(sizes)

    def _hold(self, size: int) -> None:
        """Count ``size`` written bytes until the transport has drained them."""
        self.draining_bytes += size
        if self._drain_task is None:
            self._drain_task = asyncio.get_running_loop().create_task(self._drain())
            if self._track is not None:
                self._track(self._drain_task)

    async def _drain(self) -> None:
        flow, share = self.flow, self.share
        try:
            while self.draining_bytes and flow is not None and share is not None:
                pending = self.draining_bytes
                try:
                    await flow.drained()
                except Exception:  # the socket is gone: stop() gives the bytes back
                    logger.debug("waiting for a transport to drain failed", exc_info=True)
                    return
                if self.stopped:  # stop() has given them back
                    return
                self.draining_bytes -= pending
                share.held -= pending
        finally:
            if self._drain_task is asyncio.current_task():
                self._drain_task = None

    async def _run(self, batch: tuple[list[Any], list[int]] | None = None) -> None:
        try:
            if batch is not None:  # taken by _flush, which the socket would not take at once
                await self._write(batch[0])
                self._done(batch[1])
            while self._items:
                item = self._items.popleft()
                if callable(item):
                    await item()
                    continue
                if self._pace:
                    now = asyncio.get_running_loop().time()
                    wait = self._last_write + self._pace - now
                    if wait > 0 and (self._pace_when is None or self._pace_when()):
                        self._items.appendleft(item)
                        await asyncio.sleep(wait)
                        continue
                    self._last_write = now
                frames, sizes = self._batch(item)
                await self._write(frames)
                self._done(sizes)
        except asyncio.CancelledError:
            raise
        except Exception:  # the socket is gone: nothing more can be written to it
            logger.debug("writing to a connection failed", exc_info=True)
            self._task = None
            self.stop()
            return
        self._task = None
        self._items = None  # empty now: an idle connection holds no queue either
