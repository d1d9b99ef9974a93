"""The snapshot's binary form: round trip, raw buffers, and every bad snapshot refused clearly."""

from __future__ import annotations

import json
import re
import struct

import numpy as np
import pytest

from docsync.exceptions import SnapshotError
from docsync.server.persistence import Snapshot, decode_snapshot, encode_snapshot
from docsync.server.persistence.saved_request import MAX_SAVED_REQUEST_BYTES, restoring_request, saved_request
from docsync.server.persistence.snapshot import MAGIC, OWNER_PREFIX_BYTES, StoredOwner, pack, stored_owner

LIMIT = 1 << 20


def sample(buffer: bytes = b"\x00\x01\x02\xff" * 64) -> Snapshot:
    return Snapshot(
        session_id="s1",
        app_path="board",
        incarnation="abc123",
        seq=42,
        user_id=None,
        created=1.5,
        saved=2.5,
        doc={"title": "t", "roots": [], "models": []},
        buffers=[("7.0.0", buffer)],
        app_ids=["m1", "m2"],
        fences={"client": 40},
        answers=[["client", "9", 41, 0, None, []], ["client", "10", 42, 1, ["refused", "patch-refused"], [0]]],
        forgotten_seq=3,
        client_models=2,
    )


def decode(data: bytes, app: str = "board", session: str = "s1", limit: int = LIMIT) -> Snapshot:
    return decode_snapshot(data, app_path=app, session_id=session, max_bytes=limit)


def test_a_snapshot_round_trips_with_its_buffers_raw() -> None:
    array = np.arange(100, dtype=np.float64)
    data = encode_snapshot(sample(array.tobytes()), LIMIT)
    assert array.tobytes() in data  # as they are, not base64
    back = decode(data)
    assert back.header() == sample(array.tobytes()).header()
    assert [(i, bytes(b)) for i, b in back.buffers] == [("7.0.0", array.tobytes())]


@pytest.mark.parametrize("position", [len(MAGIC) + 5, -1, -300])
def test_a_changed_byte_is_refused_as_corrupt(position: int) -> None:
    data = bytearray(encode_snapshot(sample(), LIMIT))
    data[position] ^= 0x40
    with pytest.raises(SnapshotError, match="corrupt snapshot: checksum mismatch"):
        decode(bytes(data))


def test_a_snapshot_cut_short_is_refused() -> None:
    data = encode_snapshot(sample(), LIMIT)
    with pytest.raises(SnapshotError, match="corrupt snapshot"):
        decode(data[:-10])
    with pytest.raises(SnapshotError, match="not a docsync snapshot"):
        decode(data[:8])


def test_bytes_that_are_no_snapshot_are_refused() -> None:
    with pytest.raises(SnapshotError, match="not a docsync snapshot"):
        decode(b'{"doc": {}}')


def test_a_snapshot_of_another_app_or_session_is_refused() -> None:
    data = encode_snapshot(sample(), LIMIT)
    with pytest.raises(SnapshotError, match="snapshot of another application: 'board', not 'sliders'"):
        decode(data, app="sliders")
    with pytest.raises(SnapshotError, match="snapshot of another session"):
        decode(data, session="s2")


def test_a_snapshot_over_the_limit_is_neither_written_nor_read() -> None:
    big = sample(b"x" * 5000)
    with pytest.raises(SnapshotError, match="snapshot too big"):
        encode_snapshot(big, 4000)
    data = encode_snapshot(big, LIMIT)
    with pytest.raises(SnapshotError, match=r"snapshot too big: \d+ bytes > 4000 \(MAX_SNAPSHOT_BYTES\)"):
        decode(data, limit=4000)


def _rewritten(header: bytes) -> bytes:
    import zlib

    body = struct.pack(">I", len(header)) + header
    return MAGIC + struct.pack(">I", zlib.crc32(body)) + body


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (b"[1, 2]", "header is not an object"),
        (b"{not json", "corrupt snapshot"),
        (b'{"version": 99, "app": "board", "session_id": "s1"}', "snapshot format 99 is not 1"),
        (b'{"version": 1, "app": "board", "session_id": "s1", "seq": "7"}', "corrupt snapshot: incarnation is"),
    ],
)
def test_a_well_formed_value_with_a_bad_header_is_refused(header: bytes, message: str) -> None:
    with pytest.raises(SnapshotError, match=message):
        decode(_rewritten(header))


def test_the_owner_of_a_stored_snapshot_is_read_from_its_header() -> None:
    """Whom a page may join it for: the user's pk, else the anonymous visitor; none when an older snapshot lacks it."""
    anonymous = sample()
    anonymous.visitor = "v-123"
    owner = stored_owner(encode_snapshot(anonymous, LIMIT), app_path="board", session_id="s1")
    assert (owner.user_id, owner.visitor) == (None, "v-123")
    assert decode(encode_snapshot(anonymous, LIMIT)).visitor == "v-123"
    users = sample()
    users.user_id = 7
    owner = stored_owner(encode_snapshot(users, LIMIT), app_path="board", session_id="s1")
    assert (owner.user_id, owner.visitor) == ("7", None)
    header = anonymous.header()
    del header["visitor"]  # as a snapshot written before visitors were saved
    older = pack(MAGIC, json.dumps(header).encode(), [b for _, b in anonymous.buffers], LIMIT, "snapshot")
    owner = stored_owner(older, app_path="board", session_id="s1")
    assert (owner.user_id, owner.visitor) == (None, None)
    assert decode(older).visitor is None
    with pytest.raises(SnapshotError, match="another application or session"):
        stored_owner(encode_snapshot(anonymous, LIMIT), app_path="board", session_id="s2")
    with pytest.raises(SnapshotError, match="another application or session"):
        stored_owner(encode_snapshot(anonymous, LIMIT), app_path="other", session_id="s1")
    with pytest.raises(SnapshotError, match="checksum"):
        stored_owner(older[:-1] + b"\x00", app_path="board", session_id="s1")


def test_the_request_a_session_was_made_with_round_trips_and_an_older_snapshot_has_none() -> None:
    made = {"arguments": {"rows": ["2"], "c": ["é", ""]}, "headers": {"X-Team": "blue"}, "cookies": {}, "user": None}
    saved, problem = saved_request(made)
    assert problem is None and saved == {k: made[k] for k in ("arguments", "headers", "cookies")}
    snapshot = sample()
    snapshot.request = saved
    assert decode(encode_snapshot(snapshot, LIMIT)).request == saved
    restoring = {"arguments": {"rows": ["5"]}, "headers": {}, "cookies": {"flavour": "salt"}, "user": "u", "path": "p"}
    assert restoring_request(restoring, saved) == {**saved, "user": "u", "path": "p"}
    header = snapshot.header()
    del header["request"]  # as a snapshot written before requests were saved
    older = pack(MAGIC, json.dumps(header).encode(), [b for _, b in snapshot.buffers], LIMIT, "snapshot")
    assert decode(older).request is None
    assert restoring_request(restoring, None) is restoring  # restored with the restoring request, as before


def test_a_request_over_the_limit_is_not_saved_and_one_read_over_it_or_malformed_is_refused() -> None:
    # Exactly at the limit: saved; a byte over: not saved, and why.
    base = {"arguments": {"a": [""]}, "headers": {}, "cookies": {}}
    filler = MAX_SAVED_REQUEST_BYTES - len(json.dumps(base, separators=(",", ":")))
    at_limit = {**base, "arguments": {"a": ["x" * filler]}}
    assert saved_request(at_limit) == (at_limit, None)
    over = {**base, "arguments": {"a": ["x" * (filler + 1)]}}
    why = f"{MAX_SAVED_REQUEST_BYTES + 1} bytes of arguments, headers and cookies > 8192"
    assert saved_request(over) == (None, why)
    assert saved_request({"arguments": {"a": [b"bytes"]}})[1] == "arguments are not names and lists of strings"
    snapshot = sample()
    for bad, why in [
        (over, "corrupt snapshot: request: 8193 bytes > 8192"),
        ({**base, "headers": {"X": 1}}, "corrupt snapshot: request: headers are not names and strings"),
        ({"arguments": {}}, "corrupt snapshot: request: not an object of arguments, headers and cookies"),
    ]:
        snapshot.request = bad
        with pytest.raises(SnapshotError, match=re.escape(why)):
            decode(encode_snapshot(snapshot, LIMIT))


def test_the_owner_is_read_from_the_headers_first_bytes_alone_and_the_restore_still_checks_the_whole() -> None:
    """No checksum of the rest, no parse of the document: the same answer, whatever follows the owner fields."""
    snapshot = sample(b"\x07" * 200_000)
    snapshot.user_id, snapshot.visitor = 7, "v-1"
    snapshot.doc = {"title": "t", "roots": [], "models": [{"text": "é" * 50_000}]}
    data = bytearray(encode_snapshot(snapshot, LIMIT))
    assert stored_owner(bytes(data), app_path="board", session_id="s1") == StoredOwner("7", "v-1")
    start = len(MAGIC) + 8
    # Every byte past the header's first OWNER_PREFIX_BYTES damaged (the document, the buffers):
    # the owner is read all the same (it was a checksum and a parse of 300 KB), the restore refuses it.
    for at in range(start + OWNER_PREFIX_BYTES, len(data), 997):
        data[at] ^= 0x55
    assert stored_owner(bytes(data), app_path="board", session_id="s1") == StoredOwner("7", "v-1")
    with pytest.raises(SnapshotError, match="checksum mismatch"):
        decode(bytes(data))


@pytest.mark.parametrize(
    ("header", "owner"),
    [
        # Written otherwise than docsync writes them: each read whole (checksum and all), as json.loads reads it.
        (
            '{"doc": {"x": "%s"}, "app": "board", "session_id": "s1", "user_id": null, "visitor": "v"}' % ("y" * 5000),
            (None, "v"),
        ),
        ('{"app": "board", "session_id": "s1", "user_id": 3}', ("3", None)),  # no visitor (an earlier release's)
        ('{"user_id": 3, "user_id": 4, "app": "board", "session_id": "s1", "visitor": null}', ("4", None)),
        ('{"app": "board", "session_id": "s1", "app": "other", "user_id": 3, "visitor": null}', None),
    ],
)
def test_a_header_whose_first_bytes_do_not_hold_the_owner_plainly_is_read_whole(
    header: str, owner: tuple[str | None, str | None] | None
) -> None:
    data = pack(MAGIC, header.encode(), [], LIMIT, "snapshot")
    if owner is None:
        with pytest.raises(SnapshotError, match="another application or session"):
            stored_owner(data, app_path="board", session_id="s1")
    else:
        assert stored_owner(data, app_path="board", session_id="s1") == StoredOwner(*owner)
    with pytest.raises(SnapshotError, match="checksum"):
        stored_owner(data[:-1] + bytes([data[-1] ^ 1]), app_path="board", session_id="s1")


def test_a_sites_own_mapping_is_saved_as_a_plain_dict_and_a_non_mapping_not_at_all() -> None:
    from types import MappingProxyType

    assert saved_request({"arguments": MappingProxyType({"a": ["1"]})}) == (
        {"arguments": {"a": ["1"]}, "headers": {}, "cookies": {}},
        None,
    )
    assert saved_request({"arguments": "a=1"}) == (None, "arguments, headers or cookies are not mappings")
