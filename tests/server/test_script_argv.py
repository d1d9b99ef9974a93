"""ScriptHandler(argv=...) and DirectoryHandler(argv=...): the script sees its sys.argv while it runs."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from docsync.document import Document
from docsync.handlers import DirectoryHandler, ScriptHandler

SCRIPT = """
import sys, time
from docsync.document.models import Div
first = list(sys.argv)
time.sleep(0.05)  # another session's script running meanwhile must not change it
doc.add_root(Div(text=repr((first, list(sys.argv))), name="argv"))
"""


def _argv_seen(handler: ScriptHandler | DirectoryHandler) -> tuple[list[str], list[str]]:
    doc = Document()
    handler.modify_document(doc)
    return eval(doc.get_model_by_name("argv").text)  # the script's own repr of two lists


def test_a_script_sees_its_name_and_arguments(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    before = list(sys.argv)
    seen = _argv_seen(ScriptHandler(script, argv=["--n", "3"]))
    assert seen == (["app.py", "--n", "3"], ["app.py", "--n", "3"])
    assert sys.argv == before  # the process's argv is back afterwards
    assert _argv_seen(ScriptHandler(script))[0] == ["app.py"]


def test_a_directory_app_passes_argv_to_main(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(SCRIPT)
    assert _argv_seen(DirectoryHandler(tmp_path, argv=["x"]))[0] == ["main.py", "x"]


def test_scripts_in_concurrent_sessions_each_see_their_own(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    results: dict[str, tuple[list[str], list[str]]] = {}

    def run(name: str) -> None:
        results[name] = _argv_seen(ScriptHandler(script, argv=[name]))

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b", "c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name, (first, last) in results.items():
        assert first == last == ["app.py", name]


def test_the_apps_setting_passes_argv(tmp_path: Path) -> None:
    from docsync.server.app_loader import app_specs
    from docsync.server.dialects import get_dialect

    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    [spec] = app_specs({"counted": {"app": str(script), "argv": ["--n", "3"]}})
    context = get_dialect(spec.kind).make_context(spec)
    [handler] = context.application.handlers
    assert _argv_seen(handler)[0] == ["app.py", "--n", "3"]  # type: ignore[arg-type]
    # argv makes no sense for a module's function: the app fails to load, saying why.
    [bad] = app_specs({"bad": {"app": "project.examples.sliders", "argv": ["x"]}})
    failed = get_dialect(bad.kind).make_context(bad).application
    assert failed.failed and failed.error == "TypeError: argv is a list of strings, for script and directory apps only"
