"""A BokehJS-dialect patch is applied whole or not at all, whatever its events' kinds.

Bokeh applies a patch's events one by one and checks a stream or a cell patch only
when it reaches it: a bad one after a good change left the change applied (and its
callbacks run) and answered ERROR. Against a real daphne serving the Bokeh gallery's
sliders app: each bad patch is refused and the document, pulled afresh, is
byte-identical; a good patch that follows is applied.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import websockets

from docsync.protocol import ERROR, OK, PULL_DOC_REPLY, new_message, pull_doc_req
from docsync.testing import RawSocket

from .harness import Site

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def bokeh_site(shared_stock_bokeh_site: Site) -> Site:
    return shared_stock_bokeh_site  # this worker's, shared with the other modules on it


def find(node: Any, name: str, title: str | None = None) -> dict[str, Any]:
    """The first model definition of type ``name`` (with that ``title``) in Bokeh's document JSON."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            attributes = item.get("attributes", {})
            if item.get("name") == name and (title is None or attributes.get("title") == title):
                return item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    raise KeyError(name)


class Tab:
    """A raw BokehJS-protocol connection to one session of the sliders app."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token

    @classmethod
    async def open(cls, site: Site) -> Tab:
        """A new session of the sliders app, as its page makes it (the first pull made)."""
        page = site.browser().get("bk_sliders/")
        assert page.status == 200, page.body[:300]
        token = re.search(r'"token":\s*"([^"]+)"', page.body)
        assert token, "no Bokeh token in the page"
        made = cls(f"ws://{site.host}/bk_sliders/ws", token.group(1))
        await made.pull()  # the session exists; later pulls are alike (arrays inline)
        return made

    async def connect(self) -> RawSocket:
        socket = await websockets.connect(self.url, subprotocols=["bokeh", self.token], max_size=None)  # type: ignore[list-item]
        sock = RawSocket(socket)
        assert (await sock.read_message()).msgtype == "ACK"
        return sock

    async def pull(self) -> tuple[str, dict[str, Any]]:
        """The document as a pull carries it: its content frame's text, and its JSON."""
        sock = await self.connect()
        try:
            reply = await sock.request(pull_doc_req())
            assert reply.msgtype == PULL_DOC_REPLY
            return reply.to_frames()[2], reply.content["doc"]  # type: ignore[return-value]
        finally:
            await sock.close()

    async def send(self, events: list[dict[str, Any]]) -> Any:
        sock = await self.connect()
        try:
            return await sock.request(new_message("PATCH-DOC", {"events": events}))
        finally:
            await sock.close()


@pytest_asyncio.fixture
async def tab(bokeh_site: Site) -> AsyncIterator[Tab]:
    yield await Tab.open(bokeh_site)


def bad_events(source: str) -> list[dict[str, Any]]:
    def cells(patches: Any) -> dict[str, Any]:
        return {"kind": "ColumnsPatched", "model": {"id": source}, "attr": "data", "patches": patches}

    def stream(data: Any, rollover: Any = None) -> dict[str, Any]:
        return {"kind": "ColumnsStreamed", "model": {"id": source}, "attr": "data", "data": data, "rollover": rollover}

    window = {"type": "slice", "start": 0, "stop": 4, "step": 1}
    return [
        cells({"x": [[10**6, 0.0]]}),  # out of range
        cells({"x": [[0, "not a number"]]}),  # a float column's cell
        cells({"x": [[window, [1.0]]]}),  # four cells, one value
        # One cell, but a stop past the column's end: Bokeh refuses it only while applying.
        cells({"x": [[{"type": "slice", "start": 0, "stop": 10**6, "step": 10**6}, [1.0]]]}),
        cells({"nope": [[0, 1.0]]}),  # no such column
        stream({"x": [1.0]}),  # not every column
        stream({"x": [1.0], "y": [1.0, 2.0]}),  # unequal lengths
        stream({"x": [1.0], "y": [1.0]}, rollover=-1),
        {"kind": "ColumnDataChanged", "model": {"id": source}, "attr": "data", "data": 5, "cols": ["x"]},
        {"kind": "TitleChanged", "title": 5},
        {"kind": "TitleChanged", "title": "t", "extra": 1},
        {"kind": "Nonsense"},
        # Bokeh triggers a bokeh_event's data as an event: anything else failed once applied.
        {"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": 5},
        {"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": {"type": "map", "entries": [["a", 1]]}},
        {"kind": "MessageSent", "msg_type": "bokeh_event"},
        # Bokeh makes a message's event with its msg_data: without one it raised TypeError once applied.
        {"kind": "MessageSent", "msg_type": "hello"},
        # An event's kind or attr decoded to an array: compared with the kinds, it raised ValueError.
        {"kind": {"type": "ndarray", "array": [1, 2], "dtype": "int32", "order": "little", "shape": [2]}},
        {
            **stream({"x": [1.0], "y": [1.0]}),
            "attr": {"type": "ndarray", "array": [1, 2], "dtype": "int32", "order": "little", "shape": [2]},
        },
    ]


async def test_a_bad_event_after_a_good_change_refuses_the_whole_patch(tab: Tab) -> None:
    text, doc = await tab.pull()
    offset, source = find(doc, "Slider", "offset")["id"], find(doc, "ColumnDataSource")["id"]
    good = {"kind": "ModelChanged", "model": {"id": offset}, "attr": "value", "new": 0.5}
    for bad in bad_events(source):
        reply = await tab.send([good, bad])
        assert reply.msgtype == ERROR, (bad, reply.content)
        assert reply.content["code"] == "patch-refused" and "callback error" not in reply.content["text"], reply.content
        assert (await tab.pull())[0] == text, f"{bad} left part of its patch applied"
    reply = await tab.send([good])
    assert reply.msgtype == OK, reply.content
    _, after = await tab.pull()
    assert find(after, "Slider", "offset")["attributes"]["value"] == 0.5


async def test_a_stream_or_cell_patch_is_checked_as_the_events_before_it_leave_the_source(tab: Tab) -> None:
    """Checked against the source as it was, these failed only while applied: the events before them stayed."""
    text, doc = await tab.pull()
    offset, source = find(doc, "Slider", "offset")["id"], find(doc, "ColumnDataSource")["id"]
    good = {"kind": "ModelChanged", "model": {"id": offset}, "attr": "value", "new": 0.75}

    def data(columns: dict[str, Any]) -> dict[str, Any]:
        return {"kind": "ColumnDataChanged", "model": {"id": source}, "attr": "data", "data": columns}

    cell = {"kind": "ColumnsPatched", "model": {"id": source}, "attr": "data", "patches": {"x": [[5, 2.0]]}}
    rows = {"x": [1.0], "y": [1.0]}
    stream = {"kind": "ColumnsStreamed", "model": {"id": source}, "attr": "data", "data": rows, "rollover": 1}
    whole = {"kind": "ModelChanged", "model": {"id": source}, "attr": "data", "new": rows}
    for events in (
        [good, data(rows), cell],  # the rows shrank: cell 5 is gone
        [good, whole, cell],
        [good, data({"q": [1.0]}), stream],  # not the source's columns any more
        [good, stream, cell],  # a stream, then a cell patch: each in a patch of its own
    ):
        reply = await tab.send(events)
        assert reply.msgtype == ERROR, (events, reply.content)
        assert reply.content["code"] == "patch-refused" and "callback error" not in reply.content["text"], reply.content
        assert (await tab.pull())[0] == text, f"{events} left part of its patch applied"
    # Checked against the new rows, a cell patch after them is applied.
    reply = await tab.send([good, data({"x": [0.0] * 6, "y": [0.0] * 6}), cell])
    assert reply.msgtype == OK, reply.content
    columns = dict(find((await tab.pull())[1], "ColumnDataSource")["attributes"]["data"]["entries"])
    assert columns["x"] == [0.0] * 5 + [2.0], columns


async def test_rows_streamed_into_an_array_column_are_values_it_holds(tab: Tab) -> None:
    """BokehJS keeps a column's typed array when rows are streamed into it; numpy's append promotes the column instead.

    A string streamed into the float column was taken: every row of the server's column
    became a string ("0.0", ...) while the other tabs' Float64Array held NaN for it: the
    session no longer converged, and a tab that reconnected drew nothing.
    """
    text, doc = await tab.pull()
    source = find(doc, "ColumnDataSource")["id"]

    def stream(x: list[Any]) -> dict[str, Any]:
        data = {"x": x, "y": [1.0] * len(x)}
        return {"kind": "ColumnsStreamed", "model": {"id": source}, "attr": "data", "data": data, "rollover": None}

    nan = {"type": "number", "value": "nan"}
    for bad in ([1.0, "a"], [None], [{"type": "map", "entries": []}], [[1.0, 2.0]]):
        reply = await tab.send([stream(bad)])
        assert reply.msgtype == ERROR, f"streamed {bad}"
        assert "must be numbers its float64 array holds" in reply.content["text"], reply.content
        assert (await tab.pull())[0] == text
    # Numbers are streamed: integers, booleans and NaN are float64 values.
    reply = await tab.send([stream([1, True, nan, 0.5])])
    assert reply.msgtype == OK, reply.content
    _, after = await tab.pull()
    x = dict(find(after, "ColumnDataSource")["attributes"]["data"]["entries"])["x"]
    assert (x["dtype"], x["shape"]) == ("float64", [204]), x


async def test_a_patch_of_too_many_events_is_refused_whole(tab: Tab) -> None:
    """Each event may run the app's callbacks under the session's lock: 1,000 at most, as in docsync's dialect."""
    text, doc = await tab.pull()
    offset = find(doc, "Slider", "offset")["id"]
    events = [{"kind": "ModelChanged", "model": {"id": offset}, "attr": "value", "new": i / 2000} for i in range(1001)]
    reply = await tab.send(events)
    assert reply.msgtype == ERROR, "a patch of 1,001 events was applied"
    assert reply.content == {"text": "too many events in one patch: 1001 > 1000", "code": "patch-refused"}
    assert (await tab.pull())[0] == text
