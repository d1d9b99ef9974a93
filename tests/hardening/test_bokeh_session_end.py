"""A Bokeh page's session that no websocket joins expires, and ``doc.on_session_destroyed`` runs (docs/bokeh.md).

Against the shared Bokeh site (sessions unused for ``UNUSED_SESSION_LIFETIME``, 15 s, expire):
a page makes its session as ``bokeh serve`` does; nothing connects; the session is
destroyed like any unused one, and the document's own ``on_session_destroyed``
callback runs for it (so does it for a session whose one tab closed).
"""

from __future__ import annotations

import pytest

from docsync.testing import EVENT_WAIT

from .bokeh_session_end import SAID
from .bokeh_tabs import Session
from .harness import Site, token_payload, wait_until

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
pytestmark = pytest.mark.asyncio

APP = "bk_session_end"


async def test_unjoined_and_closed_sessions_expire_and_run_their_destroy_callbacks(shared_bokeh_site: Site) -> None:
    never = Session(shared_bokeh_site, APP)  # a page, and no websocket
    closed = Session(shared_bokeh_site, APP)
    tab = await closed.tab()
    await tab.document()
    await tab.close()
    ids = [str(token_payload(s.token)["session_id"]) for s in (never, closed)]
    start = len(shared_bokeh_site.log_text())

    def ended() -> list[str]:
        text = shared_bokeh_site.log_text()[start:]
        return [i for i in ids if f"{SAID} {i}" in text]

    await wait_until(lambda: len(ended()) == 2, 2 * EVENT_WAIT, "both sessions' on_session_destroyed")
