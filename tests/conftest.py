"""The suite's order: the folders whose modules take longest first, each module's tests in file order.

scripts/test.sh runs the suite on several pytest-xdist workers, a module to a worker
(``--dist loadfile``); a worker that picked up a long module last would finish alone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from .sites import TEMPLATES_VARIABLE

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


def pytest_configure(config: pytest.Config) -> None:
    """In the main process: a folder for the run's database templates, shared by its pytest-xdist workers."""
    if not hasattr(config, "workerinput") and TEMPLATES_VARIABLE not in os.environ:
        os.environ[TEMPLATES_VARIABLE] = tempfile.mkdtemp(prefix="docsync-templates-")
        config.stash[_TEMPLATES] = os.environ[TEMPLATES_VARIABLE]


def pytest_unconfigure(config: pytest.Config) -> None:
    """The main process removes the folder it made (the workers have stopped)."""
    folder = config.stash.get(_TEMPLATES, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop(TEMPLATES_VARIABLE, None)


_TEMPLATES = pytest.StashKey[str]()
