"""Settings of the browser tests of a site that mounts docsync under a prefix (``/dash/``)."""

from __future__ import annotations

from tests.e2e.settings import *  # noqa: F403

ROOT_URLCONF = "tests.e2e.prefix_urls"
