"""A BokehJS tab outlives its server: uvicorn killed (SIGKILL), started again, the tab back on its restored session.

The Bokeh gallery's sliders app under uvicorn, persistence in the database (SQLite),
no snapshot after the session's first (the journal holds the change). BokehJS is not
reloaded: it reconnects by itself (its ``ClientConnection`` retries with the same
token) and pulls the document again, which is the restored one: the change is there,
in the tab and in the Python document, and the app's callbacks run again.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext

from docsync.testing import EVENT_WAIT, ServerProcess

from .bokeh_page import BokehPage
from .conftest import ROOT

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

# BokehJS's own connection events (what its notifications show), and a mark that a reload would lose.
_LISTEN = """() => {
  window.seen = [];
  const doc = Bokeh.documents[0];
  for (const name of ["connection_lost", "client_reconnected"]) doc.on_event(name, () => window.seen.push(name));
}"""

_SET_OFFLINE = """(() => {
  try { m.value = 0.9 } catch (e) { if (e.name !== "InvalidStateError") throw e }
  return m.value
})()"""

_DRAWN = """() => Bokeh.index.roots.length > 0 && Bokeh.index.roots.every((v) => v.has_finished() && v.is_idle)"""


def test_a_bokehjs_tab_reconnects_to_its_session_restored_after_a_kill_9(
    context: BrowserContext, database: str, workdir: Path
) -> None:
    server = ServerProcess(
        server="uvicorn",
        cwd=ROOT,
        log_path=workdir / "bokeh-persistence.log",
        env={
            "DJANGO_SETTINGS_MODULE": "tests.persistence.bokeh_settings",
            "DJANGO_DEBUG": "1",
            "DOCSYNC_SQLITE": database,
            "DOCSYNC_ADMIN_REFRESH": "0",
            "DOCSYNC_PERSISTENCE": "database",
            "DOCSYNC_SNAPSHOT_INTERVAL": "30",  # no snapshot after the session's first: the journal holds the change
        },
    ).start()
    try:
        page = BokehPage.open(context, server, "bk_sliders")
        phase = page.page.locator(".noUi-handle").nth(2)  # offset, amplitude, phase, frequency
        phase.focus()
        for _ in range(5):
            phase.press("ArrowRight")  # step 0.1
        page.until(lambda: page.python("phase", "value") == pytest.approx(0.5), "phase = 0.5 in Python")
        curve = page.python("wave", "data.y")
        page.until(lambda: page.js("wave", "m.data.y[0]") == pytest.approx(curve[0]), "Python's new curve in the tab")
        page.page.evaluate(_LISTEN)

        server.kill()  # kill -9: no drain, no snapshot since the session was made
        page.until(lambda: "connection_lost" in page.page.evaluate("window.seen"), "BokehJS to see the socket drop")
        # A change made while no socket is open is not sent (BokehJS drops it): the pull
        # after the reconnection puts the server's value back. While BokehJS's next try is
        # still CONNECTING, its send throws InvalidStateError out of the setter (after the
        # model took the value): that is BokehJS's behaviour, the change is dropped all the same.
        offline = page.js("phase", _SET_OFFLINE)
        assert offline == pytest.approx(0.9)
        server.start()  # the same port, a new process: it restores the session from the database

        # BokehJS reconnects by itself (no reload: the page's own state survives) and pulls
        # the restored document; its tries are 0, 2, 4, 8 and 16 s apart.
        page.until(lambda: "client_reconnected" in page.page.evaluate("window.seen"), "BokehJS to reconnect", tries=600)
        page.until(lambda: page.js("phase", "m.value") == pytest.approx(0.5), "the restored document pulled")
        # Drawn again (its views: BokehJS's document says it is never idle again after a
        # pull read into another document, which it keeps in Bokeh.documents too).
        page.page.wait_for_function(_DRAWN, timeout=EVENT_WAIT * 1000)
        assert page.page.evaluate("window.seen")[0] == "connection_lost"  # the same page: reconnected, not reloaded
        assert page.js("phase", "m.value") == pytest.approx(0.5)
        assert page.python("phase", "value") == pytest.approx(0.5)  # the same session id, restored
        assert page.python("wave", "data.y") == pytest.approx(curve)
        page.shot("persistence-restored")

        # The restored session's callbacks run: the app was run again under it.
        phase = page.page.locator(".noUi-handle").nth(2)
        phase.focus()
        phase.press("ArrowRight")
        page.until(lambda: page.python("phase", "value") == pytest.approx(0.6), "phase = 0.6 in Python")
        page.until(lambda: page.python("wave", "data.y")[0] != pytest.approx(curve[0]), "the callback reshaped")
        new_curve = page.python("wave", "data.y")
        page.until(lambda: page.js("wave", "m.data.y[0]") == pytest.approx(new_curve[0]), "the new curve in the tab")
        restored = re.search(
            r"restored \((\d+) records after its snapshot\)", (workdir / "bokeh-persistence.log").read_text()
        )
        assert restored is not None and int(restored.group(1)) >= 5  # one per key press: from the journal
        assert page.errors == []
    finally:
        server.stop()
