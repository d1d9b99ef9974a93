"""A session's whole document, encoded once while it is unchanged, within the process's byte bound."""

from __future__ import annotations

import sys
import threading
from typing import Any

import numpy as np
import pytest

from docsync.document import Document, Model
from docsync.document.properties import ColumnData, Float, List
from docsync.protocol import Message, new_message
from docsync.protocol.msgtypes import PATCH_DOC, PULL_DOC_REPLY, PULL_DOC_REQ, PUSH_DOC, RESUME_REQ
from docsync.protocol.wire_json import dumps
from docsync.sync import sequencer as sequencer_module
from docsync.sync.encoded_documents import EncodedDocument, EncodedDocuments, KeptEncodings
from docsync.sync.sequencer import Sequencer


class Table(Model):
    """A model with a long list, so that its document is worth keeping encoded."""

    __type_name__ = "test_encoded_documents.Table"
    __client_writable__ = frozenset({"value"})
    value = Float(0.0)
    rows = List(Float())


class CountedDocument(Document):
    """A document that counts its encodings."""

    __slots__ = ("calls",)

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []

    def to_json(self, **kwargs: Any) -> Any:
        self.calls.append(1)
        return super().to_json(**kwargs)


def _sequencer(encodings: EncodedDocuments | None, rows: int = 20_000) -> tuple[Sequencer, Table, list[int]]:
    document = CountedDocument()
    table = Table(id="t", rows=[i * 0.5 for i in range(rows)])
    document.add_root(table)
    sequencer = Sequencer(
        document,
        allow_client_structure=True,
        log_entries=100,
        log_bytes=1 << 20,
        max_client_models=100,
        max_array_elements=1000,
        encodings=encodings,
    )
    return sequencer, table, document.calls


def _request(msgtype: str, content: dict[str, Any] | None = None) -> Message:
    return new_message(msgtype, content or {})


def _content_frame(message: Message) -> str:
    frame = message.to_frames()[2]
    assert isinstance(frame, str)
    return frame


def test_pulls_of_an_unchanged_document_encode_it_once() -> None:
    sequencer, table, calls = _sequencer(EncodedDocuments())
    first = sequencer.pull(_request(PULL_DOC_REQ))
    second = sequencer.pull(request := _request(PULL_DOC_REQ))
    assert len(calls) == 1
    assert second.msgtype == PULL_DOC_REPLY and second.reqid == request.msgid
    # The spliced frame is exactly what encoding the content gives.
    assert _content_frame(second) == dumps(second.content) == _content_frame(first)
    table.value = 2.0  # a change (the application's): the next pull encodes again
    third = sequencer.pull(_request(PULL_DOC_REQ))
    assert len(calls) == 2 and '"value":2.0' in _content_frame(third)
    assert _content_frame(third) == dumps(third.content)


def test_full_resumes_and_resets_share_the_encoding() -> None:
    sequencer, _table, calls = _sequencer(EncodedDocuments())
    sequencer.pull(_request(PULL_DOC_REQ))
    # Another incarnation: a fresh full reply; then a resume naming pending msgids (answers).
    fresh = sequencer.resume("c1", _request(RESUME_REQ, {"last_seq": 0, "client_id": "c1", "incarnation": "x"}),
                             created_session=False).reply  # fmt: skip
    assert fresh.content["mode"] == "full" and _content_frame(fresh) == dumps(fresh.content)
    patch = new_message(PATCH_DOC, {"events": [{"kind": "ModelChanged", "model": {"id": "t"}, "attr": "value",
                                                 "new": 5.0}], "base": 0})  # fmt: skip
    outcome = sequencer.handle_patch("c1", 0, patch)
    assert outcome.answer.msgtype != "ERROR", outcome.answer.content
    pulls = len(calls)
    content = {"last_seq": -5, "client_id": "c1", "incarnation": sequencer.incarnation, "pending": [patch.msgid]}
    full = sequencer.resume("c1", _request(RESUME_REQ, content), created_session=False).reply
    # (The patch lost to the fresh reply's fence: its correction changed nothing, and the
    # document encoded for the fresh reply is still the document's.)
    assert len(calls) <= pulls + 1
    encoded = len(calls)
    again = sequencer.resume("c1", _request(RESUME_REQ, content), created_session=False).reply
    assert full.content["mode"] == "full" and full.content["answers"], full.content
    assert _content_frame(again) == dumps(again.content)
    assert len(calls) == encoded, "the second full resume encoded the document again"
    reset, _fence = sequencer._reset("c2")
    assert reset.msgtype == PUSH_DOC and _content_frame(reset) == dumps(reset.content)
    assert len(calls) == encoded


def test_without_a_bound_nothing_is_kept() -> None:
    sequencer, _table, calls = _sequencer(None)
    sequencer.pull(_request(PULL_DOC_REQ))
    sequencer.pull(_request(PULL_DOC_REQ))
    assert len(calls) == 2


def test_the_process_bound_drops_the_least_recently_used_and_small_documents_are_not_kept() -> None:
    encodings = EncodedDocuments(max_bytes=1_000_000, min_bytes=1000)
    small, _, small_calls = _sequencer(encodings, rows=10)
    small.pull(_request(PULL_DOC_REQ))
    small.pull(_request(PULL_DOC_REQ))
    assert len(small_calls) == 2 and encodings.total == 0
    sequencers = [_sequencer(encodings, rows=20_000) for _ in range(3)]
    sequencers[0][0].pull(_request(PULL_DOC_REQ))
    encodings.max_bytes = encodings.total * 5 // 2  # two fit, not three
    for sequencer, _, _ in sequencers[1:]:
        sequencer.pull(_request(PULL_DOC_REQ))
    assert 0 < encodings.total <= encodings.max_bytes
    first, _, first_calls = sequencers[0]
    first.pull(_request(PULL_DOC_REQ))
    assert len(first_calls) == 2, "the least recently used was dropped past the bound"
    last, _, last_calls = sequencers[-1]
    last.pull(_request(PULL_DOC_REQ))
    assert len(last_calls) == 1
    last.discard()  # the session ended: its encoding is given back
    assert all(key[0] is not last._encoded for key in encodings._kept)  # type: ignore[index]


@pytest.mark.parametrize("rows", [0, 3])
def test_a_document_encoded_for_a_pull_is_what_an_unkept_pull_sends(rows: int) -> None:
    kept, _, _ = _sequencer(EncodedDocuments(min_bytes=0), rows=rows)
    plain, _, _ = _sequencer(None, rows=rows)
    for sequencer in (kept, plain):
        sequencer.incarnation = "same"
    assert _content_frame(kept.pull(_request(PULL_DOC_REQ))) == _content_frame(plain.pull(_request(PULL_DOC_REQ)))


def test_encodings_forgotten_in_worker_threads_meet_the_loops_evictions() -> None:
    # Documents change in worker threads (Sequencer.apply with sync callbacks) and forget
    # their encodings while the loop's pulls keep others' and evict the oldest.
    encodings = EncodedDocuments(max_bytes=3, min_bytes=1)
    stop = threading.Event()

    def changes() -> None:
        key = 0
        while not stop.is_set():
            encodings.forget(key % 8)
            key += 1

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns often: the unlocked bound failed within ~1,000 pulls
    worker = threading.Thread(target=changes)
    worker.start()
    try:
        for key in range(20_000):
            encodings.keep(key % 8, 1, lambda: None)
    finally:
        stop.set()
        worker.join()
        sys.setswitchinterval(interval)
    assert encodings.total == sum(size for _, size in encodings._kept.values()) <= 3


class Columns(Model):
    """A model holding arrays, which travel as buffers."""

    __type_name__ = "test_encoded_documents.Columns"
    data = ColumnData()


def test_the_bound_counts_the_buffers_a_kept_encoding_holds() -> None:
    # A non-contiguous column is copied for the wire: kept, the copy lives as long as the encoding.
    document = Document()
    document.add_root(Columns(id="c", data={"x": np.arange(400_000, dtype=np.float64)[::2]}))
    encodings = EncodedDocuments(max_bytes=1 << 30, min_bytes=0)
    sequencer = Sequencer(
        document,
        allow_client_structure=True,
        log_entries=100,
        log_bytes=1 << 20,
        max_client_models=100,
        max_array_elements=1_000_000,
        encodings=encodings,
    )
    reply = sequencer.pull(_request(PULL_DOC_REQ))
    assert reply.buffers and encodings.total >= 200_000 * 8, encodings.total
    encodings.max_bytes = 1_000_000  # the copy alone is past the bound: not kept
    sequencer.discard()
    sequencer.pull(_request(PULL_DOC_REQ))
    assert encodings.total == 0 and not sequencer._encoded.kept


def _encoding(nbytes: int) -> EncodedDocument:
    return EncodedDocument("x" * (nbytes - 49), [])  # sys.getsizeof of an ASCII str: 49 + its length


def test_two_sessions_encodings_never_share_an_entry() -> None:
    encodings = EncodedDocuments(min_bytes=0)
    first, second = KeptEncodings(encodings), KeptEncodings(encodings)
    first.keep(_encoding(1000))
    first.keep(_encoding(3000), variant=True)  # a Bokeh session's inline pull beside its other
    second.keep(_encoding(5000))
    assert encodings.total == 9000 and len(encodings._kept) == 3
    first.forget()
    assert encodings.total == 5000 and second.get() is not None and not first.kept


def test_sequencers_with_one_id_keep_their_encodings_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    # Keyed by id(): a Bokeh session's 2 * id + inline could be a sequencer's id, and the
    # second to keep took the first's entry: what the first held went uncounted.
    monkeypatch.setattr(sequencer_module, "id", lambda _: 12, raising=False)
    encodings = EncodedDocuments()
    first, _, _ = _sequencer(encodings)
    second, _, _ = _sequencer(encodings)
    first.pull(_request(PULL_DOC_REQ))
    one = encodings.total
    second.pull(_request(PULL_DOC_REQ))
    assert encodings.total == 2 * one > 0
    first.discard()
    assert encodings.total == one and second._encoded.kept


@pytest.mark.parametrize(
    "content",
    [
        {"doc": None, "seq": 3, "incarnation": 'a"doc":0b'},
        {"mode": "full", "fresh": True, "doc": None, "seq": 3, "incarnation": '"doc":0'},
        {"seq": 3, "doc": None},
        {"doc": None},
    ],
)
def test_the_spliced_content_frame_is_what_encoding_the_content_gives(content: dict[str, Any]) -> None:
    doc_json = {"roots": [{"id": "p1", "doc": 0}], "title": '"doc":0'}
    encoded = EncodedDocument(dumps(doc_json), [])
    message = encoded.message(PULL_DOC_REPLY, content)
    content = {key: doc_json if key == "doc" else value for key, value in content.items()}
    assert message.to_frames()[2] == dumps(content)
    assert message.content == content and list(message.content) == list(content)


def test_a_session_keeping_nothing_holds_no_mapping_of_its_own() -> None:
    # One per session, and a document under MIN_ENCODED_BYTES never has one kept: an empty
    # dict each was 64 bytes per bench session (bench/budget.py's "docsync server" layer).
    encodings = EncodedDocuments(min_bytes=2000)
    first, second = KeptEncodings(encodings), KeptEncodings(encodings)
    first.keep(_encoding(1000))  # too small: not kept
    assert first.kept is second.kept and not first.kept
    first.keep(_encoding(3000))
    first.keep(_encoding(4000), variant=True)
    assert first.get() is not None and first.get(True) is not None and not second.kept
    first.forget()
    assert first.kept is second.kept and not first.kept and encodings.total == 0
    first.keep(_encoding(3000))  # kept again after a change
    assert first.get() is not None and encodings.total == 3000 and not second.kept


def test_a_kept_encoding_holds_the_text_and_each_reader_decodes_its_own_document() -> None:
    # The JSON as a dict held several times the text's memory in every session keeping
    # one (bench/curves.py, 1,000 widgets: 1,177 KiB per session against 534 before).
    encodings = EncodedDocuments()
    sequencer, _, _ = _sequencer(encodings)
    first = sequencer.pull(_request(PULL_DOC_REQ))
    second = sequencer.pull(_request(PULL_DOC_REQ))
    (kept,) = sequencer._encoded.kept.values()
    assert kept.__slots__ == ("text", "buffers")
    assert encodings.total == sys.getsizeof(kept.text) == kept.nbytes
    expected, _ = sequencer.document.to_json()
    assert first.content["doc"] == second.content["doc"] == expected
    assert first.content["doc"] is not second.content["doc"]  # a reader changing its copy changes no other
    first.content["doc"]["roots"].clear()
    assert second.content["doc"] == expected == sequencer.pull(_request(PULL_DOC_REQ)).content["doc"]
    assert first.to_frames()[2] == second.to_frames()[2]  # the frame is the text's, whatever a reader did
