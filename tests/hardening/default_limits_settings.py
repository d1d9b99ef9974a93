"""The hardening settings with docsync's default wire and model limits (a patch of thousands of models fits)."""

from __future__ import annotations

from tests.hardening.settings import *  # noqa: F403
from tests.hardening.settings import DOCSYNC as _HARDENING

_LOWERED = ("MAX_FRAME_BYTES", "MAX_MESSAGE_BYTES", "MAX_BUFFERS", "MAX_CLIENT_MODELS")

DOCSYNC = {key: value for key, value in _HARDENING.items() if key not in _LOWERED}
DOCSYNC["APPS"] = {
    **_HARDENING["APPS"],
    "counted": "tests.hardening.counted.counted",
    "counted_push": {"app": "tests.hardening.counted.counted", "push": "public"},
}
