"""The bench's docsync settings with ``bench`` and ``bench_big`` served as Bokeh apps.

The same files ``bokeh serve`` runs (bench/bokeh_apps/), as ``"kind": "bokeh"`` apps;
``BENCH_BOKEH_CALLBACKS`` is their ``"callbacks"`` (``threads``, docsync's default, or
``loop``, as ``bokeh serve`` runs them).
"""

from __future__ import annotations

import os
from pathlib import Path

from project.settings import *  # noqa: F403
from project.settings import DOCSYNC as _DOCSYNC

_APPS = Path(__file__).resolve().parent / "bokeh_apps"
_CALLBACKS = os.environ.get("BENCH_BOKEH_CALLBACKS", "threads")

DOCSYNC = {
    **_DOCSYNC,
    "APPS": {
        **_DOCSYNC["APPS"],
        "bench": {"app": str(_APPS / "bench.py"), "kind": "bokeh", "callbacks": _CALLBACKS},
        "bench_big": {"app": str(_APPS / "bench_big.py"), "kind": "bokeh", "callbacks": _CALLBACKS},
    },
}
