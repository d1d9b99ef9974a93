"""Channels internals docsync works around: its session wrapper's send, per websocket frame; URLRouter's
scope copy and coroutines, per websocket."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from channels.consumer import AsyncConsumer
from channels.routing import URLRouter
from channels.sessions import InstanceSessionWrapper
from django.urls.exceptions import Resolver404

from .versions import Version, checked

__all__ = ["CHECKED", "OWN_RECEIVE_LOOP", "ROUTER_CHECKED", "consumer_call", "frame_send", "own_receive_loop"]

#: The Channels releases whose ``AsyncConsumer.__call__`` docsync's consumer replaces.
CHECKED: tuple[Version, Version] = ((4, 1), (4, 4))
#: Whether ``DocumentConsumer`` may run its own receive loop instead of Channels' (which
#: waits on the client and the consumer's channel with a new task and an
#: ``asyncio.wait`` per frame, ~10% of the server's time under round trips). The copy
#: relies on ``AsyncConsumer.__call__`` setting nothing a channel-less websocket
#: consumer reads but ``scope``, ``channel_layer`` and ``base_send`` (which ``send``
#: writes to). Another release takes Channels' own loop: correct, slower.
OWN_RECEIVE_LOOP = checked("channels", *CHECKED)
#: Whether ``consumer_route`` may route as ``URLRouter`` does: the releases whose
#: ``URLRouter.__call__`` and ``as_asgi`` it was checked against.
ROUTER_CHECKED = checked("channels", (4, 3), (4, 4))


def own_receive_loop() -> bool:
    """Tell whether the consumer may run its own receive loop (``OWN_RECEIVE_LOOP``, read at each call)."""
    return OWN_RECEIVE_LOOP


def frame_send(send: Any) -> Any:
    """The ASGI send under Channels' session wrappers, for websocket frames.

    A session wrapper reads its (lazy) session on every message to decide whether to
    save it, which only HTTP responses ever do; per frame that read was ~5% of the
    server's time under round trips. Frames skip it; accept and close still pass it.
    """
    wrapper = getattr(send, "__self__", None)
    if isinstance(wrapper, InstanceSessionWrapper) and callable(getattr(wrapper, "real_send", None)):
        return frame_send(wrapper.real_send)
    return send


#: The code of the function ``AsyncConsumer.as_asgi`` returns: it makes the consumer and awaits it.
_AS_ASGI_APP = next(
    (const for const in AsyncConsumer.as_asgi.__func__.__code__.co_consts if getattr(const, "co_name", "") == "app"),
    None,
)


def consumer_call(router: Any, scope: dict[str, Any], receive: Any, send: Any) -> Coroutine[Any, Any, Any] | None:
    """The call of the consumer Channels' ``router`` would run for ``scope``, not awaited yet; None: let it route.

    ``URLRouter`` copies the scope to add ``path_remaining`` and ``url_route``, then calls
    the route's ``as_asgi`` app, which makes the consumer and awaits it: two coroutines
    and a scope copy held for the websocket's life (about 1.1 KB), where the auth
    middleware in front of it has just made a copy of its own. This resolves the route as
    the outermost ``URLRouter`` of the checked releases does (its root_path, the first
    matching route, its default arguments), sets the two keys in ``scope``, the caller's
    own copy, makes the consumer and returns its call. Anything else (another router, a
    nested one, a route to an app that is not a consumer's ``as_asgi``, no match, which
    the router refuses) is None, with ``scope`` untouched. One difference is left: a
    ``Resolver404`` raised by the consumer itself, which URLRouter would take for a route
    that does not match (and try the next routes with the same socket), propagates.
    """
    if type(router) is not URLRouter or _AS_ASGI_APP is None or not ROUTER_CHECKED:
        return None
    if "path_remaining" in scope or scope.get("path") is None:
        return None
    path = scope["path"]
    root_path = scope.get("root_path", "")
    if root_path and not path.startswith(root_path):
        return None
    path = path[len(root_path) :].lstrip("/")
    for route in router.routes:
        try:
            match = route.pattern.match(path)
        except Resolver404:
            continue
        if not match:
            continue
        app = route.callback
        if getattr(app, "__code__", None) is not _AS_ASGI_APP:
            return None
        new_path, args, kwargs = match
        kwargs.update(route.default_args)
        outer = scope.get("url_route", {})
        scope["path_remaining"] = new_path
        scope["url_route"] = {
            "args": outer.get("args", ()) + args,
            "kwargs": {**outer["kwargs"], **kwargs} if outer.get("kwargs") else kwargs,  # match's own dict
        }
        consumer = app.consumer_class(**app.consumer_initkwargs)
        return consumer(scope, receive, send)  # type: ignore[no-any-return]
    return None
