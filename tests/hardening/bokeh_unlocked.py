"""A Bokeh app with a ``@without_document_lock`` callback (test_bokeh_unlocked_callbacks.py)."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

#: How many times the unlocked callback looks for a browser's change before it gives up:
#: a bound against hanging (30 s at 20 looks a second), not a claim about speed. Kept
#: short: the session's expiry waits for a running callback, and the process's expiry of
#: every other session waits for it (tests/hardening/test_bokeh_session_end.py shares the site).
LOOKS = 600


def unlocked(doc: Any) -> None:
    """A next-tick callback that waits, without the lock, for a browser to move ``slider``.

    Bokeh's pattern for slow work: the unlocked coroutine waits (here for a browser's
    change, which only a free lock lets in), then schedules a locked callback that
    writes what it found into ``status``. A callback run holding the lock would keep
    the browser's change out for all its looks, and write ``gave up``.
    """
    from bokeh.document import without_document_lock
    from bokeh.layouts import column
    from bokeh.models import Div, Slider

    slider = Slider(start=0, end=10, step=1, value=0, name="slider")
    status = Div(text="waiting", name="status")
    timed = Div(text="not yet", name="timed")  # a timeout callback's (bokeh.md lists it too)

    def report(text: str) -> None:
        status.text = text

    @without_document_lock
    async def wait_for_a_browser() -> None:
        for _ in range(LOOKS):
            if slider.value != 0:
                doc.add_next_tick_callback(partial(report, f"saw {slider.value}"))
                return
            await asyncio.sleep(0.05)
        doc.add_next_tick_callback(partial(report, "gave up"))

    def fire() -> None:
        timed.text = f"fired; callbacks left: {len(doc.session_callbacks)}"

    doc.add_next_tick_callback(wait_for_a_browser)
    doc.add_timeout_callback(fire, 200)
    doc.add_root(column(slider, status, timed))
