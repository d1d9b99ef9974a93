"""Settings of the relayed session fuzz (test_fuzz_relayed.py): the hardening settings on a cluster.

All but the app broken on purpose, which fails the system checks a migration runs; and
``workers_ledger`` (``workers`` with a list clients append to) for the owner-killed fuzz.
"""

from tests.hardening.settings import *  # noqa: F403
from tests.hardening.settings import DOCSYNC as _HARDENING

_APPS = {name: app for name, app in _HARDENING["APPS"].items() if name != "broken"}
DOCSYNC = {**_HARDENING, "APPS": {**_APPS, "workers_ledger": "tests.cluster.apps_ledger.workers_ledger"}}
