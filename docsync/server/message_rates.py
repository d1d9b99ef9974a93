"""How fast all of one client's websockets together send messages: token buckets per client that outlive its sockets.

Each connection has its own buckets (connection/rate.py: ``MAX_PATCHES_PER_SECOND`` and
``DOCUMENT_REQUESTS_PER_SECOND``), full when it opens: a client that closed its socket and
opened another had a full bucket again (one anonymous client made 1,322 patches a second,
6.6 times the rate, by reconnecting), and a client of 16 sockets had 16 of them. A
:class:`ClientRate` is the same two buckets for the client (server/clients.py's key, where
the socket is held), shared by all its websockets on this process and kept after they
close, so that reopening fills nothing:

- messages (PATCH-DOC and what counts with it): ``MAX_PATCHES_PER_CLIENT_BURST`` at once,
  then ``MAX_PATCHES_PER_SECOND_PER_CLIENT``;
- document requests (PULL-DOC-REQ, RESUME-REQ, PUSH-DOC): ``MAX_DOCUMENT_REQUESTS_PER_CLIENT_BURST``
  at once, then ``MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT``;
- JSON values, as ``MAX_FRAME_VALUES`` counts them (the commas and colons of its text frames
  outside strings): ``MAX_VALUES_PER_CLIENT_BURST`` at once, then ``MAX_VALUES_PER_SECOND_PER_CLIENT``.
  A message's cost on the event loop grows with its values (parsed, checked, applied): within
  the message rates, frames at ``MAX_FRAME_VALUES`` back to back (a Selection's indices, 1.09
  million zeros in 2.2 MB, 0.2 s of the loop each) from one client held it whole. Charged as
  each text frame arrives, before it is parsed; binary buffers are not counted.
- websocket frames, as the ASGI server parses them (fragments and control frames too):
  ``MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST`` at once, then ``MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT``.
  Each costs the event loop 4-10 µs in the server's own parser, before docsync sees a
  message: one socket's one-byte fragments, or messages of 1,024 empty buffers within
  the message rate, held the loop whole. Charged after each read of the socket
  (compat/partial_frames.py), under daphne and uvicorn's default websockets.

A client's buckets are held while it has a websocket here (as many as its sockets, which
cost far more each); once its last one closes they wait in a table of at most
``max_idle`` clients, the longest idle first dropped, and one whose buckets are full again
is dropped too (a full bucket is the same as none): a client rotating addresses cannot
grow the table, and one that comes back within its refill finds its buckets as it left them.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ..exceptions import RateLimitedError
from ..protocol.wire_json import count_separators

__all__ = [
    "DOCUMENT_REQUESTS_LIMIT",
    "DOCUMENT_REQUESTS_PER_SECOND",
    "FRAMES_LIMIT",
    "MAX_IDLE_CLIENTS",
    "MESSAGES_LIMIT",
    "VALUES_LIMIT",
    "ClientRate",
    "ClientRates",
    "TokenBucket",
]

#: PULL-DOC-REQ, RESUME-REQ and PUSH-DOC per second (and at once) on one connection,
#: together, and the resets the server answers its stale patches with: each is the whole
#: document. (SERVER-INFO-REQ counts with the patches, ``MAX_PATCHES_PER_SECOND``: clients
#: send it as a barrier.)
DOCUMENT_REQUESTS_PER_SECOND = 10.0

#: Clients without a websocket here whose buckets are kept at most (about 300 bytes each).
MAX_IDLE_CLIENTS = 20_000

#: The settings of each bucket: (rate, burst), and the name refusals give.
_MESSAGES = ("MAX_PATCHES_PER_SECOND_PER_CLIENT", "MAX_PATCHES_PER_CLIENT_BURST")
_DOCUMENTS = ("MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT", "MAX_DOCUMENT_REQUESTS_PER_CLIENT_BURST")
_VALUES = ("MAX_VALUES_PER_SECOND_PER_CLIENT", "MAX_VALUES_PER_CLIENT_BURST")
_FRAMES = ("MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT", "MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST")
_ALL = (_MESSAGES, _DOCUMENTS, _VALUES, _FRAMES)
#: The settings naming each bucket's refusals (its rate's).
MESSAGES_LIMIT, DOCUMENT_REQUESTS_LIMIT, VALUES_LIMIT, FRAMES_LIMIT = (names[0] for names in _ALL)
#: What each bucket counts, as its refusal names it.
_WHAT = {
    _MESSAGES[0]: "messages",
    _DOCUMENTS[0]: "document requests",
    _VALUES[0]: "JSON values",
    _FRAMES[0]: "websocket frames",
}


class TokenBucket:
    """``burst`` tokens at most, refilled at ``rate`` per second; one taken per event (or ``count``)."""

    __slots__ = ("burst", "needed", "rate", "tokens", "when")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.when = now
        #: What the last take asked when it was refused (1 after one taken): a new websocket
        #: of the client waits until the bucket holds as much (``ClientRates.check_open``).
        self.needed = 1.0

    def level(self, now: float) -> float:
        """The tokens it holds at ``now``."""
        return min(self.burst, self.tokens + (now - self.when) * self.rate)

    def take(self, now: float, count: float = 1.0) -> bool:
        """Take ``count`` tokens; tell whether there were as many (none is taken otherwise)."""
        tokens = min(self.burst, self.tokens + (now - self.when) * self.rate)
        self.when = now
        if tokens < count:
            self.tokens = tokens
            self.needed = count
            return False
        self.tokens = tokens - count
        self.needed = 1.0
        return True

    def charge(self, now: float, count: float) -> bool:
        """Take ``count`` tokens spent already, into debt if need be; tell whether the bucket held as many.

        For a cost paid before it could be refused (frames the server parsed): a refused
        take left the bucket full, so the client reconnected and was served again at once.
        """
        tokens = min(self.burst, self.tokens + (now - self.when) * self.rate) - count
        self.when = now
        self.tokens = tokens
        self.needed = 1.0  # a new websocket waits until the debt is paid and a token is back
        return tokens >= 0


class ClientRate:
    """One client's buckets on this process, shared by its websockets here (None: that limit is off)."""

    __slots__ = ("connections", "documents", "frames", "key", "messages", "values")

    def __init__(
        self,
        key: str,
        messages: TokenBucket | None,
        documents: TokenBucket | None,
        values: TokenBucket | None = None,
        frames: TokenBucket | None = None,
    ) -> None:
        self.key = key
        self.messages = messages
        self.documents = documents
        self.values = values
        self.frames = frames
        #: Its websockets holding these buckets now.
        self.connections = 0

    def take_message(self, now: float) -> bool:
        """Take one message (a patch, or what counts with patches); False past the client's bucket."""
        bucket = self.messages
        return bucket is None or bucket.take(now)

    def take_document_request(self, now: float) -> bool:
        """Take one document request; False past the client's bucket."""
        bucket = self.documents
        return bucket is None or bucket.take(now)

    def take_values(self, frame: str, now: float) -> bool:
        """Take the JSON values of one text frame; False past the client's bucket (none is taken then).

        Counted as ``MAX_FRAME_VALUES`` counts them: first all commas and colons, in C (a
        small frame costs two ``str.count``); only when those are more than the bucket holds,
        exactly, outside strings (a text full of commas is charged its commas otherwise, which
        never refuses a frame: the exact count decides that).
        """
        bucket = self.values
        if bucket is None:
            return True
        count = frame.count(",") + frame.count(":")
        if not count:  # "{}", a one-value frame
            return True
        if count > bucket.level(now):
            count = count_separators(frame)
        return bucket.take(now, float(count))

    def take_frames(self, count: int, now: float) -> bool:
        """Charge ``count`` websocket frames (one read's, parsed already); False once past the client's bucket."""
        bucket = self.frames
        return bucket is None or bucket.charge(now, float(count))

    def bucket(self, setting: str) -> TokenBucket | None:
        """The bucket whose rate is ``setting``."""
        return {
            _MESSAGES[0]: self.messages,
            _DOCUMENTS[0]: self.documents,
            _VALUES[0]: self.values,
            _FRAMES[0]: self.frames,
        }[setting]

    def refusal(self, setting: str) -> RateLimitedError:
        """The error closing a connection of this client past the bucket of ``setting``, its rate (4029)."""
        bucket = self.bucket(setting)
        burst, rate = (bucket.burst, bucket.rate) if bucket is not None else (0.0, 0.0)
        # .15g: whole numbers as such (2200000, not 2.2e+06), fractions as they were set.
        return RateLimitedError(
            f"this client sends too many {_WHAT[setting]}: {burst:.15g} at once, then {rate:.15g} per second "
            f"({setting})"
        )

    def full(self, now: float) -> bool:
        """Tell whether every bucket is full again (the same as none)."""
        buckets = (self.messages, self.documents, self.values, self.frames)
        return all(bucket is None or bucket.level(now) >= bucket.burst for bucket in buckets)


def _bucket(settings: Any, names: tuple[str, str], now: float) -> TokenBucket | None:
    rate_name, burst_name = names
    rate = getattr(settings, rate_name)
    if not rate:  # 0 or None: off
        return None
    return TokenBucket(float(rate), float(getattr(settings, burst_name)), now)


class ClientRates:
    """The buckets of every client with a websocket on this process, and of the recently gone."""

    def __init__(self, max_idle: int = MAX_IDLE_CLIENTS, clock: Callable[[], float] = time.monotonic) -> None:
        self._held: dict[str, ClientRate] = {}
        #: Clients without a websocket here, the longest idle first.
        self._idle: OrderedDict[str, ClientRate] = OrderedDict()
        self._max_idle = max_idle
        self.clock = clock
        #: Websockets closed (4029) past a client's bucket, by its rate's setting (``/docsync-metrics``).
        self.refused = {names[0]: 0 for names in _ALL}

    def __len__(self) -> int:
        return len(self._held) + len(self._idle)

    def join(self, key: str | None, settings: Any) -> ClientRate | None:
        """Count one more websocket of ``key``; return its client's buckets (None: no client, or every limit off)."""
        if key is None or not any(getattr(settings, names[0]) for names in _ALL):
            return None
        rate = self._held.get(key)
        if rate is None:
            rate = self._idle.pop(key, None)
            if rate is None:
                now = self.clock()
                rate = ClientRate(key, *(_bucket(settings, names, now) for names in _ALL))
            self._held[key] = rate
        rate.connections += 1
        return rate

    def leave(self, rate: ClientRate) -> None:
        """Stop counting one websocket of ``rate``'s client; its last one leaves the buckets to the idle table."""
        rate.connections -= 1
        if rate.connections > 0 or self._held.get(rate.key) is not rate:
            return
        del self._held[rate.key]
        now = self.clock()
        if not rate.full(now):
            self._idle[rate.key] = rate
        self._forget(now)

    def _forget(self, now: float) -> None:
        # Two looked at per leave, the longest idle first: a bucket full again is dropped,
        # and past max_idle the oldest goes whatever it holds (it starts full again).
        idle = self._idle
        for _ in range(2):
            if not idle:
                return
            key, rate = next(iter(idle.items()))
            if len(idle) <= self._max_idle and not rate.full(now):
                return
            del idle[key]

    def check_open(self, rate: ClientRate) -> None:
        """Refuse a new websocket of ``rate``'s client (RateLimitedError, counted) while a bucket is empty.

        Empty: it holds less than a token, or than what it last refused (a frame's values):
        a client refused a frame of a million values reconnected and sent it again at once,
        each time parsed for nothing but its count; now it waits until the frame would pass.
        """
        now = self.clock()
        for setting, bucket in ((names[0], rate.bucket(names[0])) for names in _ALL):
            if bucket is not None and bucket.level(now) < min(bucket.needed, bucket.burst):
                self.count_refusal(setting)
                raise rate.refusal(setting)

    def count_refusal(self, setting: str) -> None:
        """Count a websocket closed past one of its client's buckets, by the bucket's rate setting."""
        self.refused[setting] += 1
