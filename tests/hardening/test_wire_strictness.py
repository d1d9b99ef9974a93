"""Values and events shaped against docs/protocol.md's wire format: refused, the session unharmed.

Found by a client written from the protocol document alone (helper-139's review),
against a real daphne (the main hardening site).
"""

from __future__ import annotations

import base64

import numpy as np
import pytest

from docsync.protocol import PATCH_DOC, new_message

from .hostile import Victim

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("kind", ["ndarray", "bytes"])
async def test_a_binary_value_with_both_a_buffer_and_base64_is_refused(victim: Victim, kind: str) -> None:
    """§7: a value has ``buffer`` or ``base64``, never both.

    Before, the server took the buffer and ignored the base64 (the browser client did
    the same): a sender's two copies of the bytes could disagree and one was dropped
    unread, the patch answered OK.
    """
    in_buffer = np.arange(4.0)
    in_base64 = base64.b64encode(np.full(4, 7.0).tobytes()).decode()
    value: dict[str, object] = {"type": kind, "buffer": "0", "base64": in_base64}
    if kind == "ndarray":
        value.update(dtype="float64", shape=[4], order="little")
        event = {"kind": "ColumnDataChanged", "model": {"id": victim.model_id("source")}, "attr": "data"}
        event["columns"] = {"x": value}
    else:
        event = {"kind": "ModelChanged", "model": {"id": victim.model_id("text")}, "attr": "value", "new": value}
    message = new_message(PATCH_DOC, {"events": [event], "references": []}, buffers=[("0", in_buffer.tobytes())])
    text = await victim.refused(message, code="patch-refused")
    assert text == "binary value with both 'buffer' and 'base64'"
    await victim.assert_unharmed()


@pytest.mark.parametrize("kind", ["ModelChanged", "RootRemoved"])
async def test_an_event_whose_model_reference_has_another_key_is_refused(victim: Victim, kind: str) -> None:
    """§5: a reference is exactly ``{"id": ...}``; with another key it names no model.

    Before, the server read ``{"id": <slider>, "x": 1}`` as the slider and applied the
    change (OK), while a value of that shape is a plain mapping (§6).
    """
    ref = {"id": victim.model_id("slider" if kind == "ModelChanged" else "root"), "x": 1}
    event: dict[str, object] = {"kind": kind, "model": ref}
    if kind == "ModelChanged":
        event.update(attr="value", new=12345.0)
    message = new_message(PATCH_DOC, {"events": [event], "references": []})
    text = await victim.refused(message, code="patch-refused")
    assert text.startswith("event without a model reference: "), text
    await victim.assert_unharmed()
