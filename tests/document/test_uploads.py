"""FileInput's upload protocol, checked event by event before anything is stored."""

from __future__ import annotations

import os
from typing import Any

import pytest

from docsync.document import Document, MessageSentEvent
from docsync.document.models import Column, FileInput
from docsync.document.models.uploads import UPLOAD_CHUNK, UPLOAD_START, UploadedFile
from docsync.exceptions import PatchError

from .helpers import doc_json_bytes

LIMIT = 1000


class Browser:
    """A document with FileInputs, and the events a browser would send them."""

    def __init__(self, *inputs: FileInput, limit: int = LIMIT) -> None:
        self.doc = Document(max_upload_bytes=limit)
        self.doc.add_root(Column(*inputs))
        self.received: list[list[UploadedFile]] = []
        for field in inputs:
            field.on_upload(self.received.append)

    def send(self, *events: tuple[FileInput, str, Any]) -> None:
        patch = [MessageSentEvent(msg_type, data, field, setter="browser") for field, msg_type, data in events]
        self.doc.apply_patch(patch, setter="browser", from_client=True)

    def start(self, field: FileInput, upload: str, *files: tuple[str, str, int]) -> None:
        announced = [{"name": name, "type": mime, "size": size} for name, mime, size in files]
        self.send((field, UPLOAD_START, {"upload": upload, "files": announced}))

    def chunk(self, field: FileInput, upload: str, file: int, offset: int, data: bytes) -> None:
        self.send((field, UPLOAD_CHUNK, {"upload": upload, "file": file, "offset": offset, "data": data}))

    def refused(self, message: str, call: Any, *args: Any) -> None:
        before = doc_json_bytes(self.doc)
        with pytest.raises(PatchError, match=message):
            call(*args)
        assert doc_json_bytes(self.doc) == before


def test_files_arrive_whole_in_order_with_their_names_and_types() -> None:
    field = FileInput(multiple=True)
    browser = Browser(field)
    first, second = os.urandom(300), os.urandom(5)
    browser.start(field, "u1", ("a.csv", "text/csv", 300), ("empty.txt", "", 0), ("b.bin", "", 5))
    for offset in range(0, 300, 128):
        browser.chunk(field, "u1", 0, offset, first[offset : offset + 128])
    assert browser.received == []
    browser.chunk(field, "u1", 2, 0, second)  # the empty file needs no chunk
    (files,) = browser.received
    assert [(f.filename, f.mime_type, f.data, f.size) for f in files] == [
        ("a.csv", "text/csv", first, 300),
        ("empty.txt", "application/octet-stream", b"", 0),
        ("b.bin", "application/octet-stream", second, 5),
    ]
    assert type(files[0].data) is bytes
    assert field.filename == ["a.csv", "empty.txt", "b.bin"]
    assert field.mime_type == ["text/csv", "application/octet-stream", "application/octet-stream"]


def test_one_file_sets_strings_and_an_empty_file_finishes_at_once() -> None:
    field = FileInput()
    browser = Browser(field)
    browser.start(field, "u1", ("nothing.txt", "text/plain", 0))
    assert [f.filename for f in browser.received[0]] == ["nothing.txt"]
    assert field.filename == "nothing.txt" and field.mime_type == "text/plain"


def test_chunks_may_share_a_patch_and_a_bad_one_refuses_it_whole() -> None:
    field = FileInput()
    browser = Browser(field)
    data = b"0123456789"
    start = (field, UPLOAD_START, {"upload": "u", "files": [{"name": "d", "type": "", "size": 10}]})
    chunk = lambda offset, part: (field, UPLOAD_CHUNK, {"upload": "u", "file": 0, "offset": offset, "data": part})  # noqa: E731
    browser.refused("out of order", browser.send, start, chunk(0, data[:4]), chunk(3, data[4:]))
    assert browser.received == [] and field._upload is None
    browser.send(start, chunk(0, data[:4]), chunk(4, data[4:]))
    assert browser.received[0][0].data == data


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([("big.csv", "text/csv", LIMIT + 1)], r"^upload of 0\.0 MB refused: this input takes at most 0\.0 MB$"),
        ([("a.csv", "text/csv", 600), ("b.csv", "text/csv", 600)], "refused: this input takes at most"),
        ([("a.csv", "text/csv", 1), ("b.csv", "text/csv", 1)], "takes one file at a time, not 2"),
        ([("photo.png", "image/png", 10)], r"photo\.png is not a file this input accepts \(\.csv, text/\*\)"),
        ([("../etc/passwd.csv", "text/csv", 10)], "refused a file name"),
        ([("", "text/csv", 10)], "refused a file name"),
        ([("a.csv", "text/csv", -1)], "refused the size"),
        ([("a.csv", "text/csv", 1.5)], "refused the size"),
    ],
)
def test_announcements_are_refused_before_a_byte_is_taken(files: list[tuple[str, str, Any]], message: str) -> None:
    single = FileInput(accept=[".csv", "text/*"], multiple=False)
    multiple = FileInput(accept=".csv,text/*", multiple=True)
    browser = Browser(single, multiple)
    field = multiple if len(files) > 1 and "one file" not in message else single
    browser.refused(message, browser.start, field, "u", *files)
    assert field._upload is None


def test_the_input_s_own_limit_is_below_the_site_s() -> None:
    field = FileInput(max_size=100)
    browser = Browser(field)
    browser.refused("at most 0.0 MB", browser.start, field, "u", ("a", "", 101))
    browser.start(field, "u", ("a", "", 100))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"upload": "other", "file": 0, "offset": 0, "data": b"x"}, "not in progress"),
        ({"upload": "u", "file": 1, "offset": 0, "data": b"x"}, r"expected file 0 at byte 0"),
        ({"upload": "u", "file": 0, "offset": 0, "data": b"x" * 11}, r"past the end of file 0 \(10 bytes announced\)"),
        ({"upload": "u", "file": 0, "offset": 0, "data": b""}, "without bytes"),
        ({"upload": "u", "file": 0, "offset": 0, "data": "text"}, "without bytes"),
        ({"file": 0, "offset": 0, "data": b"x"}, "needs an 'upload' id"),
        ("chunk", "needs an 'upload' id"),
    ],
)
def test_a_bad_chunk_is_refused_and_the_upload_goes_on(data: Any, message: str) -> None:
    field = FileInput()
    browser = Browser(field)
    browser.start(field, "u", ("a", "", 10))
    browser.refused(message, browser.send, (field, UPLOAD_CHUNK, data))
    browser.chunk(field, "u", 0, 0, b"0123456789")
    assert browser.received[0][0].data == b"0123456789"


def test_a_chunk_with_no_upload_started_is_refused() -> None:
    field = FileInput()
    browser = Browser(field)
    browser.refused("not in progress", browser.chunk, field, "u", 0, 0, b"x")


def test_uploads_in_progress_share_the_document_s_limit() -> None:
    one, two = FileInput(), FileInput()
    browser = Browser(one, two)
    browser.start(one, "a", ("a", "", 600))
    browser.refused("other uploads to this page are in progress", browser.start, two, "b", ("b", "", 600))
    # A new upload to the same input replaces its unfinished one.
    browser.start(one, "c", ("c", "", 300))
    browser.start(two, "b", ("b", "", 600))
    # An upload silent for long is dropped when another needs the room.
    assert one._upload is not None
    one._upload.seen -= 3600
    three = FileInput()
    browser.doc.roots[0].children.append(three)
    browser.refused("in progress", browser.start, three, "d", ("d", "", 500))  # two's 600 + 500 > 1000
    browser.start(three, "d", ("d", "", 400))
    assert one._upload is None


def test_cancel_frees_the_upload() -> None:
    field = FileInput()
    browser = Browser(field)
    browser.start(field, "u", ("a", "", 10))
    browser.send((field, "upload_cancel", {"upload": "u"}))
    assert field._upload is None
    browser.refused("not in progress", browser.chunk, field, "u", 0, 0, b"x")


def test_other_events_and_python_s_own_messages() -> None:
    field = FileInput()
    browser = Browser(field)
    with pytest.raises(PatchError, match="does not accept 'button_click' events"):
        browser.send((field, "button_click", None))
    # Python may send itself these events: they are not checked, and are no upload.
    browser.doc.apply_patch([MessageSentEvent("upload_start", {"x": 1}, field)])
    assert field._upload is None and browser.received == []
