"""The suite's order: the folders whose modules take longest first, each module's tests in file order.

scripts/test.sh runs the suite on several pytest-xdist workers, a module to a worker
(``--dist loadfile``); a worker that picked up a long module last would finish alone.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .sites import TEMPLATES_VARIABLE

HERE = Path(__file__).resolve().parent


def _load_hypothesis_profile() -> None:
    """Make the suite's hypothesis profile the active one."""
    from hypothesis import HealthCheck, settings

    # Property tests judge what the code does, not how fast the machine makes their inputs:
    # on a loaded CI machine (three workers on two cores) a draw that took 1.9 s failed
    # tests/sync/test_splices.py's health check, and a slow example its deadline.
    settings.register_profile("docsync", deadline=None, suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile("docsync")


class _ProfileOnImport:
    """Loads the suite's hypothesis profile as hypothesis is first imported, before the importer goes on.

    Not imported here: most processes of the suite (a module or a test run alone) never use
    it, and it cost each of them ~0.5 s of CPU (pytest rewrites the asserts of a pytest
    plugin's whole package, hypothesis too, and caches that as bytecode only where bytecode
    is written). Loaded before the importer goes on, since a ``settings(...)`` made at a
    test module's import takes what it does not set from the profile active then.
    """

    def __init__(self) -> None:
        self._finding = False

    def find_spec(self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None) -> Any:
        if name != "hypothesis" or self._finding:
            return None
        # Found by the finders after this one; it stays in place until hypothesis is
        # executed (a spec found without an import, ``importlib.util.find_spec``, loads nothing).
        self._finding = True
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self._finding = False
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenLoadProfile(spec.loader, self)
        return spec


class _ThenLoadProfile:
    """Hypothesis's own loader, which loads the suite's profile once hypothesis is executed."""

    def __init__(self, loader: Any, finder: _ProfileOnImport) -> None:
        self.loader, self.finder = loader, finder

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)  # (its resource reader, its source, ...)

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self.loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        if self.finder in sys.meta_path:
            sys.meta_path.remove(self.finder)
        _load_hypothesis_profile()


if "hypothesis" in sys.modules:
    _load_hypothesis_profile()
else:
    sys.meta_path.insert(0, _ProfileOnImport())

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


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Leave hypothesis's plugin out of the summary of a process where nothing used hypothesis.

    Its summary imports hypothesis (~0.5 s of CPU, see ``_ProfileOnImport``) to read what
    it observed, and has nothing to say: no test of it ran here, and no report (from a
    pytest-xdist worker) carries its statistics or failing examples.
    """
    manager = session.config.pluginmanager
    plugin = manager.get_plugin("hypothesispytest")
    if plugin is None or "hypothesis" in sys.modules:
        return
    reporter = manager.get_plugin("terminalreporter")
    keys = (plugin.STATS_KEY, plugin.FAILING_EXAMPLES_KEY)
    stats = reporter.stats.values() if reporter is not None else ()
    if not any(key in report.__dict__ for reports in stats for report in reports for key in keys):
        manager.unregister(plugin)
