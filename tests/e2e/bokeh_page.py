"""A Bokeh app's page in Chromium, as the Bokeh gallery tests drive it.

Models are found by name in BokehJS's document; the Python side of the same session is
read in the server process, under the session's lock (tests/bokeh/urls.py). Points of
a plot are turned into page coordinates with the plot view's own scales, so that the
mouse lands where the data is drawn.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from playwright.sync_api import BrowserContext, Page

from docsync.testing import ServerProcess

from .browser import EVENT_WAIT
from .conftest import SCREENSHOTS
from .pixels import changed_fraction

_READY = """(documents) => window.Bokeh != null && Bokeh.documents.length >= documents
  && Bokeh.documents.every((d) => d.is_idle)
  && Bokeh.index.roots.length > 0 && Bokeh.index.roots.every((v) => v.has_finished() && v.is_idle)"""

_MODEL = """const model = Bokeh.documents.map((d) => d.get_model_by_name(name)).find((m) => m != null);
if (model == null) throw new Error(`no model named ${name}`);"""

_POINT = f"""([name, x, y]) => {{
  {_MODEL}
  const view = Bokeh.index.find_one(model);
  const rect = view.canvas_view.el.getBoundingClientRect();
  return [rect.left + view.frame.x_scale.compute(x), rect.top + view.frame.y_scale.compute(y)];
}}"""

_BOX = f"""([name]) => {{
  {_MODEL}
  const rect = Bokeh.index.find_one(model).el.getBoundingClientRect();
  return {{x: rect.left, y: rect.top, width: rect.width, height: rect.height}};
}}"""


def session_of(html: str) -> str:
    """The session id a page's Bokeh token names (the token's payload is readable, its signature docsync's)."""
    token = re.search(r'"token":\s*"([^"]+)"', html)
    assert token, "no Bokeh token in the page"
    payload = token.group(1).split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["session_id"])


class BokehPage:
    """One page of a Bokeh app: its BokehJS documents, its Python session, its pixels."""

    def __init__(self, page: Page, server: ServerProcess, app: str, session: str | None) -> None:
        self.page = page
        self.server = server
        self.app = app
        self.session = session
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    @classmethod
    def open(cls, where: BrowserContext | Page, server: ServerProcess, app: str, query: str = "") -> BokehPage:
        """Open the app's page and wait until BokehJS has drawn its document.

        ``where``: a context, to open a new tab in, or a tab, to navigate (a new document and
        session in the renderer process it has: ~0.25 s less of Chromium's CPU than a new tab's).
        """
        page = where.new_page() if isinstance(where, BrowserContext) else where
        bokeh_page = cls(page, server, app, None)
        response = page.goto(f"{server.url}{app}/{query}")
        assert response is not None and response.ok, f"{app}: HTTP {response and response.status}"
        bokeh_page.session = session_of(response.text())
        bokeh_page.wait_drawn()
        return bokeh_page

    def wait_drawn(self, documents: int = 1) -> None:
        """Wait until ``documents`` documents are idle and every view has finished drawing."""
        self.page.wait_for_function(_READY, arg=documents, timeout=120_000)  # an event: generous under load
        assert self.errors == [], self.errors

    # -- the browser's side -----------------------------------------------------------

    def js(self, name: str, expression: str) -> Any:
        """Evaluate ``expression`` with ``m``, the browser's model named ``name``."""
        return self.page.evaluate(f"([name]) => {{ {_MODEL} const m = model; return {expression}; }}", [name])

    def point(self, plot: str, x: float, y: float) -> tuple[float, float]:
        """Page coordinates of data point (x, y) of the plot named ``plot``."""
        sx, sy = self.page.evaluate(_POINT, [plot, x, y])
        return float(sx), float(sy)

    def drag(self, plot: str, start: tuple[float, float], end: tuple[float, float]) -> None:
        """Drag the mouse across ``plot`` from data point ``start`` to ``end``, as a user does."""
        x0, y0 = self.point(plot, *start)
        x1, y1 = self.point(plot, *end)
        mouse = self.page.mouse
        mouse.move(x0, y0)
        mouse.down()
        mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
        mouse.move(x1, y1, steps=5)
        mouse.up()

    def pixels(self, name: str) -> bytes:
        """A screenshot (PNG) of the view of the model named ``name``."""
        return self.page.screenshot(clip=self.page.evaluate(_BOX, [name]))

    def redrew(self, name: str, before: bytes, at_least: float = 0.002) -> bool:
        """Tell whether the view of ``name`` differs from ``before`` (a share of its pixels)."""
        return changed_fraction(before, self.pixels(name)) >= at_least

    # -- the server's side ------------------------------------------------------------

    def python(self, name: str, attr: str) -> Any:
        """``attr`` of the model named ``name`` in this page's Python document (read under its lock)."""
        query = urllib.parse.urlencode({"session": self.session or ""})
        url = f"{self.server.url}_test/bokeh/{self.app}/{name}/{attr}?{query}"
        with urllib.request.urlopen(url, timeout=20) as response:
            values = json.loads(response.read())["values"]
        assert len(values) == 1, f"{self.app}/{name}: {len(values)} sessions answered"
        return values[0]

    # -- waiting and looking ----------------------------------------------------------

    def until(self, check: Callable[[], bool], what: str, tries: int = 150) -> None:
        """Poll ``check`` (every 100 ms, page clock) until it holds (``tries`` polls, ``EVENT_WAIT`` s or more)."""
        deadline = time.monotonic() + EVENT_WAIT
        for attempt in itertools.count(1):
            if check():
                return
            if attempt >= tries and time.monotonic() > deadline:
                raise AssertionError(f"{self.app}: timed out waiting for {what}")
            self.page.wait_for_timeout(100)

    def shot(self, name: str) -> None:
        """Save a screenshot of the whole page to build/screenshots/bokeh-<name>.png."""
        self.page.screenshot(path=str(SCREENSHOTS / f"bokeh-{name}.png"))
        assert self.errors == [], self.errors
