"""A docsync server (uvicorn or daphne) under tracemalloc, for bench/budget.py.

    python bench/traced_server.py uvicorn 8123 /tmp/snapshots

On SIGUSR1 the server writes ``<dir>/<n>.snapshot`` (the n-th), ``<n>.tables.json``
(see ``recycled_tables``) and then ``<n>.done``.
Run from the repository root with the benchmark's environment (see servers.docsync_env).
"""

from __future__ import annotations

import collections
import ctypes
import gc
import json
import signal
import sys
import tracemalloc
from pathlib import Path
from typing import Any

FRAMES = 16  # deep enough to reach docsync's or the app's frame from inside numpy or asyncio

# CPython 3.11's dict internals read by recycled_tables (Include/internal/pycore_dict.h,
# Objects/dictobject.c, 64-bit): PyDictObject's ma_keys and ma_values, and in the keys
# object dk_log2_size and dk_kind. Only a table of 8 slots and str keys (a dict of up to
# five str keys: most small dicts) goes to the free list, and it is 120 bytes.
_DICT_INTERNALS = (3, 11)
_MA_KEYS, _MA_VALUES = 32, 40
_DK_LOG2_SIZE, _DK_KIND = 8, 10
_MIN_LOG2_SIZE, _UNICODE_KIND, _MIN_TABLE_BYTES = 3, 1, 120

Frames = tuple[tuple[str, int], ...]  # most recent first, as tracemalloc keeps them


def recycled_tables() -> list[list[Any]] | None:
    """Every live dict's free-listed key table whose traceback is not its dict's: ``[table's, dict's, bytes]``.

    CPython keeps up to 80 freed small key tables and hands them to the next small
    dicts made, anywhere: tracemalloc sees no new allocation, and the table keeps the
    traceback of the dict it was first made for. A pull's reply (a dozen small dicts,
    dropped once framed) so lent its tables to the server's, the websocket's and the
    protocol's per-connection dicts, and bench/budget.py charged them to the document
    layer. bench/budget.py moves each such table to its dict's own traceback. None
    where the layout read here was not checked (another CPython).
    """
    if sys.version_info[:2] != _DICT_INTERNALS or ctypes.sizeof(ctypes.c_void_p) != 8:
        return None
    traceback_at = ctypes.pythonapi._PyTraceMalloc_GetTraceback
    traceback_at.restype, traceback_at.argtypes = ctypes.py_object, [ctypes.c_uint, ctypes.c_size_t]
    # Dicts holding only atomic values are not tracked by gc: reached from what is.
    dicts: dict[int, dict[Any, Any]] = {}
    for obj in gc.get_objects():
        if type(obj) is dict:
            dicts[id(obj)] = obj
        for ref in gc.get_referents(obj):
            if type(ref) is dict:
                dicts[id(ref)] = ref
    moved: collections.Counter[tuple[Frames, Frames]] = collections.Counter()
    for address, table_owner in dicts.items():
        keys = ctypes.c_void_p.from_address(address + _MA_KEYS).value
        if not keys or ctypes.c_void_p.from_address(address + _MA_VALUES).value:
            continue  # a split table (an instance's shared keys) is never free-listed
        if (
            ctypes.c_uint8.from_address(keys + _DK_LOG2_SIZE).value != _MIN_LOG2_SIZE
            or ctypes.c_uint8.from_address(keys + _DK_KIND).value != _UNICODE_KIND
        ):
            continue
        table = traceback_at(0, keys)
        if table is None:  # made before tracing started
            continue
        own = tracemalloc.get_object_traceback(table_owner)
        mine = tuple((f.filename, f.lineno) for f in reversed(own)) if own is not None else (("<untraced>", 0),)
        # Also a table first made where the dict was first filled, not made: the same layer nearly always.
        if mine != table:
            moved[(table, mine)] += 1
    dicts.clear()
    return [[table, mine, _MIN_TABLE_BYTES * count] for (table, mine), count in moved.items()]


def main() -> None:
    server, port, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    tracemalloc.start(FRAMES)
    taken = 0

    def snapshot(*_: Any) -> None:
        nonlocal taken
        taken += 1
        tracemalloc.take_snapshot().dump(str(out / f"{taken}.snapshot"))
        tables = recycled_tables()
        if tables is not None:
            (out / f"{taken}.tables.json").write_text(json.dumps(tables))
        (out / f"{taken}.done").touch()

    signal.signal(signal.SIGUSR1, snapshot)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    if server == "uvicorn":
        import uvicorn

        uvicorn.run(
            "project.asgi:application",
            host="127.0.0.1",
            port=port,
            ws="websockets-sansio",
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
    else:
        from daphne.cli import CommandLineInterface

        # daphne answers 403 to a websocket the application has not accepted within 5 s;
        # under tracemalloc on a loaded machine the first sessions take longer than that.
        CommandLineInterface().run(
            ["-v", "0", "-b", "127.0.0.1", "-p", str(port), "--websocket_connect_timeout", "120",
             "project.asgi:application"]
        )  # fmt: skip


if __name__ == "__main__":
    main()
