"""A BokehJS client cannot grow a Bokeh-dialect document past ``MAX_DOCUMENT_BYTES``.

Against a real daphne (``tests.hardening.bokeh_settings``: a 2 MiB bound) serving an
app with a Div, a column of its own Divs and a data source: a raw Bokeh-protocol client
fills the document, then every way of growing it further (a longer string, new models,
a new root, a stream, a cell patch, new data, a title) is refused whole, the document
unchanged and the other tab told nothing; changes that do not grow it are accepted, the
application may grow it past the bound itself, and the session goes on working.
"""

from __future__ import annotations

from typing import Any

import pytest

from docsync.protocol import ERROR, OK, PATCH_DOC

from .bokeh_settings import MAX_CLIENT_MODELS, MAX_DOCUMENT_BYTES
from .bokeh_tabs import Session, Tab, definitions, named
from .harness import Site

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
pytestmark = pytest.mark.asyncio

KIB = 1024


@pytest.fixture(scope="module")
def bokeh_site(shared_bokeh_site: Site) -> Site:
    return shared_bokeh_site  # this worker's, shared with the other modules on it


def rows(count: int, width: int) -> dict[str, Any]:
    """A stream of ``count`` rows whose labels are ``width`` characters each."""
    return {"x": [1.5] * count, "label": ["r" * width] * count}


def text(doc: dict[str, Any], model_id: str) -> str:
    for definition in definitions(doc):
        if definition["id"] == model_id:
            return str(definition.get("attributes", {}).get("text", ""))
    raise KeyError(model_id)


async def patches_seen(tab: Tab) -> int:
    return sum(1 for message in tab.messages if message.msgtype == PATCH_DOC)


async def test_a_client_cannot_grow_the_document_past_the_bound(bokeh_site: Site) -> None:
    session = Session(bokeh_site, "bk_grow")
    attacker, victim = await session.tab(), await session.tab()
    try:
        doc = await attacker.document()
        source, first, shelf, trigger = (named(doc, name) for name in ("rows", "first", "shelf", "trigger"))
        stream = {"kind": "ColumnsStreamed", "model": {"id": source}, "attr": "data", "data": rows(500, KIB)}
        wide = {"kind": "ModelChanged", "model": {"id": first}, "attr": "text", "new": "y" * (400 * KIB)}
        assert (await attacker.patch([wide])).msgtype == OK
        # Fill: half-MiB streams, accepted until the next would pass the bound.
        accepted = 0
        while True:
            reply = await attacker.patch([stream])
            if reply.msgtype != OK:
                break
            accepted += 1
            assert accepted * 512 * KIB <= MAX_DOCUMENT_BYTES, "a client grew the document past the bound"
        assert accepted >= 2, f"only {accepted} streams of 0.5 MiB were accepted under a 2 MiB bound"
        assert reply.msgtype == ERROR and reply.content["code"] == "patch-refused", reply.content
        assert reply.content["text"].startswith("document too large: "), reply.content
        assert reply.content["text"].endswith(f" > {MAX_DOCUMENT_BYTES} bytes"), reply.content

        before = await victim.document()
        heard = await patches_seen(victim)
        big = "z" * (1000 * KIB)  # more than a stream, more than the Div's text
        new_div = {
            "type": "object",
            "name": "Div",
            "id": "6F1C2B3A4D5E46F7A8B9C0D1E2F3A4B5",
            "attributes": {"text": big},
        }
        growths_title = {"kind": "TitleChanged", "title": big}
        bigger = rows(500 * (accepted + 2), KIB)  # than the source's data now
        growths: list[list[dict[str, Any]]] = [
            [{"kind": "ModelChanged", "model": {"id": first}, "attr": "text", "new": big}],
            [{"kind": "ModelChanged", "model": {"id": shelf}, "attr": "children", "new": [{"id": first}, new_div]}],
            [{"kind": "RootAdded", "model": new_div}],
            [stream],
            [{"kind": "ColumnsPatched", "model": {"id": source}, "attr": "data", "patches": {"label": [[0, big]]}}],
            [{"kind": "ColumnDataChanged", "model": {"id": source}, "attr": "data", "data": bigger}],
            [{"kind": "TitleChanged", "title": big}],
            # Room made by emptying the Div counts once, however often the patch empties it.
            [*[{"kind": "ModelChanged", "model": {"id": first}, "attr": "text", "new": ""}] * 3, growths_title],
        ]
        for events in growths:
            reply = await attacker.patch(events)
            assert reply.msgtype == ERROR, f"{str(events)[:200]} grew the document past the bound"
            assert reply.content["code"] == "patch-refused", reply.content
            assert reply.content["text"].startswith("document too large: "), reply.content
            assert await victim.document() == before, f"{str(events)[:200]} changed the document"
        assert await patches_seen(victim) == heard, "the other tab heard of a refused patch"

        # A change that does not grow the document is accepted; the application may grow it.
        reply = await attacker.patch([{"kind": "ModelChanged", "model": {"id": first}, "attr": "text", "new": "tiny"}])
        assert reply.msgtype == OK, reply.content
        reply = await victim.patch([{"kind": "ModelChanged", "model": {"id": trigger}, "attr": "value", "new": 7}])
        assert reply.msgtype == OK, reply.content
        after = await attacker.document()
        assert text(after, first) == "tiny"
        assert any(d.get("attributes", {}).get("text") == "app div 7" for d in definitions(after))
    finally:
        await attacker.close()
        await victim.close()


async def test_room_made_is_room_to_grow_and_the_app_is_not_bounded(bokeh_site: Site) -> None:
    """The estimate follows the document down (new data, fewer models) and up (the app's own growth)."""
    session = Session(bokeh_site, "bk_grow")
    tab = await session.tab()
    try:
        doc = await tab.document()
        source, first, pad = (named(doc, name) for name in ("rows", "first", "pad"))
        stream = {"kind": "ColumnsStreamed", "model": {"id": source}, "attr": "data", "data": rows(500, KIB)}
        replace = {"kind": "ColumnDataChanged", "model": {"id": source}, "attr": "data", "data": rows(1, 8)}
        for _ in range(2):
            replies = [(await tab.patch([stream])).msgtype for _ in range(5)]
            assert replies[:2] == [OK, OK] and replies[-1] == ERROR, replies
            assert (await tab.patch([replace])).msgtype == OK  # the source made small again
        # The application pads its own Div past the bound: accepted (its code is not bounded).
        reply = await tab.patch([{"kind": "ModelChanged", "model": {"id": pad}, "attr": "value", "new": 3 * 1024}])
        assert reply.msgtype == OK, reply.content
        assert len(text(await tab.document(), first)) == 3 * 1024 * KIB
        # Now even a small stream grows a document over the bound: refused. Shrinking is not.
        small = {"kind": "ColumnsStreamed", "model": {"id": source}, "attr": "data", "data": rows(1, 8)}
        reply = await tab.patch([small])
        assert reply.msgtype == ERROR and reply.content["text"].startswith("document too large: "), reply.content
        assert (await tab.patch([replace])).msgtype == OK
        reply = await tab.patch([{"kind": "ModelChanged", "model": {"id": pad}, "attr": "value", "new": 0}])
        assert reply.msgtype == OK, reply.content
        assert (await tab.patch([small])).msgtype == OK
    finally:
        await tab.close()


async def test_a_client_cannot_churn_models_without_end(bokeh_site: Site) -> None:
    """Models clients create are counted (``MAX_CLIENT_MODELS``), removed or not: Bokeh remembers every id."""
    session = Session(bokeh_site, "bk_grow")
    tab, other = await session.tab(), await session.tab()
    try:
        doc = await tab.document()
        shelf, first, trigger = (named(doc, name) for name in ("shelf", "first", "trigger"))

        def shelve(*numbers: int) -> list[dict[str, Any]]:
            divs = [{"type": "object", "name": "Div", "id": f"{n:032X}", "attributes": {"text": "c"}} for n in numbers]
            return [{"kind": "ModelChanged", "model": {"id": shelf}, "attr": "children", "new": [{"id": first}, *divs]}]

        made = 0
        while made < MAX_CLIENT_MODELS:  # add ten, then take them away again
            assert (await tab.patch(shelve(*range(made + 1, made + 11)))).msgtype == OK
            assert (await tab.patch(shelve())).msgtype == OK
            made += 10
        before = await other.document()
        reply = await tab.patch(shelve(made + 1))
        assert reply.msgtype == ERROR and reply.content["code"] == "patch-refused", reply.content
        assert reply.content["text"] == f"too many models created by clients: at most {MAX_CLIENT_MODELS}"
        assert await other.document() == before
        # The session goes on: the app still makes models of its own at a client's request.
        assert (
            await other.patch([{"kind": "ModelChanged", "model": {"id": trigger}, "attr": "value", "new": 3}])
        ).msgtype == OK
        assert any(d.get("attributes", {}).get("text") == "app div 3" for d in definitions(await tab.document()))
    finally:
        await tab.close()
        await other.close()
