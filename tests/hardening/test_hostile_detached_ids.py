"""A client cannot take the id of a model the application made, even one out of the document now.

An application keeps models it shows and hides (a view swapped in and out of a layout):
a hidden one has left the document but keeps its id, and comes back when the application
shows it again. A client that had defined a model under that id in between made the
application's change fail halfway (two models sharing an id): the Select said "a" and
the layout showed view b, for every tab of the session, from then on. docs/protocol.md
§9: such an id is reserved, as the ones the server has not issued yet.
"""

from __future__ import annotations

import pytest

from docsync.protocol import ERROR, OK

from .harness import Site, find_model, pull_json
from .hostile import Victim, definition, patch

pytestmark = pytest.mark.asyncio


def choose(choice: str, value: str) -> object:
    return patch([{"kind": "ModelChanged", "model": {"id": choice}, "attr": "value", "new": value}])


async def test_the_id_of_a_hidden_view_is_reserved(site: Site) -> None:
    victim = await Victim.open(site, "swapper")
    try:
        view_a, choice = victim.model_id("view_a"), victim.model_id("choice")
        sock = await victim.raw()
        try:
            assert (await sock.request(choose(choice, "b"))).msgtype == OK  # type: ignore[arg-type]
            hidden = await pull_json(victim.config)
            assert view_a not in {m["id"] for m in hidden["models"]}
            victim.before = await victim.document_bytes()
            take = patch([{"kind": "RootAdded", "model": {"id": view_a}}], [definition(view_a, text="mine")])
            reply = await sock.request(take)
            assert reply.msgtype == ERROR and reply.content["code"] == "patch-refused", reply.content
            assert reply.content["text"] == f"model id {view_a!r} is reserved for the server's own models"
            assert await victim.document_bytes() == victim.before
            # The application shows its view again, under its own id.
            assert (await sock.request(choose(choice, "a"))).msgtype == OK  # type: ignore[arg-type]
        finally:
            await sock.close()
        shown = await pull_json(victim.config)
        assert find_model(shown, "view_a")["id"] == view_a
        assert find_model(shown, "view_a")["attributes"]["text"] == "view a"
        assert find_model(shown, "choice")["attributes"]["value"] == "a"
        victim.before = await victim.document_bytes()
        await victim.assert_unharmed()
    finally:
        await victim.close()


async def test_a_new_id_is_still_free(site: Site) -> None:
    # Ids of no model the server holds stay the client's: a client's own model, removed
    # and no longer held, and any id of its own making.
    victim = await Victim.open(site, "swapper")
    try:
        sock = await victim.raw()
        try:
            add = patch([{"kind": "RootAdded", "model": {"id": "c-1"}}], [definition("c-1", text="mine")])
            assert (await sock.request(add)).msgtype == OK
        finally:
            await sock.close()
        assert find_model(await pull_json(victim.config), "view_a")["attributes"]["text"] == "view a"
        assert any(m["id"] == "c-1" for m in (await pull_json(victim.config))["models"])
    finally:
        await victim.close()
