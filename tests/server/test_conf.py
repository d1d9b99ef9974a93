"""docsync's settings object: every setting an attribute, a name that is none an AttributeError, changes seen."""

from __future__ import annotations

import pytest
from django.test import override_settings

from docsync.conf import DEFAULTS, Settings, docsync_settings


def test_every_setting_is_an_attribute_and_the_site_s_win() -> None:
    settings = Settings({"MAX_SESSIONS": 7, "NOT_A_SETTING": 1, "_values": "odd"})
    assert settings.MAX_SESSIONS == 7 and settings.NOT_A_SETTING == 1
    for name, value in DEFAULTS.items():
        if name != "MAX_SESSIONS":
            assert getattr(settings, name) == value
    assert settings.unknown_keys == ["NOT_A_SETTING", "_values"]
    with pytest.raises(AttributeError, match="DOCSYNC has no setting 'MAX_SESION'"):
        settings.MAX_SESION  # noqa: B018
    assert getattr(settings, "MAX_SESION", None) is None


def test_a_changed_docsync_setting_is_read_again(database: str) -> None:
    before = docsync_settings().MAX_SESSIONS
    with override_settings(DOCSYNC={"MAX_SESSIONS": before + 5}):
        changed = docsync_settings().MAX_SESSIONS
    after = docsync_settings().MAX_SESSIONS
    assert (changed, after) == (before + 5, before)
