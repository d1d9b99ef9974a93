"""The admin's page of a Bokeh session hides what its PasswordInputs hold, as for docsync's own apps.

Against the Bokeh dialect's shared daphne site: a page of ``bk_password`` makes its
session (its PasswordInput holding a value, as if typed), and a staff user allowed to
view live sessions reads its detail page. Both ``value`` and ``value_input`` were shown
as typed (tests/admin/test_live_sessions.py checks docsync's own PasswordInput).
"""

from __future__ import annotations

import asyncio
import html
import re

import pytest

from docsync.testing import EVENT_WAIT

from .bokeh_password import PASSWORD, TYPED
from .harness import Site, token_payload, wait_until

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

HIDDEN = "(hidden: a secret, such as a password)"


def _session_of(answer_body: str) -> str:
    found = re.search(r'"token":\s*"([^"]+)"', answer_body)
    assert found, "no Bokeh token in the answer"
    return str(token_payload(found.group(1))["session_id"])


def test_a_bokeh_password_input_s_value_is_hidden_from_the_admin(shared_bokeh_site: Site) -> None:
    page = shared_bokeh_site.browser().get("bk_password/")
    assert page.status == 200, page.status
    session_id = _session_of(page.body)

    def listed() -> bool:
        return any(row["session_id"] == session_id for row in shared_bokeh_site.live_rows("bk_password"))

    asyncio.run(wait_until(listed, EVENT_WAIT, "the session in the admin's table"))
    detail = shared_bokeh_site.browser("viewer").get(f"admin/docsync/livesession/{session_id}/live/")
    assert detail.status == 200, detail.status
    assert PASSWORD not in detail.body and html.escape(PASSWORD) not in detail.body
    password = re.search(r"<strong>PasswordInput</strong>.*?</details>", detail.body, re.S)
    assert password is not None, detail.body[-2000:]
    for name in ("value", "value_input"):
        assert f"<tr><th>{name} ✎</th><td><code>{HIDDEN}</code></td></tr>" in password.group(0), name
    assert "&#x27;Password&#x27;" in password.group(0)  # its other properties are shown
    assert f"&#x27;{TYPED}&#x27;" in detail.body  # and a TextInput's value is
