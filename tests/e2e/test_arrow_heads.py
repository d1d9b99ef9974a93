"""Heads in Chromium are stroked and filled with their own alpha: at 0.3 lighter than at 1."""

from __future__ import annotations

import numpy as np
from playwright.sync_api import BrowserContext

from docsync.testing import ServerProcess

from .browser import EVENT_WAIT, open_app, screen_point
from .conftest import SCREENSHOTS
from .pixels import decode_png

OPAQUE = 60  # the darkest channel of a pixel inside a black head at alpha 1 (on white: 0)
LIGHT = (120, 230)  # ... and of one at alpha 0.3 (on white: 255 * 0.7, about 179)


def darkest(image: np.ndarray, x: float, y: float) -> int:
    """The darkest channel within a pixel of (x, y) (a line may fall between two rows)."""
    row, col = round(y), round(x)
    return int(image[row - 1 : row + 2, col - 1 : col + 2].min())


def test_a_head_at_line_alpha_0_3_draws_lighter_than_one_at_1(server: ServerProcess, context: BrowserContext) -> None:
    page = open_app(context, server.url + "heads/")
    page.wait_for_function(
        "document.querySelector('[data-docsync-name=plot]')?.docsyncView?.plan", timeout=EVENT_WAIT * 1000
    )
    png = page.screenshot()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "arrow-heads.png").write_bytes(png)
    image = decode_png(png)[..., :3]

    # The whisker at x=3: a tee of size 20 and width 3 at each end, 6 px either side of
    # its own line; the lower at alpha 1, the upper at 0.3.
    x, low = screen_point(page, 3, 2.5)
    high = screen_point(page, 3, 7.5)[1]
    for dx in (-6, 6):
        opaque, light = darkest(image, x + dx, low), darkest(image, x + dx, high)
        assert opaque < OPAQUE, f"the opaque tee at {dx:+} px: {opaque}"
        assert LIGHT[0] < light < LIGHT[1], f"the light tee at {dx:+} px: {light}"

    # The arrow at x=7: normal heads of size 20 pointing down at its start (alpha 1) and
    # up at its end (line and fill alpha 0.3); inside each, 12 px from its tip and 3 px
    # beside the arrow's own line.
    x, start = screen_point(page, 7, 2.5)
    end = screen_point(page, 7, 7.5)[1]
    opaque = int(image[round(start - 12), round(x + 3)].min())
    light = int(image[round(end + 12), round(x + 3)].min())
    assert opaque < OPAQUE, f"inside the opaque head: {opaque}"
    assert LIGHT[0] < light < LIGHT[1], f"inside the light head: {light}"
    assert page.errors == []  # type: ignore[attr-defined]
