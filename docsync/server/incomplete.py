"""Bytes held in messages not yet complete: a cap per process, and a timeout per message.

A client may send the first frames of a message and never the rest. Its receiver keeps
those frames (at most ``MAX_MESSAGE_BYTES`` per connection); :class:`IncompleteBytes`
counts them for the whole process under ``MAX_INCOMPLETE_BYTES``, and
:class:`IncompleteInput` drops a connection whose message made no progress for
``INCOMPLETE_MESSAGE_TIMEOUT`` seconds (the ASGI server's half-read frame goes with it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..exceptions import IncompleteInputLimitError, StalledMessageError
from ..protocol import Receiver

__all__ = ["IncompleteBytes", "IncompleteInput"]

#: A timer may fire this much before its time (uvloop counts in milliseconds): that is on time.
_EARLY = 0.005


class IncompleteBytes:
    """The bytes every connection of this process holds in incomplete messages."""

    def __init__(self) -> None:
        self.total = 0
        self.refused = 0  # frames refused because the process was at its cap

    def has_room(self, amount: int, cap: int) -> bool:
        """Tell whether ``amount`` more bytes fit under ``cap`` (counting each refusal)."""
        if self.total + amount <= cap:
            return True
        self.refused += 1
        return False

    def add(self, delta: int) -> None:
        """Count ``delta`` more (or, negative, fewer) bytes held."""
        self.total = max(0, self.total + delta)


class IncompleteInput:
    """One connection's incomplete message: its share of the process's bytes, and its timer."""

    def __init__(
        self, receiver: Receiver, budget: IncompleteBytes, *, cap: int, timeout: float, on_stall: Callable[[], None]
    ) -> None:
        self.receiver = receiver
        self.budget = budget
        self.cap = cap
        self.timeout = timeout
        self.on_stall = on_stall
        self.held = 0
        self._timer: asyncio.TimerHandle | None = None
        # When the incomplete message last made progress (loop time). The timer is not
        # moved on every frame: when it fires it looks here, and waits again if need be.
        self._progress = 0.0

    def admit(self, nbytes: int) -> None:
        """Check that a frame of ``nbytes`` may be held; raise the refusal otherwise."""
        budget = self.budget
        if budget.total + nbytes > self.cap and not budget.has_room(nbytes, self.cap):  # the common case, inline
            self.clear()
            raise IncompleteInputLimitError(
                f"server busy: {self.budget.total} bytes held in incomplete messages, at most {self.cap}"
            )

    def settle(self) -> None:
        """Count what the receiver holds now, and time its message if it is incomplete."""
        now = self.receiver.pending_bytes
        if now != self.held:
            budget = self.budget
            budget.total = max(0, budget.total + now - self.held)  # budget.add, inline: per frame
            self.held = now
        if now:  # progress restarts the clock: a slow sender is not a stalled one
            loop = asyncio.get_running_loop()
            self._progress = loop.time()
            if self._timer is None:
                self._timer = loop.call_at(self._progress + self.timeout, self._check)

    def _check(self) -> None:
        # A timer per frame (set, then cancelled by the next) cost more than every other
        # check of a frame together: one timer waits, and moves here if progress came.
        self._timer = None
        if not self.held:
            return
        loop = asyncio.get_running_loop()
        deadline = self._progress + self.timeout
        if loop.time() < deadline - _EARLY:
            self._timer = loop.call_at(deadline, self._check)
            return
        self.on_stall()

    def stalled_error(self) -> StalledMessageError:
        """The refusal of a message that made no progress for ``timeout`` seconds."""
        return StalledMessageError(f"message incomplete for {self.timeout:g} s")

    def clear(self) -> None:
        """Drop the incomplete message and stop counting it (refusal, stall or disconnect)."""
        self.receiver.reset()
        self.budget.add(-self.held)
        self.held = 0
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
