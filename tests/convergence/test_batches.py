"""Several local changes sent in one patch arrive exactly as they were made.

A batch is encoded when it is sent; a model added and then edited in the same batch,
or a list set whole and then edited in place, must not be applied twice by the others
(the definition or the value, read late, would already hold the later edits).
"""

from __future__ import annotations

import asyncio

from docsync.testing import EVENT_WAIT

from .apps import Item
from .conftest import ConvergenceServer
from .harness import ControlledClient, canonical


async def _pair(server: ConvergenceServer) -> tuple[ControlledClient, ControlledClient]:
    config = await server.room_config("convergence")
    a, b = ControlledClient(config, "a"), ControlledClient(config, "b")
    await a.connect()
    await b.connect()
    return a, b


async def _settle(*clients: ControlledClient) -> None:
    for client in clients:
        await client.sync(EVENT_WAIT)
    for client in clients:
        await client.request_server_info()


def test_model_added_then_edited_in_one_patch(server: ConvergenceServer) -> None:
    async def main() -> None:
        a, b = await _pair(server)
        item = Item(tags=["first"], counts={"k": 1})
        a.document.add_root(item)
        item.tags.append("second")  # same tick: one patch with RootAdded then ListSpliced
        item.counts["j"] = 2
        item.value = 3.0
        await _settle(a, b)
        mine = b.document.get_model_by_id(item.id)
        assert mine is not None
        assert list(mine.tags) == ["first", "second"]
        assert dict(mine.counts) == {"k": 1, "j": 2}
        assert canonical(*a.document.to_json()) == canonical(*b.document.to_json())
        await a.close()
        await b.close()

    asyncio.run(main())


def test_list_set_whole_then_edited_in_one_patch(server: ConvergenceServer) -> None:
    async def main() -> None:
        a, b = await _pair(server)
        item = a.document.get_model_by_name("a")
        item.tags = ["one"]
        item.tags.append("two")  # the value set above is this same list, edited after
        item.counts = {"k": 1}
        item.counts["j"] = 2
        await _settle(a, b)
        mine = b.document.get_model_by_name("a")
        assert list(mine.tags) == ["one", "two"]
        assert dict(mine.counts) == {"k": 1, "j": 2}
        await a.close()
        await b.close()

    asyncio.run(main())
