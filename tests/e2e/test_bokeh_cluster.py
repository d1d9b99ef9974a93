"""Bokeh apps behind three docsync processes and a balancer without sticky sessions, driven by BokehJS.

A private redis-server joins three daphne processes; a TCP balancer (balancer.py) in
front of them sends each page to the processes in turn and each websocket to a process
other than the page's, so every BokehJS websocket is relayed to the process that made
its session. Each interaction is then checked in the Python document of the one
process that holds the session (every process is asked; exactly one answers), and in
the browser; the admin of a process lists the sessions of all three.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext

from docsync.testing import ServerProcess
from tests.cluster.conftest import AdminBrowser, Cluster

from .balancer import Balancer
from .bokeh_page import BokehPage, session_of
from .browser import wait_for
from .conftest import SCREENSHOTS

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
pytestmark = pytest.mark.cluster

#: The apps the test opens.
APPS = ("bk_sliders", "bk_selection_histogram", "bk_gapminder")


class ClusterPage(BokehPage):
    """A Bokeh page whose Python side is read from whichever process holds its session."""

    cluster: Cluster

    def owners(self, name: str, attr: str) -> dict[int, Any]:
        """``attr`` of model ``name`` of this page's session, by index of the process that holds it."""
        found = {}
        query = urllib.parse.urlencode({"session": self.session or ""})
        for index, process in enumerate(self.cluster.servers):
            url = f"{process.url}_test/bokeh/{self.app}/{name}/{attr}?{query}"
            with urllib.request.urlopen(url, timeout=20) as response:
                values = json.loads(response.read())["values"]
            if values:
                found[index] = values[0]
        return found

    def python(self, name: str, attr: str) -> Any:
        found = self.owners(name, attr)
        assert len(found) == 1, f"{self.app}: the session is held by {sorted(found)}"
        return next(iter(found.values()))


@pytest.fixture(scope="module")
def balanced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Balancer]]:
    """Redis, three processes serving the Bokeh gallery, and the balancer in front of them."""
    cluster = Cluster(tmp_path_factory.mktemp("bokeh-cluster"), 3, settings="tests.bokeh.settings")
    balancer: Balancer | None = None
    try:
        for process in cluster.servers:
            _wait_ready(process)
        balancer = Balancer([server.port for server in cluster.servers]).start()
        yield cluster, balancer
    finally:
        if balancer is not None:
            balancer.stop()
        cluster.stop()


def _wait_ready(process: ServerProcess) -> None:
    """Wait until ``process`` has imported its URLconf (Bokeh with it) and built the apps' contexts.

    A process listens before it is ready: it does both on its first request. The first page
    reaches all three processes at once (the page, then BokehJS's files in turn), so under
    load their first requests' imports made the browser's first page wait for all three.
    """
    for app in APPS:
        url = f"{process.url}_test/bokeh/{app}/document/title"
        with urllib.request.urlopen(url, timeout=300) as response:  # a first answer, however slow
            assert json.loads(response.read()) == {"values": []}, f"{app}: sessions before any page"


def _open(context: BrowserContext, balanced: tuple[Cluster, Balancer], app: str, query: str = "") -> ClusterPage:
    cluster, balancer = balanced
    page = context.new_page()
    bokeh_page = ClusterPage(page, cluster.servers[0], app, None)
    bokeh_page.cluster = cluster
    response = page.goto(f"{balancer.url}{app}/{query}")
    assert response is not None and response.ok
    bokeh_page.session = session_of(response.text())
    bokeh_page.wait_drawn()
    return bokeh_page


def _relayed(page: ClusterPage, balancer: Balancer, owner: int) -> None:
    """The page's websocket went to another process than the one holding its session."""
    landed = [index for path, index in balancer.websockets() if path == f"/{page.app}/ws"][-1]
    assert landed != owner, f"the websocket reached the owner, process {owner}"


def test_bokeh_apps_without_sticky_sessions(context: BrowserContext, balanced: tuple[Cluster, Balancer]) -> None:
    cluster, balancer = balanced
    # Sliders: the keyboard on a slider, through a relayed websocket.
    first = _open(context, balanced, "bk_sliders")
    owner = next(iter(first.owners("offset", "value")))
    _relayed(first, balancer, owner)
    before = first.pixels("plot")
    handle = first.page.locator(".noUi-handle").first
    handle.focus()
    for _ in range(10):
        handle.press("ArrowRight")
    first.until(lambda: first.python("offset", "value") == pytest.approx(1.0), "offset = 1 in the owner")
    first.until(lambda: first.js("wave", "m.data.y[0]") == pytest.approx(1.0), "Python's curve, relayed back")
    first.until(lambda: first.redrew("plot", before), "the plot redrawn")

    # Selection histogram: a box drawn with the mouse; the owner histograms it.
    histogram = _open(context, balanced, "bk_selection_histogram")
    _relayed(histogram, balancer, next(iter(histogram.owners("points", "data.x"))))
    histogram.drag("scatter", (0.5, -0.5), (3.5, 2.5))
    histogram.until(lambda: len(histogram.python("points", "selected.indices")) > 0, "the selection in the owner")
    chosen = len(histogram.python("points", "selected.indices"))
    histogram.until(lambda: sum(histogram.js("x_selected", "[...m.data.count]")) == chosen, "the histograms")

    # Gapminder: a click starts a periodic callback in the owner; its changes stream back.
    gapminder = _open(context, balanced, "bk_gapminder")
    _relayed(gapminder, balancer, next(iter(gapminder.owners("year", "value"))))
    start = gapminder.python("year", "value")
    gapminder.page.get_by_role("button", name="► Play").click()
    gapminder.until(lambda: gapminder.js("year", "m.value") >= start + 3, "the years, streamed through the relay")
    gapminder.page.get_by_role("button", name="❚❚ Pause").click()
    gapminder.until(lambda: gapminder.python("play", "label") == "► Play", "paused in the owner")
    gapminder.page.screenshot(path=str(SCREENSHOTS / "bokeh-cluster.png"))

    # The admin of any process lists the sessions of all three, each with its owner.
    sessions = {page.session: page for page in (first, histogram, gapminder)}
    owners = {sid: next(iter(page.owners("document", "title"))) for sid, page in sessions.items()}
    admin = AdminBrowser(cluster.servers[2].url)
    admin.login()
    rows: list[tuple[str, str]] = []

    def all_listed() -> bool:
        nonlocal rows
        rows = admin.session_rows()
        return all(any(short == sid[:10] for short, _ in rows) for sid in sessions)

    # Each process writes its sessions to the shared table every 0.5 s (when it gets the CPU).
    wait_for(all_listed, 120, "the three sessions in the admin", interval=0.2)
    for sid in sessions:
        process = next((process for short, process in rows if short == sid[:10]), None)
        assert process is not None, f"session {sid[:10]} is not listed"
        assert process.endswith(f":{cluster.servers[owners[sid]].pid}")
    assert re.search(r"bk_gapminder", admin.get("admin/docsync/livesession/?all="))
