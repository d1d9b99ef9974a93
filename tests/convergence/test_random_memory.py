"""The random convergence workload in memory: the server's Sequencer and the clients' protocols, no sockets.

The same ``Run`` as ``test_random_edits.py`` (see ``workload.py``), on a
``MemoryNetwork``: every interleaving comes from the seed, so a failure replays exactly
with ``DOCSYNC_MEMORY_SEED``. ``DOCSYNC_MEMORY_STEPS`` sets the total steps (default
200,000), ``DOCSYNC_MEMORY_RUN_STEPS`` the steps per run (200); no run starts after
``DOCSYNC_MEMORY_SECONDS`` (40 s) once ``MIN_STEPS`` are done (a slow machine takes longer
over them, it does not fail). The steps per wall and per CPU second are printed: the real-server test
is the end-to-end layer, this one covers the rule at many more steps. Runs of odd seeds
also move roots, and items into, out of and within layouts where
``DOCSYNC_CONVERGENCE_CHILD_MOVES=1`` asks (child moves; the seeds that failed with them are
replayed every time: ``REPLAYED_CHILD_MOVES``).

``test_a_wrong_merge_fails_the_run`` puts a wrong merge in on purpose (the server letting
every change win, or not shifting splices; a client not shifting the server's splices)
and shows that the runs' check catches it.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
from collections import Counter
from typing import Any

import pytest

import docsync.sync.client
from docsync.sync.bridge import Shift, SpliceBridge
from docsync.sync.sequencer import Sequencer
from docsync.sync.splices import Splice

from .memory import MemoryNetwork
from .workload import Run, child_moves_drawn, moves_drawn, older_objects_frozen, run_collected

TOTAL_STEPS = int(os.environ.get("DOCSYNC_MEMORY_STEPS", "200000"))
RUN_STEPS = int(os.environ.get("DOCSYNC_MEMORY_RUN_STEPS", "200"))
SEED = os.environ.get("DOCSYNC_MEMORY_SEED")
TIME_LIMIT = float(os.environ.get("DOCSYNC_MEMORY_SECONDS", "40"))
#: Steps every run of the test checks, however long they take.
MIN_STEPS = min(TOTAL_STEPS, 2000)
#: Runs (of 200 steps, seeds 0, 1, ...) in which each wrong merge must be caught.
WRONG_MERGE_SEEDS = 10


def test_random_edits_converge_in_memory() -> None:
    """Many random concurrent steps in memory; every run ends with all documents equal."""
    base_seed = int(SEED) if SEED else random.SystemRandom().randrange(1 << 32)
    started, cpu = time.monotonic(), time.process_time()
    totals: Counter[str] = Counter()
    done = runs = 0
    with older_objects_frozen():
        while done < TOTAL_STEPS and (done < MIN_STEPS or time.monotonic() - started < TIME_LIMIT):
            seed = base_seed + runs
            run = Run(
                MemoryNetwork(seed),
                seed,
                RUN_STEPS,
                moves=moves_drawn(seed),
                child_moves=child_moves_drawn(seed),
            )
            try:
                run_collected(run.run(), event_loop=False)
            except BaseException as exc:
                run.write_trace()
                raise AssertionError(
                    f"in-memory run failed with seed {seed}; replay it with DOCSYNC_MEMORY_SEED={seed} "
                    f"DOCSYNC_MEMORY_STEPS={RUN_STEPS}\nstats: {dict(run.stats)}"
                ) from exc
            totals.update(run.stats)
            done += RUN_STEPS
            runs += 1
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
    print(f"\nin memory: seed {base_seed}, {done} steps in {runs} runs, {elapsed:.1f} s, {done / elapsed:.0f} steps/s, "
          f"{done / cpu:.0f} steps/CPU-s; {dict(totals)}")  # fmt: skip
    assert done >= MIN_STEPS, f"only {done} steps ran in {elapsed:.0f} s"
    assert totals["events_accepted"] > 0 and totals["events_rejected"] > 0
    if done >= 4000:  # (a replay of one run may shift none)
        assert totals["splices_shifted"] > 0


#: Seeds whose runs once failed, replayed every time (200 steps each), with what each caught.
REPLAYED = {
    100477: "the reference model refused a splice the server rejected: an insertion made meanwhile "
    "after an item the patch replaced was shifted inside the range a later splice of the patch deletes",
    1579711860: "the reference model refused a splice the server rejected: an insertion made meanwhile went, "
    "as applied, after an item its maker had not seen (inserted at the same place first), and the splice "
    "deletes that item and the one after the insertion; the model had judged it by its maker's neighbours only",
    31263: "the reference model required two insertions made between the same neighbours to keep the server's "
    "order after one neighbour was deleted: an item inserted past that neighbour lands between them (§3a)",
}


@pytest.mark.parametrize("seed", sorted(REPLAYED))
def test_replayed_seeds_converge_in_memory(seed: int) -> None:
    """Runs that once failed still end with every document equal and every answer as the rule says."""
    run = Run(MemoryNetwork(seed), seed, 200)
    asyncio.run(run.run())  # its check raises on any disagreement
    assert run.stats["patches"] > 0 and run.stats["events_rejected"] > 0


#: Runs with child moves (``child_moves_drawn``) that once failed, with what each caught.
REPLAYED_CHILD_MOVES = {
    5407: "the reference model applied a splice of a root its own patch had removed where its maker made it, "
    "past the end of the list: the server had shifted it past a deletion made meanwhile and sent it to no one",
    1111: "the same, for a model the patch took out of a layout: an insertion at the end of a list shortened meanwhile",
    5485: "a client that had taken a model out took a position's changes of it twice: as events, and in the "
    "position's definition of it (a correction of its layout)",
    3637: "the reference model placed by its neighbours an item inserted where the list already held it: a client "
    "whose document held it in two places (its splice of the other list skipped until that list's correction) "
    "moved it there",
    4000000111: "a client whose splices of a layout conflicted with the removal of a model from it (skipped until "
    "the layout's correction) still held the model when its maker put it back as a root, defined anew from its "
    "maker's copy: the client kept its own values (label, value) for good",
    916366525: "a page took a model out and kept it; another client's move defined it anew in the client's "
    "document, a second object of that id: the page's stayed stale (its tags before the server's whole value) "
    "and, put back, its splice of them was refused as out of range (now one object per id)",
    65476519: "a client held an item where the server did when another client moved it into a second layout and "
    "spliced its tags, its removal from the first lost: the client laid the correction's definition (the tags as "
    "the position left them) over its own, as if the item were made anew, and took the splice twice",
    3907741231: "a client's removal of an item lost to another client's removal and put-back of it, whose "
    "definition (and a change after it) the client skipped, the layout stale; it put back its own object, and "
    "kept it, without that change, where the removal's correction defined the item",
    3192555471: "a client set an item's tags anew, spliced a tag in and took the item out, all unanswered; a "
    "correction defined the item and the client applied its changes to it, the whole value as the event held it "
    "(the list the splice had changed since), then the splice again: the tag twice",
    490690891: "the reference model paired a splice of a root its own patch had taken out (sent to no one) with the "
    "server's splice of that list at the next position, from the same patch once it put the root back",
    2501463591: "the reference model read an item inserted between the two places of an item a layout held twice "
    "(moved there from the other layout, which its client's document held it in too) as after the second one",
    917677733: "a move out of a layout whose removal lost to another's change of the layout: the server read what "
    "the removal was to take out at its index as sent, which named nothing there now, and took the model's "
    "insertion elsewhere: the model in two places, and later twice in one layout",
    4119971791: "a client added an item to a layout, moved it to another and set that one's whole value, in one "
    "patch: the server made the item from the superseded put-back's carried definition, which the client did not "
    "count as held, and it defined the item again in a later patch (refused whole: duplicate model id)",
    2584890407: "the same as 917677733 (found before its fix, failing alone: a move whose removal lost left the item "
    "in two places, and a later splice of the layout holding it twice was judged kept against its items)",
    2997417029: "the reference model applied a splice of a model its patch defined anew at its maker's index, not "
    "shifted past the splice the client had since put into the definition (the server shifts it as any)",
    948608613: "the same model's first fix paired a splice of a model its patch defines, made before the event "
    "attaching it (in the definition the server sent, not broadcast), with the server's splice of a later one",
    543174307: "that fix placed by its items a splice of a model its patch defined and never attached (it lost, "
    "§13 rule 5), which deleted an item the definition's list (left out: empty) did not hold, and failed",
    2289133867: "the reference model read the one item a splice of a layout deletes as scattered: its patch had "
    "moved the item into that layout from a second place its client held it in (a list holding it twice), and an "
    "item inserted meanwhile lay between the two",
    948609809: "a client's removal of an item lost, its server changes skipped; its put-back and label of the item, "
    "in flight, were taken as lost to the correction's definition laid over it, which the server applied first",
    700001151: "a client's new item, its defining patch unanswered, taken out and put back as a root; the resume's "
    "reply answered the patch and replayed another's changes of the item, which the put-back's definition, still "
    "among those to send, did not get: its removal taken, the server made the item anew without them",
    900000627: "the same as 2997417029 (found by a sweep, failing on main before that fix)",
    948610247: "a position put an item the server held in a layout back as a root, spliced its tags, removed the "
    "root and ended with the layout's correction defining the item; a client reaching it through a list left stale "
    "laid the definition over it at the root added, as if made anew there, and took the splices twice",
    2869534871: "a client's own item, its removal unanswered, put back into a layout, its tags spliced and taken "
    "out again, all waiting; another client's splice of the tags, applied before the removal, was skipped (the "
    "item out) and never reached the put-back's definition: the server made the item without it and refused the "
    "client's splice, shifted past it, as out of range",
    2276682393: "a position put a new item into a layout, changed it and ended with the layout's correction; a client "
    "whose layout was stale skipped the splice, and left the changes out as made before the correction that attached "
    "the item there (in its definition already): the definition was as of the splice, and its label and counts stayed",
    2138669479: "a client's removal of an item from a layout (unanswered, lost later) made it skip another client's "
    "splice deleting the item's first tag; it put its object back as a root, without that splice, and deleted two "
    "tags of it, based after the splice: the server, holding the item still, deleted a tag it had not meant to",
    5200001383: "a client's removal of an item from one layout waited while another client put the item (the "
    "server's, held) into the second layout by reference: the client skipped that splice, its item naming a model "
    "its document no longer held, and the second layout stayed short of it for good (now its object is attached)",
    5400003303: "the reference model judged a client's removal of an item from one layout against another client's "
    "removal of it, made meanwhile, from the second layout holding it, and found the kept splice's items touched "
    "(§13 judges a splice against the splices of its own list only)",
    5700004569: "a client's splice of its own item's tags lost (its tags stale until their correction), and it took "
    "the item out before the correction came (skipped); its put-back defined the item anew, the server made it so, "
    "and the client still held the tags stale: it skipped the server's splices of them for good",
    5700000727: "a client's new item, attached by a splice a whole value superseded (its definition carried), then "
    "changed and moved to the roots (defined again): the carried definition went with an older base's patch, and the "
    "later changes', defining the item as moved, deleted a tag it no longer had (refused as out of range)",
    6500002493: "a client's removal of an item from a layout waited while another client deleted a key of the "
    "item's counts (skipped, the item out) and set the layout anew with the item in it: that value superseded the "
    "removal (never sent, so nothing was corrected) and attached the client's object without the deletion; its own "
    "deletion of that key later was refused (now the object out takes the server's changes it skips)",
    6900015873: "the reference model read an item a splice inserted between the list's ends as before an insertion "
    "made meanwhile at the same place, of the same item, deleted since (a model in two places moved back there)",
    7300001285: "the reference model read an item a splice inserted before its right neighbour as before an insertion "
    "made meanwhile between the same neighbours that the server had shifted past that neighbour (moved meanwhile)",
}

#: The same, found running as ``test_random_edits_converge_in_memory`` runs (the collector
#: paused, no event loop): replayed so, as the collector's timing decides what the server's
#: document still holds. 1414213735 fails without its fix only run first in its process (run
#: as above, or after another run, it passes without it too: not looked into why); its
#: fix's cases in tests/sync and tests/js fail without it wherever they run.
REPLAYED_CHILD_MOVES_COLLECTED = {
    1414213825: "a client's own model it took out and put back was defined anew from its state at the put-back: a "
    "correction of the model's list that came before the patch went changed the client's model, not the definition",
    1414213735: "a client's splice of a list of a model it had taken out was not shifted past the server's splices of "
    "that list (skipped, the model not held): back by a correction, the splice took out the wrong item",
    815738289: "the same as 1414213825 (found running the test from random bases)",
    4000001201: "a splice of a list of a model its patch defined anew (taken out meanwhile by its sender) lost to "
    "another client's splice of the same items made after its base: the reference judged no splice of a model "
    "not held",
    3875583031: "a client took a server's item out of one of two places its document held it in, then another "
    "client's removal detached it: its put-back defined the item, never its own, and the server refused the patch",
    4000001329: "a client's list of a model left stale (its splice conflicted) stayed stale when the model left its "
    "document before the list's correction came: defined anew later, its server splices were skipped for good",
    4000001431: "a client that had taken a model out skipped the server's label of it; holding it again (its own "
    "put-back), a correction of its old list defined the model with the server's values and the client kept its own",
    3141594177: "a server's splice of a client's own model, before its put-back went, did not reach the definition "
    "kept where the client's own later splice of that list waited: the server made the model without it, and "
    "refused the client's splice, shifted past it, as out of range",
}


#: The same, that failed only after other runs in the same process (run as the sweep that
#: found each ran them, collected, just before it), with the runs before each.
REPLAYED_CHILD_MOVES_AFTER = {
    65477341: (
        (65477337, 65477339),
        "a client made an item it had taken out (its splice of the item's tags unanswered) from a correction's "
        "definition, and still counted the item's server changes as skipped: a later correction's definition, "
        "without its splice, was laid over it, and the splice the server went on to take was lost",
    ),
}


@pytest.mark.parametrize("seed", sorted(REPLAYED_CHILD_MOVES))
def test_replayed_child_move_seeds_converge_in_memory(seed: int) -> None:
    """Runs with child moves that once failed still end with every document equal and every answer as the rule says."""
    run = Run(MemoryNetwork(seed), seed, 200, moves=True, child_moves=True)
    asyncio.run(run.run())
    assert run.stats["patches"] > 0 and run.stats["edit:nest"] + run.stats["edit:unnest"] > 0


@pytest.mark.parametrize("seed", sorted(REPLAYED_CHILD_MOVES_COLLECTED))
def test_replayed_child_move_seeds_converge_in_memory_collected(seed: int) -> None:
    """The same, run as the random runs are (``run_collected``, the collector paused)."""
    run = Run(MemoryNetwork(seed), seed, 200, moves=True, child_moves=True)
    with older_objects_frozen():
        run_collected(run.run(), event_loop=False)
    assert run.stats["patches"] > 0 and run.stats["edit:nest"] + run.stats["edit:unnest"] > 0


@pytest.mark.parametrize("seed", sorted(REPLAYED_CHILD_MOVES_AFTER))
def test_replayed_child_move_seeds_converge_in_memory_after_others(seed: int) -> None:
    """The same, each run collected after the runs before it (which pass too)."""
    before, _ = REPLAYED_CHILD_MOVES_AFTER[seed]
    with older_objects_frozen():
        for earlier in before:
            previous = Run(MemoryNetwork(earlier), earlier, 200, moves=True, child_moves=True)
            run_collected(previous.run(), event_loop=False)
        run = Run(MemoryNetwork(seed), seed, 200, moves=True, child_moves=True)
        run_collected(run.run(), event_loop=False)
    assert run.stats["patches"] > 0 and run.stats["edit:nest"] + run.stats["edit:unnest"] > 0


# -- the check catches a wrong merge ------------------------------------------------------


def _last_writer_wins(self: Sequencer, events: list[Any], base: int | None, origin: str, *args: Any) -> tuple[Any, ...]:
    """A wrong server: no change ever loses, whatever its sender had not seen."""
    return list(events), [], []


def _splices_unshifted(
    self: SpliceBridge, origin: str, key: Any, splice: Splice, pending: Any = None, *, most: int | None = None
) -> Shift:
    """A wrong server: a splice stays at the index its maker saw, past whatever was inserted meanwhile."""
    return Shift(splice, key, [])


def _client_takes_splices_as_sent(incoming: Splice, mine: Splice) -> tuple[Splice, Splice]:
    """A wrong client: a server splice is applied at its index, not shifted past the client's unanswered ones."""
    return incoming, mine


WRONG_MERGES = {
    "server: last writer wins": (Sequencer, "_split_conflicts", _last_writer_wins),
    "server: splices not shifted": (SpliceBridge, "shift", _splices_unshifted),
    "client: server splices not shifted": (docsync.sync.client, "transform", _client_takes_splices_as_sent),
}
#: What the run's check says when a document diverged, a patch was refused, or the server broke the rule.
CHECK_FAILED = re.compile(r"diverged from the server|was refused|the rule")


@pytest.mark.parametrize("name", sorted(WRONG_MERGES))
def test_a_wrong_merge_fails_the_run(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each wrong merge, put in on purpose, makes one of the first runs fail its check (as a real one would)."""
    owner, attr, wrong = WRONG_MERGES[name]
    monkeypatch.setattr(owner, attr, wrong)
    failures = []
    for seed in range(WRONG_MERGE_SEEDS):
        run = Run(MemoryNetwork(seed), seed, 200)
        try:
            asyncio.run(run.run())
        except AssertionError as exc:
            failures.append(str(exc))
    assert failures, f"{name}: {WRONG_MERGE_SEEDS} runs passed their check"
    assert all(CHECK_FAILED.search(text) for text in failures), failures
