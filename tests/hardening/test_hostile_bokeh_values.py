"""Values a BokehJS-dialect client shapes oddly: refused with ``patch-refused``, the session unharmed.

A model defined under an id that is not a string (a number) reached docsync's id checks
as an AttributeError, and one without a value for a property that has no default (a
``Slider`` with no ``start``) as Bokeh's UnsetValueError: answered `callback error`, with
a traceback logged as the app's.

Bokeh writes every dict back as a map (``{"type": "map", "entries": [[key, value]]}``,
three JSON levels), whatever the client sent: a plain JSON object is one. A value of 85
nested objects fit a frame's 128 levels, was taken into a model's ``tags`` (or a data
column), and every pull of the session then failed to encode it (orjson writes at most
255 levels): each new or reconnecting tab was closed with 1011 and the server logged a
traceback. Against a real daphne serving the gallery's sliders app: such a value is
refused, the document (pulled afresh) is byte-identical, and the deepest value taken is
still pulled.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import websockets

from docsync.protocol import ERROR, OK, pull_doc_req

from .harness import Site
from .test_hostile_bokeh import Tab, find

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def bokeh_site(shared_stock_bokeh_site: Site) -> Site:
    return shared_stock_bokeh_site  # this worker's, shared with the other modules on it


@pytest_asyncio.fixture
async def tab(bokeh_site: Site) -> AsyncIterator[Tab]:
    yield await Tab.open(bokeh_site)


def objects(count: int, leaf: Any = 1) -> Any:
    """``count`` plain JSON objects, each the only value of the one before."""
    value = leaf
    for _ in range(count):
        value = {"a": value}
    return value


async def deep_pull(tab: Tab) -> dict[str, Any]:
    """A pull read as BokehJS reads it (JSON.parse knows no 128-level bound): the document's JSON."""
    async with websockets.connect(tab.url, subprotocols=["bokeh", tab.token], max_size=None) as socket:  # type: ignore[list-item]
        for _ in range(3):  # the ACK
            await socket.recv()
        for frame in pull_doc_req().to_frames():
            await socket.send(frame)
        header, _, content = [json.loads(await socket.recv()) for _ in range(3)]
        assert header["msgtype"] == "PULL-DOC-REPLY" and not header.get("num_buffers"), header
        return content["doc"]  # type: ignore[no-any-return]


async def refused(bokeh_site: Site, tab: Tab, events: list[dict[str, Any]], why: str) -> None:
    logged = len(bokeh_site.log_text())
    text, _ = await tab.pull()
    reply = await tab.send(events)
    assert reply.msgtype == ERROR, f"accepted: {why}"
    assert reply.content["code"] == "patch-refused" and why in reply.content["text"], reply.content
    assert (await tab.pull())[0] == text, "a refused patch changed the document"
    assert "Traceback" not in bokeh_site.log_text()[logged:]


async def test_values_nested_past_what_a_pull_writes_are_refused(bokeh_site: Site, tab: Tab) -> None:
    _, doc = await tab.pull()
    offset, source = find(doc, "Slider", "offset")["id"], find(doc, "ColumnDataSource")["id"]
    deep = "value nested deeper than 128 JSON levels"

    def change(model: str, attr: str, new: Any) -> dict[str, Any]:
        return {"kind": "ModelChanged", "model": {"id": model}, "attr": attr, "new": new}

    await refused(bokeh_site, tab, [change(offset, "tags", [objects(85)])], deep)  # 1011 on every pull before
    await refused(bokeh_site, tab, [change(source, "data", {"x": [objects(80)], "y": [1.0]})], deep)
    ndarray = {"type": "ndarray", "array": [objects(80)], "dtype": "object", "order": "little", "shape": [1]}
    await refused(bokeh_site, tab, [change(offset, "tags", [ndarray])], deep)
    # Inside a model the client defines: its attributes are as deep as it is.
    div = {"type": "object", "name": "Div", "id": "deep-div", "attributes": {"tags": [objects(85)]}}
    await refused(bokeh_site, tab, [{"kind": "RootAdded", "model": div}], deep)
    # A number's value is a string or a number: Bokeh took anything else undecoded.
    number = {"type": "number", "value": objects(100)}
    await refused(bokeh_site, tab, [change(offset, "tags", [number])], "invalid number")
    # The deepest value taken, in a model's tags and in a new model's: every pull still encodes it.
    div["attributes"] = {"tags": [objects(39)]}
    taken = [change(offset, "tags", [objects(40)]), {"kind": "RootAdded", "model": div}]
    reply = await tab.send(taken)
    assert reply.msgtype == OK, reply.content
    tags = find(await deep_pull(tab), "Slider", "offset")["attributes"]["tags"]
    assert json.dumps(tags).count('"map"') == 40
    assert (await deep_pull(await Tab.open(bokeh_site)))["roots"], "a fresh session did not load"


@pytest.mark.parametrize("model_id", [7, 1.5])
async def test_a_model_defined_under_an_id_that_is_not_a_string_is_refused(
    bokeh_site: Site, tab: Tab, model_id: object
) -> None:
    """Bokeh made the model; docsync's id checks then failed (AttributeError), answered as the app's callback error."""
    div = {"type": "object", "name": "Div", "id": model_id, "attributes": {"text": "hi"}}
    await refused(bokeh_site, tab, [{"kind": "RootAdded", "model": div}], "a model's id is a string")
    _, doc = await tab.pull()
    offset = find(doc, "Slider", "offset")["id"]
    tagged = {"kind": "ModelChanged", "model": {"id": offset}, "attr": "tags", "new": [div]}
    await refused(bokeh_site, tab, [tagged], "a model's id is a string")


async def test_a_model_defined_under_an_id_past_its_bound_is_refused(bokeh_site: Site, tab: Tab) -> None:
    """A 16 KiB id was taken (a pull writes it at every reference to the model): 128 characters at most."""
    for length in (129, 16 * 1024):
        div = {"type": "object", "name": "Div", "id": "d" * length, "attributes": {"text": "hi"}}
        why = f"model id too long: {length} > 128 characters"
        await refused(bokeh_site, tab, [{"kind": "RootAdded", "model": div}], why)
    div = {"type": "object", "name": "Div", "id": "d" * 128, "attributes": {"text": "hi"}}
    assert (await tab.send([{"kind": "RootAdded", "model": div}])).msgtype == OK


@pytest.mark.parametrize("name", ["Slider", "GlyphRenderer"])
async def test_a_model_defined_without_its_required_values_is_refused(bokeh_site: Site, tab: Tab, name: str) -> None:
    """Bokeh made it, then could not serialize it: docsync's checks raised UnsetValueError, logged as the app's."""
    bare = {"type": "object", "name": name, "id": f"bare-{name}"}
    await refused(bokeh_site, tab, [{"kind": "RootAdded", "model": bare}], "incomplete model")
    _, doc = await tab.pull()
    offset = find(doc, "Slider", "offset")["id"]
    tagged = {"kind": "ModelChanged", "model": {"id": offset}, "attr": "tags", "new": [bare]}
    await refused(bokeh_site, tab, [tagged], "incomplete model")
    if name == "Slider":  # with its values, the same model is taken
        bare["attributes"] = {"start": 0, "end": 1, "value": 0}
        assert (await tab.send([{"kind": "RootAdded", "model": bare}])).msgtype == OK


@pytest.mark.parametrize(
    ("value", "why"),
    [
        # Bokeh decodes no object but a model: without an id it raised NotImplementedError, whose text is empty.
        ({"type": "object"}, "an object without an id is not a model: None"),
        ({"type": "object", "name": "Value", "attributes": {}}, "an object without an id is not a model: 'Value'"),
        # A typed value missing a field raised KeyError, whose text is the field alone ("bad patch: 'start'").
        ({"type": "slice", "stop": 1}, """missing field 'start' in a {"type": "slice"} value"""),
        (
            {"type": "ndarray", "array": [1.0], "dtype": "float64", "order": "little"},
            """missing field 'shape' in a {"type": "ndarray"} value""",
        ),
        # Bokeh reshapes only to 2+ dimensions: a (1, 0) array failed its encoding (TypeError,
        # "callback error"); 3 items declared as 5 were taken as 3.
        (
            {"type": "ndarray", "array": [[]], "dtype": "float64", "order": "little", "shape": [1]},
            "ndarray of shape [1] holds 0 items as (1, 0)",
        ),
        (
            {"type": "ndarray", "array": [1.0, 2.0, 3.0], "dtype": "float64", "order": "little", "shape": [5]},
            "ndarray of shape [5] holds 3 items as (3,)",
        ),
        # Any order but "big" was read as byte-swapped: 1.0 taken as 3.04e-319.
        (
            {
                "type": "ndarray",
                "array": {"type": "bytes", "data": "AAAAAAAA8D8="},
                "dtype": "float64",
                "order": 5,
                "shape": [1],
            },
            "ndarray order must be 'little' or 'big', got 5",
        ),
    ],
)
async def test_a_value_bokeh_cannot_decode_is_refused_with_what_was_wrong(
    bokeh_site: Site, tab: Tab, value: Any, why: str
) -> None:
    _, doc = await tab.pull()
    offset = find(doc, "Slider", "offset")["id"]
    await refused(
        bokeh_site, tab, [{"kind": "ModelChanged", "model": {"id": offset}, "attr": "tags", "new": [value]}], why
    )


@pytest.mark.parametrize("model", [None, "p1001", 5, {}])
@pytest.mark.parametrize(
    "event",
    [
        {"kind": "ModelChanged", "attr": "value", "new": 0.5},
        {"kind": "ColumnDataChanged", "attr": "data", "data": {"x": [1.0]}},
        {"kind": "ColumnsStreamed", "attr": "data", "data": {"x": [1.0], "y": [1.0]}, "rollover": None},
        {"kind": "ColumnsPatched", "attr": "data", "patches": {"x": [[0, 1.0]]}},
    ],
)
async def test_an_event_whose_model_is_not_a_reference_is_refused_saying_so(
    bokeh_site: Site, tab: Tab, model: Any, event: dict[str, Any]
) -> None:
    """A ``model`` that is no ``{"id": ...}`` was answered `unknown property 'value' of NoneType`."""
    why = f'{event["kind"]} event\'s model must be a model reference {{"id": ...}}, got {model!r}'
    await refused(bokeh_site, tab, [{**event, "model": model}], why)
