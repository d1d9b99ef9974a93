"""A datetime axis wheel-zoomed from two seconds to years: its labels at each scale, with and without context."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from playwright.sync_api import BrowserContext, Page

from docsync.testing import REPLY_TIMEOUT, ServerProcess

from .browser import open_app, wait_for
from .conftest import SCREENSHOTS
from .plot_apps import CONTEXT

# Written here from the rule docs/plotting.md states, not from the client's code: each
# resolution's pattern; a tick on a whole larger unit is labelled in that unit's pattern.
PATTERNS = {
    "milliseconds": "%fms",
    "seconds": "%Ss",
    "minsec": ":%M:%S",
    "minutes": ":%M",
    "hourmin": "%H:%M",
    "hours": "%Hh",
    "days": "%m/%d",
    "months": "%m/%Y",
    "years": "%Y",
}
UNITS = ["millisecond", "second", "minute", "hour", "day", "month", "year"]
UNIT_OF = {
    "milliseconds": "millisecond",
    "seconds": "second",
    "minsec": "minute",
    "minutes": "minute",
    "hourmin": "hour",
    "hours": "hour",
    "days": "day",
    "months": "month",
    "years": "year",
}
PROMOTED = {
    "second": "seconds",
    "minute": "hourmin",
    "hour": "hourmin",
    "day": "days",
    "month": "months",
    "year": "years",
}
WANTED = ("milliseconds", "seconds", "minutes", "hours", "days", "months", "years")


def instant(ms: float) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=ms)


def fmt(ms: float, pattern: str) -> str:
    when = instant(ms)
    return when.strftime(pattern.replace("%f", f"{when.microsecond // 1000:03d}"))


def on_boundary(ms: float) -> str:
    when = instant(ms)
    if when.microsecond:
        return "millisecond"
    for unit, part in (("second", when.second), ("minute", when.minute), ("hour", when.hour)):
        if part:
            return unit
    if when.day != 1:
        return "day"
    return "year" if when.month == 1 else "month"


def expected_label(ms: float, resolution: str) -> str:
    unit = on_boundary(ms)
    if UNITS.index(unit) > UNITS.index(UNIT_OF[resolution]):
        return fmt(ms, PATTERNS[PROMOTED[unit]])
    return fmt(ms, PATTERNS[resolution])


def axis(page: Page, plot: str) -> dict[str, Any]:
    shown: dict[str, Any] = page.evaluate(
        """(name) => { const plan = document.querySelector(`[data-docsync-name=${name}]`).docsyncView.plan;
          const { ticks, labels, resolution } = plan.axes.find((a) => a.side === "below");
          return { ticks, labels, resolution, start: plan.scales.x.default.start, bottom: plan.frame.bottom }; }""",
        plot,
    )
    return shown


def moved(page: Page, start: float) -> bool:
    """Tell whether the plain plot's x range no longer starts at ``start``."""
    return bool(axis(page, "plain")["start"] != start)


def test_datetime_labels_at_every_scale_with_and_without_context(
    server: ServerProcess, context: BrowserContext
) -> None:
    page = open_app(context, server.url + "datetime_axes/")
    for name in ("plain", "context"):
        page.wait_for_function(f"document.querySelector('[data-docsync-name={name}]')?.docsyncView?.plan")
    box = page.locator('[data-docsync-name="plain"] .ds-plot-overlay').bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    seen: list[str] = []
    for _ in range(60):
        plain, ctx = axis(page, "plain"), axis(page, "context")
        resolution = plain["resolution"]
        assert ctx["resolution"] == resolution and ctx["ticks"] == plain["ticks"], "one shared x range"
        assert plain["labels"] == [expected_label(t, resolution) for t in plain["ticks"]], resolution
        assert "000ms" not in plain["labels"]
        # The context plot: the same labels; the first carries the context line (none when its pattern is empty).
        mains = [label.split("\n")[0] for label in ctx["labels"]]
        assert mains == plain["labels"]
        context_pattern = getattr(CONTEXT, resolution)
        first = fmt(ctx["ticks"][0], context_pattern.replace("%3N", "%f")) if context_pattern else ""
        assert ctx["labels"][0] == (f"{mains[0]}\n{first}" if first else mains[0]), resolution
        assert all("\n" not in label for label in ctx["labels"][1:]), "the context shows once"
        if first:
            assert ctx["bottom"] < plain["bottom"], "the x axis makes room for the second line"
        if resolution not in seen:
            seen.append(resolution)
            page.locator('[data-docsync-name="layout"]').screenshot(
                path=SCREENSHOTS / f"datetime-axis-{resolution}.png"
            )
        if resolution == "years":
            break
        page.mouse.wheel(0, 300)
        wait_for(functools.partial(moved, page, plain["start"]), REPLY_TIMEOUT, "the wheel to zoom out")
    for resolution in WANTED:
        assert resolution in seen, f"{resolution} never shown: {seen}"
    assert seen == sorted(seen, key=list(PATTERNS).index), "zooming out only coarsens"
    assert page.errors == []  # type: ignore[attr-defined]
