"""Bytes held in messages not yet complete: a cap per process and per client, and a timeout per message.

A client may send the first frames of a message and never the rest. Its receiver keeps
those frames (at most ``MAX_MESSAGE_BYTES`` per connection); :class:`IncompleteBytes`
counts them for the whole process under ``MAX_INCOMPLETE_BYTES``, and per client (a
logged-in user, else an address: server/clients.py) under
``MAX_INCOMPLETE_BYTES_PER_CLIENT``, and :class:`IncompleteInput` drops a connection
whose message made no progress for ``INCOMPLETE_MESSAGE_TIMEOUT`` seconds (the ASGI
server's half-read frame goes with it; noticed within a quarter of the timeout after it).

What the ASGI server holds of a websocket message it is still reading (a frame's payload
so far, earlier fragments) is told after each read (``IncompleteInput.server_holds``,
from compat/partial_frames.py) and counted with the connection's incomplete message, under
the same bounds and clock: 16 websockets of one client each holding an unfinished 60 MiB
frame grew daphne by 901 MiB while only whole frames were counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..exceptions import ClientLimitError, ConnectionClosingError, IncompleteInputLimitError, StalledMessageError
from ..protocol import Frame, Message, Receiver

__all__ = ["IncompleteBytes", "IncompleteInput"]

#: A timer may fire this much before its time (uvloop counts in milliseconds): that is on time.
_EARLY = 0.005


class IncompleteBytes:
    """The bytes every connection of this process holds in incomplete messages, and the one timer watching them.

    One timer for the process, not one per connection: a connection's timer stayed
    pending for ``INCOMPLETE_MESSAGE_TIMEOUT`` after each of its messages (about 500
    bytes per connection, most of them idle); this one runs only while some connection
    holds an incomplete message, every quarter of the timeout.
    """

    def __init__(self) -> None:
        self.total = 0
        self.refused = 0  # frames refused because the process was at its cap
        #: The bytes each client holds (only clients holding some), and the frames refused
        #: because their client was at its share.
        self.by_client: dict[str, int] = {}
        self.refused_clients = 0
        #: The connections holding an incomplete message (a dict as an ordered set).
        self.watched: dict[IncompleteInput, None] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None

    def has_room(self, amount: int, cap: int) -> bool:
        """Tell whether ``amount`` more bytes fit under ``cap`` (counting each refusal)."""
        if self.total + amount <= cap:
            return True
        self.refused += 1
        return False

    def add(self, delta: int, client: str | None = None) -> None:
        """Count ``delta`` more (or, negative, fewer) bytes held (by ``client``, if it is counted)."""
        self.total = max(0, self.total + delta)
        if client is not None and delta:
            held = self.by_client.get(client, 0) + delta
            if held > 0:
                self.by_client[client] = held
            else:
                self.by_client.pop(client, None)

    def watch(self, incomplete: IncompleteInput, loop: asyncio.AbstractEventLoop) -> None:
        """Time ``incomplete``'s message from now on (until :meth:`unwatch`)."""
        self.watched[incomplete] = None
        if self._timer is None or self._timer_loop is not loop:  # none yet, or left on a closed loop
            self._schedule(loop, incomplete.timeout / 4)

    def _schedule(self, loop: asyncio.AbstractEventLoop, period: float) -> None:
        self._timer = loop.call_later(period, self._sweep, loop)
        self._timer_loop = loop

    def unwatch(self, incomplete: IncompleteInput) -> None:
        """Stop timing ``incomplete``: its message completed or was dropped."""
        self.watched.pop(incomplete, None)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        if not self.watched:
            return
        now = loop.time()
        for incomplete in [i for i in self.watched if now >= i.deadline - _EARLY]:
            self.watched.pop(incomplete, None)
            incomplete.on_stall()
        if self.watched:
            self._schedule(loop, min(i.timeout for i in self.watched) / 4)


def _refused_unheard(refusal: ConnectionClosingError) -> None:
    """What a refusal of the ASGI server's held bytes is told before a connection listens (or after it closed)."""


class IncompleteInput:
    """One connection's incomplete message: its share of the process's bytes, and its deadline."""

    # One per connection, for its life: slots, not a __dict__.
    __slots__ = (
        "_progress",
        "budget",
        "cap",
        "client",
        "client_cap",
        "held",
        "on_server_over",
        "on_stall",
        "receiver",
        "server_held",
        "timeout",
        "watermark",
    )

    def __init__(
        self, receiver: Receiver, budget: IncompleteBytes, *, cap: int, timeout: float, on_stall: Callable[[], None]
    ) -> None:
        self.receiver = receiver
        self.budget = budget
        self.cap = cap
        self.timeout = timeout
        self.on_stall = on_stall
        self.held = 0
        #: What the ASGI server holds of the websocket message it is reading (its partial
        #: frame: compat/partial_frames.py), counted with ``held``; and what is told when
        #: that passes a bound (the connection drops them and is refused).
        self.server_held = 0
        self.on_server_over: Callable[[ConnectionClosingError], None] = _refused_unheard
        #: Whose share these bytes count against, and that share (None: not counted).
        self.client: str | None = None
        self.client_cap: int | None = None
        #: Below this many bytes held in the process no frame needs a closer look.
        self.watermark = cap
        # When the incomplete message last made progress (loop time): the process's timer
        # (``IncompleteBytes``) drops the connection once it made none for ``timeout``.
        self._progress = 0.0

    @property
    def deadline(self) -> float:
        """When the incomplete message is stalled, in loop time, unless a frame comes first."""
        return self._progress + self.timeout

    def count_for(self, client: str | None, client_cap: int | None) -> None:
        """Count this connection's bytes against ``client``'s share, ``client_cap`` (None: not counted).

        Called before its first frame (it holds nothing yet).
        """
        if client is None or client_cap is None:
            self.client = self.client_cap = None
            self.watermark = self.cap
            return
        self.client, self.client_cap = client, client_cap
        self.watermark = min(self.cap, client_cap)

    def admit(self, nbytes: int) -> None:
        """Check that a frame of ``nbytes`` may be held; raise the refusal otherwise."""
        budget = self.budget
        if budget.total + nbytes <= self.watermark:  # the common case, inline: no bound is near
            return
        receiver = self.receiver
        if nbytes > receiver.max_frame_bytes or receiver.pending_bytes + nbytes > receiver.max_message_bytes:
            # Over the message's own limits: the receiver refuses it (1009, protocol.md §11)
            # and holds none of it. The share is one largest message by default, so the frame
            # that takes a message past the limit takes its client past the share too: 1013
            # said "busy, retry" of a message that can never be taken.
            return
        # What the ASGI server holds of a later frame of this connection is left out of the
        # share here: the frame that takes the message past its limit is refused 1009 as
        # such, not 1013 because the next frame's first bytes had arrived meanwhile.
        refusal = self._over_bounds(nbytes, share_applies=True, own_left_out=self.server_held)
        if refusal is not None:
            self.clear()
            raise refusal

    def _over_bounds(self, nbytes: int, *, share_applies: bool, own_left_out: int = 0) -> ConnectionClosingError | None:
        """The refusal of ``nbytes`` more held, past the process's cap or the client's share (None: they fit).

        ``own_left_out``: bytes of this connection's that the share check leaves out.
        """
        budget = self.budget
        if budget.total + nbytes > self.cap and not budget.has_room(nbytes, self.cap):
            return IncompleteInputLimitError(
                f"server busy: {budget.total} bytes held in incomplete messages, at most {self.cap}"
            )
        client, share = self.client, self.client_cap
        # Without a share one client's few sockets held the whole process's bytes, and every
        # other client's next frame was refused 1013 (each message's first frame counts).
        if not share_applies or client is None or share is None:
            return None
        if budget.by_client.get(client, 0) - own_left_out + nbytes > share:
            budget.refused_clients += 1
            return ClientLimitError(
                f"this client holds its maximum of {share} bytes in incomplete messages"
                " (MAX_INCOMPLETE_BYTES_PER_CLIENT)"
            )
        return None

    def server_holds(self, nbytes: int) -> None:
        """Count ``nbytes`` held by the ASGI server of the websocket message it is reading, in place of the last count.

        Told after each read of the socket (compat/partial_frames.py): bytes held there
        count with this connection's incomplete message, under the same bounds, and
        restart the same clock. Past a bound ``on_server_over`` is told the refusal, and
        nothing more is counted (the connection drops those bytes: then 0 is told).
        """
        delta = nbytes - self.server_held
        if delta > 0:
            budget = self.budget
            if budget.total + delta > self.watermark:  # a bound is near: the closer look
                receiver = self.receiver
                # A message past its own limits is refused 1009 once read whole, as a frame
                # the receiver holds none of is (``admit``); but only while its client holds
                # nothing elsewhere: each of 16 websockets held a 60 MiB frame, each past them.
                own = self.held + self.server_held
                past_limits = (
                    nbytes > receiver.max_frame_bytes or receiver.pending_bytes + nbytes > receiver.max_message_bytes
                )
                alone = self.client is None or budget.by_client.get(self.client, 0) <= own
                refusal = self._over_bounds(delta, share_applies=not (past_limits and alone))
                if refusal is not None:
                    self.on_server_over(refusal)
                    return
            self._count(delta)
            self.server_held = nbytes
            loop = asyncio.get_running_loop()  # bytes arrived: progress, as a frame taken is
            self._progress = loop.time()
            if self not in budget.watched:
                budget.watch(self, loop)
            return
        if delta:
            self._count(delta)
            self.server_held = nbytes
            if not nbytes and not self.held:
                self.budget.unwatch(self)

    def _count(self, delta: int) -> None:
        """Count ``delta`` more (or fewer) bytes held by this connection, in the process and its client's share."""
        self.budget.add(delta, self.client)

    def take(self, frame: Frame, nbytes: int) -> Message | None:
        """Hand a frame of ``nbytes`` to the receiver, admitted, counted and timed; return the message it completes.

        One call per frame (``admit``, ``Receiver.receive`` and what the receiver holds
        then, counted and timed). Raises what ``admit`` and the receiver raise; the caller
        then ``clear``s.
        """
        budget = self.budget
        if budget.total + nbytes > self.watermark:  # a bound is near: the closer look
            self.admit(nbytes)
        receiver = self.receiver
        message = receiver.receive(frame, nbytes)
        now = receiver.pending_bytes
        held = self.held
        if now != held:
            delta = now - held
            total = budget.total + delta  # budget.add, inline: per frame
            budget.total = total if total > 0 else 0
            client = self.client
            if client is not None:
                by_client = budget.by_client
                mine = by_client.get(client, 0) + delta
                if mine > 0:
                    by_client[client] = mine
                else:
                    by_client.pop(client, None)
            self.held = now
        if now:  # progress restarts the clock: a slow sender is not a stalled one
            loop = asyncio.get_running_loop()
            self._progress = loop.time()
            if self not in budget.watched:
                budget.watch(self, loop)
        elif held and not self.server_held:  # only a connection that held bytes can be watched
            budget.watched.pop(self, None)
        return message

    def stalled_error(self) -> StalledMessageError:
        """The refusal of a message that made no progress for ``timeout`` seconds."""
        return StalledMessageError(f"message incomplete for {self.timeout:g} s")

    def clear(self) -> None:
        """Drop the incomplete message and stop counting it (refusal, stall or disconnect).

        What the ASGI server holds stays counted until it is told 0 (the connection
        dropped it) or :meth:`forget_server` (the connection is over).
        """
        self.receiver.reset()
        self.budget.add(-self.held, self.client)
        self.held = 0
        if not self.server_held:
            self.budget.unwatch(self)

    def forget_server(self) -> None:
        """Stop counting what the ASGI server holds: the connection is over, and those bytes with it."""
        self.budget.add(-self.server_held, self.client)
        self.server_held = 0
        self.on_server_over = _refused_unheard
        if not self.held:
            self.budget.unwatch(self)
