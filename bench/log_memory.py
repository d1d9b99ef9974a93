"""What a session's log of client changes holds in memory, beside what PATCH_LOG_BYTES counts of it.

    python bench/log_memory.py [--shape refs|small|keys|splices|all] [--entries 1000] [--bytes 1048576]

In process (a server-side ``Sequencer``, no server): one client sends patches of a
hostile shape until the log drops its oldest entries (it is at its PATCH_LOG_SIZE or
PATCH_LOG_BYTES bound), each based before more than ``WALKED_EVENTS`` logged events so
that the log's ``KeyTouches`` index is built too. Then the log is put aside and what
that freed is measured: tracemalloc's bytes (what the allocator handed out and the log
alone kept), and the size of every object the log reaches (``sys.getsizeof``, each
once: an upper bound, strings it shares with the document included). Each is printed
next to what the log counts (``PatchLog.nbytes``, bounded by PATCH_LOG_BYTES), as a ratio;
the answers it remembers (bounded apart, by count: REMEMBERED_ANSWERS) are measured apart.

Shapes: ``refs``, a model defined (a note of 100 tags and numbers) attached then taken
out, patch after patch; ``small``, a label changed (one short event a patch); ``keys``,
50 new dict keys a patch (a key each in the conflict indices); ``splices``, 100 numbers
spliced into a list, then spliced out. The Bokeh dialect keeps no log of its own (its
sessions hold messages only until the store has them), so docsync's alone is measured.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tracemalloc
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docsync.document import Document, Model  # noqa: E402
from docsync.document.properties import Dict, Instance, Int, List, String  # noqa: E402
from docsync.protocol import new_message  # noqa: E402
from docsync.protocol.msgtypes import OK, PATCH_DOC  # noqa: E402
from docsync.sync.answers import RememberedAnswers  # noqa: E402
from docsync.sync.patch_log import WALKED_EVENTS, PatchLog  # noqa: E402
from docsync.sync.sequencer import Sequencer  # noqa: E402

KIB = 1024


class Note(Model):
    """A model a client defines: a text, tags and numbers."""

    __type_name__ = "bench_log_memory.Note"
    __client_writable__ = frozenset({"text", "tags", "values"})
    text = String("")
    tags = List(String())
    values = List(Int())


class Board(Model):
    """What clients change: its notes, label, table and numbers."""

    __type_name__ = "bench_log_memory.Board"
    __client_writable__ = frozenset({"notes", "label", "table", "numbers"})
    notes = List(Instance(Note))
    label = String("")
    table = Dict(String(), Int())
    numbers = List(Int())


Patch = tuple[list[dict[str, Any]], list[dict[str, Any]]]


def _refs(k: int) -> Patch:
    """Attach a note defined with 100 tags and numbers (even k), or take it out (odd k)."""
    splice = {"kind": "ListSpliced", "model": {"id": "board"}, "attr": "notes", "index": 0, "delete": 1, "items": []}
    if k % 2:
        return [splice], []
    note = f"note-{k}"
    definition = {"type": "object", "name": Note.__type_name__, "id": note,
                  "attributes": {"text": f"text {k}", "tags": [f"t{i}" for i in range(100)],
                                 "values": [1000 + i for i in range(100)]}}  # fmt: skip
    return [{**splice, "delete": 0, "items": [{"id": note}]}], [definition]


def _small(k: int) -> Patch:
    """One short change of a label."""
    return [{"kind": "ModelChanged", "model": {"id": "board"}, "attr": "label", "new": str(k)}], []


def _keys(k: int) -> Patch:
    """50 dict keys never set before: each a key of its own in the log's conflict indices."""
    items = {f"k{k}.{i}": i for i in range(50)}
    return [{"kind": "DictItemsSet", "model": {"id": "board"}, "attr": "table", "items": items}], []


def _splices(k: int) -> Patch:
    """100 numbers spliced in (even k), then spliced out (odd k)."""
    items = [] if k % 2 else [100_000 + k * 100 + i for i in range(100)]
    event = {"kind": "ListSpliced", "model": {"id": "board"}, "attr": "numbers", "index": 0,
             "delete": 100 if k % 2 else 0, "items": items}  # fmt: skip
    return [event], []


SHAPES: dict[str, Callable[[int], Patch]] = {"refs": _refs, "small": _small, "keys": _keys, "splices": _splices}


def _filled(shape: Callable[[int], Patch], entries: int, nbytes: int) -> Sequencer:
    """A sequencer whose log one client's patches of ``shape`` filled to its bound."""
    document = Document()
    document.add_root(Board(id="board"))
    sequencer = Sequencer(
        document,
        allow_client_structure=True,
        log_entries=entries,
        log_bytes=nbytes,
        max_client_models=1_000_000,
        max_array_elements=1_000_000,
    )
    log = sequencer.log
    k = 0
    extra = None  # patches sent once the log dropped its first entry: as many again as it then held
    while extra is None or extra > 0:
        events, references = shape(k)
        # Based before more than WALKED_EVENTS logged events (still held): the log's KeyTouches judge it.
        base = max(log.first_seq - 1, log.seq - WALKED_EVENTS - 1)
        content = {"events": events, "references": references, "base": base}
        answer = sequencer.handle_patch("alice", 0, new_message(PATCH_DOC, content)).answer
        if answer.msgtype != OK:
            raise SystemExit(f"patch {k} of {shape.__name__} refused: {answer.content}")
        k += 1
        if extra is None and log.first_seq > 1:
            extra = len(log)
        elif extra is not None:
            extra -= 1
    return sequencer


def _reached_size(root: object) -> int:
    """The ``sys.getsizeof`` of every object ``root`` reaches, each once (types, modules and functions not)."""
    seen: set[int] = set()
    total = 0
    stack = [root]
    skipped = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType)
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, skipped):
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        stack.extend(gc.get_referents(item))
    return total


def _freed(put_aside: Callable[[], object]) -> int:
    """The bytes tracemalloc sees freed when ``put_aside()`` lets go of what it returns."""
    gc.collect()
    before = tracemalloc.take_snapshot()
    held = put_aside()
    del held
    gc.collect()
    after = tracemalloc.take_snapshot()
    return -sum(stat.size_diff for stat in after.compare_to(before, "filename"))


def _log_aside(sequencer: Sequencer) -> PatchLog:
    """Give ``sequencer`` an empty log with the answers of its own; return the log it had."""
    log = sequencer.log
    sequencer.log = PatchLog(max_entries=1, max_bytes=1)
    sequencer.log.answers, log.answers = log.answers, sequencer.log.answers
    return log


def _answers_aside(sequencer: Sequencer) -> RememberedAnswers:
    """Give ``sequencer``'s log no remembered answers; return those it had."""
    answers = sequencer.log.answers
    sequencer.log.answers = RememberedAnswers(max_answers=1, max_clients=1)
    return answers


def measure(name: str, entries: int, nbytes: int) -> dict[str, Any]:
    """Fill a log with ``name``'s patches; return what it counts, holds and reaches."""
    gc.collect()
    tracemalloc.start()
    try:
        sequencer = _filled(SHAPES[name], entries, nbytes)
        log = sequencer.log
        log._touched()  # (built by the last patches; taken up to date, as the next patch would)
        answers, log.answers = log.answers, RememberedAnswers(max_answers=1, max_clients=1)
        row = {"shape": name, "entries": len(log), "counted": log.nbytes, "reached": _reached_size(log)}
        log.answers = answers  # (bounded apart, by count: measured apart)
        del answers
        del log  # (held by the sequencer alone, so that putting it aside frees it)
        row["held"] = _freed(lambda: _log_aside(sequencer))
        row["answers"] = _freed(lambda: _answers_aside(sequencer))
    finally:
        tracemalloc.stop()
    return row


def rows(names: Iterator[str] | list[str], entries: int, nbytes: int) -> list[dict[str, Any]]:
    """``measure`` per shape."""
    return [measure(name, entries, nbytes) for name in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", choices=[*SHAPES, "all"], default="all")
    parser.add_argument("--entries", type=int, default=1000, help="PATCH_LOG_SIZE (default 1000)")
    parser.add_argument("--bytes", type=int, default=1 << 20, help="PATCH_LOG_BYTES (default 1 MiB)")
    args = parser.parse_args()
    names = list(SHAPES) if args.shape == "all" else [args.shape]
    print(f"PATCH_LOG_SIZE {args.entries}, PATCH_LOG_BYTES {args.bytes / KIB:,.0f} KiB")
    print(f"{'shape':<9} {'entries':>7} {'counted KiB':>11} {'held KiB':>9} {'held/counted':>12} "
          f"{'reached KiB':>11} {'reached/counted':>15} {'answers KiB':>11} {'with answers/counted':>20}")  # fmt: skip
    for row in rows(names, args.entries, args.bytes):
        counted = row["counted"]
        print(
            f"{row['shape']:<9} {row['entries']:>7} {counted / KIB:>11,.0f} {row['held'] / KIB:>9,.0f} "
            f"{row['held'] / counted:>12.2f} {row['reached'] / KIB:>11,.0f} {row['reached'] / counted:>15.2f} "
            f"{row['answers'] / KIB:>11,.0f} {(row['held'] + row['answers']) / counted:>20.2f}"
        )


if __name__ == "__main__":
    main()
