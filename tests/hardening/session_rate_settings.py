"""The hardening settings plus the apps that count how often their code ran (tests/hardening/test_session_rate.py)."""

from __future__ import annotations

from tests.hardening.settings import *  # noqa: F403
from tests.hardening.settings import DOCSYNC as _HARDENING

DOCSYNC = {
    **_HARDENING,
    "APPS": {
        **_HARDENING["APPS"],
        "rate_counted": "tests.hardening.session_rate_apps.counted",
        "bk_rate_counted": {"app": "tests.hardening.session_rate_apps:bk_counted", "kind": "bokeh"},
    },
}
