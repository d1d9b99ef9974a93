"""The core never imports Bokeh: only docsync.bokeh does, and only when an app of kind "bokeh" is served."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Every core module a site imports: models, views, URLs, routing, the server, admin, checks.
_SCRIPT = """
import sys, django
django.setup()
import docsync.admin, docsync.checks, docsync.client, docsync.routing, docsync.testing, docsync.urls, docsync.views
import docsync.server.cluster, docsync.server.admin_support.commands, docsync.server.connection, docsync.server.dialects
from django.core import checks
from django.test import Client
checks.run_checks()
Client().get("/")
Client().get("/sliders/")
leaked = sorted(name for name in sys.modules if name == "bokeh" or name.startswith(("bokeh.", "docsync.bokeh")))
print(",".join(leaked) or "none")
"""


def _run(settings: str) -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings, "DOCSYNC_ADMIN_REFRESH": "0"}
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return result.stdout.strip().splitlines()[-1]


def test_core_site_never_imports_bokeh() -> None:
    assert _run("project.settings") == "none"


def test_bokeh_is_imported_once_a_bokeh_app_is_configured() -> None:
    import pytest

    pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
    leaked = _run("tests.bokeh.settings")
    # checks load every configured app, so the dialect (and Bokeh) come in here.
    assert "docsync.bokeh.dialect" in leaked.split(",")
