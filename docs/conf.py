"""Sphinx configuration of docsync's documentation site.

Build it with ``python3 -m sphinx -W -b html docs build/docs`` (warnings are errors);
tests/docs/test_site.py runs that build and checks every internal link of the result.
"""

from __future__ import annotations

import sys
from pathlib import Path

import django
from django.conf import settings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE / "_ext")]

# autodoc imports docsync's Django surface (embed, auth, testing): it needs settings.
if not settings.configured:
    settings.configure(
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "channels", "docsync"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        SECRET_KEY="only-for-building-the-docs",
        USE_TZ=True,
    )
    django.setup()

import docsync  # noqa: E402

project = "docsync"
author = "the docsync authors"
copyright = "2026, the docsync authors"
release = docsync.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",  # the Markdown pages stay Markdown
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "docsync_reference",  # settings, checks, errors and models, generated from the code
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "**/code/**", "screenshots/README.md"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 4  # protocol.md and convergence.md link to their sections by slug
# protocol.md shows message shapes with "..." in JSON: highlighted leniently, not an error.
suppress_warnings = ["misc.highlighting_failure"]

autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autoclass_content = "class"

html_theme = "furo"
html_title = f"docsync {release}"
html_static_path = ["_static"]
html_css_files = ["docsync.css"]  # reference tables wrap long identifiers
