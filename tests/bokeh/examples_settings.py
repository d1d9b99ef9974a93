"""Settings of a server of Bokeh example apps: the Bokeh tests' site plus the apps ``DOCSYNC_EXAMPLE_APPS`` names.

tests/bokeh/upstream_examples.py writes that variable (JSON, ``{app_path: {"app": ..., "argv": [...]}}``).
"""

from __future__ import annotations

from tests.bokeh.settings import *  # noqa: F403
from tests.bokeh.settings import DOCSYNC as _DOCSYNC
from tests.bokeh.upstream_examples import settings_apps

DOCSYNC = {**_DOCSYNC, "APPS": {**_DOCSYNC["APPS"], **settings_apps()}}
