"""``MAX_CLIENT_MODELS`` (5 here) over a real websocket: models clients defined that the document holds, once each.

The Python client sends a root Div it added, removed, changed and added again in one
batch as two patches, the second defining it again; the server counted it twice, and
kept counting a Div the client had removed: the third such Div was refused.
"""

from __future__ import annotations

import pytest

from docsync.document.models import Div
from docsync.protocol import ERROR
from docsync.testing import EVENT_WAIT

from .harness import Site, canonical, open_client, pull_json
from .settings import MAX_CLIENT_MODELS

pytestmark = pytest.mark.asyncio


async def test_a_div_defined_twice_in_one_batch_and_removed_again_gives_its_place_back(site: Site) -> None:
    config = site.browser().page_config("hostile")
    client = await open_client(config)
    try:
        document = client.document
        for round_ in range(MAX_CLIENT_MODELS + 1):
            div = Div(text="new")
            document.add_root(div)
            document.remove_root(div)
            div.text = f"changed while detached {round_}"
            document.add_root(div)
            await client.sync(EVENT_WAIT)
            assert not client.errors, [m.content for m in client.errors]
            assert not client.changes_lost
            server = await pull_json(config)
            assert canonical(server) == canonical(document.to_json()[0])
            texts = [m["attributes"].get("text") for m in server["models"] if m["name"] == Div.__type_name__]
            assert texts == [f"changed while detached {round_}"]
            document.remove_root(div)
            await client.sync(EVENT_WAIT)
        # The bound still holds for Divs the document keeps.
        for i in range(MAX_CLIENT_MODELS + 1):
            document.add_root(Div(text=str(i)))
        await client.sync(EVENT_WAIT)
        refusals = [str(m.content.get("text")) for m in client.errors if m.msgtype == ERROR]
        assert any(f"too many models created by clients: at most {MAX_CLIENT_MODELS}" in t for t in refusals), refusals
        server = await pull_json(config)
        assert not any(m["name"] == Div.__type_name__ for m in server["models"])
    finally:
        await client.close()


async def test_a_div_of_its_own_taken_out_and_put_back_in_a_later_patch_is_defined_again(site: Site) -> None:
    # The client's own Div (the server took its definition), taken out in one sync and put
    # back, changed, in the next: nothing on the server holds it any more (the application
    # never did), so the reference it sent named nothing and lost, and the client was reset
    # to a document without it. It defines the Div again now.
    config = site.browser().page_config("hostile")
    client = await open_client(config)
    try:
        document = client.document
        div = Div(text="new")
        document.add_root(div)
        await client.sync(EVENT_WAIT)
        for round_ in range(3):
            document.remove_root(div)
            await client.sync(EVENT_WAIT)
            div.text = f"changed while out {round_}"
            document.add_root(div)
            await client.sync(EVENT_WAIT)
            assert not client.errors, [m.content for m in client.errors]
            assert not client.changes_lost, client.changes_lost
            assert div.id in document.models
            server = await pull_json(config)
            assert canonical(server) == canonical(document.to_json()[0])
            texts = [m["attributes"].get("text") for m in server["models"] if m["name"] == Div.__type_name__]
            assert texts == [f"changed while out {round_}"]
    finally:
        await client.close()
