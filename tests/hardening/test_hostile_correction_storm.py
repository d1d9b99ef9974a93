"""A stranger of a room cannot flood every other tab with corrections of its refused patches.

Each refused (or lost) change is corrected for every connection of the session: the
current value of what it touched, up to 256 KiB a patch (MAX_CORRECTION_BYTES). A
stranger of a shared room grew the room's source to 160 KB (its data is client-writable),
then sent 190 refused cell patches at once (33 KB) and closed its socket: each was
corrected for every other tab, 31 MB each, and a tab reading 4 MB/s was closed 4009
(docsync's default limits, daphne). The corrections of all the session's clients together
now take at most 4 x MAX_CORRECTION_BYTES at once, then MAX_CORRECTION_BYTES a second
(protocol.md §13): past that the sender is reset instead, alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
import websockets

from docsync.protocol import OK, PATCH_DOC, Message
from docsync.sync.sequencer import CORRECTION_BURST, MAX_CORRECTION_BYTES
from docsync.testing import EVENT_WAIT

from .harness import Site, canonical, pull_json, set_value_patch
from .hostile import Victim, patch

pytestmark = pytest.mark.asyncio

ROWS = 1500


def refused_cell(source: str, base: int) -> Message:
    """A cell patch out of range: refused, and the column corrected."""
    return patch(
        [{"kind": "ColumnsPatched", "model": {"id": source}, "attr": "data", "patches": {"s": [[10**6, "z"]]}}],
        base=base,
    )


async def test_refused_patches_of_a_large_column_are_not_corrected_for_everyone(default_site: Site) -> None:
    victim = await Victim.open(default_site, "hostile_room")
    try:
        source, slider = victim.model_id("source"), victim.model_id("slider")
        grower = await victim.raw()
        try:
            base = (await grower.pull()).content["seq"]
            data = {"x": [float(i) for i in range(ROWS)], "s": ["y" * 100 for _ in range(ROWS)]}
            grown = await grower.request(
                patch([{"kind": "ModelChanged", "model": {"id": source}, "attr": "data", "new": data}], base=base)
            )
            assert grown.msgtype == OK, grown.content
            base = grown.content["applied_seq"]
        finally:
            await grower.close()
        # Another tab of the room, which reads everything it is sent.
        tab = await victim.raw()
        await tab.pull()
        received: list[tuple[int, Message]] = []

        async def read() -> None:
            with contextlib.suppress(websockets.ConnectionClosed):
                while True:
                    message = await tab.read_message(EVENT_WAIT * 10)
                    received.append((sum(len(f) for f in message.to_frames()), message))

        reader = asyncio.ensure_future(read())
        before = await pull_json(victim.config)
        started = time.monotonic()
        attacker = await victim.raw()
        frames: list[str | bytes] = []
        for _ in range(190):
            message = refused_cell(source, base)
            frames += [f if isinstance(f, str | bytes) else bytes(f) for f in message.to_frames()]
        await attacker.send_frames(*frames)
        await attacker.socket.close()
        # A change after them: the tab has been sent everything before it when it sees it.
        other = await victim.raw()
        try:
            assert (await other.request(set_value_patch(slider, "value", 7.0))).msgtype == OK
        finally:
            await other.close()

        def saw_value() -> bool:
            return any(
                m.msgtype == PATCH_DOC and any(e.get("new") == 7.0 for e in m.content["events"]) for _, m in received
            )

        deadline = time.monotonic() + EVENT_WAIT * 10
        while not saw_value() and not reader.done() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
        assert not reader.done(), f"the tab was closed: {tab.close_code} {tab.close_reason}"
        reader.cancel()
        await tab.close()
        sent = sum(size for size, m in received if m.msgtype == PATCH_DOC)
        # The bucket, and what it refilled meanwhile (and the slider's patch); before, 190 x 164 KB.
        bound = (CORRECTION_BURST + 1 + elapsed) * MAX_CORRECTION_BYTES
        assert sent <= bound, f"{sent} bytes of corrections sent to another tab, more than {bound:.0f}"
        # Nothing of the refused patches was applied: the document is as it was, but the slider.
        for model in before["models"]:
            if model["id"] == slider:
                model["attributes"]["value"] = 7.0
        assert canonical(await pull_json(victim.config)) == canonical(before)
        victim.before = await victim.document_bytes()
        await victim.assert_unharmed()
    finally:
        await victim.close()
