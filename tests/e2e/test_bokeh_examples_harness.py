"""The Bokeh examples harness (tests/bokeh/upstream_examples.py), run over docsync's own gallery.

Bokeh's own examples are driven by test_bokeh_upstream_examples.py when a checkout is
at hand; this module shows the harness itself finds what to act on, drives it, and
tells an app that works from one that does not, with apps whose behaviour is known.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext

from docsync.testing import ServerProcess
from tests.bokeh.upstream_examples import APPS_ENV, ExampleResult, drive_example, example_apps, report, unavailable

from .conftest import SCREENSHOTS, start_server

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

GALLERY = Path(__file__).resolve().parents[1] / "bokeh" / "gallery"
# The gallery apps the harness drives, each with what it must find (every one must work).
EXPECTED = {
    "ex_sliders": "Slider",
    "ex_crossfilter": "Select",
    "ex_selection_histogram": "box selection",
    "ex_export_csv": "RangeSlider",
    "ex_gapminder": "Slider",
    "ex_custom_js": "Slider",
}


@pytest.fixture(scope="module")
def server(workdir: Path, database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The gallery apps above served as a folder of examples, plus one that fails to load."""
    broken = tmp_path_factory.mktemp("examples") / "broken.py"
    broken.write_text("import a_module_nobody_installed\n")
    apps = {name: spec for name, spec in example_apps(GALLERY).items() if name in EXPECTED}
    apps |= example_apps(broken.parent)
    env = {"DJANGO_SETTINGS_MODULE": "tests.bokeh.examples_settings", APPS_ENV: json.dumps(apps)}
    process = start_server(workdir, database, "bokeh_examples_harness", **env)
    yield process
    process.stop()


def test_example_apps_finds_scripts_and_directories() -> None:
    apps = example_apps(GALLERY)
    assert apps["ex_sliders"]["app"].endswith("sliders.py")
    assert apps["ex_ohlc"]["app"].endswith("ohlc")  # a directory with main.py
    assert "ex___init__" not in apps and "ex_readme" not in apps


# Apart from the upstream run's screenshots, which have the same names.
HARNESS_SHOTS = SCREENSHOTS / "harness"


@pytest.mark.parametrize("app", sorted(EXPECTED))
def test_the_harness_drives_a_gallery_app(context: BrowserContext, server: ServerProcess, app: str) -> None:
    HARNESS_SHOTS.mkdir(parents=True, exist_ok=True)
    result = drive_example(context, server, app, HARNESS_SHOTS)
    print(report([result]))
    assert result.works, result.as_dict()
    assert EXPECTED[app] in result.action, result.action
    # These apps all answer what the user does from Python, and the page shows it.
    assert result.reacted and result.answered and result.redrew, result.as_dict()


def test_the_harness_reports_an_app_that_fails(context: BrowserContext, server: ServerProcess) -> None:
    HARNESS_SHOTS.mkdir(parents=True, exist_ok=True)
    result: ExampleResult = drive_example(context, server, "ex_broken", HARNESS_SHOTS)
    assert not result.works
    assert not result.saw
    # As under ``bokeh serve``, the page comes empty and the app's error is in the server's log.
    assert any("a_module_nobody_installed" in error for error in result.server_errors), result.as_dict()
    assert unavailable(result) == "needs the module 'a_module_nobody_installed', not installed here"
