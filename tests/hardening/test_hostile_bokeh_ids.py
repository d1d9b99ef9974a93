"""A BokehJS client cannot take the ids the Bokeh app will give its own next models.

Bokeh's server ids are a counter (``p1000``, ``p1001``, ...), and a pull shows where it
stands: a client that defined models under the next ids made the app's next model
collide with one of its own, the document then holding two models of one id. Against a
real daphne serving an app that adds a Div of its own whenever its slider moves.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from docsync.protocol import ERROR, OK, PATCH_DOC

from .bokeh_tabs import Session, definitions, named
from .harness import Site

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def bokeh_site(shared_bokeh_site: Site) -> Site:
    return shared_bokeh_site  # this worker's, shared with the other modules on it


async def test_a_client_cannot_define_the_ids_of_the_apps_next_models(bokeh_site: Site) -> None:
    session = Session(bokeh_site, "bk_grow")
    attacker, victim = await session.tab(), await session.tab()
    try:
        before = await attacker.document()
        top = max(int(d["id"][1:]) for d in definitions(before) if re.fullmatch(r"p\d+", d["id"]))
        shelf, first, trigger = (named(before, name) for name in ("shelf", "first", "trigger"))
        # The next forty ids the counter would give, as Divs of the client's own.
        planted = [
            {"type": "object", "name": "Div", "id": f"p{top + k}", "attributes": {"text": "planted"}}
            for k in range(1, 41)
        ]
        reply = await attacker.patch(
            [{"kind": "ModelChanged", "model": {"id": shelf}, "attr": "children", "new": [{"id": first}, *planted]}]
        )
        assert reply.msgtype == ERROR, "a client defined the ids the server gives next"
        assert reply.content["code"] == "patch-refused", reply.content
        assert f"model id 'p{top + 1}' is reserved for the server's own models" in reply.content["text"], reply.content
        assert await victim.document() == before, "a refused patch changed the document"
        assert not [m for m in victim.messages if m.msgtype == PATCH_DOC], "the victim heard of a refused patch"

        # The app makes its next model: it is the only one of its id, and every tab sees it.
        reply = await attacker.patch([{"kind": "ModelChanged", "model": {"id": trigger}, "attr": "value", "new": 1}])
        assert reply.msgtype == OK, reply.content
        after = await victim.document()
        ids = Counter(d["id"] for d in definitions(after))
        assert [i for i, n in ids.items() if n > 1] == [], "two models share an id"
        texts = [d.get("attributes", {}).get("text") for d in definitions(after)]
        assert "app div 1" in texts and "planted" not in texts, texts
    finally:
        await attacker.close()
        await victim.close()


async def test_a_client_cannot_define_the_ids_of_models_the_app_holds_back(bokeh_site: Site) -> None:
    """An id the counter gave a model the app has not shown yet is a gap in the ids a pull shows."""
    session = Session(bokeh_site, "bk_grow")
    attacker, victim = await session.tab(), await session.tab()
    try:
        before = await attacker.document()
        shown = {int(d["id"][1:]) for d in definitions(before) if re.fullmatch(r"p\d+", d["id"])}
        gaps = sorted(set(range(min(shown), max(shown))) - shown)
        assert gaps, "the app's held Div left no gap in the ids"
        shelf, first, trigger = (named(before, name) for name in ("shelf", "first", "trigger"))
        planted = [{"type": "object", "name": "Div", "id": f"p{n}", "attributes": {"text": "planted"}} for n in gaps]
        reply = await attacker.patch(
            [{"kind": "ModelChanged", "model": {"id": shelf}, "attr": "children", "new": [{"id": first}, *planted]}]
        )
        assert reply.msgtype == ERROR, "a client defined the id of a model the app holds"
        assert "is reserved for the server's own models" in reply.content["text"], reply.content
        assert await victim.document() == before
        reply = await attacker.patch([{"kind": "ModelChanged", "model": {"id": trigger}, "attr": "value", "new": 2}])
        assert reply.msgtype == OK, reply.content
        after = await victim.document()
        ids = Counter(d["id"] for d in definitions(after))
        assert [i for i, n in ids.items() if n > 1] == [], "two models share an id"
        texts = [d.get("attributes", {}).get("text") for d in definitions(after)]
        assert "held by the app" in texts and "planted" not in texts, texts
    finally:
        await attacker.close()
        await victim.close()


async def test_ids_a_client_may_define(bokeh_site: Site) -> None:
    """BokehJS's own ids (uuids, or ``j`` and a number in its dev mode) are accepted."""
    session = Session(bokeh_site, "bk_grow")
    tab = await session.tab()
    try:
        doc = await tab.document()
        shelf, first = named(doc, "shelf"), named(doc, "first")
        mine = [
            {"type": "object", "name": "Div", "id": "5D3C0B6A1F2E4A7B9C8D0E1F2A3B4C5D", "attributes": {"text": "a"}},
            {"type": "object", "name": "Div", "id": "j1042", "attributes": {"text": "b"}},
        ]
        reply = await tab.patch(
            [{"kind": "ModelChanged", "model": {"id": shelf}, "attr": "children", "new": [{"id": first}, *mine]}]
        )
        assert reply.msgtype == OK, reply.content
        texts = [d.get("attributes", {}).get("text") for d in definitions(await tab.document())]
        assert "a" in texts and "b" in texts, texts
    finally:
        await tab.close()
