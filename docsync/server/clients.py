"""Sessions and websockets per client, so that one client cannot take a whole process.

``MAX_SESSIONS`` and ``MAX_CONNECTIONS_PER_SESSION`` bound a process and a session; these
counts bound what one client holds of a process: the live sessions it made
(``MAX_SESSIONS_PER_CLIENT``) and the websockets it has open (``MAX_CONNECTIONS_PER_CLIENT``).
Its share of one session's connections (``MAX_CONNECTIONS_PER_SESSION_PER_CLIENT``) is
counted by the session from its connections, by the same key (admission/policy.py).

A client is a logged-in user (by id: every address the user comes from together, and
colleagues behind one NAT do not share a budget), else the address the ASGI server
reports (the scope's ``client``; behind a reverse proxy, the proxy's, unless the ASGI
server is started with its proxy-headers option: docs/howto/deploying.md); an IPv6
address by its /64 network, which a single host is given whole and picks addresses from
at will. A connection whose server reports no address (a Unix socket without proxy
headers) is not counted.

Each count is taken where the thing is held: a session's on the process that makes it
(in a cluster, the owner, told the client by the relaying process), a websocket's on
the process holding the socket. A :class:`Slot` gives its count back once, however its
session or socket ends.

How *often* a client makes sessions is bounded too (:class:`NewSessionRate`): each new
session runs the application's code, so a client opening and dropping sessions could
otherwise spend a process's CPU while holding few of them at a time.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Literal

from ..exceptions import ClientLimitError, RateLimitedError

__all__ = ["ClientTally", "Kind", "NewSessionRate", "Slot", "address_group", "client_key", "scope_address"]

Kind = Literal["sessions", "connections"]

_SETTING: dict[str, str] = {"sessions": "MAX_SESSIONS_PER_CLIENT", "connections": "MAX_CONNECTIONS_PER_CLIENT"}


def client_key(user: Any, address: str | None) -> str | None:
    """Whom a session or socket counts against: ``user:<pk>`` when logged in, else ``address:<host>`` (None: no one)."""
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return f"address:{address_group(address)}" if address else None


def address_group(address: str) -> str:
    """The address an anonymous client is counted by: an IPv4 address itself, an IPv6 one's /64 network.

    A host on IPv6 is given a /64 (2**64 addresses) and may connect from any of them:
    counted per address, one client had as many budgets as it chose. An IPv4 address
    mapped into IPv6 (``::ffff:10.0.0.1``, a dual-stack server's) is the IPv4 address.
    """
    if ":" not in address:  # IPv4 (nearly every client): as it is, nothing parsed
        return address
    try:
        ip = ipaddress.IPv6Address(address.partition("%")[0])  # without a zone (``fe80::1%eth0``)
    except ValueError:
        return address  # not an address: a name, counted as it is
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((ip, 64), strict=False))


def scope_address(scope: dict[str, Any]) -> str | None:
    """The client's host as the ASGI server reports it (None when it reports none)."""
    client = scope.get("client")
    return str(client[0]) if client else None


class Slot:
    """One session or websocket counted against its client; :meth:`release` gives it back (once)."""

    __slots__ = ("_tally", "key", "kind")

    def __init__(self, tally: ClientTally, kind: Kind, key: str) -> None:
        self._tally: ClientTally | None = tally
        self.kind: Kind = kind
        self.key = key

    def release(self) -> None:
        """Give the count back; later calls do nothing."""
        tally, self._tally = self._tally, None
        if tally is not None:
            tally._release(self.kind, self.key)


class ClientTally:
    """What each client holds of this process, and how often a client was refused more."""

    def __init__(self) -> None:
        self._held: dict[Kind, dict[str, int]] = {"sessions": {}, "connections": {}}
        #: Refusals since the process started, per limit (``/docsync-metrics``).
        self.refused: dict[Kind, int] = {"sessions": 0, "connections": 0}

    def held(self, kind: Kind, key: str | None) -> int:
        """How many sessions or websockets ``key`` holds now."""
        return self._held[kind].get(key, 0) if key is not None else 0

    def full(self, kind: Kind, key: str | None, limit: int | None) -> bool:
        """Tell whether ``key`` holds ``limit`` already (never, when either is None)."""
        return key is not None and limit is not None and self.held(kind, key) >= limit

    def take(self, kind: Kind, key: str | None, limit: int | None) -> Slot | None:
        """Count one more for ``key``; raise ClientLimitError (counted) at ``limit``; None when nothing is counted."""
        if key is None or limit is None:
            return None
        held = self._held[kind]
        count = held.get(key, 0)
        if count >= limit:
            self.refused[kind] += 1
            raise ClientLimitError(f"this client holds its maximum of {limit} {kind} ({_SETTING[kind]})")
        held[key] = count + 1
        return Slot(self, kind, key)

    def _release(self, kind: Kind, key: str) -> None:
        held = self._held[kind]
        count = held.get(key, 0) - 1
        if count > 0:
            held[key] = count
        else:
            held.pop(key, None)  # a client gone leaves nothing behind


#: Clients whose new-session buckets are kept at most (about 200 bytes each): past it the
#: one that made a session longest ago is forgotten (it starts again with a full burst).
MAX_RATE_CLIENTS = 20_000


class NewSessionRate:
    """How fast each client makes sessions: a token bucket per client (``NEW_SESSIONS_PER_CLIENT_*``).

    A client may make ``burst`` sessions at once, then one more each ``1 / rate`` seconds.
    Only clients whose bucket is not full again are kept (a full bucket is the same as
    none), and at most ``max_clients`` of them: a client rotating addresses (an IPv6
    host's /64s are one client already) cannot grow the table without bound.
    """

    def __init__(self, max_clients: int = MAX_RATE_CLIENTS, clock: Callable[[], float] = time.monotonic) -> None:
        #: key -> (tokens left, when they were counted), the least recently used first.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max_clients = max_clients
        self._clock = clock
        #: Sessions refused since the process started (``/docsync-metrics``).
        self.refused = 0

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str | None, burst: int, rate: float | None) -> None:
        """Count one new session for ``key``; raise RateLimitedError (counted, nothing taken) past its bucket.

        Nothing is counted when ``key`` is None (no client) or ``rate`` is 0 or None (off).
        """
        if key is None or not rate:
            return
        buckets = self._buckets
        now = self._clock()
        held = buckets.get(key)
        tokens = float(burst) if held is None else min(float(burst), held[0] + (now - held[1]) * rate)
        if tokens < 1.0:
            self.refused += 1
            raise RateLimitedError(
                f"this client makes sessions too fast: {burst} at once, then {rate:g} per second "
                "(NEW_SESSIONS_PER_CLIENT_PER_SECOND)"
            )
        buckets[key] = (tokens - 1.0, now)
        buckets.move_to_end(key)
        self._forget_refilled(now, burst, rate)

    def _forget_refilled(self, now: float, burst: int, rate: float) -> None:
        # The least recently used first: a bucket full again is dropped (two at most per
        # take, so the table holds about the clients of the last burst / rate seconds);
        # past max_clients the oldest goes whatever it holds.
        buckets = self._buckets
        for _ in range(2):
            key, (tokens, when) = next(iter(buckets.items()))
            if tokens + (now - when) * rate < burst and len(buckets) <= self._max_clients:
                return
            del buckets[key]
            if not buckets:
                return
