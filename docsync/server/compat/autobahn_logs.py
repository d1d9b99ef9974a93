"""autobahn internals: the arguments of its debug lines formatted only if a line is logged.

autobahn builds the arguments of a debug line before it calls its logger, which drops
the line when debug logging is off (daphne never turns it on): per connection the
pretty-printed list of its 35 options (``pformat``, about 1,500 Python calls), and per
read, write, open and close the names and values it styles with click (``hltype``,
``hlval``: a dozen calls each). :func:`quiet_debug_lines` gives autobahn's websocket
modules ``hltype`` and ``hlval`` that keep their argument and format it when a logger
formats the line (the same text), the options' list the same while daphne's protocol
sets itself up, and daphne's protocol a ``dataReceived`` without its debug line, while
debug logging is off. Nothing on the wire changes; a logged line reads as before.
"""

from __future__ import annotations

import pprint
import sys
from collections.abc import Callable
from typing import Any

from .versions import Version, checked

__all__ = ["AUTOBAHN_CHECKED", "autobahn_debugging", "quiet_debug_lines"]

#: The autobahn releases whose websocket protocol (its debug lines, ``_connectionMade``,
#: ``dataReceived``, ``sendMessage``/``sendFrame``/``sendData``) this was checked against.
AUTOBAHN_CHECKED: tuple[Version, Version] = ((26, 11), (27, 0))
_MODULES = ("autobahn.websocket.protocol", "autobahn.twisted.websocket")


def autobahn_debugging() -> bool:
    """Tell whether autobahn's debug lines may be logged (txaio's level; True when unknown)."""
    txaio = sys.modules.get("txaio")
    try:
        return txaio is None or txaio.get_global_log_level() in ("debug", "trace")
    except Exception:  # no framework chosen yet: not daphne's process
        return True


class _Formatted(tuple[Callable[[Any], str], Any]):
    """A log line's argument, formatted when the line is: ``(function, value)``."""

    __slots__ = ()

    def __str__(self) -> str:
        return self[0](self[1])

    def __format__(self, spec: str) -> str:
        return format(self[0](self[1]), spec)

    def __repr__(self) -> str:
        return repr(self[0](self[1]))


def _deferring(real: Callable[..., str]) -> Callable[..., Any]:
    def deferred(value: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:  # not how autobahn's websocket modules call it: as it was
            return real(value, *args, **kwargs)
        return _Formatted((real, value))

    deferred.docsync_deferred = real  # type: ignore[attr-defined]
    return deferred


def quiet_debug_lines() -> bool:
    """Let autobahn format its debug lines' arguments only when it logs them, once; say whether it does."""
    module = sys.modules.get("daphne.ws_protocol")
    if module is None:
        return False
    protocol = module.WebSocketProtocol
    if protocol.__dict__.get("docsync_quiet_debug_lines", False):
        return True
    if not checked("autobahn", *AUTOBAHN_CHECKED) or autobahn_debugging():
        return False
    import autobahn.twisted.websocket
    import autobahn.util
    import autobahn.websocket.protocol

    modules = [sys.modules[name] for name in _MODULES]
    stock = (autobahn.util.hltype, autobahn.util.hlval)
    if any((vars(m).get("hltype"), vars(m).get("hlval")) != stock for m in modules):
        return False  # replaced by someone else: left alone
    websocket = autobahn.websocket.protocol
    if vars(websocket).get("pformat") is not pprint.pformat or not hasattr(protocol, "_connectionMade"):
        return False
    for found in modules:
        found.hltype = _deferring(autobahn.util.hltype)  # type: ignore[attr-defined]
        found.hlval = _deferring(autobahn.util.hlval)  # type: ignore[attr-defined]

    set_up = protocol._connectionMade

    def _connectionMade(self: Any) -> None:
        # pformat is also Timings.__str__'s, which must return a str: deferred only here.
        websocket.pformat = _deferring(pprint.pformat)  # type: ignore[attr-defined]
        try:
            set_up(self)
        finally:
            websocket.pformat = pprint.pformat  # type: ignore[attr-defined]

    protocol._connectionMade = _connectionMade
    # autobahn's Twisted dataReceived only logs its debug line and calls _dataReceived.
    if protocol.dataReceived is autobahn.twisted.websocket.WebSocketAdapterProtocol.dataReceived:
        protocol.dataReceived = protocol._dataReceived
    protocol.docsync_quiet_debug_lines = True
    return True
