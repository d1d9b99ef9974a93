"""Whole documents encoded once for the pulls, full resumes and resets that send them.

A PULL-DOC-REQ or a RESUME-REQ answers a 50-byte request with the whole document. Its
rate is bounded per connection, but connections are cheap: an anonymous client that
grew a session's data source and asked again on connection after connection had the
document encoded for each (100 ms for a 500,000-row list column). A session (either
dialect's) keeps its document's encodings in one :class:`KeptEncodings` until the
document changes; :class:`EncodedDocuments` bounds what the sessions of a process keep
together, the least recently used dropped first.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType
from typing import Any

from ..protocol import Message, new_message
from ..protocol.message import frame_nbytes
from ..protocol.wire_json import dumps, loads
from ..serialization import Buffer
from .patches import FrozenMessage

__all__ = [
    "DOC",
    "MAX_ENCODED_BYTES",
    "MIN_ENCODED_BYTES",
    "DocumentMessage",
    "EncodedDocument",
    "EncodedDocuments",
    "KeptEncodings",
]

#: Bytes of encoded documents a process keeps, all its sessions together.
MAX_ENCODED_BYTES = 64 * 1024 * 1024
#: A smaller encoding is not kept: encoding it again costs little, keeping it memory per session.
MIN_ENCODED_BYTES = 64 * 1024

#: What a session keeps while it keeps nothing: one empty mapping shared by all, immutable,
#: not an empty dict each (64 bytes per session; a document under MIN_ENCODED_BYTES never
#: has one kept).
_NOTHING_KEPT: MappingProxyType[bool, EncodedDocument] = MappingProxyType({})


#: The placeholder for the document in the content given to :meth:`EncodedDocument.message`.
DOC = None

#: Message's own slot for its content, which :class:`DocumentMessage` reads and writes under its property.
_CONTENT_SLOT: Any = Message.__dict__["content"]


class DocumentMessage(FrozenMessage):
    """A message carrying a whole document: its content frame spliced from the document's text.

    ``content["doc"]`` is decoded from that text when first read, and only by what reads
    it (the in-memory tests and clients, which are handed the message as it is): a socket
    sends the spliced frame, and a session keeps the text alone, not the document's JSON
    as a dict, which held several times the text's memory (bench/curves.py: 1,177 KiB per
    1,000-widget session against 534 before the encodings were kept).
    """

    __slots__ = ("_doc_text",)

    def __init__(self, message: Message, content_data: str, doc_text: str) -> None:
        self._doc_text: str | None = doc_text
        super().__init__(message, content_data)

    @property
    def content(self) -> dict[str, Any]:
        """The content, its ``"doc"`` decoded on the first read."""
        content: dict[str, Any] = _CONTENT_SLOT.__get__(self, DocumentMessage)
        text = self._doc_text
        if text is not None:
            self._doc_text = None
            content["doc"] = loads(text)  # in its key's place: the frame's order
        return content

    @content.setter
    def content(self, value: dict[str, Any]) -> None:
        _CONTENT_SLOT.__set__(self, value)


@dataclass(frozen=True, slots=True)
class EncodedDocument:
    """A document's JSON text and its buffers: what every message carrying it shares."""

    text: str
    buffers: list[tuple[str, Buffer]]

    @property
    def nbytes(self) -> int:
        """What keeping it holds: its text and its buffers.

        A buffer may be a view of a document's array, but one made for the wire (a
        non-contiguous column's copy, Bokeh's int64 column cast to int32) lives only here.
        """
        return sys.getsizeof(self.text) + sum([frame_nbytes(data) for _, data in self.buffers])

    def json(self) -> dict[str, Any]:
        """The document's JSON, decoded anew from the text (each caller's own)."""
        decoded: dict[str, Any] = loads(self.text)
        return decoded

    def message(self, msgtype: str, content: dict[str, Any]) -> Message:
        """A message whose ``content`` holds this document as ``"doc"``, spliced into its content frame.

        ``content`` gives the doc's place as ``"doc": DOC``; its other values are scalars (a
        position, an incarnation, a mode, a flag).
        """
        # Compact JSON, keys in content's order: exactly what encoding content gives. The
        # others encoded in one call around a 0 in the doc's place (dict() keeps its key's
        # place), which the document's text then replaces: a scalar's JSON holds no '"doc":0'
        # (a quote in a string is escaped), so the first is the key's own.
        placed = dict(content, doc=DOC)
        head, _, tail = dumps(dict(placed, doc=0)).partition('"doc":0')
        made = new_message(msgtype, placed, buffers=self.buffers)
        return DocumentMessage(made, head + '"doc":' + self.text + tail, self.text)


class EncodedDocuments:
    """The byte bound of the encodings kept by a process's sessions, least recently used dropped first."""

    def __init__(self, max_bytes: int = MAX_ENCODED_BYTES, min_bytes: int = MIN_ENCODED_BYTES) -> None:
        self.max_bytes = max_bytes
        self.min_bytes = min_bytes
        self.total = 0
        #: Keeper (a session's KeptEncodings and which encoding) -> (its drop callback, bytes);
        #: insertion order is use order. The keeper itself, not its id(): ids are reused.
        self._kept: dict[Hashable, tuple[Callable[[], None], int]] = {}
        # Documents change in worker threads (patches with sync callbacks, the callbacks
        # themselves), which forget their sessions' encodings while the loop keeps others':
        # unlocked, an eviction met a key forgotten meanwhile (KeyError, or "dictionary
        # changed size during iteration") and the pull that evicted failed.
        self._lock = threading.Lock()

    def keep(self, key: Hashable, nbytes: int, drop: Callable[[], None]) -> bool:
        """Count ``nbytes`` kept by ``key`` (dropping others' past the bound); False: not worth keeping."""
        dropped: list[Callable[[], None]] = []
        with self._lock:
            self._forget(key)
            if nbytes < self.min_bytes or nbytes > self.max_bytes:
                return False
            kept = self._kept
            kept[key] = (drop, nbytes)
            self.total += nbytes
            while self.total > self.max_bytes:
                callback, size = kept.pop(next(iter(kept)))
                self.total -= size
                dropped.append(callback)
        for callback in dropped:  # (no keeper's code under the lock)
            callback()
        return True

    def used(self, key: Hashable) -> None:
        """``key``'s encoding was sent again: it is the last to be dropped."""
        with self._lock:
            entry = self._kept.pop(key, None)
            if entry is not None:
                self._kept[key] = entry

    def forget(self, key: Hashable) -> None:
        """``key`` no longer keeps its encoding (its document changed, or its session ended); from any thread."""
        with self._lock:
            self._forget(key)

    def _forget(self, key: Hashable) -> None:
        entry = self._kept.pop(key, None)
        if entry is not None:
            self.total -= entry[1]


class KeptEncodings:
    """One session's encodings of its unchanged document (by variant), kept within a process's bound.

    The key under the bound is this object with the variant: two sessions (or the two
    dialects' sessions) never share an entry, as ids did (``2 * id(session) + inline``
    beside ``id(sequencer)``, and ids reused once their objects are gone).
    """

    __slots__ = ("_bound", "kept")

    def __init__(self, bound: EncodedDocuments | None) -> None:
        #: The process's bound (None: nothing is kept).
        self._bound = bound
        #: Variant (a Bokeh pull's ``inline``; False for the others) -> its encoding (a dict
        #: of its own once one is kept).
        self.kept: dict[bool, EncodedDocument] | MappingProxyType[bool, EncodedDocument] = _NOTHING_KEPT

    def get(self, variant: bool = False) -> EncodedDocument | None:
        """Return the kept encoding of ``variant`` (now the last to be dropped), or None."""
        encoded = self.kept.get(variant)
        if encoded is not None and self._bound is not None:
            self._bound.used((self, variant))
        return encoded

    def keep(self, encoded: EncodedDocument, variant: bool = False) -> None:
        """Keep ``encoded`` as ``variant`` if the bound takes it."""
        bound = self._bound
        if bound is None:
            return
        nbytes = encoded.nbytes
        if nbytes < bound.min_bytes and variant not in self.kept:
            return  # not worth keeping, and nothing of this variant's under the bound to forget
        if bound.keep((self, variant), nbytes, partial(self._drop, variant)):
            kept = self.kept
            if isinstance(kept, dict):
                kept[variant] = encoded
            else:
                self.kept = {variant: encoded}

    def _drop(self, variant: bool) -> None:
        kept = self.kept
        if isinstance(kept, dict):
            kept.pop(variant, None)  # the process's bound dropped it (it forgot it already)

    def forget(self) -> None:
        """Forget every encoding (the document changed, or the session ended); from any thread."""
        # Swapped, not emptied in place: from a worker thread (a callback's change) while the
        # loop's bound drops one of them (``_drop``) a ``del`` met a key gone (KeyError).
        kept, self.kept = self.kept, _NOTHING_KEPT
        if self._bound is not None:
            for variant in kept:
                self._bound.forget((self, variant))
