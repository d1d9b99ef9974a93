"""uvicorn's receive queue for a websocket, made small once the websocket is accepted.

uvicorn's sansio websocket queues what the client sends for the app's ``receive`` in an
``asyncio.Queue``: three empty deques and an Event (a fourth) of about 760 bytes each,
3.3 KB per websocket under tracemalloc, for a queue that holds one message at a time
between frames. It uses only ``put_nowait``, ``get`` and ``empty`` of it (checked
against the installed uvicorn by tests/server/test_compat.py), and one ASGI app awaits
``receive`` at a time, so a queue of one consumer does: ``ReceiveQueue``, 64 bytes and
a deque only while more than one message waits.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from .versions import checked

__all__ = ["ReceiveQueue", "slim_receive_queue"]

_SANSIO = "uvicorn.protocols.websockets.websockets_sansio_impl"
#: The uvicorn releases whose sansio websocket was checked to use only put_nowait, get and empty.
CHECKED = ((0, 52), (0, 56))

_NOTHING: Any = object()


class ReceiveQueue:
    """A FIFO queue with any number of producers and one consumer: ``put_nowait``, ``get``, ``empty``."""

    __slots__ = ("_head", "_rest", "_waiter")

    def __init__(self, items: list[Any] | None = None) -> None:
        self._head: Any = _NOTHING
        self._rest: deque[Any] | None = None  # behind the head; made while more than one waits
        self._waiter: asyncio.Future[None] | None = None
        for item in items or ():
            self.put_nowait(item)

    def put_nowait(self, item: Any) -> None:
        """Queue ``item`` and wake the waiting ``get``, if any."""
        if self._head is _NOTHING:
            self._head = item
        else:
            if self._rest is None:
                self._rest = deque()
            self._rest.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Any:
        """Return the oldest item, waiting for one; a second ``get`` while one waits is an error."""
        while self._head is _NOTHING:
            if self._waiter is not None:
                # asyncio.Queue would serve both in turn; an ASGI app awaits receive() once at a time.
                raise RuntimeError("ReceiveQueue.get awaited by two tasks at once")
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        item = self._head
        rest = self._rest
        if rest:
            self._head = rest.popleft()
            if not rest:
                self._rest = None
        else:
            self._head = _NOTHING
        return item

    def empty(self) -> bool:
        """Whether nothing is queued."""
        return self._head is _NOTHING


def slim_receive_queue(send: Any) -> bool:
    """Put a ``ReceiveQueue`` in place of uvicorn's ``asyncio.Queue`` behind ``send``; say whether it did.

    Only for uvicorn's sansio websocket in the checked releases, once accepted, and only
    when the caller knows that no ``receive`` is being awaited (docsync's own receive
    loop, which is dispatching the connect message while it accepts): a task waiting on
    the old queue would never be woken. Whatever the old queue holds moves over in order.
    """
    owner: Any = getattr(send, "__self__", None)
    if type(owner).__module__ != _SANSIO or not checked("uvicorn", *CHECKED):
        return False
    queue = getattr(owner, "queue", None)
    if type(queue) is not asyncio.Queue or not getattr(owner, "handshake_complete", False):
        return False
    waiting = []
    while not queue.empty():
        waiting.append(queue.get_nowait())
    owner.queue = ReceiveQueue(waiting)
    return True
