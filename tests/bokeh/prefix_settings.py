"""Settings of the Bokeh tests with docsync's pages under a prefix (``/dash/``): tests/bokeh/prefix_urls.py."""

from __future__ import annotations

from tests.bokeh.settings import *  # noqa: F403

ROOT_URLCONF = "tests.bokeh.prefix_urls"
