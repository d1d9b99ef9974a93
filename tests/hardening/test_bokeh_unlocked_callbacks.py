"""``@without_document_lock`` works as in ``bokeh serve`` (docs/bokeh.md, *What runs as in bokeh serve*).

Against a real daphne serving a Bokeh app (``bokeh_unlocked.py``) and a connection that
speaks as BokehJS does: while the app's unlocked coroutine waits, a browser's change is
applied and answered OK (the lock is free), and the locked callback the coroutine then
schedules sends its change to the browser.
"""

from __future__ import annotations

import asyncio

import pytest

from docsync.protocol import PATCH_DOC
from docsync.testing import EVENT_WAIT

from .bokeh_tabs import Session, definitions, named
from .harness import Site

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
pytestmark = pytest.mark.asyncio


async def test_a_browsers_change_goes_in_while_an_unlocked_callback_waits(shared_bokeh_site: Site) -> None:
    session = Session(shared_bokeh_site, "bk_unlocked")
    tab = await session.tab()
    try:
        doc = await tab.document()
        change = {"kind": "ModelChanged", "model": {"id": named(doc, "slider")}, "attr": "value", "new": 3}
        reply = await tab.patch([change])
        assert reply.msgtype == "OK", reply.content
        status = named(doc, "status")
        seen: list[str] = []

        async def told() -> None:
            while "saw 3" not in seen and "gave up" not in seen:
                message = await tab.read_message(EVENT_WAIT)
                if message.msgtype == PATCH_DOC:
                    for event in message.content["events"]:
                        if event.get("model", {}).get("id") == status and event.get("attr") == "text":
                            seen.append(event["new"])

        await told()
        assert seen[-1] == "saw 3"  # the locked callback's change reached the browser
    finally:
        await tab.close()


async def test_a_timeout_callback_fires_once_and_is_gone(shared_bokeh_site: Site) -> None:
    # bokeh.md: doc.add_timeout_callback works as in bokeh serve: it runs once, after its
    # delay, and leaves the document's callbacks (the unlocked one is gone by then, or not).
    session = Session(shared_bokeh_site, "bk_unlocked")
    tab = await session.tab()
    try:
        timed: list[str] = []

        async def read() -> None:
            doc = await tab.document()
            timed[:] = [
                d["attributes"].get("text") for d in definitions(doc) if d.get("attributes", {}).get("name") == "timed"
            ]

        for _ in range(600):  # a bound against hanging: 600 pulls
            await read()
            if timed != ["not yet"]:
                break
            await asyncio.sleep(0.1)
        assert timed and timed[0].startswith("fired; callbacks left: "), timed
        assert int(timed[0].rsplit(" ", 1)[1]) <= 1  # itself gone; at most the unlocked one waits on
        # Let the app's unlocked callback end (it waits for this), so that nothing of this
        # session is left running for its expiry to wait on.
        change = {
            "kind": "ModelChanged",
            "model": {"id": named(await tab.document(), "slider")},
            "attr": "value",
            "new": 1,
        }
        assert (await tab.patch([change])).msgtype == "OK"
    finally:
        await tab.close()
