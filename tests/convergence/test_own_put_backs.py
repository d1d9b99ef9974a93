"""A client's own model taken out and put back in a later patch, in memory, judged by the workload's check.

The model was the client's (it defined it, the server took it); taken out by the client,
nothing on the server holds it (the convergence app holds none of its models). Put back
by reference, it named nothing and lost, and its sender was reset: 19 of the 171 root
put-backs that lost in the workload with moves (seeds 1000-1299) were such. The client
defines it again now; the run's check (every document equal, every answer as the
reference model says) judges what the server took.
"""

from __future__ import annotations

import asyncio
import gc

from .apps import Item
from .memory import MemoryNetwork
from .workload import Run


async def _own_put_backs(changed_while_out: bool, queued: bool) -> Run:
    network = MemoryNetwork(7)
    run = Run(network, 7, 0, moves=True)
    alice, bob = await network.new_client("alice"), await network.new_client("bob")
    run.clients += [alice, bob]
    initial_reply = next(m for m, _ in alice.wire if m.content.get("doc") is not None)
    item = Item(value=1.0, tags=["mine#1"])
    alice.document.add_root(item)
    await alice.sync()
    for round_ in range(3):
        alice.document.remove_root(item)
        if not queued:
            await alice.sync()  # (the removal answered before the put-back is made)
        gc.collect()
        if changed_while_out:
            item.label = f"changed while out {round_}"
        alice.document.add_root(item)
        await alice.sync()
        await bob.sync()
    await run.quiesce()
    await run.check(initial_reply)
    return run


def _check(run: Run) -> None:
    alice, bob = run.clients
    assert alice.resets == [] and bob.resets == []
    assert [r.tags for r in alice.document.roots if isinstance(r, Item) and r.tags == ["mine#1"]] == [["mine#1"]]


def test_its_own_item_put_back_in_a_later_patch_is_defined_again() -> None:
    _check(asyncio.run(_own_put_backs(changed_while_out=False, queued=False)))


def test_its_own_item_changed_while_out_and_put_back_is_defined_again() -> None:
    _check(asyncio.run(_own_put_backs(changed_while_out=True, queued=False)))


def test_its_own_item_put_back_while_the_removal_was_in_flight_is_defined_again() -> None:
    # (In one sync the removal and the put-back go in one patch: referred to, the server
    # holding the item while it reads the patch. Nothing to define: kept as a check.)
    _check(asyncio.run(_own_put_backs(changed_while_out=True, queued=True)))
