"""docsync.client without the websockets package: a clear error that says what to install."""

from __future__ import annotations

import subprocess
import sys

from tests.docs.blocks import ROOT

# websockets is not one of docsync's dependencies; a None entry in sys.modules makes
# Python refuse to import it, as in an environment that does not have it.
WITHOUT_WEBSOCKETS = """
import sys
sys.modules["websockets"] = None
try:
    import docsync.client
except ImportError as error:
    print(error)
"""


def test_importing_the_client_without_websockets_says_what_to_install() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_WEBSOCKETS], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == (
        "docsync.client needs the websockets package: pip install 'docsync[client]' (or websockets)"
    ), done.stdout + done.stderr
