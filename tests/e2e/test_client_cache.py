"""A second view of an app's page takes docsync's client from the browser's cache: not one request for it."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import BrowserContext, Page

from docsync.testing import ServerProcess

from .browser import open_app


def client_fetches(page: Page) -> list[dict[str, Any]]:
    """This page's loads of docsync's client files: URL and bytes over the network (0: the browser's cache)."""
    entries: list[dict[str, Any]] = page.evaluate(
        """() => performance.getEntriesByType("resource")
            .filter((e) => e.name.includes("/docsync-client/"))
            .map((e) => ({ url: e.name, transferred: e.transferSize }))"""
    )
    return entries


def test_a_second_view_takes_the_client_from_the_cache(server: ServerProcess, context: BrowserContext) -> None:
    # Each view asked for all of the client again (79 modules and the stylesheet for a plot
    # app; 304s once they had an ETag): under the page's import map they are versioned
    # URLs, kept for good.
    first = open_app(context, server.url + "sliders/")
    fetched = client_fetches(first)
    assert len(fetched) > 20 and all(f["transferred"] > 0 for f in fetched), fetched
    assert [f["url"] for f in fetched if "/docsync-client/v-" not in f["url"]] == []
    first.close()
    again = open_app(context, server.url + "sliders/")
    kept = client_fetches(again)
    assert {f["url"] for f in kept} == {f["url"] for f in fetched}
    assert [f["url"] for f in kept if f["transferred"] > 0] == []  # none over the network
    assert again.evaluate("window.docsync.state") == "live"
    # A custom view's absolute import gets the very module the page runs (extending.md).
    versioned = next(f["url"] for f in fetched if f["url"].endswith("/views/view.js"))
    same = again.evaluate(
        """async (versioned) => (await import("/docsync-client/views/view.js")) === (await import(versioned))""",
        versioned,
    )
    assert same is True
    assert again.errors == []  # type: ignore[attr-defined]
