"""Settings of the relayed session fuzz (test_fuzz_relayed.py): the hardening settings on a cluster.

All but the app broken on purpose, which fails the system checks a migration runs.
"""

from tests.hardening.settings import *  # noqa: F403
from tests.hardening.settings import DOCSYNC as _HARDENING

DOCSYNC = {**_HARDENING, "APPS": {name: app for name, app in _HARDENING["APPS"].items() if name != "broken"}}
