"""How a session answered its clients' patches, remembered within bounds whatever ids clients choose.

A client resending a patch after a reconnect must get the answer it got the first
time, and the patch must not be applied twice: the session remembers each answer by
(client id, msgid). Clients choose both ids, so the memory is bounded twice: at most
``max_answers`` answers and ``max_clients`` client ids per session. Beyond either, the
oldest answers (or the least recently active client's) are forgotten, and the session
remembers, for that client id, the newest position a forgotten answer held (its *forget
point*): a patch of that client based before it may be a resend of a forgotten one, so
it is treated as too old (its events lose, and the sender is sent the current values),
never applied a second time.

Forget points are per client id, so that a client filling the bounds with ids of its
own makes only its own patches old, never another client's. They are bounded too (at
most ``max(max_answers, max_clients)`` ids): a point pushed out of them raises the
point of every client id the session no longer tells apart (``forgotten_seq``), and a
client id that makes its first answer after that starts at it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Answer", "Places", "RememberedAnswers"]


#: An answer's lost indices are kept as ``Places`` past this many.
_PLACES_KEPT_AS_TUPLE = 16


class Places(Sequence[int]):
    """Indices of a patch's events (ascending, distinct), kept as the bits of an int; equal to the tuple of them.

    A session remembers REMEMBERED_ANSWERS answers, each with the indices of its patch's
    events that lost: as a tuple, 1,000 answers to stale patches of 1,000 events held 28 MB
    (a tuple and an int object per index past 256), against PATCH_LOG_BYTES' 1 MiB; as
    bits, about 150 bytes an answer.
    """

    __slots__ = ("_bits", "_count")

    def __init__(self, indices: Iterable[int]) -> None:
        bits = 0
        count = 0
        for index in indices:
            bit = 1 << index
            if not bits & bit:
                bits |= bit
                count += 1
        self._bits, self._count = bits, count

    def __iter__(self) -> Iterator[int]:
        bits = self._bits
        while bits:
            low = bits & -bits
            yield low.bit_length() - 1
            bits ^= low

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, item: Any) -> Any:
        return tuple(self)[item]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Places):
            return self._bits == other._bits
        if isinstance(other, tuple | list):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))


# Not frozen (never changed once made): a frozen dataclass's __init__ sets each field through
# object.__setattr__, and one is made for every patch a session answers.
@dataclass(slots=True, unsafe_hash=True)
class Answer:
    """How a client patch was answered: its position, events rejected, or the refusal."""

    seq: int
    rejected: int = 0
    error: tuple[str, str] | None = None  # (text, code) of the ERROR sent
    lost: tuple[int, ...] | Places = ()  # the indices of the patch's events that lost (ascending)

    def __post_init__(self) -> None:
        if len(self.lost) > _PLACES_KEPT_AS_TUPLE:  # (most answers: none lost)
            self.lost = Places(self.lost)


class RememberedAnswers:
    """Answers by (client id, msgid), at most ``max_answers`` of them from at most ``max_clients`` ids."""

    def __init__(self, *, max_answers: int, max_clients: int) -> None:
        self.max_answers = max_answers
        self.max_clients = max_clients
        # Both made by the first answer: two empty OrderedDicts are 256 bytes per session,
        # and a session whose clients only pull never remembers one.
        self._answers: OrderedDict[tuple[str, str], Answer] | None = None  # oldest first
        self._clients: OrderedDict[str, int] | None = None  # answers held per id, least recent first
        # Per id, the newest position of its answers (or fence) forgotten, least recently moved first.
        self._points: OrderedDict[str, int] | None = None
        self.max_points = max(max_answers, max_clients)
        #: The forget point of every client id the session no longer tells apart (see ``point``).
        self.forgotten_seq = 0
        self.forgotten = 0  # answers forgotten so far (shown in the admin's session detail)

    def remember(self, origin: str, msgid: str, answer: Answer) -> None:
        """Remember ``answer`` to ``origin``'s ``msgid``, forgetting the oldest beyond the bounds."""
        answers, clients = self._answers, self._clients
        if answers is None or clients is None:
            answers, clients = self._answers, self._clients = OrderedDict(), OrderedDict()
        if origin not in clients:
            if len(clients) >= self.max_clients:
                self._forget_client(answers, next(iter(clients)))
            if self.forgotten_seq and (self._points is None or origin not in self._points):
                # It may be an id whose answers (and point) were forgotten: it starts at the point
                # of the ids the session no longer tells apart, and stays there as it is told apart.
                self.forget_before(self.forgotten_seq, origin)
        key = (origin, msgid)
        if key not in answers:  # nearly always: added at the end already
            clients[origin] = clients.get(origin, 0) + 1
            answers[key] = answer
        else:
            answers[key] = answer
            answers.move_to_end(key)
        clients.move_to_end(origin)
        while len(answers) > self.max_answers:
            (old_origin, _), old = answers.popitem(last=False)
            self._count_forgotten(clients, old_origin, old)

    def items(self) -> list[tuple[tuple[str, str], Answer]]:
        """Every remembered answer by (client id, msgid), oldest first (what a snapshot keeps)."""
        return list(self._answers.items()) if self._answers is not None else []

    def get(self, origin: str, msgid: str) -> Answer | None:
        """The answer ``origin``'s ``msgid`` got, if it is still remembered."""
        return self._answers.get((origin, msgid)) if self._answers is not None else None

    def forget_before(self, seq: int, origin: str | None = None) -> None:
        """Treat ``origin``'s patches based before ``seq`` as possibly answered already (a forgotten fence or answer).

        Without ``origin``: those of every client id the session does not tell apart.
        """
        if origin is None:
            self.forgotten_seq = max(self.forgotten_seq, seq)
            return
        points = self._points
        if points is None:
            points = self._points = OrderedDict()
        points[origin] = max(points.get(origin, 0), seq)
        points.move_to_end(origin)
        while len(points) > self.max_points:
            old_origin, old_seq = points.popitem(last=False)
            self.forgotten_seq = max(self.forgotten_seq, old_seq)
            # Its remaining answers go with its point: an id with answers and no point would
            # be judged from position 0, and a resend of one forgotten before applied again.
            if self._answers is not None and self._clients is not None and old_origin in self._clients:
                for key in [key for key in self._answers if key[0] == old_origin]:
                    forgotten = self._answers.pop(key)
                    self.forgotten += 1
                    self.forgotten_seq = max(self.forgotten_seq, forgotten.seq)
                del self._clients[old_origin]

    def point(self, origin: str) -> int:
        """The position before which ``origin``'s patches may be resends of forgotten answers."""
        if self._points is not None and origin in self._points:
            return self._points[origin]
        if self._clients is not None and origin in self._clients:
            return 0  # told apart since before any point was forgotten (see ``remember``)
        return self.forgotten_seq

    @property
    def floor(self) -> int:
        """The newest forget point of any client id (what a snapshot keeps, for every id)."""
        points = self._points
        return max(self.forgotten_seq, *points.values()) if points else self.forgotten_seq

    def __len__(self) -> int:
        return len(self._answers) if self._answers is not None else 0

    @property
    def clients(self) -> int:
        """How many client ids have answers remembered."""
        return len(self._clients) if self._clients is not None else 0

    def _forget_client(self, answers: OrderedDict[tuple[str, str], Answer], origin: str) -> None:
        clients = self._clients
        assert clients is not None  # made with answers
        for key in [key for key in answers if key[0] == origin]:
            self._count_forgotten(clients, origin, answers.pop(key))

    def _count_forgotten(self, clients: OrderedDict[str, int], origin: str, answer: Answer) -> None:
        self.forgotten += 1
        self.forget_before(answer.seq, origin)
        left = clients.get(origin, 0) - 1
        if left > 0:
            clients[origin] = left
        else:
            clients.pop(origin, None)
