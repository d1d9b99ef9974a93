"""The per-session order of applied changes, bounded, for conflicts and resume."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .answers import Answer, RememberedAnswers
from .bridge import ListChange
from .patches import EncodedEvent, Key, keys_overlap
from .splices import Splice

__all__ = [
    "MAX_POSITION",
    "WALKED_EVENTS",
    "Answer",
    "BasedConflicts",
    "ConflictIndex",
    "KeyTouches",
    "LogEntry",
    "PatchLog",
]

#: The largest position a client may name (RESUME-REQ's ``last_seq``). A session's
#: position stays an exact JavaScript number (those end at 2**53 - 1): a browser
#: compares positions to skip patches it holds, so one past that range would make it
#: skip (or apply twice) everyone's changes. 2**52 leaves 2**52 changes after it.
MAX_POSITION = 2**52


@dataclass(slots=True)
class LogEntry:
    """The changes applied at one position of the session's order."""

    seq: int
    events: list[EncodedEvent]
    nbytes: int
    #: Its list splices (``PatchLog.list_changes``), read off its events when first asked for:
    #: every client's patch based before it asked again, and each read the events' JSON anew.
    splices: tuple[ListChange, ...] | None = field(default=None, compare=False, repr=False)
    #: Its references without a definition (``PatchLog.attached_since``), read off its events
    #: when first asked for: a value is walked once, not once per patch based before it (a
    #: 150-byte patch taking a model out walked a logged list of 100,000 numbers, 4 ms).
    attachments: tuple[Attachment, ...] | None = field(default=None, compare=False, repr=False)


class ConflictIndex:
    """The keys other origins touched after a position, indexed: ``PatchLog.conflicts`` in O(key length).

    ``PatchLog.conflicts`` walks every event after ``base`` for each event of a patch: a
    patch of 1,000 events based before 3,000 others on the same model made 3,000,000
    comparisons (0.8 s on the event loop, for a 70 KB message a client may repeat). Two
    keys overlap when one is a prefix of the other, so each key of the log goes into a
    set with every prefix of it, and an event's key is looked up with each of its own.
    """

    __slots__ = ("_keys", "_plain_keys", "_plain_prefixes", "_prefixes")

    def __init__(self, entries: Iterator[LogEntry], origin: str) -> None:
        # Every key, and (``plain``) those of events other than list splices.
        self._keys: set[Key] = set()
        self._prefixes: set[Key] = set()
        self._plain_keys: set[Key] = set()
        self._plain_prefixes: set[Key] = set()
        for entry in entries:
            for event in entry.events:
                if event.origin == origin:
                    continue
                plain = event.kind != "ListSpliced"
                for key in event.keys:
                    self._keys.add(key)
                    prefixes = [key[:n] for n in range(1, len(key) + 1)]
                    self._prefixes.update(prefixes)
                    if plain:
                        self._plain_keys.add(key)
                        self._plain_prefixes.update(prefixes)

    def conflicts(self, keys: tuple[Key, ...], *, splices: bool = True) -> bool:
        """What ``PatchLog.conflicts(keys, base, origin, splices=splices)`` answers."""
        held, prefixes = (self._keys, self._prefixes) if splices else (self._plain_keys, self._plain_prefixes)
        # A key of the log that this one is a prefix of (or equal to), or one that is a prefix of it.
        return any(key in prefixes or any(key[:n] in held for n in range(1, len(key))) for key in keys)


#: What an entry costs in Python objects besides its events (``EncodedEvent.nbytes`` counts
#: each event's, 200 bytes, and its bytes): the entry, its list of events, its splices
#: read (``PatchLog.list_changes``). Charged to PATCH_LOG_BYTES with the events.
_ENTRY_BYTES = 200

#: What a key of a logged event costs: its tuple (in ``EncodedEvent.keys``) and, a key no
#: other event held has, its place in the log's ``KeyTouches`` (a list of twelve and its
#: slot), which may hold twice the prefixes of the keys held before it is made again.
#: Uncharged, a log of dict items, 50 new keys an event, held 40 MiB for the 0.9 MiB it counted.
_KEY_BYTES = 300

#: A ``KeyTouches`` is made again once it holds more prefixes than this, and twice those it was made with.
_TOUCHES_FLOOR = 1024

#: A patch based before more logged events than this is judged against the log's ``KeyTouches``.
WALKED_EVENTS = 64

#: A patch of more events than this, based before at most WALKED_EVENTS, is judged against a ``ConflictIndex``.
_WALKED_PER_EVENT = 16

_NOBODY = object()  # (the origin of a key nobody touched yet: never a change's)


class KeyTouches:
    """Per key of the log (and every prefix of one), the newest positions two origins touched it at, kept as it grows.

    ``PatchLog.conflicts`` and ``ConflictIndex`` walk every event after ``base`` for each
    patch: a 1.3 KB patch of 16 events, based before a log of 3,800 small changes of
    another client's, made 60,000 comparisons (23 ms of the event loop; 17 events, through
    a ConflictIndex built for that patch, 3.8 ms), and a client may send 200 a second.
    Here each logged event is taken in once, and a question costs a few lookups per key.

    For each prefix, six numbers: the newest position any key starting with it was touched
    at, by whom, and the newest position an origin other than that one touched one at; the
    same three for keys equal to it. Then six more, the same for events other than list
    splices (``plain``). A key overlaps a key of the log when one is a prefix of the other.
    (One list of twelve per prefix, not two tables of six: a third less memory per key.)
    """

    __slots__ = ("_touched", "built", "upto")

    def __init__(self) -> None:
        self._touched: dict[Key, list[Any]] = {}
        self.upto = 0  # the newest position taken in
        self.built = 0  # how many prefixes it held once made (it is made again at several times that)

    def __len__(self) -> int:
        return len(self._touched)

    def take_in(self, entry: LogEntry) -> None:
        """Take in the keys of ``entry`` (a position after ``upto``)."""
        seq = entry.seq
        table = self._touched
        for event in entry.events:
            origin = event.origin
            plain = event.kind != "ListSpliced"
            for key in event.keys:
                for n in range(1, len(key) + 1):
                    prefix = key[:n]
                    touched = table.get(prefix)
                    if touched is None:
                        touched = table[prefix] = [0, _NOBODY, 0, 0, _NOBODY, 0, 0, _NOBODY, 0, 0, _NOBODY, 0]
                    _touch(touched, 0, seq, origin)
                    if plain:
                        _touch(touched, 6, seq, origin)
                    if n == len(key):
                        _touch(touched, 3, seq, origin)
                        if plain:
                            _touch(touched, 9, seq, origin)
        self.upto = seq

    def conflicts(self, keys: tuple[Key, ...], base: int, origin: str, *, splices: bool = True) -> bool:
        """What ``PatchLog.conflicts(keys, base, origin, splices=splices)`` answers (for a base it reaches back to)."""
        table = self._touched
        at = 0 if splices else 6
        for key in keys:
            # A key of the log that this one is a prefix of (or equal to), or one that is a prefix of it.
            touched = table.get(key)
            if touched is not None and _after(touched, at, base, origin):
                return True
            for n in range(1, len(key)):
                touched = table.get(key[:n])
                if touched is not None and _after(touched, at + 3, base, origin):
                    return True
        return False


def _touch(touched: list[Any], at: int, seq: int, origin: Any) -> None:
    if touched[at + 1] is _NOBODY or touched[at + 1] != origin:
        touched[at + 2] = touched[at]
        touched[at + 1] = origin
    touched[at] = seq


def _after(touched: list[Any], at: int, base: int, origin: Any) -> bool:
    if touched[at + 1] is _NOBODY:
        return False
    newest: int = touched[at] if touched[at + 1] != origin else touched[at + 2]
    return newest > base


class BasedConflicts:
    """``KeyTouches`` asked for one patch: the ``conflicts`` of ``ConflictIndex``."""

    __slots__ = ("_base", "_origin", "_touches")

    def __init__(self, touches: KeyTouches, base: int, origin: str) -> None:
        self._touches, self._base, self._origin = touches, base, origin

    def conflicts(self, keys: tuple[Key, ...], *, splices: bool = True) -> bool:
        """What ``PatchLog.conflicts(keys, base, origin, splices=splices)`` answers."""
        return self._touches.conflicts(keys, self._base, self._origin, splices=splices)


class PatchLog:
    """The last changes of a session, bounded in entries and bytes."""

    def __init__(
        self, *, max_entries: int, max_bytes: int, max_answers: int = 1000, max_answer_clients: int = 256
    ) -> None:
        self.seq = 0
        # () until the first entry: an empty deque is 760 bytes per session, and most
        # sessions' logs stay empty (a tuple reads like an empty deque).
        self._entries: deque[LogEntry] | tuple[()] = ()
        self._bytes = 0
        #: The newest position whose entry holds a list splice (0: none held): the
        #: splice bridge looks for splices only when one came after what it saw.
        self.last_splice_seq = 0
        #: The newest position whose entry takes a model out (0: none held): a reference
        #: to a held model, or a splice, is looked up against departures only after it.
        self.last_departure_seq = 0
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        #: Positions up to this one may hold changes the log no longer has: a base at or
        #: after it is judged. Dropped entries without changes (the positions resets take,
        #: sent to no one) do not move it: a client's refused patches took one each, and
        #: enough of them made every other client's next patch lose whole.
        self._lost_through = 0
        # The keys of the log indexed (``judge``), made when a patch is first based
        # before more than WALKED_EVENTS of its events, then kept as the log grows.
        self._touches: KeyTouches | None = None
        # Answers to client patches, per origin and msgid, so that a patch resent after
        # a reconnect is never applied twice and gets the answer it got the first time.
        self.answers = RememberedAnswers(max_answers=max_answers, max_clients=max_answer_clients)

    @property
    def newest(self) -> LogEntry | None:
        """The newest entry held (None: none): a new one whenever the log changes."""
        return self._entries[-1] if self._entries else None

    @property
    def first_seq(self) -> int:
        """The oldest position still held (the next one if the log is empty)."""
        return self._entries[0].seq if self._entries else self.seq + 1

    def clear(self) -> None:
        """Forget every entry and start again at position 0."""
        self.seq = 0
        self._entries = ()
        self._bytes = 0
        self.last_splice_seq = 0
        self.last_departure_seq = 0
        self._lost_through = 0
        self._touches = None

    def append(self, events: list[EncodedEvent], *, departs: bool | None = None) -> LogEntry:
        """Record ``events`` at the next position and return the entry.

        ``departs``: whether an event takes a model out (None: told by the events' keys).
        """
        self.seq += 1
        # Its events' bytes, and what holding them costs in Python objects (``_ENTRY_BYTES``,
        # ``_KEY_BYTES``). (A list, not a generator resumed per event; one event as it is.)
        if len(events) == 1:
            only = events[0]
            nbytes = only.nbytes + _ENTRY_BYTES + _KEY_BYTES * len(only.keys)
        else:
            nbytes = sum([e.nbytes + _KEY_BYTES * len(e.keys) for e in events]) + _ENTRY_BYTES
        entry = LogEntry(self.seq, events, nbytes)
        entries = self._entries
        if not entries:
            # The first entry held (of a new log, or one laid again from a snapshot's records):
            # what came before it is not known here.
            self._lost_through = max(self._lost_through, entry.seq - 1)
        if not isinstance(entries, deque):
            entries = self._entries = deque()
        elif entries:
            # The entry before it is no longer the newest (its changes went out with their
            # position): its events keep their bytes alone from now on (``EncodedEvent.compact``).
            for event in entries[-1].events:
                event.compact()
        entries.append(entry)
        for event in events:
            if event.kind == "ListSpliced":  # as list_changes tells them
                self.last_splice_seq = entry.seq
                break
        if departs is None:  # (entries laid again from records: told by their keys)
            # A change that takes models out has a key of one item per model (the sequencer
            # adds them), besides its own: one key of one item is a root or title change.
            departs = any(
                len(event.keys) > 1 and any(len(k) == 1 and k != ("roots",) and k != ("title",) for k in event.keys)
                for event in events
            )
        if departs:
            self.last_departure_seq = entry.seq
        self._bytes += entry.nbytes
        while len(entries) > 1 and (len(entries) > self._max_entries or self._bytes > self._max_bytes):
            dropped = entries.popleft()
            self._bytes -= dropped.nbytes
            if entries[0].seq != dropped.seq + 1:  # positions between were never held here: not known
                self._lost_through = entries[0].seq - 1
            elif dropped.events:
                self._lost_through = dropped.seq
        return entry

    def skip_past(self, seq: int) -> LogEntry:
        """Take an empty position after both the current one and ``seq`` (which another incarnation gave)."""
        self.seq = max(self.seq, seq)
        return self.append([])

    def reaches_back_to(self, seq: int, origin: str | None = None) -> bool:
        """Tell whether every change after ``seq`` is still held (and no answer of ``origin`` after it was forgotten).

        Without ``origin``: no answer of a client id the session no longer tells apart.
        """
        point = self.answers.forgotten_seq if origin is None else self.answers.point(origin)
        floor = self._lost_through if self._entries else self.seq  # none held: only the current position
        return seq >= max(floor, point) and seq <= self.seq

    def since(self, seq: int) -> Iterator[LogEntry]:
        """The entries after position ``seq``, oldest first."""
        newer = []  # (``_newest_since``, inline: no generator resumed per entry)
        for entry in reversed(self._entries):
            if entry.seq <= seq:
                break
            newer.append(entry)
        return reversed(newer)

    def _newest_since(self, seq: int) -> Iterator[LogEntry]:
        # From the newest end: a client's base is usually a few positions back, and
        # walking the whole log (up to max_entries) per patch showed in profiles.
        for entry in reversed(self._entries):
            if entry.seq <= seq:
                return
            yield entry

    def conflict_index(self, base: int, origin: str) -> ConflictIndex:
        """The keys other origins than ``origin`` touched after ``base``, for many ``conflicts`` questions at once."""
        return ConflictIndex(self._newest_since(base), origin)

    def judge(self, base: int, origin: str, events: int) -> ConflictIndex | BasedConflicts | None:
        """What a patch of ``events`` events based on ``base`` is judged against: None for ``conflicts`` itself.

        The walk (``conflicts``, per event) for few events based before few logged ones; a
        ``ConflictIndex`` of those for many events; based before more than WALKED_EVENTS
        logged events, the log's ``KeyTouches``. A base the log does not reach back to
        (``reaches_back_to``) is not judged here.
        """
        logged = 0
        for entry in reversed(self._entries):
            if entry.seq <= base:
                break
            logged += len(entry.events)
            if logged > WALKED_EVENTS:
                return BasedConflicts(self._touched(), base, origin)
        if events <= _WALKED_PER_EVENT:
            return None
        return ConflictIndex(self._newest_since(base), origin)

    def _touched(self) -> KeyTouches:
        """The log's ``KeyTouches``, taking in the entries since it last did (made again once it outgrew the log)."""
        touches = self._touches
        # (Twice, not four times, and at a floor of 1,024, not 4,096: what it holds past the
        # keys of the log is within what the log charges them, ``_KEY_BYTES``.)
        if touches is not None and len(touches) > max(_TOUCHES_FLOOR, 2 * touches.built):
            touches = None  # (mostly keys the log no longer holds: made again from those it does)
        if touches is None:
            touches = self._touches = KeyTouches()
            for entry in self._entries:
                touches.take_in(entry)
            touches.built = len(touches)
        elif touches.upto < self.seq:
            for entry in self.since(touches.upto):
                touches.take_in(entry)
        touches.upto = self.seq
        return touches

    def conflicts(self, keys: tuple[Key, ...], base: int, origin: str, *, splices: bool = True) -> bool:
        """Tell whether another origin touched any of ``keys`` after position ``base``.

        With ``splices`` false, list splices do not count (a splice is judged against
        other splices by shifting, see ``docsync.sync.bridge``).
        """
        if not keys:
            return False
        # Whether an event that overlaps is a splice is asked only then (most do not
        # overlap): an event of ``origin``'s own, or a splice when those do not count, is
        # passed over whatever its keys.
        if len(keys) == 1:  # (most events touch one key: no loop over ``keys`` per key of the log)
            mine = keys[0]
            first = mine[0]
            for entry in reversed(self._entries):  # (``_newest_since``, inline: asked per event of every patch)
                if entry.seq <= base:
                    return False
                for event in entry.events:
                    if event.origin == origin:
                        continue
                    for theirs in event.keys:
                        # (Keys are never empty: their first items differ for most pairs.)
                        if theirs[0] == first and keys_overlap(theirs, mine):
                            if splices or event.kind != "ListSpliced":
                                return True
                            break
            return False
        for entry in reversed(self._entries):
            if entry.seq <= base:
                return False
            for event in entry.events:
                if event.origin == origin:
                    continue
                for theirs in event.keys:
                    for mine in keys:
                        if theirs[0] == mine[0] and keys_overlap(theirs, mine):
                            if splices or event.kind != "ListSpliced":
                                return True
                            break
                    else:
                        continue
                    break  # (an event not counted: its other keys need not be looked at)
        return False

    def departures_since(self, base: int, origin: str) -> set[str]:
        """The ids of the models another origin than ``origin`` took out after position ``base``.

        Whatever the kind of the change: a list splice that takes a model out counts,
        though splices do not conflict with splices (``conflicts(splices=False)``). One walk
        per patch: asked per event, a patch of 1,000 splices walked the log 1,000 times.
        """
        if self.last_departure_seq <= base:
            return set()
        found: set[str] = set()
        for entry in self._newest_since(base):
            for event in entry.events:
                if event.origin == origin or len(event.keys) < 2:
                    continue
                for key in event.keys:
                    if len(key) == 1 and key != ("roots",) and key != ("title",):
                        found.add(key[0])
        return found

    def attached_since(self, base: int, origin: str, model_ids: set[str]) -> list[Key]:
        """The properties another origin than ``origin`` attached one of ``model_ids`` to by reference after ``base``.

        A reference without a definition: the server held the model (elsewhere), so the
        receivers were assumed to hold it too. ``origin``, having taken the model out (its
        change of it unanswered), did not: it skipped the event, or attached the object its
        application held out, with that object's values (protocol.md §9).
        """
        found: dict[Key, None] = {}
        for entry in self.since(base):
            attachments = entry.attachments
            if attachments is None:
                attachments = entry.attachments = _attachments(entry)
            for event_origin, key, referred in attachments:
                if event_origin != origin and not referred.isdisjoint(model_ids):
                    found[key] = None
        return list(found)

    def remember_applied(
        self,
        origin: str,
        msgid: str,
        seq: int,
        *,
        rejected: int = 0,
        error: tuple[str, str] | None = None,
        lost: tuple[int, ...] = (),
    ) -> None:
        """Remember that ``origin``'s message ``msgid`` was answered at ``seq``, and how."""
        self.answers.remember(origin, msgid, Answer(seq, rejected, error, lost))

    def answer(self, origin: str, msgid: str) -> Answer | None:
        """Return how ``origin``'s message ``msgid`` was answered, if it is still remembered."""
        return self.answers.get(origin, msgid)

    def list_changes(self, seq: int) -> list[ListChange]:
        """The list splices applied after position ``seq``, oldest first."""
        changes: list[ListChange] = []  # (a list, not a generator resumed per splice)
        for entry in self.since(seq):
            splices = entry.splices
            if splices is None:
                splices = entry.splices = _splices_of(entry)
            changes += splices
        return changes

    @property
    def nbytes(self) -> int:
        """Approximate bytes held."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)


def _splices_of(entry: LogEntry) -> tuple[ListChange, ...]:
    """The list splices of ``entry``'s events, in order (ListChanges are never changed once made: shared)."""
    found = []
    for event in entry.events:
        if event.kind == "ListSpliced":
            body = event.json
            key = (body["model"]["id"], body["attr"])
            found.append(
                ListChange(entry.seq, event.origin, key, Splice(body["index"], body["delete"], len(body["items"])))
            )
    return tuple(found)


_SCALARS = (str, int, float, bool)

#: An event's origin, the property it set, and the models its value refers to without defining them.
Attachment = tuple[str | None, Key, frozenset[str]]


def _attachments(entry: LogEntry) -> tuple[Attachment, ...]:
    """The references without a definition in ``entry``'s values, by the property each was set on."""
    found: list[Attachment] = []
    for event in entry.events:
        kind = event.kind
        if kind != "ListSpliced" and kind != "DictItemsSet" and kind != "ModelChanged":
            continue
        body = event.json  # (decoded once per entry: the result is kept)
        if kind == "ListSpliced" or kind == "DictItemsSet":
            value = body.get("items")
        elif kind == "ModelChanged":
            value = body.get("new")
        else:
            continue
        if value is None or type(value) in _SCALARS:
            continue
        referred = _referred_ids(value)
        if not referred:
            continue
        if event.references:
            referred -= {r.get("id") for r in event.references}
        model, attr = body.get("model"), body.get("attr")
        if referred and type(model) is dict and type(model.get("id")) is str and type(attr) is str:
            found.append((event.origin, (model["id"], attr), frozenset(referred)))
    return tuple(found)


def _referred_ids(value: object) -> set[str]:
    """The ids of the references (``{"id": ...}`` alone) in an event's value as the wire has it."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is list:
            stack.extend(item)
        elif type(item) is dict:
            if len(item) == 1 and type(item.get("id")) is str:
                found.add(item["id"])
            else:
                stack.extend(item.values())
    return found
