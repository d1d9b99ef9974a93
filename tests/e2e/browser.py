"""Helpers of the browser tests: open an app page, read its document, compare documents."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from playwright.sync_api import BrowserContext, Page

from docsync.client import ClientSession, fetch_page_config
from docsync.serialization import Encoder

# The canonical JSON of the document of a page's session (window.docsync, or the session
# an embed's element holds): arrays inline as base64, so that two documents compare.
DOCUMENT_JSON = """async ([serializationUrl, selector]) => {
  const { Encoder } = await import(serializationUrl);
  const session = selector ? document.querySelector(selector).docsyncSession : window.docsync;
  return session.document.toJSON({ encoder: new Encoder({ useBuffers: false }) }).doc;
}"""

SETTLED = """(selector) => {
  const session = selector ? document.querySelector(selector)?.docsyncSession : window.docsync;
  return Boolean(session && session.connection.settled);
}"""


def open_app(context: BrowserContext, url: str, *, live: bool = True) -> Page:
    """Open ``url`` in a new page, record its errors, wait until its session is live."""
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.errors.append(str(error)))  # type: ignore[attr-defined]
    page.goto(url)
    if live:
        page.wait_for_function("window.docsync && window.docsync.state === 'live'", timeout=60_000)
    return page


def screen_point(page: Page, x: float, y: float, name: str = "plot") -> tuple[float, float]:
    """The page's pixel of data point (x, y) on the plot named ``name`` (its default scales)."""
    box = page.locator(f'[data-docsync-name="{name}"] .ds-plot-overlay').bounding_box()
    assert box is not None
    sx, sy = page.evaluate(
        """([name, x, y]) => {
          const { scales } = document.querySelector(`[data-docsync-name=${name}]`).docsyncView.plan;
          return [scales.x.default.compute(x), scales.y.default.compute(y)]; }""",
        [name, x, y],
    )
    return box["x"] + sx, box["y"] + sy


def value(page: Page, name: str, attr: str) -> Any:
    """Return property ``attr`` of the model named ``name`` in the page's document."""
    return page.evaluate("([n, a]) => window.docsync.getModelByName(n).get(a)", [name, attr])


def column(page: Page, source: str, name: str) -> list[float]:
    """Return column ``name`` of data source ``source`` in the page's document, as numbers."""
    return page.evaluate(
        "([s, c]) => Array.from(window.docsync.getModelByName(s).get('data')[c], Number)", [source, name]
    )


#: The least time any wait for an event gets: a test checks that the event comes, not how
#: soon (speed is bench/'s), and under load (CI: three workers, two cores) a 5 s wait for a
#: round trip through the server and the browser is too little.
EVENT_WAIT = 60.0


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll ``predicate`` until it holds; fail after ``timeout`` seconds (at least ``EVENT_WAIT``) naming ``what``."""
    timeout = max(timeout, EVENT_WAIT)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def page_document(page: Page, server_url: str, selector: str | None = None) -> dict[str, Any]:
    """Return the canonical form of the page's document (see ``canonical``)."""
    doc = page.evaluate(DOCUMENT_JSON, [f"{server_url}docsync-client/serialization.js", selector])
    return canonical(doc)


def settled(page: Page, selector: str | None = None) -> bool:
    """Tell whether the page's connection is live with nothing in flight or waiting."""
    return bool(page.evaluate(SETTLED, selector))


def canonical(doc: dict[str, Any]) -> dict[str, Any]:
    """Return document JSON in a form that compares by value: models by id, arrays as lists."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            if value.get("type") == "ndarray" and "base64" in value:
                dtype = np.dtype(value["dtype"]).newbyteorder("<" if value.get("order") == "little" else ">")
                array = np.frombuffer(base64.b64decode(value["base64"]), dtype=dtype)
                return {"ndarray": value["dtype"], "shape": value["shape"], "values": array.tolist()}
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, list):
            return [plain(item) for item in value]
        return value

    return {
        "title": doc["title"],
        "roots": [root["id"] for root in doc["roots"]],
        "models": {m["id"]: {"name": m["name"], "attributes": plain(m.get("attributes", {}))} for m in doc["models"]},
    }


def cookies_of(page: Page) -> dict[str, str]:
    """The ``Cookie`` header ``page``'s browser sends its server (an anonymous session is that browser's)."""
    text = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies(page.url))
    return {"Cookie": text} if text else {}


def python_document(page_url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Pull the session of the app page at ``page_url`` with the Python client; return its canonical form.

    ``headers``: sent with the page and the websocket (``cookies_of(page)`` to rejoin that
    page's session by ``?session_id=``: it is its browser's).
    """

    async def pull() -> dict[str, Any]:
        config = await asyncio.to_thread(fetch_page_config, page_url, headers=headers)
        session = ClientSession(config, headers=headers)
        await asyncio.wait_for(session.connect(), 15)
        try:
            doc, _ = session.document.to_json(encoder=Encoder(use_buffers=False))
            return canonical(doc)
        finally:
            await session.close()

    # Playwright's sync API owns this thread's event loop: the Python client gets its own.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, pull()).result(timeout=60)


def session_config(page: Page) -> dict[str, Any]:
    """Return the docsync configuration an app page was served with."""
    return dict(page.evaluate("JSON.parse(document.getElementById('docsync-config').textContent)"))


def open_admin_live(admin: Page, server_url: str, session_id: str, credentials: tuple[str, str]) -> None:
    """Log ``admin`` in and open the admin's live page of ``session_id``, once its table lists it."""
    admin.goto(server_url + "admin/login/")
    admin.fill("#id_username", credentials[0])
    admin.fill("#id_password", credentials[1])
    admin.click("input[type=submit]")
    live = f"{server_url}admin/docsync/livesession/{session_id}/live/"

    def listed() -> bool:
        response = admin.goto(live)
        return response is not None and response.status == 200

    wait_for(listed, 10, "the session in the admin's live-session table", interval=0.2)
