"""The suite's order: the folders whose modules take longest first, each module's tests in file order.

scripts/test.sh runs the suite on several pytest-xdist workers, a module to a worker
(``--dist loadfile``); a worker that picked up a long module last would finish alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

HERE = Path(__file__).resolve().parent

# Property tests judge what the code does, not how fast the machine makes their inputs:
# on a loaded CI machine (three workers on two cores) a draw that took 1.9 s failed
# tests/sync/test_splices.py's health check, and a slow example its deadline.
settings.register_profile("docsync", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("docsync")
#: Folders of long modules (real clusters, restarts, browsers), longest first.
LONG_FIRST = ("cluster", "persistence", "e2e")


def _rank(item: pytest.Item) -> int:
    path = Path(str(item.fspath)).resolve()
    folder = path.relative_to(HERE).parts[0] if path.is_relative_to(HERE) else ""
    return LONG_FIRST.index(folder) if folder in LONG_FIRST else len(LONG_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: the order within a folder and a module stays
