"""A BokehJS-dialect patch cannot make the server allocate far more than it sent.

Bokeh's deserializer reads ``{"type": "bytes", "data": <str>}`` as gzip'd base64 and
inflated it without bound (a 1 MiB frame became 1 GiB in the server process), took an
ndarray's ``dtype`` as numpy does (``"(25000000,)f8"``: 200 MB per item of a list), and made
every model a message defines before anything counted them. Against a real daphne
serving the gallery's sliders app over raw BokehJS-protocol websockets: each such patch
is refused ``patch-refused`` with its reason, the process's peak RSS (``VmHWM``) grows by
far less than the patch would have inflated to, the document is byte-identical
afterwards, and a well-formed patch carrying gzip'd arrays (what Bokeh's own serializer
writes inline) is still applied.
"""

from __future__ import annotations

import base64
import gzip
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio

from docsync.protocol import ERROR, OK

from .harness import Database, Site, running_site
from .test_hostile_bokeh import Tab, find

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
pytestmark = pytest.mark.asyncio

MiB = 1024 * 1024
#: What a refused patch may raise the process's peak RSS by (its frames, Bokeh's work).
GROWTH_ALLOWED = 128 * MiB


@pytest.fixture(scope="module")
def bokeh_site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    yield from running_site(tmp_path_factory, database, "bokeh-bombs", DJANGO_SETTINGS_MODULE="tests.bokeh.settings")


@pytest_asyncio.fixture
async def tab(bokeh_site: Site) -> AsyncIterator[Tab]:
    yield await Tab.open(bokeh_site)


def peak_rss(site: Site) -> int:
    """The server process's peak resident set (VmHWM), in bytes."""
    for line in Path(f"/proc/{site.server.serving_pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def gzip_bomb(inflated: int) -> str:
    """base64 of gzip members that inflate to ``inflated`` zero bytes (gzip.decompress reads every member)."""
    member = gzip.compress(b"\0" * (16 * MiB), compresslevel=9)
    assert inflated % (16 * MiB) == 0
    return base64.b64encode(member * (inflated // (16 * MiB))).decode()


def set_value(model_id: str, new: Any) -> dict[str, Any]:
    return {"kind": "ModelChanged", "model": {"id": model_id}, "attr": "value", "new": new}


async def refused_with_bounded_memory(site: Site, tab: Tab, events: list[dict[str, Any]], reason: str) -> None:
    """Send ``events``: refused naming ``reason``, the peak RSS barely moved, the document as before."""
    text, _ = await tab.pull()
    before = peak_rss(site)
    reply = await tab.send(events)
    growth = peak_rss(site) - before
    assert growth < GROWTH_ALLOWED, f"the server's peak RSS grew by {growth / MiB:.0f} MiB for a refused patch"
    assert reply.msgtype == ERROR, reply.content
    assert reply.content["code"] == "patch-refused" and reason in reply.content["text"], reply.content
    assert (await tab.pull())[0] == text, "a refused patch changed the document"


async def test_a_gzip_bomb_is_refused_before_it_inflates(bokeh_site: Site, tab: Tab) -> None:
    _, doc = await tab.pull()
    offset = find(doc, "Slider", "offset")["id"]
    bomb = {"type": "bytes", "data": gzip_bomb(512 * MiB)}  # about 700 KB of base64
    await refused_with_bounded_memory(bokeh_site, tab, [set_value(offset, bomb)], "inflate past")
    # Inside an ndarray, as Bokeh's own inline arrays are.
    array = {"type": "ndarray", "array": bomb, "dtype": "float64", "shape": [64 * MiB], "order": sys.byteorder}
    await refused_with_bounded_memory(bokeh_site, tab, [set_value(offset, array)], "inflate past")


async def test_an_ndarray_names_only_a_dtype_bokeh_writes(bokeh_site: Site, tab: Tab) -> None:
    _, doc = await tab.pull()
    offset = find(doc, "Slider", "offset")["id"]
    # A sub-array dtype: numpy fills 25,000,000 float64 per item of a two-item list (400 MB).
    wide = {"type": "ndarray", "array": [1.0, 2.0], "dtype": "(25000000,)f8", "shape": [2], "order": "little"}
    await refused_with_bounded_memory(bokeh_site, tab, [set_value(offset, wide)], "dtype not allowed")
    for dtype in ("U50000000", "i4,i4", {"names": ["a"], "formats": ["f8"]}, ["f8"], None):
        odd = {"type": "ndarray", "array": [1.0], "dtype": dtype, "shape": [1], "order": "little"}
        await refused_with_bounded_memory(bokeh_site, tab, [set_value(offset, odd)], "dtype not allowed")


async def test_a_patch_defining_more_models_than_clients_may_make_is_refused_before_they_are_made(
    bokeh_site: Site, tab: Tab
) -> None:
    _, doc = await tab.pull()
    offset = find(doc, "Slider", "offset")["id"]
    divs = [{"type": "object", "name": "Div", "id": f"bomb{i}", "attributes": {"text": "x"}} for i in range(20_000)]
    await refused_with_bounded_memory(bokeh_site, tab, [set_value(offset, divs)], "too many models created by clients")


async def test_gzipped_arrays_bokeh_writes_are_still_taken(tab: Tab) -> None:
    text, doc = await tab.pull()
    source = find(doc, "ColumnDataSource")
    columns = dict(source["attributes"]["data"]["entries"])
    row = {}
    for name in columns:
        payload = base64.b64encode(gzip.compress(np.array([0.25], dtype=np.float64).tobytes())).decode()
        data = {"type": "bytes", "data": payload}
        row[name] = {"type": "ndarray", "array": data, "dtype": "float64", "shape": [1], "order": sys.byteorder}
    stream = {"kind": "ColumnsStreamed", "model": {"id": source["id"]}, "attr": "data", "data": row, "rollover": None}
    reply = await tab.send([stream])
    assert reply.msgtype == OK, reply.content
    after, _ = await tab.pull()
    assert after != text
