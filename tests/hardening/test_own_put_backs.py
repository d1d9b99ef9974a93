"""A client's own model taken out and put back later, defined again, over a real websocket (daphne).

protocol.md §9, *A client's own model, put back later*: a client defines again its own
model (one the server took its definition of) that its own earlier patch took out.
Where nothing holds it the server makes it anew, as any new model; where the
application still holds it (the ``keeper`` app keeps every root a client adds) the
definition is read as the reference: the model held is put back, and what changed while
out follows (a property the client may write: the model held is not its own, §10). It
was refused before (``duplicate model id``), the patch lost whole.
"""

from __future__ import annotations

import pytest

from docsync.protocol import OK

from .harness import Site, find_model, pull_json
from .hostile import Victim, definition, patch

pytestmark = pytest.mark.asyncio


async def test_a_definition_of_its_own_model_the_application_keeps_puts_that_one_back(site: Site) -> None:
    victim = await Victim.open(site, "keeper")
    try:
        mine = await victim.raw()
        try:
            add = patch([{"kind": "RootAdded", "model": {"id": "c-1"}}], [definition("c-1", "TextInput", value="mine")])
            assert (await mine.request(add)).msgtype == OK
            remove = patch([{"kind": "RootRemoved", "model": {"id": "c-1"}}])
            assert (await mine.request(remove)).msgtype == OK
            assert not any(m["id"] == "c-1" for m in (await pull_json(victim.config))["models"])
            # Its own: read as the reference, what changed while out following it.
            back = patch(
                [
                    {"kind": "RootAdded", "model": {"id": "c-1"}},
                    {"kind": "ModelChanged", "model": {"id": "c-1"}, "attr": "value", "new": "changed while out"},
                ],
                [definition("c-1", "TextInput", value="changed while out")],
            )
            reply = await mine.request(back)
            assert reply.msgtype == OK and reply.content.get("rejected", 0) == 0, reply.content
        finally:
            await mine.close()
        server = await pull_json(victim.config)
        (put_back,) = [m for m in server["models"] if m["id"] == "c-1"]
        assert put_back["attributes"]["value"] == "changed while out"
        assert find_model(server, "kept")["attributes"]["text"] == "the application's"
        victim.before = await victim.document_bytes()
        await victim.assert_unharmed()
    finally:
        await victim.close()
