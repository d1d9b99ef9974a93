"""The server's half of the splice rule: per client, the splices it has not seen yet.

A client makes a splice on the list as it was at its patch's ``base``, plus its own
changes since. The server has applied other origins' splices of that list after
``base``; the client's splice must be shifted past each of them, in the form they take
once the client's own earlier splices are accounted for (the client shifts them the
same way when they reach it). A ``SpliceBridge`` keeps, per client and per list, those
unseen splices in that form, as Jupiter's server keeps one queue per client:

- before a patch of the client is judged, ``catch_up`` appends the other origins'
  splices applied since it last looked and drops those at or before the patch's
  ``base`` (the client had them when it made the patch);
- ``shift`` moves one of the client's splices past what is left: the shifted splice,
  and the unseen ones shifted past it, or None when they really touch the same items;
- ``commit`` keeps the shifts once the patch was applied (a refused patch changes
  nothing).

Bounded: only splices after a base the log still reaches are kept, for at most
``max_clients`` clients (the least recently active go first), at most ``max_unseen`` per
client. Client ids are the clients' choice: without these bounds each new id basing a
patch far back kept a copy of every splice of the log. A client dropped while it had
unseen splices is reported in ``dropped``: its patches based before now cannot be
shifted any more, and the sequencer makes them lose.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .splices import Splice, transform

__all__ = ["ListChange", "Shift", "SpliceBridge"]

Key = tuple[str, str]


# Not frozen (never changed once made): a frozen dataclass's __init__ sets each field through
# object.__setattr__, and one is made for every splice the bridge catches a client up with.
@dataclass(slots=True, unsafe_hash=True)
class ListChange:
    """A splice of a list property the server applied at position ``seq``."""

    seq: int
    origin: str | None
    key: Key
    splice: Splice


@dataclass(slots=True)
class Shift:
    """One client splice shifted past the unseen ones, and those shifted past it."""

    splice: Splice
    key: Key
    unseen: list[tuple[int, Splice]]


@dataclass(slots=True)
class _Client:
    upto: int = 0  # the last position whose splices were looked at
    unseen: dict[Key, list[tuple[int, Splice]]] = field(default_factory=dict)


class SpliceBridge:
    """Per client, the splices of other origins it has not seen, in the form its splices see them."""

    def __init__(self, *, max_clients: int = 256, max_unseen: int = 256) -> None:
        self._clients: dict[str, _Client] = {}  # least recently active first
        self.max_clients = max_clients
        self.max_unseen = max_unseen
        #: Clients dropped with splices they had not seen (taken and cleared by the sequencer).
        self.dropped: list[str] = []

    def _client(self, origin: str) -> _Client:
        """``origin``'s entry, made if needed, as the most recently active (dropping the least beyond the bound)."""
        clients = self._clients
        client = clients.pop(origin, None)
        if client is None:
            client = _Client()
        clients[origin] = client
        while len(clients) > self.max_clients:
            old_origin = next(iter(clients))
            if clients.pop(old_origin).unseen:
                self.dropped.append(old_origin)
        return client

    def upto(self, origin: str) -> int:
        """The last position whose splices were taken into account for ``origin``."""
        client = self._clients.get(origin)
        return client.upto if client is not None else 0

    def unseen(self, origin: str, key: Key) -> list[tuple[int, Splice]]:
        """The splices of list ``key`` that ``origin`` has not seen, as (position, splice)."""
        client = self._clients.get(origin)
        return list(client.unseen.get(key, [])) if client is not None else []

    def catch_up(self, origin: str, base: int, changes: Iterable[ListChange], now: int) -> None:
        """Take in the splices applied after ``upto(origin)`` up to ``now``; forget those at or before ``base``.

        ``changes`` are the log's list splices after ``upto(origin)``, oldest first.
        """
        clients = self._clients
        client = clients.get(origin)
        if client is not None and not client.unseen and not changes:
            # Nearly every patch: a known client, nothing unseen, no splice since: it
            # becomes the most recently active, and has seen up to ``now``.
            del clients[origin]
            clients[origin] = client
            client.upto = max(client.upto, now)
            return
        client = self._client(origin)
        for change in changes:
            if change.seq > base and change.origin != origin:
                client.unseen.setdefault(change.key, []).append((change.seq, change.splice))
        for key, items in list(client.unseen.items()) if client.unseen else ():
            if items and items[0][0] > base:  # (in order of position: all kept, as they are)
                continue
            kept = [item for item in items if item[0] > base]
            if kept:
                client.unseen[key] = kept
            else:
                del client.unseen[key]
        client.upto = max(client.upto, now)
        if client.unseen and sum(map(len, client.unseen.values())) > self.max_unseen:
            # That far behind, its patch is not shifted past them all: it loses (see ``dropped``).
            del self._clients[origin]
            self.dropped.append(origin)

    def shift(
        self, origin: str, key: Key, splice: Splice, pending: Shift | None = None, *, most: int | None = None
    ) -> Shift | None:
        """Shift ``splice`` past what ``origin`` has not seen of list ``key``; None on a conflict.

        ``pending``: the shift of an earlier splice of the same list in the same patch,
        not committed yet (this one was made on top of it). ``most``: None too when there
        are more unseen splices than that (nothing is shifted then).
        """
        if pending is not None:
            unseen = pending.unseen
        else:
            client = self._clients.get(origin)
            unseen = client.unseen.get(key, []) if client is not None else []
        if most is not None and len(unseen) > most:
            return None
        shifted: list[tuple[int, Splice]] = []
        for seq, theirs in unseen:
            result = transform(theirs, splice)
            if result is None:
                return None
            theirs_after, splice = result
            shifted.append((seq, theirs_after))
        return Shift(splice, key, shifted)

    def commit(self, origin: str, shifts: Iterable[Shift]) -> None:
        """Keep the shifts of a patch that was applied.

        ``upto`` stays where ``catch_up`` left it, before the patch's own position: what
        the server's code changed at that position in reaction to the patch (after it)
        is taken in by the next ``catch_up``, the patch's own splices are not.
        """
        if not shifts:  # a patch without splices (most): nothing to keep, no _Client made to be dropped
            return
        client = self._client(origin)
        for shift in shifts:
            if shift.unseen:
                client.unseen[shift.key] = shift.unseen
            else:
                client.unseen.pop(shift.key, None)

    def forget(self, origin: str) -> None:
        """Drop what is kept for ``origin`` (its document was replaced)."""
        self._clients.pop(origin, None)
