"""Bokeh's own server examples, unchanged, served by docsync and driven with BokehJS in Chromium.

Runs when ``DOCSYNC_BOKEH_EXAMPLES`` names a folder of them (``examples/server/app`` of a
Bokeh checkout; the bokeh wheel and sdist carry none, and docsync copies no other
project's code), otherwise it reports itself skipped, naming the variable. Every
script and directory there is one test (tests/bokeh/upstream_examples.py says what is
checked); an example that fails for a reason not docsync's is skipped saying why
(tests/bokeh/upstream_examples.not_docsyncs): an import missing from this machine
(``yfinance``, say, or a name only a newer Bokeh has), nothing a user can act on, or an
app that Bokeh's own Application cannot build here either, as ``bokeh serve`` could
not run it.
The table of results goes to build/bokeh-examples.md, the screenshots to build/screenshots/.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext

from docsync.testing import ServerProcess
from tests.bokeh.upstream_examples import (
    APPS_ENV,
    EXAMPLES_ENV,
    ExampleResult,
    drive_example,
    example_apps,
    not_docsyncs,
    report,
)

from .conftest import ROOT, SCREENSHOTS, start_server

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

FOLDER = Path(os.environ[EXAMPLES_ENV]) if os.environ.get(EXAMPLES_ENV) else None
APPS = example_apps(FOLDER) if FOLDER is not None else {}
RESULTS: list[ExampleResult] = []

pytestmark = pytest.mark.skipif(FOLDER is None, reason=f"set {EXAMPLES_ENV} to a folder of Bokeh's server examples")


@pytest.fixture(scope="module")
def server(workdir: Path, database: str) -> Iterator[ServerProcess]:
    """Every example of the folder, served by one docsync process."""
    env = {"DJANGO_SETTINGS_MODULE": "tests.bokeh.examples_settings", APPS_ENV: json.dumps(APPS)}
    process = start_server(workdir, database, "bokeh_upstream_examples", **env)
    yield process
    process.stop()
    (ROOT / "build").mkdir(exist_ok=True)
    (ROOT / "build" / "bokeh-examples.md").write_text(report(RESULTS) + "\n")


@pytest.mark.parametrize("app", sorted(APPS) or ["none"])
def test_bokeh_example(context: BrowserContext, server: ServerProcess, app: str) -> None:
    result = drive_example(context, server, app, SCREENSHOTS)
    RESULTS.append(result)
    print(report([result]))
    reason = not_docsyncs(result, APPS[app]["app"])
    if reason is not None:
        pytest.skip(f"{app} {reason}")
    assert result.works, result.as_dict()
