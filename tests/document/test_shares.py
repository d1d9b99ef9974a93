"""One client's documents together, under a cap: counted as its changes apply, given back when a session ends."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pytest

from docsync.document import Document, DocumentLimits, DocumentShare, DocumentShares, ModelChangedEvent
from docsync.document.models import Column, ColumnDataSource
from docsync.exceptions import PatchError

from .helpers import doc_json_bytes, recorded

LIMITS = DocumentLimits(max_column_bytes=1 << 20, max_json_bytes=1 << 20, max_document_bytes=1 << 20, max_buffers=16)
CAP = 30_000  # three documents of 10,000 float64s each would pass it, two do not
REFUSED = r"this client's documents too large: \d+ > 30000 bytes \(MAX_DOCUMENT_BYTES_PER_CLIENT\)"


class Session:
    """A document whose client changes are counted against ``share``."""

    def __init__(self, share: DocumentShare | None) -> None:
        self.share = share
        self.limits = replace(LIMITS, share=share)
        self.doc = Document()
        self.source = ColumnDataSource(data={"x": np.zeros(1)})
        self.doc.add_root(Column(self.source))

    def grow(self, name: str = "a", size: int = 1250) -> None:
        data = {**self.source.data, name: np.zeros((1, size))}  # size float64s in the source's one row
        event = ModelChangedEvent(self.source, "data", None, data)
        self.doc.apply_patch([event], from_client=True, limits=self.limits)

    def shrink(self) -> None:
        event = ModelChangedEvent(self.source, "data", None, {"x": np.zeros(1)})
        self.doc.apply_patch([event], from_client=True, limits=self.limits)


def sessions(shares: DocumentShares, key: str, count: int) -> list[Session]:
    return [Session(shares.join(key, CAP)) for _ in range(count)]


def test_a_growth_past_the_clients_cap_is_refused_and_changes_nothing() -> None:
    shares = DocumentShares()
    first, second, third = sessions(shares, "address:10.0.0.1", 3)
    first.grow()
    second.grow()
    held = shares.by_client["address:10.0.0.1"].held
    assert 20_000 < held <= CAP
    before = doc_json_bytes(third.doc)
    with recorded(third.doc) as seen, pytest.raises(PatchError, match=REFUSED):
        third.grow()
    assert seen == [] and doc_json_bytes(third.doc) == before
    assert shares.by_client["address:10.0.0.1"].held == held
    # Another client's documents are its own.
    (other,) = sessions(shares, "address:10.0.0.2", 1)
    other.grow()


def test_shrinking_and_ended_sessions_give_their_bytes_back() -> None:
    shares = DocumentShares()
    first, second, third = sessions(shares, "user:7", 3)
    first.grow()
    second.grow()
    first.shrink()  # a change that does not grow is never refused, and frees what it took
    third.grow()
    with pytest.raises(PatchError, match=REFUSED):
        first.grow()
    assert second.share is not None
    second.share.release()
    second.share.release()  # once
    first.grow()
    for session in (first, third):
        assert session.share is not None
        session.share.release()
    assert shares.by_client == {}  # a client gone leaves nothing behind
    first.grow("b")  # its session ended: counted against no one


def test_the_applications_growth_is_not_refused_and_counts_from_the_next_client_change() -> None:
    shares = DocumentShares()
    first, second = sessions(shares, "address:10.0.0.3", 2)
    first.grow()
    # The application's own change (not from a client) is not bounded...
    data = {**second.source.data, "app": np.zeros((1, 2500))}
    second.doc.apply_patch([ModelChangedEvent(second.source, "data", None, data)])
    # ...but the document counts at the next client change: growing it is refused.
    with pytest.raises(PatchError, match=REFUSED):
        second.grow("b", 10)


def test_without_a_share_nothing_is_counted() -> None:
    shares = DocumentShares()
    assert shares.join(None, CAP) is None and shares.join("user:1", None) is None
    session = Session(None)
    for name in "abcd":
        session.grow(name)
    assert shares.by_client == {}


def test_shared_limits_keep_every_other_limit() -> None:
    share = DocumentShares().join("client", 1000)
    assert share is not None
    # Every field away from its default: a field shared() forgot would come back as its default.
    limits = DocumentLimits(*(index + 7 for index, field in enumerate(fields(DocumentLimits)) if field.name != "share"))
    assert limits.shared(share) == replace(limits, share=share)
