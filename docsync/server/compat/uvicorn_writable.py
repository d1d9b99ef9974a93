"""uvicorn's flow-control event for a websocket, made small once the websocket is accepted.

uvicorn's sansio websocket says whether its transport takes more writes with an
``asyncio.Event`` (``writable``): cleared by ``pause_writing``, set by ``resume_writing``
and ``connection_lost``, awaited by ``send``. An Event keeps an empty deque of waiters
from the start: about 800 bytes per websocket under tracemalloc, for a flag that is
almost always set. It uses only ``set``, ``clear``, ``wait`` and ``is_set`` of it
(checked against the installed uvicorn by tests/server/test_compat.py), and docsync's
frames writer reads ``is_set`` and awaits ``wait``; ``WritableFlag`` does those, with a
list of waiters only while a task waits.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .versions import Version, checked

__all__ = ["CHECKED", "WritableFlag", "slim_writable"]

_SANSIO = "uvicorn.protocols.websockets.websockets_sansio_impl"
#: The uvicorn releases whose sansio websocket was checked to use only set, clear, wait and is_set.
CHECKED: tuple[Version, Version] = ((0, 52), (0, 56))


class WritableFlag:
    """``asyncio.Event``'s ``set``, ``clear``, ``is_set`` and ``wait``, without a deque while no task waits."""

    __slots__ = ("_value", "_waiters")

    def __init__(self, value: bool = False) -> None:
        self._value = value
        self._waiters: list[asyncio.Future[bool]] | None = None

    def is_set(self) -> bool:
        """Whether the flag is set."""
        return self._value

    def set(self) -> None:
        """Set the flag and wake every task waiting for it."""
        if not self._value:
            self._value = True
            for waiter in self._waiters or ():
                if not waiter.done():
                    waiter.set_result(True)

    def clear(self) -> None:
        """Clear the flag: ``wait`` waits until it is set again."""
        self._value = False

    async def wait(self) -> bool:
        """Return True once the flag is set, at once if it is."""
        if self._value:
            return True
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        waiters = self._waiters
        if waiters is None:
            waiters = self._waiters = []
        waiters.append(waiter)
        try:
            await waiter
            return True
        finally:
            waiters.remove(waiter)
            if not waiters and self._waiters is waiters:
                self._waiters = None


def slim_writable(send: Any) -> bool:
    """Put a ``WritableFlag`` in place of uvicorn's ``writable`` Event behind ``send``; say whether it did.

    Only for uvicorn's sansio websocket in the checked releases, once accepted, and only
    while the Event is set: every task that waited on it has been woken then, and each
    ``wait`` after reads the protocol's attribute again, so none is left on the old one.
    """
    owner: Any = getattr(send, "__self__", None)
    if type(owner).__module__ != _SANSIO or not checked("uvicorn", *CHECKED):
        return False
    event = getattr(owner, "writable", None)
    if type(event) is not asyncio.Event or not event.is_set() or not getattr(owner, "handshake_complete", False):
        return False
    owner.writable = WritableFlag(True)
    return True
