"""docsync's memory budget, per model and per session, measured and checked.

    python bench/budget.py                   # models, then sessions under uvicorn and daphne
    python bench/budget.py --parts models    # only the in-process per-model part (seconds)
    python bench/budget.py --parts uvicorn --detail "docsync server"   # and that layer's top lines

Per model: tracemalloc growth per default instance of each built-in model attached to
a document (2,000 of each), and the bench document without its two arrays.
Per session: a server under tracemalloc (bench/traced_server.py), snapshots with 100 and
with 600 connected, pulled bench sessions; the growth per session is split by the layer
that allocated it (the innermost frame that belongs to a known layer; a dict's key table
that CPython recycled, by its dict's frame). Only docsync's
own layers have budgets; the application's arrays, Channels/Django and the ASGI server
are reported so the whole session is accounted for. Exits 1 when a budget is exceeded.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

#: Bytes per instance attached to a document with every property set (including models it
#: creates): a base plus a share per property, since a set visual property holds its own
#: value-or-field spec. (A flat 1 KiB was written when models had at most 16 properties;
#: glyphs, axes and Plot have 14-33.)
MODEL_BUDGET_BASE = 512
MODEL_BUDGET_PER_PROPERTY = 160
#: Bytes of the bench document (Column, Slider, ColumnDataSource and its Selection, the
#: callback), without array data. 4,096 until a source held its own Selection (about 360
#: bytes), as Bokeh's does, for selections that Python sees.
BENCH_DOC_BUDGET = 4_608
#: Bytes per connected, pulled bench session, per docsync layer (any server).
#: The server's: 5,000 for the session, consumer, patch log and context, plus 800 for what
#: 2026-12-03 added per connection: the stall timer (a TimerHandle and its heap slot,
#: 385-613 B) and uvicorn's in-place frames writer (216 B); plus 300 since 2026-12-05 for
#: the small receive queue put in place of uvicorn's asyncio.Queue (compat/uvicorn_queue.py:
#: the queue and the future its idle get waits on, ~270 B, made in docsync's frames), which
#: took 3,320 B per session out of the asyncio layer; plus 300 since 2026-12-05 for the frame
#: loop put in place of websockets' server parser (compat/uvicorn_parser.py: a generator of
#: 256 B, made in docsync's frame), which let the 2.7 KB upgrade request go from the ASGI
#: server's layer; plus 100 for the flag put in place of uvicorn's flow-control Event
#: (compat/uvicorn_writable.py, ~70 B; 940 B out of the asyncio and ASGI server layers);
#: plus 900 since docsync/auth.py routes as Channels' URLRouter would (compat/channels.py's
#: consumer_call): the consumer object, its call's coroutine and the scope's url_route
#: (~830 B), made by Channels' as_asgi and URLRouter before, are made in docsync's frames
#: now, and Channels' layer fell 2,595 -> 644 (the router's scope copy and coroutines gone).
#: the websocket's user in its scope (a copy of the scope, as ASGI asks of a middleware)
#: was Channels' AuthMiddleware's, counted under Channels until docsync/auth.py took it.
SESSION_BUDGET = {
    "docsync document": 2_600,
    "docsync server": 7_400,
    "docsync websocket auth (was Channels')": 1_000,
    "docsync protocol+serialization": 1_400,
}

# Where an allocation belongs: the innermost frame whose file matches one of these.
LAYERS = [
    ("/docsync/bokeh/", "docsync Bokeh dialect"),
    ("/site-packages/bokeh/", "Bokeh (its document, models, serializer)"),
    ("/bench/bokeh_apps/", "application (bench app, its arrays)"),
    ("/docsync/document/", "docsync document"),
    ("/docsync/serialization/", "docsync protocol+serialization"),
    ("/docsync/protocol/", "docsync protocol+serialization"),
    ("/docsync/auth.py", "docsync websocket auth (was Channels')"),
    ("/docsync/", "docsync server"),
    ("/project/", "application (bench app, its arrays)"),
    ("/channels/", "Channels + Django (middleware, scope, auth)"),
    ("/django/", "Channels + Django (middleware, scope, auth)"),
    ("/uvicorn/", "ASGI server + websocket"),
    ("/websockets/", "ASGI server + websocket"),
    ("/daphne/", "ASGI server + websocket"),
    ("/twisted/", "ASGI server + websocket"),
    ("/autobahn/", "ASGI server + websocket"),
    ("/txaio/", "ASGI server + websocket"),
    ("/tornado/", "ASGI server + websocket"),
    ("/asyncio/", "asyncio (tasks, futures, locks)"),
]
LOW, HIGH = 100, 600


def concrete_models() -> list[type]:
    """The built-in model classes a document can hold (not the abstract bases)."""
    from docsync.document import models

    classes = [getattr(models, name) for name in models.__all__]
    return [cls for cls in classes if isinstance(cls, type) and not cls.__dict__.get("__abstract__")]


def traced_growth(build: Any) -> int:
    """Bytes ``build()`` leaves allocated (tracemalloc), with what it returns kept alive."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = build()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del kept
    return after - before


def model_part(count: int = 2000) -> list[dict[str, Any]]:
    """Bytes per model of each built-in class, and of the bench document."""
    from docsync.document import Document
    from docsync.exceptions import ValidationError
    from project.examples.bench import make_bench_doc

    rows = []
    empty = traced_growth(Document)
    for cls in concrete_models():

        def build(cls: type = cls, filled: bool = False) -> Any:
            doc = Document()
            for _ in range(count):
                model = cls()
                if filled:  # every property held, as after a full update from a client
                    for name in cls.properties():
                        with contextlib.suppress(ValidationError):  # a required reference left unset
                            setattr(model, name, getattr(model, name))
                doc.add_root(model)
            return doc

        # Once untraced first: what a model's first use imports (markdown-it for Markdown)
        # is paid once per process, not per model.
        build(filled=True)
        bare = (traced_growth(build) - empty) / count
        filled = (traced_growth(lambda build=build: build(filled=True)) - empty) / count
        limit = MODEL_BUDGET_BASE + MODEL_BUDGET_PER_PROPERTY * len(cls.properties())
        rows.append({"what": cls.__name__, "default": round(bare), "bytes": round(filled), "budget": limit})

    def bench_doc() -> Any:
        doc = Document()
        make_bench_doc(doc, 1000)
        return doc

    arrays = 2 * 8 * 1000
    bench_bytes = traced_growth(bench_doc) - empty - arrays
    rows.append({"what": "bench document (w/o arrays)", "default": bench_bytes, "bytes": bench_bytes,
                 "budget": BENCH_DOC_BUDGET})  # fmt: skip
    return rows


def layer_of(traceback: tracemalloc.Traceback) -> str:
    for frame in reversed(traceback):  # most recent call first
        for marker, layer in LAYERS:
            if marker in frame.filename:
                return layer
    return "other (interpreter, stdlib)"


def frame_in_layer(traceback: tracemalloc.Traceback, layer: str) -> str:
    """``file:line`` of the innermost frame of ``traceback`` that is in ``layer``."""
    for frame in reversed(traceback):
        for marker, name in LAYERS:
            if marker in frame.filename:
                if name == layer:
                    return f"{frame.filename.split('/site-packages/')[-1].split(str(ROOT) + '/')[-1]}:{frame.lineno}"
                break
    return "?"


def _recycled(path: Path) -> list[tuple[tracemalloc.Traceback, tracemalloc.Traceback, int]]:
    """A snapshot's free-listed dict tables lent to other dicts (bench/traced_server.py's ``<n>.tables.json``)."""
    tables = path.with_suffix(".tables.json")
    if not tables.exists():
        return []

    def traceback(frames: list[list[Any]]) -> tracemalloc.Traceback:
        return tracemalloc.Traceback(tuple((filename, lineno) for filename, lineno in frames))

    return [(traceback(table), traceback(mine), size) for table, mine, size in json.loads(tables.read_text())]


def split_by_layer(low: Path, high: Path, sessions: int, detail: str | None = None) -> dict[str, float]:
    """Bytes per session by layer, from two snapshot files; with ``detail``, print that
    layer's top lines (the innermost frame in the layer) to stderr.

    A dict's key table that CPython took from its free list is charged to the dict's own
    traceback, not to the dict it was first made for (``traced_server.recycled_tables``):
    a pull's reply lent its tables to the connection's dicts, and about 600 bytes of them
    per session were charged to the document layer under uvicorn (bench/README.md).
    """
    first, second = tracemalloc.Snapshot.load(str(low)), tracemalloc.Snapshot.load(str(high))
    layers: collections.Counter[str] = collections.Counter()
    lines: collections.Counter[str] = collections.Counter()

    def charge(traceback: tracemalloc.Traceback, size: int) -> None:
        layer = layer_of(traceback)
        layers[layer] += size
        if layer == detail:
            lines[frame_in_layer(traceback, layer)] += size

    for stat in second.compare_to(first, "traceback"):
        charge(stat.traceback, stat.size_diff)
    for sign, path in ((-1, low), (1, high)):
        for table, mine, size in _recycled(path):
            charge(table, -sign * size)
            charge(mine, sign * size)
    if detail is not None:
        print(f"{detail}: bytes per session by line (innermost frame in the layer)", file=sys.stderr)
        for line, size in lines.most_common(25):
            print(f"  {size / sessions:8,.0f}  {line}", file=sys.stderr)
    return {layer: size / sessions for layer, size in layers.most_common()}


async def _open_and_snapshot(port: int, pid: int, out: Path, flavour: str) -> None:
    from lean_client import make_flavour
    from scenarios import Target, close_all, open_many

    target = Target(make_flavour(flavour), f"ws://127.0.0.1:{port}", pid)
    # One session first, alone: the app's imports under tracemalloc (Bokeh's, pandas') take
    # longer than a handshake may wait.
    await close_all(await open_many(target, 1, 1))
    sessions = []
    try:
        for index, count in enumerate((LOW, HIGH - LOW), start=1):
            sessions += await open_many(target, count, 20)
            await asyncio.sleep(2)  # let every pull and the live-session table settle
            os.kill(pid, signal.SIGUSR1)
            deadline = time.monotonic() + 600  # a snapshot under tracemalloc is slow on a loaded machine
            while not (out / f"{index}.done").exists():
                if time.monotonic() > deadline:
                    raise TimeoutError("the traced server wrote no snapshot")
                await asyncio.sleep(0.2)
    finally:
        await close_all(sessions)


def session_part(
    server: str, flavour: str = "docsync", settings: str | None = None, detail: str | None = None
) -> dict[str, float]:
    """Bytes per bench session by layer, under ``server`` (uvicorn or daphne).

    ``flavour`` and ``settings``: the load generator's flavour and the site's settings
    (``docsync-bokeh`` and ``bench.bokeh_dialect_settings`` for Bokeh's bench app under
    the Bokeh dialect).
    """
    from servers import Lifetimes, docsync_env  # bench/ is on the path: this script's folder

    from docsync.testing import free_port, wait_for_port

    work = Path(tempfile.mkdtemp(prefix="docsync-budget-"))
    secret = os.environ["DJANGO_SECRET_KEY"]  # the lean client signs its tokens with it
    env = {**os.environ, **docsync_env(Lifetimes(unused=600, check=60), secret, work / "db.sqlite3")}
    if settings is not None:
        env["DJANGO_SETTINGS_MODULE"] = settings
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                   capture_output=True)  # fmt: skip
    port = free_port()
    log = (work / "server.log").open("wb")
    process = subprocess.Popen([sys.executable, str(BENCH / "traced_server.py"), server, str(port), str(work)],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        wait_for_port(port, 900, process)  # imports are slow under tracemalloc (and under load)
        asyncio.run(_open_and_snapshot(port, process.pid, work, flavour))
        return split_by_layer(work / "1.snapshot", work / "2.snapshot", HIGH - LOW, detail)
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def report(models: list[dict[str, Any]], sessions: dict[str, dict[str, float]]) -> tuple[str, bool]:
    """The budget tables (Markdown) and whether every budget holds."""
    holds = True
    parts = []
    if models:
        rows = []
        for row in models:
            ok = row["bytes"] <= row["budget"]
            holds &= ok
            verdict = "yes" if ok else "**no**"
            rows.append([row["what"], f"{row['default']:,}", f"{row['bytes']:,}", f"{row['budget']:,}", verdict])
        headers = ["model, attached to a document", "bytes, defaults", "bytes, every property set", "budget", "holds"]
        parts.append(_table(headers, rows))
    if sessions:
        servers = list(sessions)
        found = {layer for split in sessions.values() for layer in split}
        layers = sorted(found, key=lambda layer: (not layer.startswith("docsync"), layer))
        rows = []
        for layer in layers:
            budget = SESSION_BUDGET.get(layer)
            values = [sessions[s].get(layer, 0.0) for s in servers]
            ok = budget is None or all(v <= budget for v in values)
            holds &= ok
            verdict = "—" if budget is None else ("yes" if ok else "**no**")
            budget_text = "—" if budget is None else f"{budget:,}"
            rows.append([layer, *(f"{v:,.0f}" for v in values), budget_text, verdict])
        rows.append(["**total (tracemalloc)**", *(f"{sum(sessions[s].values()):,.0f}" for s in servers), "", ""])
        parts.append(_table(["bytes per bench session, by layer", *servers, "budget", "holds"], rows))
    return "\n\n".join(parts), holds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--parts",
        default="models,uvicorn,daphne",
        help="any of: models, uvicorn, daphne, bokeh (Bokeh's bench app under the Bokeh dialect, uvicorn)",
    )
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--detail", metavar="LAYER", help='print the top lines of a layer, e.g. "docsync server"')
    args = parser.parse_args()
    parts = args.parts.split(",")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(32)  # before Django reads it
    models = model_part() if "models" in parts else []
    sessions = {server: session_part(server, detail=args.detail) for server in ("uvicorn", "daphne") if server in parts}
    if "bokeh" in parts:
        sessions["bokeh dialect (uvicorn)"] = session_part("uvicorn", "docsync-bokeh", "bench.bokeh_dialect_settings")
    text, holds = report(models, sessions)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps({"models": models, "sessions": sessions}, indent=1))
    return 0 if holds else 1


if __name__ == "__main__":
    sys.exit(main())
