"""Python datetimes and dates in a list column are plotted where Bokeh plots them: ms since 1970, naive as UTC."""

from __future__ import annotations

import datetime as dt
from typing import Any

from playwright.sync_api import Browser, Page, expect

from docsync.testing import ServerProcess

from .browser import open_app
from .conftest import SCREENSHOTS, new_context


def utc_ms(when: dt.datetime) -> float:
    return when.replace(tzinfo=dt.UTC).timestamp() * 1000


def x_of(page: Page, plot: str) -> dict[str, Any]:
    shown: dict[str, Any] = page.evaluate(
        """(name) => { const plan = document.querySelector(`[data-docsync-name=${name}]`).docsyncView.plan;
          const r = plan.entries[0].r; const s = plan.scales.x.default;
          return { start: s.start, end: s.end, sx: Array.from(r.s.x), sy: Array.from(r.s.y) }; }""",
        plot,
    )
    return shown


def test_datetime_and_date_lists_are_drawn_at_their_utc_instants(server: ServerProcess, browser: Browser) -> None:
    # They were NaN to the client: nothing was drawn and the axis read 1970 (a Bokeh-style
    # app streaming datetime.now() showed an empty plot). A browser in New York reads a
    # naive datetime as UTC all the same, as Bokeh does.
    context = new_context(browser, viewport={"width": 1100, "height": 760}, timezone_id="America/New_York")
    try:
        page = open_app(context, server.url + "datetime_objects/")
        for name in ("clock", "calendar"):
            page.wait_for_function(f"document.querySelector('[data-docsync-name={name}]')?.docsyncView?.plan")
        page.wait_for_function(
            "document.querySelector('[data-docsync-name=clock]').docsyncView.plan.entries[0].r.s.x.length === 4"
        )
        clock = x_of(page, "clock")
        first, last = utc_ms(dt.datetime(2026, 12, 3, 13, 5, 15)), utc_ms(dt.datetime(2026, 12, 3, 13, 5, 18))
        assert clock["start"] < first < last < clock["end"] < first + 60_000, clock
        # Four points, left to right.
        assert all(a < b for a, b in zip(clock["sx"], clock["sx"][1:], strict=False)), clock["sx"]
        calendar = x_of(page, "calendar")
        midnight = utc_ms(dt.datetime(2026, 12, 1))
        assert calendar["start"] < midnight < midnight + 2 * 86_400_000 < calendar["end"] < midnight + 4 * 86_400_000
        # The hovered point's tooltip formats its datetime as UTC.
        box = page.locator('[data-docsync-name="clock"] .ds-plot-overlay').bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + clock["sx"][1], box["y"] + clock["sy"][1])
        expect(page.locator('[data-docsync-name="clock"] .ds-plot-tooltip')).to_contain_text("at: 13:05:16")
        page.locator('[data-docsync-name="layout"]').screenshot(path=SCREENSHOTS / "datetime-objects.png")
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        context.close()
