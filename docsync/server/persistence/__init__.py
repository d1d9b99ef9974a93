"""Sessions that outlive their process: snapshots in a store, restore, graceful drain.

- ``snapshot``: a session's saved state and its binary form (JSON header + raw buffers).
- ``stores``: ``SessionStore`` and its backends (the Django database, Redis).
- ``pg_journal``: the database store's journal writes on PostgreSQL (libpq on the event loop).
- ``capture``: a snapshot taken from a live session, and laid over a new one.
- ``saved_request``: the request a session was made for, which its restore runs the app with.
- ``keeper``: ``SnapshotKeeper``, the writer, the restore hook and the drain.
- ``signals``: SIGTERM drains before the ASGI server stops.

The rest of the server reaches it through ``keeper_of(registry)`` (None when
``DOCSYNC["PERSISTENCE"]`` is off).
"""

from __future__ import annotations

from typing import Any

from ...conf import docsync_settings
from .keeper import SavedState, SnapshotKeeper
from .saved_request import restoring_request
from .signals import install_drain_on_sigterm
from .snapshot import Snapshot, decode_snapshot, encode_snapshot
from .stores import DatabaseStore, RedisStore, SessionStore, make_store

__all__ = [
    "DatabaseStore",
    "RedisStore",
    "SavedState",
    "SessionStore",
    "Snapshot",
    "SnapshotKeeper",
    "decode_snapshot",
    "encode_snapshot",
    "keeper_of",
    "restoring_request",
    "start_persistence",
]


def keeper_of(registry: Any) -> SnapshotKeeper | None:
    """The persistence of ``registry``'s process, made on first use; None when it is off."""
    keeper: SnapshotKeeper | None = registry.keeper
    if keeper is None:
        store = make_store(docsync_settings().PERSISTENCE)
        if store is None:
            return None
        keeper = registry.keeper = SnapshotKeeper(registry, store)
    return keeper


def start_persistence(registry: Any) -> None:
    """Start the writer and the drain on SIGTERM, on the running loop (when persistence is on)."""
    keeper = keeper_of(registry)
    if keeper is None:
        return
    if not keeper.signal_installed:
        keeper.signal_installed = install_drain_on_sigterm(keeper)
    keeper.start()
