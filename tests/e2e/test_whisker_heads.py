"""A Whisker in Chromium as in Bokeh: a tee across each end by default, under the glyphs; none where a head is None."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from playwright.sync_api import BrowserContext, Page

from docsync.testing import ServerProcess

from .browser import EVENT_WAIT, open_app, screen_point
from .conftest import SCREENSHOTS
from .pixels import decode_png

# The app's whiskers (tests.e2e.plot_apps.whiskers): base x, lower, upper.
ROWS = [(2.0, 2.0, 7.0), (5.0, 3.0, 8.0), (8.0, 1.5, 6.5)]
# A tee of size 10 spans 5 px either side of the whisker's x: these columns, and one
# either side of them, are on it, clear of the whisker's own 1 px line.
ACROSS = (-4, -3, 3, 4)
DARK, BLANK = 170, 200  # the darkest channel of a pixel on a black 1 px line, and of one on nothing (grid: 229)


def open_whiskers(context: BrowserContext, server: ServerProcess, query: str = "") -> Page:
    page = open_app(context, server.url + "whiskers/" + query)
    page.wait_for_function(
        "document.querySelector('[data-docsync-name=plot]')?.docsyncView?.plan", timeout=EVENT_WAIT * 1000
    )
    return page


def whisker_ends(page: Page) -> list[tuple[float, float, float]]:
    """Each whisker's (x, lower end's y, upper end's y) in the page's pixels."""
    ends = []
    for base, lower, upper in ROWS:
        x, low = screen_point(page, base, lower)
        ends.append((x, low, screen_point(page, base, upper)[1]))
    return ends


def look(page: Page, name: str) -> np.ndarray:
    """The page's pixels (a screenshot kept as ``name`` for a person to look at)."""
    png = page.screenshot()
    for folder in (SCREENSHOTS, Path("/tmp")):
        (folder / f"whiskers-{name}.png").write_bytes(png)
    return decode_png(png)[..., :3]


def darkest(image: np.ndarray, x: float, y: float) -> int:
    """The darkest channel within a pixel of (x, y) (a 1 px line may fall between two rows or columns)."""
    row, col = round(y), round(x)
    return int(image[row - 1 : row + 2, col - 1 : col + 2].min())


def cap_at(image: np.ndarray, x: float, y: float) -> list[int]:
    return [darkest(image, x + dx, y) for dx in ACROSS]


def test_whiskers_are_capped_by_default_and_bare_where_a_head_is_none(
    server: ServerProcess, context: BrowserContext
) -> None:
    page = open_whiskers(context, server)
    image = look(page, "capped")
    for x, low, high in whisker_ends(page):
        assert darkest(image, x, (low + high) / 2) < DARK  # the whisker itself
        assert max(cap_at(image, x, high)) < DARK, f"no cap at the upper end of the whisker at x={x:.1f}"
        assert max(cap_at(image, x, low)) < DARK, f"no cap at the lower end of the whisker at x={x:.1f}"
        assert min(cap_at(image, x, (low + high) / 2)) > BLANK  # nothing across the middle
    assert page.errors == []  # type: ignore[attr-defined]

    page = open_whiskers(context, server, "?upper_head=none")
    image = look(page, "bare-upper")
    for x, low, high in whisker_ends(page):
        assert darkest(image, x, (low + high) / 2) < DARK
        assert min(cap_at(image, x, high)) > BLANK, f"a cap at the upper end of the whisker at x={x:.1f}"
        assert max(cap_at(image, x, low)) < DARK
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_whisker_lies_under_the_glyphs(server: ServerProcess, context: BrowserContext) -> None:
    page = open_whiskers(context, server)
    image = look(page, "under-point")
    x, y = screen_point(page, 5.0, 4.0)  # the app's point, on the middle whisker
    row, col = round(y), round(x)
    centre = image[row - 1 : row + 2, col - 1 : col + 2].astype(int)
    # The point's own blue (#1f77b4) all over its centre: the whisker's black line is under it.
    assert np.abs(centre - (0x1F, 0x77, 0xB4)).max() < 40, centre.tolist()
    assert darkest(image, x, y + 20) < DARK  # the whisker, below the point
    assert page.errors == []  # type: ignore[attr-defined]
