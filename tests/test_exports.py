"""Every docsync module declares ``__all__``, and every name in it exists.

The modules are imported in a child process with the demo project's settings (the
Django surface needs them, the Bokeh dialect patches Bokeh on import), once for all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import docsync

PACKAGE_DIR = Path(docsync.__file__).parent

PROBE = """
import importlib, json, sys
import django
django.setup()
found = {}
for name in json.loads(sys.argv[1]):
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    if not isinstance(exported, (list, tuple)):
        found[name] = {"all": None}
        continue
    star = {}
    exec(f"from {name} import *", star)
    found[name] = {
        "all": [item if isinstance(item, str) else repr(item) for item in exported],
        "missing": [item for item in exported if not hasattr(module, str(item))],
        "star": sorted(set(map(str, exported)) - set(star)),
    }
print(json.dumps(found))
"""


def module_names() -> list[str]:
    """Every module and package of docsync, but its migrations."""
    names = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
        if "migrations" in parts:
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


@pytest.fixture(scope="module")
def exports() -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(module_names())],
        capture_output=True,
        text=True,
        cwd=PACKAGE_DIR.parent,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def test_every_package_is_walked() -> None:
    found = module_names()
    for name in ("docsync", "docsync.document.models.widgets", "docsync.server.compat.daphne", "docsync.bokeh"):
        assert name in found
    assert "docsync.templatetags.docsync" in found and "docsync.server.session" in found
    assert not any("migrations" in name for name in found)


@pytest.mark.parametrize("name", module_names())
def test_module_declares_all(exports: dict[str, Any], name: str) -> None:
    found = exports[name]
    assert found["all"] is not None, f"{name} has no __all__"
    exported = found["all"]
    assert all(isinstance(item, str) for item in exported)
    assert len(set(exported)) == len(exported), f"{name}.__all__ repeats a name"
    assert found["missing"] == [], f"{name}.__all__ names what it lacks"
    assert found["star"] == [], f"{name}: star import lacks"
