"""Typed values a client shapes oddly: refused with ``patch-refused``, the session unharmed.

A ``{"type": "number"}`` whose ``value`` was a list or an object (not a string) reached a
set lookup with an unhashable key: the connection was closed with 1011 and the server
logged a traceback, instead of the ERROR every other malformed value gets. Against a
real daphne (the main hardening site).
"""

from __future__ import annotations

import pytest

from .hostile import Victim, patch

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("special", [["nan"], {"nan": 1}])
async def test_a_number_whose_value_is_not_a_string_is_refused(victim: Victim, special: object) -> None:
    logged = len(victim.site.log_text())
    event = {"kind": "ModelChanged", "model": {"id": victim.model_id("slider")}, "attr": "value"}
    text = await victim.refused(patch([{**event, "new": {"type": "number", "value": special}}]), code="patch-refused")
    assert text.startswith("invalid number "), text
    await victim.assert_unharmed()
    assert "Traceback" not in victim.site.log_text()[logged:]
