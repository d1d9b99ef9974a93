"""A reference model of docsync's convergence rule, written from docs/convergence.md.

Given the document a session started from and every patch its clients sent, with the
server's answers, ``replay`` re-runs the documented rule in the server's order:

- each patch is placed by the position its OK names (the server's total order);
- an event is rejected when another origin (or the server) touched an overlapping key
  after the patch's ``base``, when an earlier event of the same patch on an overlapping
  key was rejected, when ``base`` is older than the sender's fence or than the log
  reaches, when its model is no longer in the document, or when its model is one the
  patch defines and no accepted event of the patch brings it in; everything else is applied;
- a rejected property change queues a correction (touching the whole property), a
  rejected root change resets the sender (its fence moves to that position).

It checks that the server rejected exactly the events the rule rejects, that every
position was produced by exactly one patch, and returns the document that applying
every accepted event in order gives: the server's document must equal it, so no
accepted edit was lost and nothing else changed.

Conflict keys are computed here independently of ``docsync.server.session.patches``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from docsync.document import Document, DocumentEvent
from docsync.document import events as ev
from docsync.document.wire import DecodedPatch
from docsync.exceptions import PatchError
from docsync.protocol.msgtypes import ERROR

from .harness import SentPatch

__all__ = ["ReferenceFailure", "Replay", "event_keys", "replay"]

Key = tuple[Any, ...]
MAX_CELL_KEYS = 64


class ReferenceFailure(AssertionError):
    """The server's answers disagree with the documented rule."""


def _hashable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    return value


def event_keys(event: DocumentEvent) -> list[Key]:
    """Return the keys an event touches, as docs/convergence.md defines them."""
    if isinstance(event, ev.MessageSentEvent):
        return []
    if isinstance(event, ev.TitleChangedEvent):
        return [("title",)]
    if isinstance(event, ev.RootAddedEvent | ev.RootRemovedEvent):
        return [("roots",)]
    model, attr = event.model.id, event.attr  # type: ignore[attr-defined]
    if isinstance(event, ev.DictItemsSetEvent):
        return [(model, attr, _hashable(k)) for k in event.items]
    if isinstance(event, ev.DictItemsDeletedEvent):
        return [(model, attr, _hashable(k)) for k in event.keys]
    if isinstance(event, ev.ColumnDataChangedEvent):
        return [(model, attr, name) for name in event.columns]
    if isinstance(event, ev.ColumnsPatchedEvent):
        keys: list[Key] = []
        for name, entries in event.patches.items():
            if len(entries) > MAX_CELL_KEYS or any(isinstance(i, slice) for i, _ in entries):
                keys.append((model, attr, name))
            else:
                keys.extend((model, attr, name, i) for i, _ in entries)
        return keys
    return [(model, attr)]


def overlap(a: Key, b: Key) -> bool:
    """Two keys overlap when one is a prefix of the other."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]


@dataclass
class Entry:
    seq: int
    touched: list[tuple[str | None, Key]]


@dataclass
class Outcome:
    produced: bool
    rejected: int
    error: bool


@dataclass
class Replay:
    """The reference model's state: its document, log, fences and counters."""

    document: Document
    log_size: int
    seq: int = 0
    entries: list[Entry] = field(default_factory=list)
    fences: dict[str, int] = field(default_factory=dict)
    resets: dict[str, int] = field(default_factory=dict)
    accepted_events: int = 0
    rejected_events: int = 0
    gone_events: int = 0

    def append(self, touched: list[tuple[str | None, Key]]) -> None:
        self.seq += 1
        self.entries.append(Entry(self.seq, touched))
        self.entries = self.entries[-self.log_size :]

    def reaches_back_to(self, base: int) -> bool:
        held = min(self.seq, self.log_size)
        return self.seq - held <= base <= self.seq

    def touched_since(self, base: int, origin: str) -> list[Key]:
        return [key for e in self.entries if e.seq > base for who, key in e.touched if who != origin]

    def snapshot(self) -> Replay:
        doc_json, buffers = self.document.to_json()
        return Replay(
            Document.from_json(doc_json, dict(buffers)),
            self.log_size,
            self.seq,
            list(self.entries),
            dict(self.fences),
            dict(self.resets),
            self.accepted_events,
            self.rejected_events,
            self.gone_events,
        )

    # -- one patch ------------------------------------------------------------------

    def process(self, patch: SentPatch, resume_fence: int) -> Outcome:
        """Apply the rule to ``patch`` at the current position; return what it did."""
        document = self.document
        content = patch.content
        base = content["base"]
        defined = {r.get("id") for r in content.get("references", [])}
        kept, gone = [], 0
        for raw in content["events"]:
            target = raw.get("model", {}).get("id") if isinstance(raw.get("model"), dict) else None
            if target is not None and target not in defined and document.get_model_by_id(target) is None:
                gone += 1  # the model left the document before this patch arrived
            else:
                kept.append(raw)
        decoded = document.decode_patch(
            {"events": kept, "references": content.get("references", [])}, dict(patch.buffers), setter=patch.origin
        )
        fence = max(self.fences.get(patch.origin, 0), resume_fence)
        accepted: list[DocumentEvent] = []
        rejected: list[DocumentEvent] = []
        if base < fence or not self.reaches_back_to(base):
            rejected = list(decoded.events)
        else:
            theirs = self.touched_since(base, patch.origin)
            lost: list[Key] = []
            for event in decoded.events:
                keys = event_keys(event)
                if any(overlap(k, t) for k in keys for t in theirs + lost):
                    rejected.append(event)
                    lost.extend(keys)
                else:
                    accepted.append(event)
        strays = _unattached(kept, decoded.events, accepted, content.get("references", []))
        accepted = [e for e in accepted if all(e is not stray for stray in strays)]
        gone += len(strays)
        emitted: list[DocumentEvent] = []
        document.on_change(emitted.append)
        error = False
        try:
            document.apply_patch(DecodedPatch(accepted, decoded.new_models), setter=patch.origin, from_client=True)
        except PatchError:
            error, rejected, emitted = True, accepted + rejected, []
        finally:
            document.remove_on_change(emitted.append)
        touched: list[tuple[str | None, Key]] = [(patch.origin, k) for e in emitted for k in event_keys(e)]
        corrected: list[Key] = []
        reset = False
        for event in rejected:
            if isinstance(event, ev.RootAddedEvent | ev.RootRemovedEvent):
                reset = True
            elif isinstance(event, ev.TitleChangedEvent):
                corrected.append(("title",))
            else:
                key = event.property_key()
                if key is not None and key not in corrected and document.get_model_by_id(key[0]) is not None:
                    corrected.append(key)
        touched.extend((None, key) for key in corrected)
        produced = bool(emitted or corrected or reset)
        if emitted or corrected:
            self.append(touched)
        if reset:  # the reset takes a position of its own, touching nothing
            self.append([])
            self.fences[patch.origin] = self.seq
            self.resets[patch.origin] = self.resets.get(patch.origin, 0) + 1
        self.accepted_events += len(accepted) if not error else 0
        self.rejected_events += len(rejected) + gone
        self.gone_events += gone
        return Outcome(produced, len(rejected) + gone, error)


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
    raw: list[dict[str, Any]], decoded: list[DocumentEvent], accepted: list[DocumentEvent], definitions: list[Any]
) -> list[DocumentEvent]:
    """The accepted events on models the patch defines that no accepted event brings into the document.

    Read from the patch's JSON: an accepted RootAdded brings its model; an accepted
    event's value brings the models it references, and they the models they reference.
    """
    defined = {d.get("id"): d for d in definitions if isinstance(d, dict)}
    chosen = [(r, e) for r, e in zip(raw, decoded, strict=True) if any(e is a for a in accepted)]
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


def _answer(patch: SentPatch) -> tuple[int, int, bool]:
    """Return (position, rejected count, refused) from the server's first answer."""
    if not patch.replies:
        raise ReferenceFailure(f"patch {patch.msgid} of {patch.origin} was never answered")
    reply = patch.replies[0]
    if reply.msgtype == ERROR:
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
    initial: Document,
    patches: list[SentPatch],
    full_resumes: dict[str, list[int]],
    log_size: int,
) -> Replay:
    """Re-run the rule over ``patches`` in the server's order; raise ReferenceFailure on disagreement."""
    placed = []
    for patch in patches:
        position, rejected, _ = _answer(patch)
        _check_replies_agree(patch)
        placed.append((position, patch.origin, patch.order, patch, rejected))
    placed.sort(key=lambda p: (p[0], p[1], p[2]))
    state = Replay(initial, log_size)
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
    for fence in _fence_choices(patch, position, full_resumes):
        trial = state.snapshot() if len(_fence_choices(patch, position, full_resumes)) > 1 else state
        outcome = trial.process(patch, fence)
        outcomes.append((outcome, trial))
        placed = trial.seq == position if producer else not outcome.produced
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
