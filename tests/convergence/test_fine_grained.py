"""Fine-grained collections: a change to one entry travels as that change, measured.

A writer edits the ``convergence_big`` app (a 10,000-entry dict, a 10,000-item list,
three 10,000-row float columns); an observer on the same session measures the wire
bytes of each PATCH-DOC it receives. The whole collection is measured the same way (the
writer sets it whole), so both sides of each ratio are real messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import numpy as np

from docsync.protocol import Message
from docsync.protocol.msgtypes import PATCH_DOC
from docsync.testing import EVENT_WAIT

from .conftest import ConvergenceServer
from .harness import ControlledClient, canonical

N = 10_000


async def _received(writer: ControlledClient, observer: ControlledClient, change: Callable[[], None]) -> Message:
    """Make ``change`` on the writer; return the PATCH-DOC the observer got for it."""
    before = len(writer.sent)
    change()
    await writer.sync(EVENT_WAIT)
    (sent,) = list(writer.sent.values())[before:]
    assert sent.replies[0].content["rejected"] == 0
    seq = sent.replies[0].content["seq"]
    await observer.request_server_info()
    (message,) = [m for m, _ in observer.wire if m.msgtype == PATCH_DOC and m.content["seq"] == seq]
    return message


def _size(observer: ControlledClient, message: Message) -> int:
    return next(size for m, size in observer.wire if m is message)


def test_one_entry_of_big_collections_travels_alone(server: ConvergenceServer) -> None:
    async def main() -> None:
        config = await server.room_config("convergence_big")
        writer, observer = ControlledClient(config, "writer"), ControlledClient(config, "observer")
        await writer.connect()
        await observer.connect()
        item: Any = writer.document.get_model_by_name("big")
        source: Any = writer.document.get_model_by_name("source")
        sizes: dict[str, int] = {}

        async def measure(name: str, change: Callable[[], None]) -> dict[str, Any]:
            message = await _received(writer, observer, change)
            sizes[name] = _size(observer, message)
            (event,) = message.content["events"]
            return {"event": event, "buffers": sum(len(bytes(b)) for _, b in message.buffers)}

        try:
            # The whole collections, as a whole-value set sends them.
            await measure("dict, whole", lambda: setattr(item, "counts", {**item.counts, "key00000": -1}))
            await measure("list, whole", lambda: setattr(item, "tags", [*item.tags[:-1], "last"]))
            whole = {name: column.copy() for name, column in source.data.items()}
            whole["x"][0] = -1.0
            await measure("columns, whole", lambda: setattr(source, "data", whole))

            got = await measure("dict, one entry set", lambda: item.counts.__setitem__("key05000", -5))
            assert got["event"]["kind"] == "DictItemsSet"
            got = await measure("dict, one entry deleted", lambda: item.counts.__delitem__("key06000"))
            assert got["event"]["kind"] == "DictItemsDeleted"
            got = await measure("list, one item set", lambda: item.tags.__setitem__(5000, "changed"))
            assert {k: got["event"][k] for k in ("kind", "index", "delete", "items")} == {
                "kind": "ListSpliced", "index": 5000, "delete": 1, "items": ["changed"]}  # fmt: skip
            got = await measure("list, one item appended", lambda: item.tags.append("appended"))
            assert (got["event"]["index"], got["event"]["delete"]) == (N, 0)
            rows = {name: np.full(10, 7.0) for name in ("x", "y", "z")}
            got = await measure("columns, 10 rows streamed", lambda: source.stream(rows))
            assert got["event"]["kind"] == "ColumnsStreamed" and got["buffers"] == 3 * 10 * 8
            got = await measure("columns, one cell patched", lambda: source.patch({"y": [(7, 3.0)]}))
            assert got["event"]["kind"] == "ColumnsPatched" and list(got["event"]["patches"]) == ["y"]
            z = np.arange(N + 10, dtype=np.float64)
            got = await measure("columns, one column replaced", lambda: source.data.__setitem__("z", z))
            assert got["event"]["kind"] == "ColumnDataChanged" and list(got["event"]["columns"]) == ["z"]
            assert got["buffers"] == (N + 10) * 8  # that column's bytes, and no other's

            for name in ("dict, one entry set", "dict, one entry deleted"):
                assert sizes[name] < 0.01 * sizes["dict, whole"], (name, sizes)
            for name in ("list, one item set", "list, one item appended"):
                assert sizes[name] < 0.01 * sizes["list, whole"], (name, sizes)
            for name in ("columns, 10 rows streamed", "columns, one cell patched"):
                assert sizes[name] < 0.01 * sizes["columns, whole"], (name, sizes)
            assert sizes["columns, one column replaced"] < 0.35 * sizes["columns, whole"]
            print("\nPATCH-DOC bytes received by another client:")
            for name, size in sizes.items():
                print(f"  {name:32} {size:>9,} B")

            await writer.request_server_info()
            assert canonical(*observer.document.to_json()) == canonical(*writer.document.to_json())
            assert dict(observer.document.get_model_by_name("big").counts)["key05000"] == -5  # type: ignore[union-attr]
        finally:
            await writer.close()
            await observer.close()

    asyncio.run(main())
