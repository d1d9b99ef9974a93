"""Snapshot: a session's saved state, and its binary form (JSON header + raw buffers).

The form, in order::

    MAGIC (10 bytes) | crc32 of the rest (4) | header length (4) | header JSON (utf-8)
    | for each buffer: its length (8) | its bytes

Buffers travel as they are (numpy arrays' memory), never base64, so that a Redis value
or a database row is as small as the arrays themselves. The checksum catches a value
cut short or altered; every field is checked before anything is restored from it.
"""

from __future__ import annotations

import codecs
import json
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

from ...exceptions import SnapshotError
from ...serialization import Buffer
from .saved_request import checked_request

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "OWNER_PREFIX_BYTES",
    "OWNER_READ_BYTES",
    "Snapshot",
    "StoredOwner",
    "checked_names",
    "decode_snapshot",
    "encode_snapshot",
    "owner_from_prefix",
    "pack",
    "stored_owner",
    "unpack",
]

MAGIC = b"DSYNCSNAP\n"
FORMAT_VERSION = 1
_HEAD = struct.Struct(">II")  # crc32, header length
_LENGTH = struct.Struct(">Q")


@dataclass(slots=True)
class Snapshot:
    """What a session needs to be made again in another process."""

    session_id: str
    app_path: str
    incarnation: str
    seq: int
    user_id: Any  # the pk of the Django user the session was made for (None: anonymous)
    created: float
    saved: float
    doc: dict[str, Any]
    buffers: list[tuple[str, Buffer]] = field(default_factory=list)
    #: The ids of the models the application made, in the order it made them (restore matches by it).
    app_ids: list[str] = field(default_factory=list)
    #: The names the application made its models with, by id (restore matches by them: a
    #: callback may have renamed them since). None: not recorded (an earlier release's
    #: snapshot, matched by the names the models have now, as then).
    app_names: dict[str, str] | None = None
    fences: dict[str, int] = field(default_factory=dict)
    #: Remembered answers: [origin, msgid, seq, rejected, error or None, lost].
    answers: list[list[Any]] = field(default_factory=list)
    forgotten_seq: int = 0
    client_models: int = 0
    #: How many write-ahead records the session had made when it was captured (those
    #: after it are laid over it on restore, see ``journal``).
    journal: int = 0
    #: The write-ahead records read with it (not part of its binary form).
    records: list[Any] = field(default_factory=list)
    #: The size of the binary form it was read from (0: not read from one).
    nbytes: int = 0
    #: The anonymous visitor the session belongs to (visitors.py; None: a user's, or not saved).
    visitor: str | None = None
    #: The arguments, headers and cookies the session was made with (saved_request.py;
    #: None: not saved, by an earlier release or over MAX_SAVED_REQUEST_BYTES).
    request: dict[str, Any] | None = None

    def header(self) -> dict[str, Any]:
        """The JSON part (everything but the buffers' bytes)."""
        header = {
            "version": FORMAT_VERSION,
            "session_id": self.session_id,
            "app": self.app_path,
            "incarnation": self.incarnation,
            "seq": self.seq,
            "user_id": self.user_id,
            "visitor": self.visitor,
            "request": self.request,
            "created": self.created,
            "saved": self.saved,
            "doc": self.doc,
            "buffer_ids": [buffer_id for buffer_id, _ in self.buffers],
            "app_ids": self.app_ids,
            "fences": self.fences,
            "answers": self.answers,
            "forgotten_seq": self.forgotten_seq,
            "client_models": self.client_models,
            "journal": self.journal,
        }
        if self.app_names is not None:
            # A field an earlier release ignores: its restore matches by the names of now.
            header["app_names"] = self.app_names
        return header


def encode_snapshot(snapshot: Snapshot, max_bytes: int) -> bytes:
    """Return the binary form of ``snapshot``; raise SnapshotError past ``max_bytes``."""
    header = json.dumps(snapshot.header(), separators=(",", ":"), allow_nan=False).encode()
    return pack(MAGIC, header, [buffer for _, buffer in snapshot.buffers], max_bytes, "snapshot")


def pack(magic: bytes, header: bytes, buffers: list[Buffer], max_bytes: int, what: str) -> bytes:
    """``magic``, a CRC-32 of the rest, ``header`` (JSON bytes) and each buffer's length and bytes."""
    parts: list[bytes | memoryview] = [struct.pack(">I", len(header)), header]
    total = len(magic) + _HEAD.size + len(header)
    for buffer in buffers:
        view = memoryview(buffer).cast("B")
        parts.append(_LENGTH.pack(view.nbytes))
        parts.append(view)
        total += _LENGTH.size + view.nbytes
        if total > max_bytes:
            raise SnapshotError(f"{what} too big: over {max_bytes} bytes (MAX_SNAPSHOT_BYTES)")
    if total > max_bytes:
        raise SnapshotError(f"{what} too big: {total} bytes > {max_bytes} (MAX_SNAPSHOT_BYTES)")
    body = b"".join(parts)
    return magic + struct.pack(">I", zlib.crc32(body)) + body


def unpack(data: bytes, magic: bytes, what: str) -> tuple[Any, list[memoryview]]:
    """Read what ``pack`` wrote: the header (decoded JSON) and the buffers; raise SnapshotError if corrupt."""
    if not data.startswith(magic) or len(data) < len(magic) + _HEAD.size:
        raise SnapshotError(f"not a docsync {what}")
    view = memoryview(data)
    crc, header_length = _HEAD.unpack_from(view, len(magic))
    if zlib.crc32(view[len(magic) + 4 :]) != crc:
        raise SnapshotError(f"corrupt {what}: checksum mismatch")
    start = len(magic) + _HEAD.size
    try:
        header = json.loads(bytes(view[start : start + header_length]))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"corrupt {what}: {exc}") from None
    buffers: list[memoryview] = []
    offset = start + header_length
    while offset < len(view):
        if offset + _LENGTH.size > len(view):
            raise SnapshotError(f"corrupt {what}: buffers cut short")
        (length,) = _LENGTH.unpack_from(view, offset)
        offset += _LENGTH.size
        if offset + length > len(view):
            raise SnapshotError(f"corrupt {what}: buffers cut short")
        buffers.append(view[offset : offset + length])
        offset += length
    return header, buffers


def decode_snapshot(data: bytes, *, app_path: str, session_id: str, max_bytes: int) -> Snapshot:
    """Read a snapshot of session ``session_id`` of app ``app_path``; raise SnapshotError if it is not one."""
    if len(data) > max_bytes:
        raise SnapshotError(f"snapshot too big: {len(data)} bytes > {max_bytes} (MAX_SNAPSHOT_BYTES)")
    header, views = unpack(data, MAGIC, "snapshot")
    fields = _check_header(header, app_path=app_path, session_id=session_id)
    if len(views) != len(fields["buffer_ids"]):
        raise SnapshotError("corrupt snapshot: buffers do not match their ids")
    buffers: list[tuple[str, Buffer]] = list(zip(fields["buffer_ids"], views, strict=True))
    return Snapshot(
        session_id=session_id,
        app_path=app_path,
        incarnation=fields["incarnation"],
        seq=fields["seq"],
        user_id=fields["user_id"],
        created=fields["created"],
        saved=fields["saved"],
        doc=fields["doc"],
        buffers=buffers,
        app_ids=fields["app_ids"],
        app_names=checked_names(fields),
        fences=fields["fences"],
        answers=fields["answers"],
        forgotten_seq=fields["forgotten_seq"],
        client_models=fields["client_models"],
        journal=fields.get("journal", 0) if type(fields.get("journal", 0)) is int else 0,
        nbytes=len(data),
        visitor=_visitor(fields),
        request=checked_request(fields),
    )


def checked_names(header: dict[str, Any]) -> dict[str, str] | None:
    """The header's ``app_names`` (None where it has none: written before they were recorded)."""
    names = header.get("app_names")
    if names is None:
        return None
    if type(names) is not dict or not all(type(name) is str for name in names.values()):
        raise SnapshotError("corrupt snapshot: bad app_names")
    return names


def _visitor(header: dict[str, Any]) -> str | None:
    # A snapshot written before visitors were saved has none: its owner is then unknown.
    value = header.get("visitor")
    return value if type(value) is str and value else None


@dataclass(frozen=True, slots=True)
class StoredOwner:
    """Whom a stored session belongs to: its user's pk, else its anonymous visitor (None: not saved)."""

    user_id: str | None
    visitor: str | None


#: The snapshots a store holds: docsync's, and the Bokeh dialect's (``pack`` under its own magic).
_OWNED_MAGICS = (MAGIC, b"DSYNCBOKS\n")


#: The header's fields ``stored_owner`` reads: both dialects write them first, before the document.
_OWNER_FIELDS = frozenset({"app", "session_id", "user_id", "visitor"})
#: How much of the header ``stored_owner`` reads for them (they take a few hundred bytes).
OWNER_PREFIX_BYTES = 4096
#: How much of a stored snapshot the owner check reads from the store: the magic, checksum
#: and header length (both dialects' magics are as long), then ``OWNER_PREFIX_BYTES``.
OWNER_READ_BYTES = len(MAGIC) + _HEAD.size + OWNER_PREFIX_BYTES
_JSON = json.JSONDecoder()


def _leading_fields(data: bytes, magic: bytes, nbytes: int) -> dict[str, Any] | None:
    """The header's fields up to the owner's, read from its first ``OWNER_PREFIX_BYTES``; None if they are not there.

    ``data`` is the snapshot's first bytes (the whole of it, or a store's prefix), ``nbytes``
    the length of the whole. No checksum and no full parse: a page's owner check costs the
    same for a snapshot of 64 MB as of 1 KB. (A snapshot damaged past these bytes is
    refused when it is restored.)
    """
    start = len(magic) + _HEAD.size
    if not data.startswith(magic) or len(data) < start:
        return None
    (header_length,) = struct.unpack_from(">I", data, len(magic) + 4)
    if header_length > nbytes - start:
        return None
    head = data[start : start + min(header_length, OWNER_PREFIX_BYTES)]
    if len(head) < min(header_length, OWNER_PREFIX_BYTES):
        return None  # a prefix shorter than the bytes the owner is read from
    try:
        # A character cut at the prefix's end is left out, not an error.
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=header_length <= OWNER_PREFIX_BYTES)
    except UnicodeDecodeError:
        return None
    fields: dict[str, Any] = {}
    at = _skip(text, 0)
    if not text.startswith("{", at):
        return None
    at = _skip(text, at + 1)
    try:
        while not fields.keys() >= _OWNER_FIELDS:
            name, at = _JSON.raw_decode(text, at)
            at = _skip(text, at)
            if type(name) is not str or name in fields or not text.startswith(":", at):
                return None  # not an object's key (or one written twice): the whole header says
            value, at = _JSON.raw_decode(text, _skip(text, at + 1))
            fields[name] = value
            at = _skip(text, at)
            if not text.startswith(",", at):
                return None  # the header's end, or past the prefix, before them all
            at = _skip(text, at + 1)
    except json.JSONDecodeError:
        return None  # a value runs past the prefix (the document, in a header written otherwise)
    return fields


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\n\r":
        at += 1
    return at


def stored_owner(data: bytes, *, app_path: str, session_id: str) -> StoredOwner:
    """Read whom the snapshot ``data`` of ``session_id`` of ``app_path`` belongs to; SnapshotError if it is not one.

    Either dialect's snapshot: only the header's owner fields are read (what a page
    needs to decide whether its visitor may join the session before it is restored),
    from its first bytes; a header that does not hold them there (an earlier release's,
    with no visitor) is read whole, checksum first.
    """
    magic = next((m for m in _OWNED_MAGICS if data.startswith(m)), MAGIC)
    header = _leading_fields(data, magic, len(data))
    if header is None:
        header, _ = unpack(data, magic, "snapshot")
    return _owner(header, app_path=app_path, session_id=session_id)


def owner_from_prefix(prefix: bytes, nbytes: int, *, app_path: str, session_id: str) -> StoredOwner | None:
    """Read the owner from a stored snapshot's first bytes (``nbytes`` long in all); None if they do not hold it.

    As ``stored_owner`` reads it, from a store's ``load_prefix`` of ``OWNER_READ_BYTES``:
    None says to read the whole snapshot (a header written otherwise); SnapshotError if
    the header names another application or session.
    """
    magic = next((m for m in _OWNED_MAGICS if prefix.startswith(m)), MAGIC)
    header = _leading_fields(prefix, magic, nbytes)
    return None if header is None else _owner(header, app_path=app_path, session_id=session_id)


def _owner(header: Any, *, app_path: str, session_id: str) -> StoredOwner:
    if type(header) is not dict or header.get("app") != app_path or header.get("session_id") != session_id:
        raise SnapshotError("snapshot of another application or session")
    user_id = header.get("user_id")
    return StoredOwner(None if user_id is None else str(user_id), _visitor(header))


_TYPES: dict[str, type | tuple[type, ...]] = {
    "incarnation": str,
    "seq": int,
    "created": (int, float),
    "saved": (int, float),
    "doc": dict,
    "buffer_ids": list,
    "app_ids": list,
    "fences": dict,
    "answers": list,
    "forgotten_seq": int,
    "client_models": int,
}


def _check_header(header: Any, *, app_path: str, session_id: str) -> dict[str, Any]:
    if type(header) is not dict:
        raise SnapshotError("corrupt snapshot: header is not an object")
    if header.get("version") != FORMAT_VERSION:
        raise SnapshotError(f"snapshot format {header.get('version')!r:.20} is not {FORMAT_VERSION}")
    if header.get("app") != app_path:
        raise SnapshotError(f"snapshot of another application: {header.get('app')!r:.60}, not {app_path!r}")
    if header.get("session_id") != session_id:
        raise SnapshotError(f"snapshot of another session: {header.get('session_id')!r:.60}")
    for name, kind in _TYPES.items():
        value = header.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise SnapshotError(f"corrupt snapshot: {name} is {type(value).__name__}")
    if header["seq"] < 0 or not all(type(i) is str for i in header["app_ids"] + header["buffer_ids"]):
        raise SnapshotError("corrupt snapshot: bad seq or ids")
    if not all(type(k) is str and type(v) is int for k, v in header["fences"].items()):
        raise SnapshotError("corrupt snapshot: bad fences")
    for answer in header["answers"]:
        if not (type(answer) is list and len(answer) == 6 and all(type(a) is str for a in answer[:2])):
            raise SnapshotError("corrupt snapshot: bad answer")
        if type(answer[2]) is not int or type(answer[3]) is not int or type(answer[5]) is not list:
            raise SnapshotError("corrupt snapshot: bad answer")
        if answer[4] is not None and not (type(answer[4]) is list and len(answer[4]) == 2):
            raise SnapshotError("corrupt snapshot: bad answer")
    return header
