"""Model-based test: 2-4 real clients edit one shared session at random, concurrently.

Each run opens a fresh room of the ``convergence`` app on the real server and drives
2-4 ``ControlledClient``s through random steps: property sets, list splices, dict item
sets and deletes, streams, cell and slice patches, column replacements, root adds and
removes, title changes, several edits in one patch; and random network behaviour:
incoming messages held back and released later (in order), outgoing patches held,
pauses, clean reconnects with resume, abrupt drops (TCP aborted) with edits made while
offline, then resume.

After quiescence (every client synced, then a SERVER-INFO round trip each, so nothing
is in flight) it asserts:

1. every client's document equals a fresh pull of the server's document;
2. every patch was answered (none silently dropped, none refused);
3. the server rejected exactly the events that the documented rule rejects, and the
   server's document equals the initial document with every accepted event applied in
   the server's order (``reference.replay``): no accepted edit was lost, so every
   non-conflicting edit survived, and the last accepted writer of each key is visible.

The random choices come from a seed printed on failure. ``DOCSYNC_CONVERGENCE_SEED``
replays one run's choices (network timing is real, so a replay follows the same steps,
not necessarily the same interleaving). ``DOCSYNC_CONVERGENCE_STEPS`` sets the total
steps (default 40000), ``DOCSYNC_CONVERGENCE_RUN_STEPS`` the steps per run (default 200);
no run starts after ``DOCSYNC_CONVERGENCE_SECONDS`` (75 s), and the steps done are printed.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from typing import Any

import numpy as np

from docsync.client import ClientSession
from docsync.protocol.msgtypes import PULL_DOC_REPLY

from .apps import Item, Source
from .conftest import ConvergenceServer
from .harness import ControlledClient, canonical
from .reference import replay
from .settings import PATCH_LOG_SIZE

TOTAL_STEPS = int(os.environ.get("DOCSYNC_CONVERGENCE_STEPS", "40000"))
RUN_STEPS = int(os.environ.get("DOCSYNC_CONVERGENCE_RUN_STEPS", "200"))
SEED = os.environ.get("DOCSYNC_CONVERGENCE_SEED")
#: A run stops starting new runs after this many seconds (the steps done are printed).
TIME_LIMIT = float(os.environ.get("DOCSYNC_CONVERGENCE_SECONDS", "75"))

WORDS = ["x", "y", "z", "w", "hello", "é", "", "long " * 5]
VALUES = [0.0, 1.0, 2.5, -3.0, 1e-9, 42.0]
KEYS = [f"k{i}" for i in range(6)]


class Run:
    """One run: a fresh room, its clients, and the random steps they take."""

    def __init__(self, server: ConvergenceServer, seed: int, steps: int) -> None:
        self.server = server
        self.seed = seed
        self.rng = random.Random(seed)
        self.steps = steps
        self.clients: list[ControlledClient] = []
        self.stats: Counter[str] = Counter()

    # -- edits ----------------------------------------------------------------------

    def items(self, client: ControlledClient) -> list[Item]:
        return [m for m in client.document.models.values() if isinstance(m, Item)]

    def source(self, client: ControlledClient) -> Source | None:
        return next((m for m in client.document.models.values() if isinstance(m, Source)), None)

    def edit(self, client: ControlledClient) -> None:
        """Make one random local change (sent in the next flush)."""
        rng = self.rng
        kind = rng.choices(
            ["value", "label", "list", "dict", "stream", "cells", "slice", "column", "add", "remove", "title"],
            weights=[14, 6, 16, 16, 8, 8, 4, 4, 3, 3, 2],
        )[0]
        items = self.items(client)
        source = self.source(client)
        if kind in ("stream", "cells", "slice", "column") and source is not None:
            self.edit_source(client, source, kind)
        elif kind == "add" or (not items and kind not in ("title", "remove")):
            if len(items) < 6:
                client.document.add_root(Item(value=rng.choice(VALUES), tags=[rng.choice(WORDS)], counts={"k0": 1}))
                kind = "add"
        elif kind == "remove":
            roots = [r for r in client.document.roots if isinstance(r, Item)]
            if len(roots) > 1:
                client.document.remove_root(rng.choice(roots))
        elif kind == "title":
            client.document.title = rng.choice(["one", "two", "three"])
        else:
            item = rng.choice(items)
            if kind == "value":
                item.value = rng.choice(VALUES)
            elif kind == "label":
                item.label = rng.choice(WORDS)
            elif kind == "list":
                self.edit_list(item)
            else:
                self.edit_dict(item)
        self.stats[f"edit:{kind}"] += 1

    def try_edit(self, client: ControlledClient) -> None:
        try:
            self.edit(client)
        except ValueError:
            # Between a lost change and its correction a client's columns may disagree
            # in length; a stream or patch made then is refused locally, as in a browser.
            self.stats["edit_refused_locally"] += 1

    def edit_list(self, item: Item) -> None:
        rng = self.rng
        tags = item.tags
        choice = rng.randrange(7)
        if choice == 0 or not tags:
            tags.append(rng.choice(WORDS))
        elif choice == 1:
            tags.insert(rng.randrange(len(tags) + 1), rng.choice(WORDS))
        elif choice == 2:
            tags.pop(rng.randrange(len(tags)))
        elif choice == 3:
            tags[rng.randrange(len(tags))] = rng.choice(WORDS)
        elif choice == 4:
            tags.extend(rng.sample(WORDS, 2))
        elif choice == 5:
            start = rng.randrange(len(tags))
            del tags[start : start + rng.randint(1, 3)]
        else:
            item.tags = rng.sample(WORDS, rng.randint(0, 3))

    def edit_dict(self, item: Item) -> None:
        rng = self.rng
        counts = item.counts
        choice = rng.randrange(5)
        if choice <= 1 or not counts:
            counts[rng.choice(KEYS)] = rng.randrange(100)
        elif choice == 2:
            del counts[rng.choice(list(counts))]
        elif choice == 3:
            counts.update({k: rng.randrange(100) for k in rng.sample(KEYS, 2)})
        else:
            item.counts = {k: rng.randrange(100) for k in rng.sample(KEYS, rng.randint(0, 3))}

    def edit_source(self, client: ControlledClient, source: Source, kind: str) -> None:
        rng = self.rng
        length = source.length
        if kind == "stream" or length == 0:
            rows = rng.randint(1, 4)
            x = np.array([rng.uniform(-5, 5) for _ in range(rows)])
            labels = [rng.choice(WORDS) for _ in range(rows)]
            source.stream({"x": x, "y": x * 2, "label": labels}, rollover=rng.choice([None, 8, 12]))
        elif kind == "cells":
            indices = rng.sample(range(length), min(length, rng.randint(1, 3)))
            source.patch(
                {
                    "x": [(i, rng.uniform(-5, 5)) for i in indices],
                    "label": [(indices[0], rng.choice(WORDS))],
                }
            )
        elif kind == "slice":
            start = rng.randrange(length)
            stop = rng.randint(start + 1, length)
            source.patch({"y": [(slice(start, stop), [rng.uniform(-5, 5) for _ in range(stop - start)])]})
        else:
            source.data["y"] = np.array([rng.uniform(-5, 5) for _ in range(length)])

    # -- steps ----------------------------------------------------------------------

    async def step(self) -> None:
        rng = self.rng
        client = rng.choice(self.clients)
        action = rng.choices(
            ["edit", "edits", "everyone", "yield", "sleep", "hold_in", "release_in", "hold_out", "release_out",
             "sync", "reconnect", "drop", "come_back"],
            weights=[30, 6, 6, 10, 4, 5, 6, 4, 5, 4, 2, 2, 4],
        )[0]  # fmt: skip
        self.stats[action] += 1
        if action == "edit":
            self.try_edit(client)
        elif action == "edits":  # several changes in one patch
            for _ in range(rng.randint(2, 4)):
                self.try_edit(client)
        elif action == "everyone":  # every client changes something before anyone syncs
            for other in self.clients:
                self.try_edit(other)
        elif action == "yield":
            await asyncio.sleep(0)
        elif action == "sleep":
            await asyncio.sleep(rng.uniform(0, 0.004))
        elif action == "hold_in" and not client.offline:
            client.hold_in = not client.hold_in
            if not client.hold_in:
                client.release_in()
        elif action == "release_in":
            client.release_in(rng.randint(0, client.held_in))
        elif action == "hold_out" and not client.offline:
            client.hold_out = not client.hold_out
            if not client.hold_out:
                await client.release_out()
        elif action == "release_out":
            await client.release_out(rng.randint(0, client.held_out))
        elif action == "sync" and not client.offline:
            await client.release_all()
            await client.sync()
        elif action == "reconnect" and not client.offline:
            await client.reconnect()
            self.stats["resumes"] += 1
        elif action == "drop" and not client.offline and sum(not c.offline for c in self.clients) > 1:
            await client.drop()
        elif action == "come_back" and client.offline:
            await client.reconnect()
            self.stats["resumes"] += 1

    async def quiesce(self) -> None:
        """Bring every client online, deliver everything, wait until nothing is in flight."""
        for client in self.clients:
            if client.offline:
                await client.reconnect()
        for _ in range(5):
            for client in self.clients:
                await client.release_all()
            for client in self.clients:
                await client.sync()
            # Everything the server sent a client before this reply has been applied.
            for client in self.clients:
                await client.request_server_info()
            if not any(c.pending or c.held_in or c.held_out for c in self.clients):
                return
        raise AssertionError("clients did not quiesce")

    # -- the run --------------------------------------------------------------------

    async def run(self) -> None:
        config = await self.server.room_config("convergence", f"random-{self.seed}-{time.time_ns()}")
        count = self.rng.randint(2, 4)
        for index in range(count):
            client = ControlledClient(config, name=f"c{index}")
            await client.connect()
            self.clients.append(client)
        initial_reply = next(m for m, _ in self.clients[0].wire if m.msgtype == PULL_DOC_REPLY)
        assert initial_reply.content["seq"] == 0
        try:
            for _ in range(self.steps):
                await self.step()
            await self.quiesce()
            await self.check(initial_reply)
        finally:
            for client in self.clients:
                await client.close()

    async def check(self, initial_reply: Any) -> None:
        fresh = ClientSession(self.clients[0].config)
        await fresh.connect()
        try:
            reply = next(m for m in fresh.received if m.msgtype == PULL_DOC_REPLY)
            server_doc = canonical(reply.content["doc"], reply.buffers)
            server_seq = reply.content["seq"]
        finally:
            await fresh.close()
        # 1. Convergence: every client's document equals the server's.
        for client in self.clients:
            mine = canonical(*client.document.to_json())
            assert mine == server_doc, f"client {client.name} diverged from the server:\n{_diff(mine, server_doc)}"
            assert client.last_seq <= server_seq
        # 2 and 3. Every patch answered; rejected exactly as the rule says; accepted kept.
        patches = [p for c in self.clients for p in c.sent.values()]
        full_resumes = {
            c.client_id: [m.content["seq"] for m in c.resumes if m.content.get("mode") == "full"] for c in self.clients
        }
        initial = _document(initial_reply)
        model = replay(initial, patches, full_resumes, PATCH_LOG_SIZE)
        expected = canonical(*model.document.to_json())
        assert expected == server_doc, f"the server's document is not the rule's:\n{_diff(server_doc, expected)}"
        assert model.seq == server_seq
        # A client may stop short of the last position only if every position after its
        # own is a reset of another client, or changes of its own (sent to no one else).
        for client in self.clients:
            behind = [e for e in model.entries if e.seq > client.last_seq]
            assert len(behind) < PATCH_LOG_SIZE and all(who == client.client_id for e in behind for who, _ in e.touched)
        self.stats["patches"] += len(patches)
        self.stats["events_accepted"] += model.accepted_events
        self.stats["events_rejected"] += model.rejected_events
        self.stats["events_on_removed_models"] += model.gone_events
        self.stats["resets"] += sum(model.resets.values())
        self.stats["resets_received"] += sum(len(c.resets) for c in self.clients)
        self.stats["full_resumes"] += sum(len(v) for v in full_resumes.values())
        self.stats["positions"] += server_seq

    def write_trace(self) -> None:
        """Write what every client did to a file named in the failure (if asked to)."""
        path = os.environ.get("DOCSYNC_CONVERGENCE_TRACE")
        if not path:
            return
        with open(path, "w") as out:
            for client in self.clients:
                out.write(f"== {client.name} {client.client_id}\n")
                out.writelines(f"{line}\n" for line in client.trace)


def _document(reply: Any) -> Any:
    from docsync.document import Document

    return Document.from_json(reply.content["doc"], dict(reply.buffers))


def _diff(a: dict[str, Any], b: dict[str, Any]) -> str:
    lines = []
    if a["title"] != b["title"]:
        lines.append(f"title {a['title']!r} != {b['title']!r}")
    if a["roots"] != b["roots"]:
        lines.append(f"roots {a['roots']} != {b['roots']}")
    for model_id in sorted(set(a["models"]) | set(b["models"])):
        left, right = a["models"].get(model_id), b["models"].get(model_id)
        if left is None or right is None:
            lines.append(f"model {model_id}: {'missing' if left is None else 'present'} vs "
                         f"{'missing' if right is None else 'present'}")  # fmt: skip
            continue
        for attr in sorted(set(left[1]) | set(right[1])):
            if left[1].get(attr) != right[1].get(attr):
                lines.append(f"{model_id}.{attr}: {left[1].get(attr)!r:.3000} != {right[1].get(attr)!r:.3000}")
    return "\n".join(lines[:40])


def test_random_concurrent_edits_converge(server: ConvergenceServer) -> None:
    """Thousands of random concurrent steps; every run ends with all documents equal."""
    base_seed = int(SEED) if SEED else random.SystemRandom().randrange(1 << 32)
    runs = max(1, TOTAL_STEPS // RUN_STEPS)
    started = time.monotonic()
    totals: Counter[str] = Counter()
    done = 0
    for index in range(runs):
        seed = base_seed + index
        run = Run(server, seed, RUN_STEPS)
        try:
            asyncio.run(asyncio.wait_for(run.run(), 120))
        except BaseException as exc:
            run.write_trace()
            raise AssertionError(
                f"convergence run failed with seed {seed} after {done} steps in earlier runs; replay it with "
                f"DOCSYNC_CONVERGENCE_SEED={seed} DOCSYNC_CONVERGENCE_STEPS={RUN_STEPS} "
                f"DOCSYNC_CONVERGENCE_RUN_STEPS={RUN_STEPS}\nstats: {dict(run.stats)}\n"
                f"server log:\n{server.log_tail(30)}"
            ) from exc
        totals.update(run.stats)
        done += RUN_STEPS
        if time.monotonic() - started > TIME_LIMIT:
            break
    elapsed = time.monotonic() - started
    print(f"\nconvergence: seed {base_seed}, {done} steps in {index + 1} runs, {elapsed:.1f} s; {dict(totals)}")
    assert done >= min(TOTAL_STEPS, 2000), f"only {done} steps ran in {elapsed:.0f} s"
    assert totals["events_accepted"] > 0 and totals["events_rejected"] > 0
