"""A BokehJS-dialect client cannot nest the document's models past what a pull can encode, nor make a cycle.

A pull writes each model inline where it is first met: a chain of models nests as deep
as it is long, and Bokeh's serializer (Python's recursion) and orjson (255 levels) give
up on long ones. Each patch's frame is within the 128-level JSON bound, but a client
could add one chain of 40 Columns to the end of another, patch after patch: after three,
every pull of the session (each new or reconnecting tab) was closed with 1011.
Against a real daphne serving the gallery's sliders app: a patch that would nest the
document past MAX_NESTING (new models or existing ones joined) is refused and changes
nothing; shallower ones, side by side, are applied; the pull keeps working. A patch
that makes a model its own descendant (a cycle: BokehJS never finished loading such a
document, tests/e2e/test_bokeh_hostile_cycle.py) is refused the same way.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from docsync.protocol import ERROR, OK

from .harness import Site
from .test_hostile_bokeh import Tab, find

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
pytestmark = pytest.mark.asyncio

_ids = itertools.count()


@pytest.fixture(scope="module")
def bokeh_site(shared_stock_bokeh_site: Site) -> Site:
    return shared_stock_bokeh_site  # this worker's, shared with the other modules on it


@pytest_asyncio.fixture
async def tab(bokeh_site: Site) -> AsyncIterator[Tab]:
    yield await Tab.open(bokeh_site)


def chain(length: int) -> tuple[dict[str, Any], str]:
    """``length`` Columns, each the only child of the one before (ids a client chooses); and the last one's id."""
    ids = [f"nest-{next(_ids)}" for _ in range(length)]
    node: dict[str, Any] = {"type": "object", "name": "Column", "id": ids[-1], "attributes": {"children": []}}
    for model_id in reversed(ids[:-1]):
        node = {"type": "object", "name": "Column", "id": model_id, "attributes": {"children": [node]}}
    return node, ids[-1]


def children(model_id: str, value: list[Any]) -> dict[str, Any]:
    return {"kind": "ModelChanged", "model": {"id": model_id}, "attr": "children", "new": value}


async def refused(tab: Tab, events: list[dict[str, Any]], why: str = "models nested too deeply") -> None:
    text, _ = await tab.pull()
    reply = await tab.send(events)
    assert reply.msgtype == ERROR, f"accepted a patch that should be refused: {why}"
    assert reply.content["code"] == "patch-refused", reply.content
    assert why in reply.content["text"], reply.content
    assert (await tab.pull())[0] == text, "a refused patch changed the document"


async def test_chains_of_models_stop_at_the_nesting_bound(tab: Tab) -> None:
    # 40 Columns at once: about 120 levels, past the bound (64) in one patch.
    await refused(tab, [{"kind": "RootAdded", "model": chain(40)[0]}])
    # 12 at a time: the first chain fits, the second hung from its end does not.
    first, first_leaf = chain(12)
    assert (await tab.send([{"kind": "RootAdded", "model": first}])).msgtype == OK
    await refused(tab, [children(first_leaf, [chain(12)[0]])])
    # Nor two chains the document holds, joined end to start (no new model).
    second, _ = chain(12)
    assert (await tab.send([{"kind": "RootAdded", "model": second}])).msgtype == OK
    await refused(tab, [children(first_leaf, [{"id": second["id"]}])])
    # Side by side, chains do not nest deeper: applied, and the pull still encodes.
    for _ in range(3):
        assert (await tab.send([{"kind": "RootAdded", "model": chain(12)[0]}])).msgtype == OK
    text, doc = await tab.pull()
    assert first_leaf in text
    offset = find(doc, "Slider", "offset")["id"]
    reply = await tab.send([{"kind": "ModelChanged", "model": {"id": offset}, "attr": "value", "new": 0.25}])
    assert reply.msgtype == OK, reply.content
    assert find((await tab.pull())[1], "Slider", "offset")["attributes"]["value"] == 0.25


async def test_the_depth_a_client_tried_leaves_every_pull_working(tab: Tab) -> None:
    """The attack as found: chains of 40 hung each from the last, then a pull (1011 before)."""
    leaf: str | None = None
    for _ in range(4):
        made, end = chain(40)
        event = {"kind": "RootAdded", "model": made} if leaf is None else children(leaf, [made])
        if (await tab.send([event])).msgtype == OK:
            leaf = end
    text, _ = await tab.pull()
    assert '"Sliders"' in text


async def test_a_client_cannot_make_a_model_its_own_descendant(tab: Tab) -> None:
    cycle = "would be among its own descendants"
    # Two new Columns, each the other's child.
    pair = {"type": "object", "name": "Column", "id": "cyc-a", "attributes": {"children": []}}
    pair["attributes"]["children"] = [
        {"type": "object", "name": "Column", "id": "cyc-b", "attributes": {"children": [{"id": "cyc-a"}]}}
    ]
    await refused(tab, [{"kind": "RootAdded", "model": pair}], cycle)
    # A Column the document holds, its own child; the end of a held chain given its start.
    start, leaf = chain(3)
    assert (await tab.send([{"kind": "RootAdded", "model": start}])).msgtype == OK
    await refused(tab, [children(leaf, [{"id": leaf}])], cycle)
    await refused(tab, [children(leaf, [{"id": start["id"]}])], cycle)
    # The same models in a new place that closes no loop: applied.
    other, _ = chain(2)
    assert (await tab.send([children(leaf, [other])])).msgtype == OK
