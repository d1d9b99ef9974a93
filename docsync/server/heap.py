"""Objects made at start-up, out of the garbage collector's way."""

from __future__ import annotations

import gc

__all__ = ["freeze_startup_heap"]


def freeze_startup_heap() -> None:
    """Collect once, then leave every object alive now out of later collections.

    A full collection walks every object the process tracks: with Django, Channels and
    Bokeh loaded that is ~200,000 objects, tens of milliseconds with the event loop
    stopped, several times a minute while sessions are made (their documents grow the
    oldest generation). Modules, settings and applications live as long as the process,
    so after one collection (the start-up's own garbage) they move to the permanent
    generation (``gc.freeze``) and later collections walk only what came after:
    documents, sessions, connections. Objects frozen here are still freed by reference
    counting; only a cycle among them would never be (one-off, made at start-up).
    """
    gc.collect()
    gc.freeze()
