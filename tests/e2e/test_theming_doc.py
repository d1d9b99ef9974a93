"""docs/widgets.md's CSS example restyles a demo page in Chromium: the site's rules win over docsync's palette."""

from __future__ import annotations

from playwright.sync_api import BrowserContext

from docsync.testing import ServerProcess
from tests.docs.blocks import block

from .browser import open_app

_PROPERTIES = """() => {
  const style = getComputedStyle(document.querySelector(".docsync-root"));
  return ["--ds-accent", "--ds-radius", "--ds-surface"].map((name) => style.getPropertyValue(name).trim());
}"""


def test_the_widgets_pages_css_restyles_docsync(server: ServerProcess, context: BrowserContext) -> None:
    css = block("docs/widgets.md", "css", ".docsync-root {").text
    page = open_app(context, server.url + "sliders/")
    accent, radius, surface = page.evaluate(_PROPERTIES)
    assert (accent, radius) != ("#7c3aed", "10px")  # docsync's own, before
    page.add_style_tag(content=css)
    assert page.evaluate(_PROPERTIES)[:2] == ["#7c3aed", "10px"]
    assert page.evaluate(_PROPERTIES)[2] == surface  # light: the surface is docsync's own
    page.emulate_media(color_scheme="dark")  # the example's dark rule, for a page that follows the browser
    assert page.evaluate(_PROPERTIES) == ["#7c3aed", "10px", "#111827"]
