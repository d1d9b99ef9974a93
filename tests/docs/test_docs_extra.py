"""The README's docs build needs only docsync and its ``docs`` extra: every module the reference documents imports.

``pip install '.[docs]'`` in a fresh environment, then the build: autodoc imports each
module the reference names, and any import that fails is a warning, so an error under
``-W``. The test environment has every extra installed; here the packages that only
the other extras bring are hidden from a fresh interpreter that imports those modules.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

from .blocks import ROOT

DIRECTIVE = re.compile(r"^\.\. auto(module|class|function):: ([\w.]+)", re.M)

IMPORT_EACH = """
import sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None  # not installed: importing it raises ImportError
import django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "channels", "docsync"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
)
django.setup()
import importlib
for module in sys.argv[2].split(","):
    try:
        importlib.import_module(module)
    except ImportError as error:
        print(f"{module}: {error}")
"""


def _import_name(requirement: str) -> str:
    return re.split(r"[\[<>=~! ;]", requirement, maxsplit=1)[0].lower().replace("-", "_")


def _documented_modules() -> list[str]:
    found = set()
    for page in (ROOT / "docs").rglob("*.md"):
        for kind, name in DIRECTIVE.findall(page.read_text(encoding="utf-8")):
            found.add(name if kind == "module" else name.rsplit(".", 1)[0])
    return sorted(found)


def test_the_reference_builds_with_the_docs_extra_alone() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    installed = {_import_name(r) for r in [*project["dependencies"], *extras["docs"]]}
    hidden = sorted({_import_name(r) for name, rs in extras.items() for r in rs} - installed)
    modules = _documented_modules()
    assert "docsync.client" in modules and "channels_redis" in hidden  # the check sees both sides
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH, ",".join(hidden), ",".join(modules)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "", f"documented modules that need more than the docs extra:\n{done.stdout}"
