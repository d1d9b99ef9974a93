"""A reference model of docsync's convergence rule, written from docs/convergence.md alone.

Given the document a session started from and every patch its clients sent, with the
server's answers, ``replay`` re-runs the documented rule in the server's order:

- each patch is placed by the position its answer names (the server's total order);
- an event is rejected when ``base`` is older than the sender's fence or than the log
  reaches, when its model is no longer in the document, when its model is one the
  patch defines and no accepted event of the patch brings it in, when an earlier event
  of the same patch touching the same thing was rejected, or when another origin (or
  the server) changed what it touches after ``base`` — except that two list splices do
  not conflict unless they really touch the same items;
- a rejected property change queues a correction (the whole property), a rejected root
  change resets the sender (its fence moves to that position), and so does a root put
  back that is no longer there;
- a root taken out touches all of its model: a change of it made before, by another
  origin, loses, also once the model is back; a patch may name again a model its own
  sender's change took out (the server finds it while the application holds it, which
  is the application's: both are tried), and one that puts back a root an earlier
  change of the same position took out takes the next position from there on (§9).

It checks that the server rejected exactly the events the rule rejects, that every
position was produced by exactly one patch, and returns the document that applying
every accepted event in order gives: the server's document must equal it.

Nothing here comes from the server's code, nor from docsync's document: the model's
document is plain dicts (``reference_document.py``). What an event touches is a predicate over
two events (``touch`` and ``overlap``), read off the table of §2. Splices are judged by
identity, not by index: every list item of the workload is unique (a layout may hold a
model twice, where a client's document held it in two places), and the harness
records the list each splice was made on (its ``view``). A splice is judged against the
splices made meanwhile of its own list alone (§13 rule 4 of protocol.md, §3a of
convergence.md): an item a document holds in two layouts is in both lists, and a splice
of the other one touches nothing of this one. Where the server put a splice
(its index after shifting) is taken from what it broadcast, and checked against what
its maker meant:

- it deletes exactly the items its maker deleted;
- its new items land after its left neighbour and before its right one, when those are
  still there;
- of two insertions made at one place between the same neighbours, the one applied
  first comes first;
- it is accepted only if no splice applied meanwhile deleted one of the same items or
  the two items around its place (those conflict in every order), and rejected only if
  a splice applied meanwhile touched its items or its neighbours (as its maker saw
  them), or inserted strictly inside its range where the server applied it (right
  after an item it deletes with the next: an insertion goes after one made at the same
  place and applied first, which its maker may never have seen), or came near an
  earlier splice of the same patch on that list, or was applied right after an item
  that earlier splice deletes (the server shifted it past that one,
  which places it among this one's items: an insertion after an item the patch
  replaced may land inside a range a later splice of the patch deletes).

A splice of a model an earlier event of its own patch took out is broadcast to no one:
it is placed by its items instead (``_placed_by_items``), and so is one of a model the
patch defines before (or after) its events attach it. One of a model the patch defines,
attached, is placed where the server broadcast it, on the list as the definition left
it: shifted past the splices of that list made meanwhile, as any (§13 of protocol.md).

The server's index arithmetic can put an insertion anywhere that keeps these; the
documents' equality (every client's, the server's, this model's) checks the rest.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from docsync.protocol.msgtypes import ERROR
from docsync.serialization import Decoder

from .harness import SentPatch
from .reference_document import Change, PlainDocument, Record, Ref, Refused, decode_change

__all__ = ["ReferenceFailure", "Replay", "replay"]

#: Patching more single cells than this in one column counts as touching the column.
MAX_CELLS = 64
START, END = ("start",), ("end",)


class ReferenceFailure(AssertionError):
    """The server's answers disagree with the documented rule."""


# -- what an event touches (docs/convergence.md §2) ---------------------------------------


class Touch(NamedTuple):
    """What one event changes (a named tuple: made for every event replayed, cheaply).

    ``what``: "title", "roots", "nothing", "whole" (a whole property: a new value, a
    stream), "keys" (some dict keys or columns: ``names``), "cells" (``cells``, as
    (column, row)), or "splice" (``deleted`` items and the ``left``/``right``
    neighbours of its place, as the client saw the list; once the server applied it,
    ``landed``: the neighbours of its place in the server's list).
    """

    what: str
    model: str | None = None
    attr: str | None = None
    names: frozenset[Any] = frozenset()
    cells: frozenset[tuple[str, int]] = frozenset()
    deleted: frozenset[Any] = frozenset()
    left: Any = None
    right: Any = None
    items: tuple[Any, ...] = ()
    landed: tuple[Any, ...] = ()


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, list | tuple) else value


#: ``Touch(*fields)`` for all ten fields, made in C (the named tuple's own ``__new__`` is Python).
_new_touch = functools.partial(tuple.__new__, Touch)
#: The fields of a touch after ``what``, ``model`` and ``attr`` when they are the defaults.
_DEFAULTS = tuple(Touch._field_defaults[name] for name in Touch._fields[3:])


def touch(event: Change, view: list[Any] | None = None) -> Touch:
    """Return what ``event`` touches; ``view`` is the list a splice was made on."""
    kind, model, attr = event.kind, event.model, event.attr
    if kind == "ModelChanged" or kind == "ColumnsStreamed":  # the most common first
        return _new_touch(("whole", model, attr, *_DEFAULTS))  # (``Touch("whole", model, attr)``)
    if kind == "MessageSent":
        return Touch("nothing")
    if kind == "TitleChanged":
        return Touch("title")
    if kind == "RootAdded" or kind == "RootRemoved":
        return Touch("roots")
    fields = event.fields
    if kind == "DictItemsSet":
        return Touch("keys", model, attr, names=frozenset(_hashable(k) for k in fields["items"]))
    if kind == "DictItemsDeleted":
        return Touch("keys", model, attr, names=frozenset(_hashable(k) for k in fields["keys"]))
    if kind == "ColumnDataChanged":
        return Touch("keys", model, attr, names=frozenset(fields["columns"]))
    if kind == "ColumnsPatched":
        patches = fields["patches"]
        whole = {c for c, e in patches.items() if len(e) > MAX_CELLS or any(isinstance(i, slice) for i, _ in e)}
        cells = {(c, i) for c, e in patches.items() if c not in whole for i, _ in e}
        if whole and cells:
            return Touch("keys", model, attr, names=frozenset(whole | {c for c, _ in cells}))
        return (
            Touch("keys", model, attr, names=frozenset(whole))
            if whole
            else Touch("cells", model, attr, cells=frozenset(cells))
        )
    if kind == "ListSpliced" and view is not None:
        i, d = fields["index"], fields["delete"]
        return Touch(
            "splice", model, attr, deleted=frozenset(view[i : i + d]), items=tuple(fields["items"]),
            left=view[i - 1] if i > 0 else START, right=view[i + d] if i + d < len(view) else END,
        )  # fmt: skip
    return Touch("whole", model, attr)


def overlap(a: Touch, b: Touch) -> bool:
    """Tell whether two changes touch the same thing (two splices always do here)."""
    if "nothing" in (a.what, b.what):
        return False
    if a.what in ("title", "roots") or b.what in ("title", "roots"):
        return a.what == b.what
    if a.what == "model" or b.what == "model":  # a change that took the model out touches all of it
        return a.model == b.model
    if (a.model, a.attr) != (b.model, b.attr):
        return False
    kinds = {a.what, b.what}
    if kinds & {"whole", "splice"}:
        return True
    if kinds == {"keys"}:
        return bool(a.names & b.names)
    if kinds == {"cells"}:
        return bool(a.cells & b.cells)
    keys, cells = (a, b) if a.what == "keys" else (b, a)
    return any(column in keys.names for column, _ in cells.cells)


def _what_of(touched: Touch) -> Any:
    """What ``touched`` is about: two touches overlap only if this is the same for both."""
    return touched.what if touched.what in ("title", "roots", "nothing") else (touched.model, touched.attr)


def splices_clash(mine: Touch, theirs: Touch) -> bool:
    """Tell whether two splices made at the same time touch the same items in every order."""
    if mine.deleted & theirs.deleted:
        return True
    # An insertion (deleting nothing) between two items the other deletes, either way round.
    if not mine.deleted and mine.left in theirs.deleted and mine.right in theirs.deleted:
        return True
    return not theirs.deleted and theirs.left in mine.deleted and theirs.right in mine.deleted


def splices_near(mine: Touch, theirs: Touch, view: list[Any] | None = None) -> bool:
    """Tell whether a splice applied meanwhile touched the items of ``mine`` or those around it.

    ``view``: the list ``mine`` was made on, where the items ``theirs`` inserted are placed
    by the neighbour the server applied them after (``_landed_inside``).
    """
    around = {mine.left, mine.right} | mine.deleted
    if splices_clash(mine, theirs) or theirs.deleted & around or mine.deleted & {theirs.left, theirs.right}:
        return True
    return view is not None and _landed_inside(mine, theirs, view)


def _landed_inside(mine: Touch, theirs: Touch, view: list[Any]) -> bool:
    """Tell whether the items ``theirs`` inserted lie strictly inside the range ``mine`` deletes.

    Its maker's neighbours may not be where the server put it: one inserted at the same
    place and applied first comes before it, an item its maker never saw. The server
    applied it right after ``landed[0]``. On the list ``mine`` was made on, the items
    after that one that ``theirs`` had not reached are its client's own, made without
    seeing it: shifted past it, each goes after it (the one applied first comes first).
    So its items lie right after that item there, inside the range if the range holds
    both that item and the next.
    """
    if not (theirs.items and theirs.landed and mine.deleted) or theirs.landed[0] not in view:
        return False  # (at the start nothing deleted lies before it; if its neighbour is gone, its maker's decide)
    after = view.index(theirs.landed[0])
    return after + 1 < len(view) and {view[after], view[after + 1]} <= mine.deleted


def _landed_after_deleted(mine: Touch, theirs: Touch) -> bool:
    """Tell whether the server applied the items ``theirs`` inserted right after an item ``mine`` deletes."""
    return bool(theirs.items and theirs.landed and theirs.landed[0] in mine.deleted)


# -- the model ------------------------------------------------------------------------------


@dataclass
class Entry:
    seq: int
    touched: list[tuple[str | None, Touch]]


@dataclass
class Outcome:
    produced: bool  # the patch took a position of its own (a reset takes the next one)
    rejected: int
    error: bool
    reset: bool = False


#: What ``Replay.process`` returns, having changed nothing, when it must be told whether
#: the server found a model the patch names again (``resolve``).
UNDECIDED = Outcome(False, 0, True)


@dataclass
class Replay:
    """The reference model's state: its document, log, fences and counters.

    ``server_splices``: per position, the list splices the server broadcast there (in its
    own indices), where an accepted splice's place is read.
    """

    document: PlainDocument
    log_size: int
    server_splices: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    seq: int = 0
    #: The newest position whose changes the log dropped (a base before it is not judged).
    lost_through: int = 0
    entries: list[Entry] = field(default_factory=list)
    fences: dict[str, int] = field(default_factory=dict)
    resets: dict[str, int] = field(default_factory=dict)
    accepted_events: int = 0
    rejected_events: int = 0
    gone_events: int = 0
    transformed_splices: int = 0
    #: Per model out of the document, the origin whose change took it out (protocol.md §9:
    #: that origin's patches may put it back by reference), and the model as it left.
    departed_by: dict[str, str | None] = field(default_factory=dict)
    departed: dict[str, Record] = field(default_factory=dict)
    #: Per position held, the layouts a client's change attached models to by reference (the
    #: server held them: no definition sent), by origin: ``(seq, origin, model, attr, ids)``.
    attachments: list[tuple[int, str | None, str, str, frozenset[str]]] = field(default_factory=list)

    def append(self, touched: list[tuple[str | None, Touch]]) -> None:
        self.seq += 1
        entries = self.entries
        entries.append(Entry(self.seq, touched))
        if len(entries) <= self.log_size:  # (nothing dropped: no slices made)
            return
        if self.attachments:
            first = entries[-self.log_size].seq
            self.attachments = [a for a in self.attachments if a[0] >= first]
        # A dropped position that touched something is a change no longer known; a reset's
        # (touching nothing) is not.
        for dropped in entries[: -self.log_size]:
            if dropped.touched:
                self.lost_through = dropped.seq
        del entries[: -self.log_size]  # (a snapshot holds a copy of the list)

    def reaches_back_to(self, base: int) -> bool:
        return self.lost_through <= base <= self.seq

    def since(self, base: int, origin: str) -> list[Touch]:
        entries = self.entries
        if not entries:
            return []
        # The entries hold consecutive positions (each ``append`` takes the next one, and
        # only the oldest are dropped): those after ``base`` start at its offset.
        newer = entries[max(base + 1 - entries[0].seq, 0) :]
        return [t for e in newer for who, t in e.touched if who != origin]

    def snapshot(self) -> Replay:
        copied = copy.copy(self)
        copied.document = self.document.copy()
        copied.entries = list(self.entries)
        copied.fences, copied.resets = dict(self.fences), dict(self.resets)
        copied.departed_by, copied.departed = dict(self.departed_by), dict(self.departed)
        copied.attachments = list(self.attachments)
        return copied

    # -- one patch ------------------------------------------------------------------

    def _judge(
        self,
        patch: SentPatch,
        decoded: list[Change],
        views: list[list[Any] | None],
        indices: list[int],
        fence: int,
        left_out: list[Touch] | None = None,
    ) -> tuple[list[Any], list[Any]]:
        """Split a patch's events into accepted (with their touches) and rejected.

        Accepted splices are put where the server put them (read at the position the
        patch takes), once checked against what their maker meant.
        """
        base = patch.content["base"]
        if base < fence or not self.reaches_back_to(base):
            return [], list(decoded)
        theirs = self.since(base, patch.origin)
        # Only changes of the same property (or both of the title, or of the roots) can
        # overlap: each event is compared with those alone. And the splices among them.
        alike: dict[Any, list[Touch]] = {}
        splices: list[Touch] = []
        for t in theirs:  # (``_what_of``, inline: a patch groups every change made since its base)
            what = t.what
            if what == "splice":
                splices.append(t)
            alike.setdefault(what if what in ("title", "roots", "nothing") else (t.model, t.attr), []).append(t)
        reply = patch.replies[0].content  # (``_lost``, inline: per patch judged)
        server_lost = set(reply.get("lost", ())) if reply.get("rejected") else set()
        forms = list(self.server_splices.get(self.seq + 1, []))
        # A root put back that an earlier change of the patch took out goes, with what follows,
        # at the next position (§9): the server's splices from there are read there.
        # So does one a splice or a value of the patch takes out of a layout and a later
        # one brings back (each item of the workload is in one place: one it leaves is out).
        removed: set[Any] | None = None
        extra = 0
        held = self.document.models
        for event, view in zip(decoded, views, strict=True):  # (a loop: per patch judged)
            kind = event.kind
            if kind == "RootRemoved":
                if removed is None:
                    removed = set()
                removed.add(event.model)
            elif removed and kind == "RootAdded" and event.model in removed:
                extra += 1
                removed = None
            elif event.attr == "children":
                if kind == "ListSpliced" and view is not None:
                    i, d = event.fields["index"], event.fields["delete"]
                    leaving = {r.id for r in view[i : i + d]}
                    coming = {r.id for r in event.fields["items"]}
                elif kind == "ModelChanged" and event.model in held:
                    old = {r.id for r in held[event.model][1].get("children", [])}
                    new = {r.id for r in event.fields["new"]}
                    leaving, coming = old - new, new - old
                else:
                    continue
                if removed and not removed.isdisjoint(coming):
                    extra += 1
                    removed = None
                if leaving:
                    if removed is None:
                        removed = set()
                    removed.update(leaving)
        for later in range(self.seq + 2, self.seq + 2 + extra) if extra else ():
            forms.extend(self.server_splices.get(later, []))
        lists: dict[tuple[Any, Any], list[Any]] = {}  # each list as this patch's accepted events leave it
        accepted: list[tuple[Change, Touch]] = []
        rejected: list[Change] = []
        lost: list[Touch] = list(left_out) if left_out else []
        # Per list, the splices made meanwhile that this patch's earlier splices came near:
        # their places among this patch's later items are where the server's shifts put
        # them (an insertion after an item the patch replaced, say, may land between
        # items a later splice of the patch deletes: a conflict in the shifted forms).
        shifted_near: dict[tuple[Any, Any], bool] = {}
        definitions = patch.content.get("references") or []
        definitions_by_id = {d.get("id"): d for d in definitions if type(d) is dict} if definitions else {}
        defined = set(definitions_by_id)
        joined: set[Any] = set()  # the models it defines that its accepted events so far attached
        kept_out: set[str] = set()  # the models the events that lost were to take out
        out_now: set[Any] = set()  # the models the accepted events so far took out (and did not bring back)
        for event, view, index in zip(decoded, views, indices, strict=True):
            mine = touch(event, view)
            what, key = mine.what, (mine.model, mine.attr)
            near_mine = alike.get(what if what in ("title", "roots", "nothing") else key)  # (_what_of)
            if near_mine is None:
                clash = False
            elif what == "whole":  # (``overlap``'s answer for every change of the same property)
                clash = True
            elif what == "splice":  # (the same for every one but another splice)
                clash = any(t.what != "splice" for t in near_mine)
            else:
                clash = any(overlap(mine, t) for t in near_mine)
            if not clash and mine.model is not None and (mine.model, None) in alike:  # taken out meanwhile
                clash = True
            clash = clash or (bool(lost) and any(overlap(mine, t) for t in lost))
            if not clash and (alike or kept_out) and (event.kind == "RootAdded" or event.attr == "children"):
                # A model it attaches by reference that another origin took out meanwhile
                # (and perhaps put back): made on the model as it was before; or that an
                # earlier event of the patch, which lost, was to take out (§13 rule 4).
                attached = _attached_refs(event, defined)
                clash = any((i, None) in alike or i in kept_out for i in attached)
            if not clash and mine.what == "splice" and mine.model in held:
                # Where splices made meanwhile shifted this one, the server decided: the
                # decision must be one the items involved allow. Items inserted meanwhile
                # between the ones it deletes make it a conflict in every order too.
                # Judged against the other origins' splices of its list alone (§13 rule 4 of
                # protocol.md: "not judged by keys against other origins' splices of its list,
                # but shifted past them, and loses only if it touches the same items"): a
                # model a document holds in two layouts is an item of both lists, and a splice
                # of the other one deleting it touches nothing here (seed 5400003303). Here,
                # every change of the list made meanwhile is a splice (any other clashed).
                of_list = near_mine or ()
                current = lists.setdefault(key, list(held[mine.model][1][mine.attr]))
                clash = index in server_lost
                scattered = _scattered(mine, current)
                near = any(splices_near(mine, t, view) for t in of_list)
                if clash and not (scattered or near or shifted_near.get(key)):
                    raise ReferenceFailure(f"patch {patch.msgid}: splice {index} lost, yet nothing touched its items")
                # (Also an insertion the server applied right after an item this splice
                # deletes: shifted past it, it goes after its replacement.)
                beside = any(_landed_after_deleted(mine, t) for t in of_list)
                shifted_near[key] = shifted_near.get(key, False) or near or beside
                if not clash and (scattered or any(splices_clash(mine, t) for t in of_list)):
                    raise ReferenceFailure(f"patch {patch.msgid}: splice {index} kept, yet its items were touched")
                if not clash:
                    event, mine = self._place(event, mine, forms, current, splices, out_now)
            elif not clash and mine.what == "splice" and mine.model in defined:
                # A model the patch defines anew (not held: taken out meanwhile) is judged by
                # its key as any (§3 rule 6): a splice of its list another origin made after
                # ``base`` on the model it replaces, touching the same items, wins.
                clash = any(splices_clash(mine, t) for t in splices if (t.model, t.attr) == key)
                if not clash:
                    # Else it is shifted past them as any splice (§13 "List splices made at the
                    # same time"), on the list as the definition (and the patch's earlier events)
                    # left it: its maker's index may not count what the definition holds (a
                    # client puts the server's splices it received into a waiting put-back's
                    # definition: seed 2997417029). Attached, it is placed where the server
                    # broadcast it; not (yet, or any more), it reaches no one: by its items,
                    # where the list holds the items it deletes. (Where it does not, no event
                    # of the patch may ever attach the model, and the splice then loses, §13
                    # rule 5: a definition without the list, say, seed 543174307. Else the
                    # documents' equality judges it.)
                    current = lists.get(key)
                    if current is None:
                        value = definitions_by_id[mine.model].get("attributes", {}).get(mine.attr, [])
                        current = lists[key] = [Ref(i["id"]) if type(i) is dict else i for i in value]
                    if mine.model in joined and mine.model not in out_now:
                        event, mine = self._place(event, mine, forms, current, splices, out_now)
                    elif mine.deleted.issubset(current):
                        event, mine = _placed_by_items(event, mine, current)
            if clash:
                rejected.append(event)
                lost.append(mine)
                kept_out.update(_taken_refs(event, held))
                continue
            if event.kind == "ModelChanged" and isinstance(event.fields["new"], list):
                lists[key] = list(event.fields["new"])
            accepted.append((event, mine))
            if defined and (event.kind == "RootAdded" or event.attr == "children"):
                _follow_joined(_attached_refs(event, set()), definitions_by_id, joined)
            if event.attr == "children" or event.kind == "RootRemoved" or (out_now and event.kind == "RootAdded"):
                _follow_out(event, mine, held, out_now)
        return accepted, rejected

    def _place(
        self,
        event: Change,
        mine: Touch,
        forms: list[dict[str, Any]],
        current: list[Any],
        splices: list[Touch],
        out_now: set[Any] = frozenset(),  # type: ignore[assignment]
    ) -> tuple[Change, Touch]:
        """Put an accepted splice where the server put it, checking that it kept what its maker meant.

        Returns the event in the server's indices and ``mine`` with the neighbours it landed between.
        """
        if event.model in out_now and event.model in self.document.models:
            # A model an earlier event of this patch took out: the server applied the
            # splice, shifted past the splices made meanwhile, and sent it to no one. (Not
            # read from the forms even where there are some of that list: they are of the
            # patch's later splices, once a later event put the model back, at the next
            # position; seed 490690891 paired the first with such a form.)
            return _placed_by_items(event, mine, current)
        form = next((f for f in forms if (f["model"]["id"], f["attr"]) == (mine.model, mine.attr)), None)
        if form is None and (event.model not in self.document.models or event.model in out_now):
            # A model this patch defines but no change that won attached: the change
            # applies to nothing, and the server sent nothing of it.
            return event, mine
        if form is None:
            raise ReferenceFailure(f"no splice of {mine.model}.{mine.attr} seen at position {self.seq + 1}")
        forms.remove(form)
        after = self._check_placement(mine, form, current, splices)
        # (A trial that is not the server's, another order of a position's patches or
        # another fence, may read a form past this list's end: it goes at the end, as in
        # the document, and the trial's outcome tells.)
        start = min(form["index"], len(current))
        end = start + len(form["items"])
        landed = (current[start - 1] if start > 0 else START, after[end] if end < len(after) else END)
        current[:] = after
        self.transformed_splices += form["index"] != event.fields["index"]
        return event.moved(form["index"], form["delete"]), mine._replace(landed=landed)

    def _check_placement(self, mine: Touch, form: dict[str, Any], before: list[Any], splices: list[Touch]) -> list[Any]:
        position = self.seq + 1
        index, delete = form["index"], form["delete"]
        items = [Ref(i["id"]) if type(i) is dict else i for i in form["items"]]
        if set(before[index : index + delete]) != mine.deleted or delete != len(mine.deleted):
            raise ReferenceFailure(
                f"at {position}, a splice meant to delete {sorted(mine.deleted)} deletes "
                f"{before[index : index + delete]} of {before}"
            )
        after = before[:index] + items + before[index + delete :]
        if not items:  # (a deletion: nothing lands anywhere)
            return after
        # A neighbour a splice applied meanwhile inserted (a child moved: taken out and put
        # back, here or elsewhere in the list) is not where its maker saw it: the server's
        # shifts place the splice by index, and it may land on either side of it.
        # (Loops, not a generator: per splice placed, over the few splices made meanwhile.)
        neighbours = [n for n in (mine.left, mine.right) if n not in (START, END)]
        moved = False
        if neighbours:
            for t in splices:
                inserted = t.items
                if inserted and (neighbours[0] in inserted or neighbours[-1] in inserted):
                    moved = True
                    break
        # An item inserted where the list holds it already (a client whose document held a
        # model in two places, its splice of the other list skipped until that list's
        # correction, moved it there: seed 3637) is not one place: neither tells where it is.
        if not moved:
            for item in items:
                if item in before:
                    moved = True
                    break
        # Nor is a neighbour the list holds twice (such a move of the item it held in a
        # second layout put it there twice): inserted between its two places (seed
        # 2501463591), the item is read as after the second one.
        if not moved:
            for n in neighbours:
                if before.count(n) > 1:
                    moved = True
                    break
        if moved:
            return after
        where = {item: i for i, item in enumerate(after)}
        if (mine.left in where and where[mine.left] >= index) or (
            mine.right in where and where[mine.right] < index + len(items)
        ):
            raise ReferenceFailure(f"at {position}, {items} is not between {mine.left} and {mine.right}: {after}")
        still_there = all(n in (START, END) or n in before for n in (mine.left, mine.right))
        if not mine.deleted and still_there:
            # Insertions made meanwhile between the same neighbours, applied first, come
            # first: while both neighbours are there (once one is deleted, an item
            # inserted past it may land between two insertions made at one place, §3a),
            # and of their items those the list still holds: one deleted since tells
            # nothing, and where this splice inserts it again (a child moved back: seed
            # 6900015873), its place is this splice's. And those it holds at this place,
            # before the right neighbour: one that landed past it (its neighbour inserted
            # meanwhile, it went by index to either side: seed 7300001285) was not inserted
            # at this splice's index, and does not shift it.
            right_at = where[mine.right] if mine.right in where else len(after)
            for theirs in splices:
                same_place = (theirs.model, theirs.attr, theirs.left, theirs.right) == (
                    mine.model, mine.attr, mine.left, mine.right,
                )  # fmt: skip
                if (
                    same_place
                    and not theirs.deleted
                    and any(x in before and index <= where.get(x, -1) < right_at for x in theirs.items)
                ):
                    raise ReferenceFailure(f"at {position}, {items} went before {theirs.items}, applied first: {after}")
        return after

    def process(self, patch: SentPatch, resume_fence: int, resolve: bool | None = None) -> Outcome:
        """Apply the rule to ``patch`` at the current position; return what it did.

        ``resolve``: a model its sender's own change took out, which it names again, is
        still there to put back. The server finds it while the application holds it
        (§9): whether it does is the application's (the convergence app holds none of
        its models, but one the collector has not freed yet is still found), so both are
        tried. None: ``UNDECIDED`` is returned, nothing changed, if the patch names one.
        """
        document = self.document
        content = patch.content
        definitions = content.get("references", [])
        defined = {r.get("id") for r in definitions} if definitions else ()
        held = document.models
        kept, gone = [], 0
        gone_root = False  # a root put back that is gone: the sender's roots are not the server's
        # Models out of the document the patch names: its sender's own change took them out (§9).
        named: dict[str, Record] = {}
        departed_by = self.departed_by
        gone_values: list[Touch] = []  # properties of held models whose new value names a model gone
        left_out: list[Touch] = []  # what the events left out touch
        for index, raw in enumerate(content["events"]):
            target = raw.get("model")
            target = target.get("id") if type(target) is dict else None
            # The model the event changes, and (§13 rule 3) those its value refers to.
            unheld = [target] if target is not None and target not in defined and target not in held else []
            if raw.get("attr") == "children":  # (the apps' one property holding models)
                for name in ("new", "items"):
                    if name in raw:
                        unheld.extend(i for i in _ids_in(raw[name]) if i not in defined and i not in held)
            if unheld:
                if departed_by and all(departed_by.get(i, self) == patch.origin for i in unheld):
                    if resolve is None:
                        return UNDECIDED
                    if resolve:
                        named.update((i, self.departed[i]) for i in unheld)
                        kept.append(index)
                        continue
                gone += 1  # the model left the document before this patch arrived
                gone_root = gone_root or raw.get("kind") == "RootAdded"
                # It lost: a later event of the patch on its property (or the roots) was made on top of it.
                if raw.get("kind") in ("RootAdded", "RootRemoved"):
                    left_out.append(Touch("roots"))
                elif target is not None and type(raw.get("attr")) is str:
                    left_out.append(Touch("whole", target, raw["attr"]))
                if target in held and target not in unheld:  # its sender holds the value: corrected
                    gone_values.append(Touch("whole", target, raw.get("attr")))
            else:
                kept.append(index)
        decoder = Decoder(dict(patch.buffers), resolve_ref=Ref)
        decoded = [decode_change(content["events"][i], decoder) for i in kept]
        fence = max(self.fences.get(patch.origin, 0), resume_fence)
        views = patch_views(patch, decoded, kept)
        accepted, rejected = self._judge(patch, decoded, views, kept, fence, left_out)
        accepted_before, strays = accepted, []
        # Events on a model the patch defines that no accepted event brings in lose too.
        if definitions or named:  # (a patch defining no model has none: ``_unattached`` returns [])
            raw = [content["events"][i] for i in kept]
            joining = [*definitions, *({"id": i} for i in named)] if named else definitions
            strays = _unattached(raw, decoded, [e for e, _ in accepted], joining)
            if strays:  # (most patches have none)
                accepted = [(e, m) for e, m in accepted if all(e.source is not stray for stray in strays)]
            gone += len(strays)
        # The models the patch takes out that another origin attached by reference since its
        # base: its sender had them out (its change unanswered) and skipped that attachment,
        # or attached the object its application held out; the server corrects those layouts
        # once the patch is applied, where it still holds such a model (protocol.md §9).
        base = content.get("base")
        taken: set[str] = set()
        if (
            type(base) is int
            and self.seq > base
            and any(a[0] > base and a[1] != patch.origin for a in self.attachments)
        ):
            stray_changes = [e for e, _ in accepted_before if any(e.source is s for s in strays)] if strays else []
            taken = _taken_out(accepted, [*rejected, *stray_changes], held)
        events = [e for e, _ in accepted]
        error = False
        try:
            emitted = document.apply(events, definitions, decoder, named)
        except Refused:
            error, rejected, emitted = True, [e for e, _ in accepted] + rejected, []
        if not error and departed_by and (named or definitions):
            for model_id in [*named, *(d["id"] for d in definitions)] if named else [d["id"] for d in definitions]:
                if model_id in departed_by and model_id in document.models:  # back: named by no one now
                    del departed_by[model_id], self.departed[model_id]
        if not error and document.departed:
            for model_id, record in document.departed.items():
                departed_by[model_id] = patch.origin
                self.departed[model_id] = record
        # What the patch changed, as the document reported it (a change to the value a
        # property already had reports nothing, and takes no place in the log).
        splices: dict[tuple[Any, Any], list[Touch]] = {}  # per list, in order (a splice of a model
        for _, mine in accepted:  # nothing attached reports nothing)
            if mine.what == "splice":
                splices.setdefault((mine.model, mine.attr), []).append(mine)
        touched: list[tuple[str | None, Touch]] = [
            (patch.origin, splices[(e.model, e.attr)].pop(0) if e.kind == "ListSpliced" else touch(e)) for e in emitted
        ]
        # The models each change attached by reference: held by the document before it (not
        # defined by the patch, nor named back, nor brought in by it: the server defines those).
        not_refs = {*defined, *named} if named else set(defined)
        referred = [
            (e.model, e.attr, frozenset(i for i in _attached_refs(e, not_refs)))
            if e.attr == "children" and e.kind in ("ListSpliced", "ModelChanged")
            else None
            for e in emitted
        ]
        where = [0] * len(emitted)  # per change, the part it goes in (the last: ``len(parts)``)
        # A model taken out touches all of it; one brought back that an earlier change of
        # the position took out goes, with what follows, at the next position (§9).
        parts: list[list[tuple[str | None, Touch]]] = []
        if document.moves:  # (a change of the patch took a model out)
            out_now: set[str] = set()
            part: list[tuple[str | None, Touch]] = []
            for n, (t, (out, brought)) in enumerate(zip(touched, document.moves, strict=True)):
                if out_now and not out_now.isdisjoint(brought):
                    parts.append(part)
                    part, out_now = [], set()
                part.append(t)
                where[n] = len(parts)
                ref = referred[n]
                if ref is not None and brought and not ref[2].isdisjoint(brought):
                    referred[n] = (ref[0], ref[1], ref[2] - brought)
                if out:
                    out_now.update(out)
                    part.extend((patch.origin, Touch("model", m)) for m in sorted(out))
            touched = part
        corrected: list[Touch] = []
        for whole in gone_values:
            if whole not in corrected and whole.model in document.models:
                corrected.append(whole)
        reset = gone_root
        for event in rejected:
            if event.kind == "RootAdded" or event.kind == "RootRemoved":
                reset = True
            elif event.kind == "TitleChanged":
                corrected.append(Touch("title"))
            else:
                model, attr = event.model, event.attr
                whole = Touch("whole", model, attr)
                if whole not in corrected and model in document.models:
                    corrected.append(whole)
        if taken and any(i in document.models for i in taken):
            for _, _who, model, attr, ids in [a for a in self.attachments if a[0] > base and a[1] != patch.origin]:
                whole = Touch("whole", model, attr)
                if not ids.isdisjoint(taken) and whole not in corrected and model in document.models:
                    corrected.append(whole)
        if corrected:
            touched.extend((None, t) for t in corrected)
        first = self.seq + 1
        for part in parts:
            self.append(part)
        if touched:
            self.append(touched)
        if not error:
            for n, ref in enumerate(referred):
                if ref is not None and ref[2]:
                    self.attachments.append((first + where[n], patch.origin, ref[0], ref[1], ref[2]))
        if reset:  # the reset takes a position of its own, touching nothing
            self.append([])
            self.fences[patch.origin] = self.seq
            self.resets[patch.origin] = self.resets.get(patch.origin, 0) + 1
        self.accepted_events += len(accepted) if not error else 0
        self.rejected_events += len(rejected) + gone
        self.gone_events += gone
        return Outcome(bool(touched) or bool(parts), len(rejected) + gone, error, reset)


def _attached_refs(event: Change, defined: set[Any]) -> list[str]:
    """The models ``event`` attaches by reference that its patch does not define."""
    kind = event.kind
    if kind == "RootAdded":
        return [event.model] if event.model is not None and event.model not in defined else []
    if kind == "ListSpliced":
        value = event.fields["items"]
    elif kind == "ModelChanged":
        value = event.fields["new"]
    else:
        return []
    if type(value) is not list:
        return [value.id] if type(value) is Ref and value.id not in defined else []
    return [v.id for v in value if type(v) is Ref and v.id not in defined]


def _taken_out(accepted: list[tuple[Change, Touch]], lost: list[Change], held: dict[str, Record]) -> set[str]:
    """The models a patch's events take out, as the server finds them (sequencer.py's ``_taken_out``).

    Accepted: a root removed, a layout's children deleted or no longer in its whole value
    (followed through the patch's earlier changes of the layout); lost: ``_taken_refs``.
    Those an accepted change attaches are left out (the sender held them).
    """
    taken: set[str] = set()
    put: set[str] = set()
    lists: dict[Any, set[str]] = {}
    for event, mine in accepted:
        kind = event.kind
        if kind == "RootRemoved":
            if event.model is not None:
                taken.add(event.model)
        elif kind == "RootAdded":
            if event.model is not None:
                put.add(event.model)
        elif event.attr == "children" and event.model in held and kind in ("ListSpliced", "ModelChanged"):
            ids = lists.get(event.model)
            if ids is None:
                ids = lists[event.model] = {r.id for r in held[event.model][1]["children"]}
            if kind == "ListSpliced":
                gone = {r.id for r in mine.deleted}
                new = {r.id for r in event.fields["items"]}
                ids.difference_update(gone)
                ids.update(new)
            else:
                new = {r.id for r in event.fields["new"]}
                gone = ids - new
                lists[event.model] = new
            taken.update(gone)
            put.update(new)
    for event in lost:
        taken.update(_taken_refs(event, held))
    return taken - put


def _follow_joined(ids: list[str], definitions: dict[Any, dict[str, Any]], joined: set[Any]) -> None:
    """Note in ``joined`` the models of ``definitions`` that ``ids`` attach, and those they reach."""
    while ids:
        model_id = ids.pop()
        if model_id in definitions and model_id not in joined:
            joined.add(model_id)
            ids.extend(_ids_in(definitions[model_id].get("attributes", {})))


def _follow_out(event: Change, mine: Touch, held: dict[str, Record], out: set[Any]) -> None:
    """Note in ``out`` the models an accepted event takes out (a root removed, a layout's child) or brings back.

    A change of a model its patch took out reaches no one (the server sends nothing of it).
    """
    kind = event.kind
    if kind == "RootRemoved":
        out.add(event.model)
    elif kind == "RootAdded":
        out.discard(event.model)
    elif event.attr == "children":
        if kind == "ListSpliced":  # (what it deletes as its maker meant: the event may be placed elsewhere)
            out.update(r.id for r in mine.deleted)
            out.difference_update(r.id for r in event.fields["items"])
        elif kind == "ModelChanged" and event.model in held:
            new = {r.id for r in event.fields["new"]}
            out.update(r.id for r in held[event.model][1]["children"] if r.id not in new)
            out.difference_update(new)


def _placed_by_items(event: Change, mine: Touch, current: list[Any]) -> tuple[Change, Touch]:
    """Put a splice no one was sent where its items say (``current``: its list, updated).

    A splice of a model its own patch took out reaches no one, so its place cannot be
    read; the server still shifted it past the splices applied since its base (§3a), and
    a put-back of the model brings the list as that left it. It deletes the items its maker
    deleted (still together: else it lost); an insertion goes before its right neighbour
    (after the items inserted meanwhile at its place, applied first; before the
    replacement of a range that starts there), else after its left one, else at its end
    of the list. Its maker's index may be past the end of the list by then (seed 5407).
    """
    if mine.deleted:
        places = [current.index(item) for item in mine.deleted if item in current]
        if not places:  # (a trial's order may leave none: it fails as any disagreement)
            raise ReferenceFailure(f"a splice meant to delete {sorted(mine.deleted)} finds none of them in {current}")
        index = min(places)
    elif mine.right == END:
        index = len(current)
    elif mine.right in current:
        index = current.index(mine.right)
    elif mine.left == START:
        index = 0
    elif mine.left in current:
        index = current.index(mine.left) + 1
    else:
        index = min(event.fields["index"], len(current))
    delete = len(mine.deleted)
    current[index : index + delete] = list(mine.items)
    end = index + len(mine.items)
    landed = (current[index - 1] if index > 0 else START, current[end] if end < len(current) else END)
    return event.moved(index, delete), mine._replace(landed=landed)


def _taken_refs(event: Change, held: dict[str, Record]) -> list[str]:
    """The models ``event`` (one that lost) was to take out, as the document held them before its patch.

    A root removed; for a splice of a layout that deletes, every child the layout holds
    (its index, made on the layout as its maker saw it, may name other children where the
    layout changed meanwhile: protocol.md §13 rule 4); the models a whole value of a
    layout no longer holds.
    """
    kind = event.kind
    if kind == "RootRemoved":
        return [event.model] if event.model is not None else []
    if event.attr != "children" or event.model not in held:
        return []
    current = held[event.model][1]["children"]
    if kind == "ListSpliced":
        return [r.id for r in current] if event.fields["delete"] else []
    if kind == "ModelChanged":
        new = {r.id for r in event.fields["new"]}
        return [r.id for r in current if r.id not in new]
    return []


def _ids_in(value: Any) -> list[str]:
    """The model ids referenced in a JSON value: every object that is exactly {"id": ...}."""
    if isinstance(value, dict):
        if set(value) == {"id"}:
            return [value["id"]]
        return [i for item in value.values() for i in _ids_in(item)]
    if isinstance(value, list):
        return [i for item in value for i in _ids_in(item)]
    return []


def _unattached(
    raw: list[dict[str, Any]], decoded: list[Change], accepted: list[Change], definitions: list[Any]
) -> list[Change]:
    """The accepted events on models the patch defines that no accepted event brings into the document.

    Read from the patch's JSON: an accepted RootAdded brings its model; an accepted
    event's value brings the models it references, and they the models they reference.
    """
    defined = {d.get("id"): d for d in definitions if isinstance(d, dict)}
    if not defined:
        return []  # (most patches define no model: no event can be on one)
    chosen = [(r, e) for r, e in zip(raw, decoded, strict=True) if any(e is a.source for a in accepted)]
    brought: set[str] = set()
    pending: list[str] = []
    for r, _ in chosen:
        if r.get("kind") == "RootAdded":
            pending.extend(_ids_in(r.get("model")))
        for name in ("new", "items", "columns", "data"):
            pending.extend(_ids_in(r.get(name)))
    while pending:
        model_id = pending.pop()
        if model_id in defined and model_id not in brought:
            brought.add(model_id)
            pending.extend(_ids_in(defined[model_id].get("attributes", {})))
    return [
        e
        for r, e in chosen
        if _ids_in(r.get("model"))[:1] and _ids_in(r["model"])[0] in defined and _ids_in(r["model"])[0] not in brought
    ]


def _scattered(mine: Touch, current: list[Any]) -> bool:
    """Tell whether items inserted meanwhile lie between the items a splice deletes.

    They do unless one run of the list's items, all of them ones it deletes, holds every
    one it deletes that the list still holds. (A list may hold an item twice: a client
    whose document held a model in two places moves it into the layout holding it, then
    takes one of them out, and the items between the two are not among what it deletes:
    seed 2289133867.)
    """
    deleted = mine.deleted
    present = deleted.intersection(current)
    if not present:
        return False
    run: set[Any] = set()
    for item in current:
        if item in deleted:
            run.add(item)
            if run >= present:
                return False
        else:
            run = set()
    return True


def patch_views(patch: SentPatch, decoded: list[Change], indices: list[int]) -> list[list[Any] | None]:
    """The list each splice of ``patch`` was made on, as its client saw it (None for others).

    ``indices``: the place of each decoded event in the patch as sent.
    """
    if not patch.views and all(event.kind != "ListSpliced" for event in decoded):  # (most patches)
        return [None] * len(decoded)
    views = []
    for event, index in zip(decoded, indices, strict=True):
        splice = event.kind == "ListSpliced"
        view = patch.views.get(index) if splice else None
        if splice and view is None:
            raise ReferenceFailure(f"no view recorded for splice {index} of patch {patch.msgid}")
        if splice and event.attr == "children":  # a layout's children, recorded by id
            view = [Ref(i) for i in view]  # type: ignore[union-attr]
        views.append(view)
    return views


def _answer(patch: SentPatch) -> tuple[int, int, bool]:
    """Return (position, rejected count, refused) from the server's first answer."""
    if not patch.replies:
        raise ReferenceFailure(f"patch {patch.msgid} of {patch.origin} was never answered")
    reply = patch.replies[0]
    if reply.header["msgtype"] == ERROR:  # (``Message.msgtype``, without the call)
        raise ReferenceFailure(f"patch {patch.msgid} of {patch.origin} was refused: {reply.content}")
    content = reply.content
    position = content.get("applied_seq", content["seq"])
    return position, content.get("rejected", 0), False


def _check_replies_agree(patch: SentPatch) -> None:
    # A patch resent after a reconnect is answered again; the answers must agree.
    first = patch.replies[0].content
    for reply in patch.replies[1:]:
        content = reply.content
        if content.get("rejected", 0) != first.get("rejected", 0):
            raise ReferenceFailure(f"patch {patch.msgid} answered differently on resend: {first} then {content}")
        if content.get("applied_seq", content.get("seq")) != first.get("applied_seq", first.get("seq")):
            raise ReferenceFailure(f"patch {patch.msgid} placed differently on resend: {first} then {content}")


def replay(
    initial: PlainDocument,
    patches: list[SentPatch],
    full_resumes: dict[str, list[int]],
    log_size: int,
    server_splices: dict[int, list[dict[str, Any]]],
) -> Replay:
    """Re-run the rule over ``patches`` in the server's order; raise ReferenceFailure on disagreement."""
    placed = []
    for patch in patches:
        position, rejected, _ = _answer(patch)
        if len(patch.replies) > 1:
            _check_replies_agree(patch)
        placed.append((position, patch.origin, patch.order, patch, rejected))
    placed.sort(key=lambda p: (p[0], p[1], p[2]))
    state = Replay(initial, log_size, server_splices)
    groups: dict[int, list[tuple[SentPatch, int]]] = {}
    for position, _, _, patch, rejected in placed:
        groups.setdefault(position, []).append((patch, rejected))
    for position in sorted(groups):
        group = groups[position]
        if position < state.seq:
            raise ReferenceFailure(f"patches placed at {position} after position {state.seq} was produced")
        state = _process_group(state, group, position, full_resumes)
    return state


def _fence_choices(patch: SentPatch, position: int, full_resumes: dict[str, list[int]]) -> list[int]:
    # A full resume at position r fences the sender's patches processed after it. A
    # patch placed at r itself may have been processed on either side of the resume.
    before = [r for r in full_resumes.get(patch.origin, []) if r < position]
    at = [r for r in full_resumes.get(patch.origin, []) if r == position]
    fence = max(before, default=0)
    return [fence, max(fence, *at)] if at else [fence]


def _process_group(
    state: Replay, group: list[tuple[SentPatch, int]], position: int, full_resumes: dict[str, list[int]]
) -> Replay:
    """Process the patches placed at ``position``: at most one produced it, first."""
    needs_producer = position > state.seq
    if len(group) == 1:  # (most positions: one patch, one order, no trial copy)
        patch, rejected = group[0]
        try:
            _process_one(state, patch, rejected, position, full_resumes, producer=needs_producer)
        except ReferenceFailure as exc:
            raise ReferenceFailure(
                f"no order of the patches placed at {position} agrees with the rule: {[str(exc)]}"
            ) from None
        return state
    # Within one origin, patches were processed in the order they were sent.
    candidates = [i for i, (p, _) in enumerate(group) if not any(q.origin == p.origin for q, _ in group[:i])]
    if not needs_producer:
        candidates = [0]
    problems = []
    for first in candidates:
        trial = state.snapshot() if len(group) > 1 or len(candidates) > 1 else state
        order = [group[first], *group[:first], *group[first + 1 :]]
        try:
            for index, (patch, rejected) in enumerate(order):
                _process_one(trial, patch, rejected, position, full_resumes, producer=needs_producer and index == 0)
        except ReferenceFailure as exc:
            problems.append(str(exc))
            continue
        return trial
    raise ReferenceFailure(f"no order of the patches placed at {position} agrees with the rule: {problems}")


def _process_one(
    state: Replay,
    patch: SentPatch,
    rejected: int,
    position: int,
    full_resumes: dict[str, list[int]],
    *,
    producer: bool,
) -> None:
    outcomes = []
    # (No full resume of its sender, most runs: the one choice ``_fence_choices`` gives then.)
    choices: list[tuple[int, bool | None]] = [(0, None)]
    several = False
    if not full_resumes.get(patch.origin):
        # (That choice tried first without the loop below: most patches.)
        outcome = state.process(patch, 0, None)
        if outcome is not UNDECIDED:  # (else nothing changed: the loop tries it, and then both resolves)
            placed = state.seq - outcome.reset == position if producer else not outcome.produced
            if outcome.rejected == rejected and placed and not outcome.error:
                return
            outcomes.append((outcome, state))
            choices = []
    else:
        fences = _fence_choices(patch, position, full_resumes)
        choices, several = [(fence, None) for fence in fences], len(fences) > 1
    tried = 0
    for fence, resolve in choices:  # (grows: the choices of ``resolve`` go right after their fence's)
        tried += 1
        trial = state.snapshot() if several or resolve is not None else state
        outcome = trial.process(patch, fence, resolve)
        if outcome is UNDECIDED:  # (rare) it names a model its sender took out: found by the server, or not
            choices[tried:tried] = [(fence, False), (fence, True)]
            continue
        outcomes.append((outcome, trial))
        # The answer names the patch's own position; a reset it caused took the next one.
        placed = trial.seq - outcome.reset == position if producer else not outcome.produced
        if outcome.rejected == rejected and placed and not outcome.error:
            if trial is not state:
                state.__dict__.update(trial.__dict__)
            return
    described = [(o.rejected, o.produced, o.error) for o, _ in outcomes]
    raise ReferenceFailure(
        f"patch {patch.msgid} of {patch.origin} (base {patch.base}, events "
        f"{[e.get('kind') for e in patch.content['events']]}) placed at {position}: server rejected "
        f"{rejected} event(s){' and produced positions up to there' if producer else ''}; the rule gives "
        f"(rejected, produced, refused) {described} from position {state.seq}"
    )
