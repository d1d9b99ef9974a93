"""Every code block (Python, shell, nginx, HTML, JS, CSS) of the docs and README is run by a test, or says why not.

Blocks that show a file of an example project are ``{literalinclude}`` directives of
files that tests run (the tutorial's and the how-tos' code); those are not blocks here.
Every other block is found below, by its page and how its first line starts: either
the test that runs it (which reads that page), or the reason it cannot run. A new
block on neither list fails this test, and so does an entry that names no block.
The settings fragments (``DOCSYNC = {...}``) and widgets.md's examples run here.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import pytest

from docsync.conf import DEFAULTS

from .blocks import ROOT, Block, blocks, pages

#: The languages of runnable code: a block in any of these must be accounted for.
CHECKED = {"python", "py", "bash", "sh", "shell", "console", "nginx", "html", "js", "css", ""}

HERE = "tests/docs/test_examples.py"

#: (page, start of the block's first line) -> the test that runs every block it names.
RUN_BY = {
    ("README.md", "# mysite/settings.py"): "tests/e2e/test_new_site.py",
    ("README.md", "# mysite/urls.py"): "tests/e2e/test_new_site.py",
    ("README.md", "# mysite/asgi.py"): "tests/e2e/test_new_site.py",
    ("README.md", "# mysite/sliders.py"): "tests/e2e/test_new_site.py",
    ("README.md", "python manage.py migrate"): "tests/e2e/test_new_site.py",
    ("docs/extending.md", "from docsync.document import Model"): "tests/docs/test_extending_doc.py",
    ("docs/extending.md", "import { h, setText }"): "tests/e2e/test_extending_view.py",
    ("docs/plotting.md", "import numpy as np"): "tests/document/test_plotting_docs.py",
    ("docs/plotting.md", "from docsync.document.models import"): "tests/document/test_plotting_docs.py",
    ("docs/tutorial/2-database.md", "python manage.py record"): "tests/e2e/test_tutorial.py",
    ("docs/howto/servers.md", "uvicorn "): "tests/e2e/test_howto.py",
    ("docs/howto/servers.md", "daphne "): "tests/e2e/test_howto.py",
    ("docs/howto/servers.md", "granian "): "tests/e2e/test_howto.py",
    ("docs/howto/servers.md", "hypercorn "): "tests/e2e/test_howto.py",
    ("docs/howto/deploying.md", "uvicorn "): "tests/e2e/test_howto.py",
    ("docs/howto/scale-out.md", "export DJANGO_SETTINGS_MODULE"): "tests/e2e/test_howto.py",
    ("docs/howto/scale-out.md", "upstream docsync"): "tests/e2e/test_howto.py",
    ("docs/howto/migrate-bokeh-serve.md", "bokeh serve"): "tests/e2e/test_howto.py",
    ("docs/howto/embedding.md", "<div id="): "tests/e2e/test_howto.py",
    ("docs/bokeh.md", "DOCSYNC = {"): HERE,
    ("docs/persistence.md", "DOCSYNC = {"): HERE,
    ("docs/widgets.md", "DOCSYNC = {"): HERE,
    ("docs/widgets.md", "spinner = Spinner("): HERE,
    ("docs/widgets.md", ".docsync-root {"): "tests/e2e/test_theming_doc.py",
    ("docs/widgets.md", "from docsync.document.models import FileInput"): HERE,
    ("docs/protocol.md", "import docsync.document.models"): HERE,
}

#: (page, start of the block's first line) -> why no test can run it. Reviewed: keep it short.
CANNOT_RUN = {
    ("README.md", "bash scripts/demo.sh"): "installs packages (scripts/setup.sh) and serves the demo in the "
    "foreground; the e2e tests serve the demo project itself",
    ("README.md", "DOCSYNC_PERSISTENCE=database python manage.py runserver"): "the demo under runserver in the "
    "foreground; tests/e2e/test_persistence.py serves the demo project with DOCSYNC_PERSISTENCE=database",
    ("docs/extending.md", 'import { embed } from "/docsync-client/embed.js"'): "a fragment: `config` and "
    "/static/myapp/gauge.js stand for the reader's page configuration and view",
    ("docs/bokeh.md", "pip install '.[bokeh]'"): "installs into the Python environment, which a test may not "
    "change; the test machine has the extra installed by scripts/setup.sh",
    ("docs/howto/migrate-bokeh-django.md", "# urls.py, with bokeh-django"): "the code being replaced: "
    "bokeh-django is not a dependency of docsync",
    ("docs/howto/migrate-panel.md", "import numpy as np"): "the code being replaced: Panel is not a dependency "
    "of docsync (and its objects do not render on docsync)",
}


def _checked_blocks() -> list[Block]:
    return [found for page in pages() for found in blocks(page) if found.language in CHECKED]


def _entries_of(found: Block) -> list[tuple[str, str]]:
    return [key for key in [*RUN_BY, *CANNOT_RUN] if key[0] == found.page and found.first_line.startswith(key[1])]


def test_every_block_is_run_by_a_test_or_says_why_not() -> None:
    found = _checked_blocks()
    assert len(found) >= 25
    unaccounted = [f"{b.page}:{b.line} {b.first_line!r}" for b in found if len(_entries_of(b)) != 1]
    assert unaccounted == []


def test_every_entry_names_a_block_and_a_test_that_reads_its_page() -> None:
    found = _checked_blocks()
    stale = [key for key in [*RUN_BY, *CANNOT_RUN] if not any(key in _entries_of(b) for b in found)]
    assert stale == []
    for (page, _), test in RUN_BY.items():
        source = (ROOT / test).read_text(encoding="utf-8")
        assert page.rsplit("/", 1)[-1] in source, f"{test} does not read {page}"
    assert not set(RUN_BY) & set(CANNOT_RUN)


def test_the_check_finds_a_block_nobody_runs(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("Text.\n\n```python\nprint('new')\n```\n\n```{literalinclude} x.py\n```\n", encoding="utf-8")
    [new] = blocks(page, tmp_path)
    assert (new.page, new.language, new.first_line) == ("page.md", "python", "print('new')")
    assert _entries_of(new) == []
    assert _entries_of(Block("docs/widgets.md", 1, "python", "spinner = Spinner()\n")) == [
        ("docs/widgets.md", "spinner = Spinner(")
    ]


def _block(page: str, starting: str) -> Block:
    [found] = [b for b in blocks(ROOT / page) if b.first_line.startswith(starting)]
    return found


# --- the blocks run here -------------------------------------------------------------


@pytest.mark.parametrize("page", ["docs/bokeh.md", "docs/persistence.md", "docs/widgets.md"])
def test_a_settings_fragment_names_real_settings_and_app_options(page: str) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(_block(page, "DOCSYNC = {").text, page, "exec"), namespace)  # the page's own fragment
    config = namespace["DOCSYNC"]
    assert set(config) <= set(DEFAULTS), f"not docsync settings: {set(config) - set(DEFAULTS)}"
    from docsync.server.app_loader import app_specs

    apps = config.get("APPS")
    specs = app_specs(apps) if isinstance(apps, dict) else []  # "APPS": {...} stands for the reader's apps
    known_options = {"shared", "shareable", "allow_join", "push", "persist", "theme", "callbacks", "argv", "title"}
    for spec in specs:
        assert spec.kind in {"docsync", "bokeh"}
        assert set(spec.options) <= known_options, spec.options
        assert spec.target and isinstance(spec.target, str)
    assert config.get("THEME", "auto") in {"light", "dark", "auto"}
    assert all(spec.options.get("theme", "auto") in {"light", "dark", "auto"} for spec in specs)


def test_the_widgets_page_example_of_a_callback() -> None:
    from docsync.document import models

    namespace: dict[str, Any] = {**vars(models), "button": models.Button(label="Go")}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(_block("docs/widgets.md", "spinner = Spinner(").text, "widgets.md", "exec"), namespace)
        namespace["spinner"].value = 6
    assert printed.getvalue() == "6\n"  # the int the comment promises
    assert isinstance(namespace["spinner"].value, int)
    assert namespace["button"].has_property("label")


def test_the_widgets_page_example_of_an_upload_callback() -> None:
    from docsync.document.models.uploads import UploadedFile

    saved: list[tuple[str, bytes]] = []
    # The block imports what it names (it named UploadedFile without saying where it is).
    namespace: dict[str, Any] = {"save": lambda name, data: saved.append((name, data))}
    block = _block("docs/widgets.md", "from docsync.document.models import FileInput").text
    exec(compile(block, "widgets.md", "exec"), namespace)
    namespace["received"]([UploadedFile("a.csv", "text/csv", b"x,y\n"), UploadedFile("b.txt", "text/plain", b"")])
    assert saved == [("a.csv", b"x,y\n"), ("b.txt", b"")]


def test_the_protocol_page_lists_models_and_their_defaults_in_python() -> None:
    block = _block("docs/protocol.md", "import docsync.document.models")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(block.text, "protocol.md", "exec"), {})
    names, slider = printed.getvalue().splitlines()
    assert "'Slider'" in names and "'ColumnDataSource'" in names
    # What the block's comment shows is what it prints.
    shown = block.text.rsplit("# ", 1)[1].strip()
    head, tail = shown.split(", ..., ")
    assert slider.startswith(head.rstrip("}")) and slider.endswith(tail)
