"""The bench's docsync settings with ``bench`` and ``bench_big`` served as Bokeh apps.

The same files ``bokeh serve`` runs (bench/bokeh_apps/), as ``"kind": "bokeh"`` apps.
"""

from __future__ import annotations

from pathlib import Path

from project.settings import *  # noqa: F403
from project.settings import DOCSYNC as _DOCSYNC

_APPS = Path(__file__).resolve().parent / "bokeh_apps"

DOCSYNC = {
    **_DOCSYNC,
    "APPS": {
        **_DOCSYNC["APPS"],
        "bench": {"app": str(_APPS / "bench.py"), "kind": "bokeh"},
        "bench_big": {"app": str(_APPS / "bench_big.py"), "kind": "bokeh"},
    },
}
