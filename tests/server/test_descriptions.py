"""What the index says of each app: its metadata's description, else its code's docstring."""

from __future__ import annotations

from pathlib import Path

from docsync.handlers import Application, DirectoryHandler, FunctionHandler, JSONHandler, ScriptHandler
from project.examples import sliders

from .settings import APP_FILES

EXAMPLES = Path(sliders.__file__).parent


def test_each_handler_kind_describes_its_app(tmp_path: Path) -> None:
    assert Application(FunctionHandler(sliders.modify_doc)).description == (
        "sliders: four sliders drive a sine wave drawn by a line glyph."
    )
    assert Application(DirectoryHandler(EXAMPLES / "lifecycle")).description == (
        "lifecycle: a directory app; its hooks in app_hooks.py count sessions."
    )
    script = tmp_path / "app.py"
    script.write_text('"""A script app.\n\nMore about it."""\ndoc.title = "x"\n')
    assert Application(ScriptHandler(script)).description == "A script app."
    assert Application(JSONHandler(APP_FILES / "doc.json")).description is None


def test_metadata_says_it_first() -> None:
    application = Application(FunctionHandler(sliders.modify_doc), metadata={"description": "Four sliders."})
    assert application.description == "Four sliders."


def test_a_function_named_for_its_app_is_described_by_its_own_docstring() -> None:
    from tests.e2e.apps import stepped

    assert Application(FunctionHandler(stepped)).description == (
        "An int-stepped slider and a float-stepped one; each callback says what type it was handed."
    )
