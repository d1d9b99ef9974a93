"""An ERROR's text is short whatever the refused patch names, and so is what the session remembers of it.

A refused PATCH-DOC's ERROR is remembered (``REMEMBERED_ANSWERS`` per session) so that a
resend is answered alike. Its text named client-chosen strings in full: a ColumnsPatched
of an unknown column 60,000 characters long, or a stream of many unknown columns, was
answered (and remembered) with all of it, so that 1,000 refusals held ~1,000 frames' worth
of text in one session (at b4124b0, 60,035 characters for one). Against a real server
(daphne, then uvicorn) with 64 KiB frames: the text is at most ``MAX_ERROR_TEXT``
characters, the resend is answered with the same text, and the document is unchanged.
"""

from __future__ import annotations

import pytest

from docsync.protocol import ERROR
from docsync.sync.sequencer import MAX_ERROR_TEXT

from .conftest import main_site_on_each_server
from .hostile import Victim, patch

pytestmark = pytest.mark.asyncio

site = main_site_on_each_server("error-text-bound")

LONG = "c" * 60_000


@pytest.mark.parametrize("case", ["patched column", "streamed columns"])
async def test_a_refusal_naming_a_long_client_string_is_answered_and_remembered_short(
    victim: Victim, case: str
) -> None:
    source = {"id": victim.model_id("source")}
    if case == "patched column":
        event = {"kind": "ColumnsPatched", "model": source, "attr": "data", "patches": {LONG: [[0, 1.0]]}}
    else:
        extra = {f"{n:05}" + "c" * 10: [1.0] for n in range(1_500)}  # many short unknown columns
        event = {"kind": "ColumnsStreamed", "model": source, "attr": "data", "data": extra, "rollover": None}
    message = patch([event])
    sock = await victim.raw()
    try:
        first = await sock.request(message)
        assert first.msgtype == ERROR and first.content["code"] == "patch-refused", first.content
        text = str(first.content["text"])
        assert len(text) <= MAX_ERROR_TEXT, f"{len(text)} characters"
        assert text.startswith("cannot patch unknown column 'ccc" if case == "patched column" else "stream must")
        again = await sock.request(message)  # the same msgid: the remembered answer
        assert (again.msgtype, again.content) == (ERROR, first.content)
    finally:
        await sock.close()
    await victim.assert_unharmed()
