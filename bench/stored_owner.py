"""What the owner check of a stored session costs, by snapshot size: the whole read against the first bytes.

    python bench/stored_owner.py [--sizes 0.01,1,16,64] [--rounds 5] --out /tmp/stored_owner.json

A page naming a session only the store holds (``?session_id=``) reads whom its snapshot
belongs to (``snapshot.stored_owner``). It did a CRC-32 of the whole snapshot and a JSON
parse of its whole header (the document's JSON) for four small fields; it now parses the
header's first ``OWNER_PREFIX_BYTES`` alone (the restore still checks the whole). For
each size (MB), two snapshots of a one-column document: one whose size is in a numpy
buffer (binary, after the header), one whose size is in the document's JSON (a list of
floats, in the header). Counted (deterministic): the bytes checksummed and the header
bytes parsed by each way. Timed, for information (not a claim): the median of
``--rounds`` calls of each, the two ways alternated (A B A B). The store's read of the
value (a database row, a Redis GET) is the same for both and not part of it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from docsync.server.persistence.snapshot import (  # noqa: E402
    MAGIC,
    OWNER_PREFIX_BYTES,
    Snapshot,
    StoredOwner,
    encode_snapshot,
    stored_owner,
    unpack,
)

_LIMIT = 1 << 31
_SESSION = "s" * 32


def whole_read(data: bytes) -> StoredOwner:
    """The owner read as before: a checksum of everything after the magic, the whole header parsed."""
    header, _ = unpack(data, MAGIC, "snapshot")
    user_id = header.get("user_id")
    return StoredOwner(None if user_id is None else str(user_id), header.get("visitor"))


def prefix_read(data: bytes) -> StoredOwner:
    """The owner read now."""
    return stored_owner(data, app_path="board", session_id=_SESSION)


def snapshot_of(megabytes: float, where: str) -> bytes:
    """A snapshot of about ``megabytes``, its size in a binary buffer or in the document's JSON."""
    count = int(megabytes * (1 << 20) / (8 if where == "buffer" else 19))
    values = np.random.default_rng(1).random(count)
    column: Any = {"__buffer__": "7.0.0"} if where == "buffer" else values.tolist()
    doc = {
        "title": "board",
        "roots": [{"id": "s1"}],
        "models": [{"type": "ColumnDataSource", "id": "s1", "attributes": {"data": {"x": column}}}],
    }
    snapshot = Snapshot(
        session_id=_SESSION,
        app_path="board",
        incarnation="i" * 16,
        seq=12345,
        user_id=None,
        visitor="v" * 32,
        request={"arguments": {"rows": ["2"]}, "headers": {"User-Agent": "bench"}, "cookies": {}},
        created=1.0,
        saved=2.0,
        doc=doc,
        buffers=[("7.0.0", values.tobytes())] if where == "buffer" else [],
        app_ids=["s1"],
    )
    return encode_snapshot(snapshot, _LIMIT)


def _seconds(call: Callable[[bytes], StoredOwner], data: bytes) -> float:
    started = time.perf_counter()
    call(data)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="0.01,1,16,64", help="snapshot sizes in MB, comma-separated")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", required=True, help="where the figures go (JSON), e.g. /tmp/stored_owner.json")
    args = parser.parse_args()
    rows = []
    for megabytes in (float(size) for size in args.sizes.split(",")):
        for where in ("buffer", "json"):
            data = snapshot_of(megabytes, where)
            (header_length,) = struct.unpack_from(">I", data, len(MAGIC) + 4)
            assert prefix_read(data) == whole_read(data) == StoredOwner(None, "v" * 32)
            before: list[float] = []
            after: list[float] = []
            for _ in range(args.rounds):  # alternated: A B A B
                before.append(_seconds(whole_read, data))
                after.append(_seconds(prefix_read, data))
            row = {
                "snapshot_bytes": len(data),
                "size_in": where,
                "header_bytes": header_length,
                "before_checksummed_bytes": len(data) - len(MAGIC) - 4,
                "before_parsed_bytes": header_length,
                "after_checksummed_bytes": 0,
                "after_parsed_bytes": min(header_length, OWNER_PREFIX_BYTES),
                "before_ms_median": statistics.median(before) * 1000,
                "after_ms_median": statistics.median(after) * 1000,
            }
            rows.append(row)
            print(
                f"{len(data) / (1 << 20):8.2f} MB in {where:6}: before {row['before_ms_median']:9.3f} ms "
                f"(checksum {row['before_checksummed_bytes']:>11,} B, parse {header_length:>11,} B); "
                f"after {row['after_ms_median']:6.3f} ms (checksum 0 B, parse {row['after_parsed_bytes']:,} B)"
            )
    Path(args.out).write_text(json.dumps({"rows": rows, "owner_prefix_bytes": OWNER_PREFIX_BYTES}, indent=1))
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
