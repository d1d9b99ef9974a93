"""Cluster test settings with the session directory on a Redis of its own (``DOCSYNC["REDIS_URL"]``).

The channel layer keeps ``DOCSYNC_REDIS_URL``: stopping that one alone breaks a
relay's opening after its claim succeeded.
"""

import os

from .settings import *  # noqa: F403
from .settings import DOCSYNC

DOCSYNC["REDIS_URL"] = os.environ.get("DOCSYNC_DIRECTORY_URL")  # unset while migrating
