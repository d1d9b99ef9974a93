"""A 0-d array where a column's rows are due (a patched slice, a stream) is refused, not a 1011.

Found by the frame fuzzer's arrays (seed 1000, ``DOCSYNC_FUZZ_SEED``): a ColumnsPatched
slice whose value was ``{"type": "ndarray", "shape": [], ...}`` raised TypeError (``len()
of unsized object``) in the patch check, and a stream of one into a list column did too
(``tolist()`` of it is a scalar): the server closed the connection 1011 with no ERROR.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pytest

from docsync.protocol import ERROR

from .harness import Site
from .hostile import Victim, patch

SLICE = {"type": "slice", "start": 0, "stop": 1, "step": 1}


def zero_d(value: float) -> dict[str, Any]:
    """A 0-d float64 array as a client writes it (one value, shape ``[]``)."""
    payload = base64.b64encode(np.float64(value).tobytes()).decode()
    return {"type": "ndarray", "base64": payload, "dtype": "float64", "shape": [], "order": "little"}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("event", "text"),
    [
        # x is a float64 array column, s a list of strings (the hostile app's source).
        ({"kind": "ColumnsPatched", "patches": {"x": [[SLICE, zero_d(7.0)]]}}, "patch slice of column 'x' needs 1"),
        ({"kind": "ColumnsPatched", "patches": {"s": [[SLICE, zero_d(7.0)]]}}, "patch slice of column 's' needs 1"),
        (
            {"kind": "ColumnsStreamed", "data": {"x": [1.0], "s": zero_d(7.0)}, "rollover": None},
            "streamed column 's' must be rows, got a 0-d array",
        ),
    ],
    ids=["slice of an array column", "slice of a list column", "stream into a list column"],
)
async def test_a_0d_array_for_rows_is_refused_and_changes_nothing(
    site: Site, victim: Victim, event: dict[str, Any], text: str
) -> None:
    log_start = len(site.log_text())
    source = victim.model_id("source")
    sock = await victim.raw()
    try:
        reply = await sock.request(patch([{**event, "model": {"id": source}, "attr": "data"}]))
    finally:
        await sock.close()
    assert reply.msgtype == ERROR and reply.content["code"] == "patch-refused", reply.content
    assert text in reply.content["text"], reply.content
    await victim.assert_unharmed()  # byte-identical, and a valid patch that follows is applied
    log = site.log_text()[log_start:]
    assert "Traceback" not in log and "Exception inside application" not in log, log[-2000:]
