"""How the examples harness tells a failure that is docsync's from one that is not.

No server and no browser: small apps written here, built by Bokeh's own Application in
a fresh interpreter (``bokeh_alone``), and results as the harness records them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

from tests.bokeh.upstream_examples import ExampleResult, bokeh_alone, not_docsyncs

GOOD = """
from bokeh.io import curdoc
from bokeh.models import Slider
curdoc().add_root(Slider(start=0, end=1, value=0))
"""


def _app(folder: Path, name: str, code: str) -> str:
    path = folder / name
    path.write_text(code)
    return str(path)


def test_an_app_bokeh_builds_has_no_error(tmp_path: Path) -> None:
    assert bokeh_alone(_app(tmp_path, "good.py", GOOD)) is None


def test_a_directory_app_with_a_relative_import_is_built_as_a_package(tmp_path: Path) -> None:
    app = tmp_path / "pkg_app"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "data.py").write_text("START = 3\n")
    _app(app, "main.py", "from .data import START\n" + GOOD.replace("start=0", "start=START").replace("end=1", "end=9"))
    assert bokeh_alone(str(app)) is None


def test_the_error_bokeh_meets_building_the_document_is_told(tmp_path: Path) -> None:
    # As the movies example under pandas 3: the app's own code fails, whoever serves it.
    app = _app(tmp_path, "own_fault.py", GOOD + "raise TypeError('the example and this pandas disagree')\n")
    assert bokeh_alone(app) == "TypeError: the example and this pandas disagree"


def test_a_failing_next_tick_callback_is_told(tmp_path: Path) -> None:
    # As locked_callback.py on a Bokeh without Document.locked_callback: it fails once served.
    code = GOOD + "curdoc().add_next_tick_callback(lambda: curdoc().api_of_a_newer_bokeh())\n"
    error = bokeh_alone(_app(tmp_path, "newer.py", code))
    assert error is not None and "api_of_a_newer_bokeh" in error


def test_a_failure_bokeh_shares_is_not_docsyncs(tmp_path: Path) -> None:
    app = _app(tmp_path, "own_fault.py", "raise ValueError('no data here')\n")
    result = ExampleResult("ex_own_fault", server_errors=["ERROR Error running application handler: no data here"])
    assert not_docsyncs(result, app) == "fails under Bokeh alone too (no docsync): ValueError: no data here"


def test_a_failure_bokeh_does_not_share_is_docsyncs(tmp_path: Path) -> None:
    result = ExampleResult("ex_good", loaded=True, problem="AssertionError: the page never drew")
    assert not_docsyncs(result, _app(tmp_path, "good.py", GOOD)) is None


def test_an_app_with_nothing_to_act_on_is_not_docsyncs_while_its_updates_arrive() -> None:
    nothing = "nothing to act on: no widget and no plot with a pan tool"
    animated = ExampleResult("ex_anim", loaded=True, periodic_updates=True, problem=nothing)
    assert not_docsyncs(animated) == (
        "offers nothing to act on (no widget, no plot with a pan tool); its periodic updates reached the browser"
    )
    stuck = ExampleResult("ex_anim", loaded=True, periodic_updates=False, problem=nothing)
    assert not_docsyncs(stuck) is None  # its updates never reached the browser: that may be docsync's
    failed = ExampleResult("ex_anim", loaded=True, problem=nothing, page_errors=["TypeError: x is undefined"])
    assert not_docsyncs(failed) is None
