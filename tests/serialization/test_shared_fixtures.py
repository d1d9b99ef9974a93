"""The wire fixtures shared with the JavaScript tests (tests/fixtures/wire/).

Both suites read the same files: frames through the Receiver, documents decoded and
encoded again, patches applied or refused. tests/js/fixtures.test.mjs holds the
JavaScript client to them; this holds the Python side, and checks that the files are
still what tests/fixtures/make_fixtures.py builds, so the two cannot drift apart.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from docsync.document import Document
from docsync.exceptions import DocsyncError, ProtocolError
from docsync.protocol import Message, Receiver
from docsync.serialization import Encoder

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
sys.path.insert(0, str(FIXTURES))

import make_fixtures  # noqa: E402  (registers the fixtures' model class too)

WIRE = FIXTURES / "wire"
LOADED = {path.stem: json.loads(path.read_text()) for path in sorted(WIRE.glob("*.json"))}
EVENT_KINDS = {
    "ColumnDataChanged",
    "ColumnsPatched",
    "ColumnsStreamed",
    "DictItemsDeleted",
    "DictItemsSet",
    "ListSpliced",
    "MessageSent",
    "ModelChanged",
    "RootAdded",
    "RootRemoved",
    "TitleChanged",
}


def of_kind(kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [(name, fixture) for name, fixture in LOADED.items() if fixture["kind"] == kind]


def frames_of(items: list[Any]) -> list[str | bytes]:
    return [item if isinstance(item, str) else base64.b64decode(item["binary_base64"]) for item in items]


def message_json(message: Message) -> dict[str, Any]:
    return make_fixtures.message_json(message)


def receive_one(frames: list[str | bytes]) -> Message:
    receiver = Receiver()
    messages = [m for m in (receiver.receive(frame) for frame in frames) if m is not None]
    assert len(messages) == 1
    return messages[0]


def canonical(doc: Document) -> dict[str, Any]:
    return make_fixtures.canonical(doc)


def inline_buffers(value: Any, buffers: dict[str, Any]) -> Any:
    """Replace every {"buffer": id} by {"base64": ...} of that buffer."""
    if isinstance(value, list):
        return [inline_buffers(item, buffers) for item in value]
    if not isinstance(value, dict):
        return value
    if value.get("type") in ("ndarray", "bytes") and "buffer" in value:
        out = {k: v for k, v in value.items() if k != "buffer"}
        out["base64"] = base64.b64encode(buffers[value["buffer"]]).decode()
        return out
    return {key: inline_buffers(item, buffers) for key, item in value.items()}


def test_fixture_files_are_what_make_fixtures_builds() -> None:
    built = make_fixtures.build_fixtures()
    assert sorted(built) == sorted(LOADED), "run: python tests/fixtures/make_fixtures.py"
    for name, fixture in built.items():
        on_disk = (WIRE / f"{name}.json").read_text()
        assert make_fixtures.fixture_text(fixture) == on_disk, f"{name}: run python tests/fixtures/make_fixtures.py"


def test_fixtures_cover_every_event_kind() -> None:
    kinds = {kind for _, fixture in of_kind("patch") for kind in fixture["event_kinds"]}
    assert kinds == EVENT_KINDS


def test_value_fixture_covers_every_dtype() -> None:
    models = LOADED["document_values"]["document"]["models"]
    text = json.dumps(models)
    for dtype in (
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float32",
        "float64",
    ):
        assert f'"dtype": "{dtype}"' in text, dtype


@pytest.mark.parametrize("name", [name for name, _ in of_kind("document")])
def test_document_frames_reassemble_and_decode(name: str) -> None:
    fixture = LOADED[name]
    message = receive_one(frames_of(fixture["frames"]))
    assert message_json(message) == fixture["message"]
    doc = Document.from_json(message.content["doc"], dict(message.buffers))
    assert canonical(doc) == fixture["document"]
    data, buffers = doc.to_json()
    data["models"].sort(key=lambda model: model["id"])
    assert inline_buffers(data, dict(buffers)) == fixture["document"]
    assert canonical(Document.from_json(fixture["document"])) == fixture["document"]


@pytest.mark.parametrize("name", [name for name, _ in of_kind("patch")])
def test_patch_applied_gives_the_document_after(name: str) -> None:
    fixture = LOADED[name]
    message = receive_one(frames_of(fixture["frames"]))
    assert message_json(message) == fixture["message"]
    doc = Document.from_json(fixture["before"])
    seen: list[str] = []
    doc.on_change(lambda event: seen.append(event.kind))
    # A received message goes to the document's message handlers, not to its change
    # subscribers (the JavaScript document reports it to both kinds of listener).
    for event in message.content["events"]:
        if event["kind"] == "MessageSent":
            doc.on_message(event["msg_type"], lambda event: seen.append(event.kind))
    doc.apply_patch(doc.decode_patch(message.content, dict(message.buffers)), setter="server")
    assert canonical(doc) == fixture["after"]
    assert seen == fixture["event_kinds"]


CASES = LOADED["patch_refused"]["cases"]


@pytest.mark.parametrize("case", CASES, ids=[case["description"] for case in CASES])
def test_refused_patch_changes_nothing(case: dict[str, Any]) -> None:
    before = LOADED["patch_refused"]["before"]
    doc = Document.from_json(before)
    seen: list[Any] = []
    doc.on_change(seen.append)
    with pytest.raises(DocsyncError) as caught:
        doc.apply_patch(doc.decode_patch(case["content"]))
    assert type(caught.value).__name__ == case["error_type"]
    assert str(caught.value) == case["error"]
    assert seen == []
    assert canonical(doc) == before


PULL = LOADED["pull_in_place"]


@pytest.mark.parametrize("case", PULL["cases"], ids=[case["description"] for case in PULL["cases"]])
def test_pull_in_place_reports_the_changes_of_the_fixture(case: dict[str, Any]) -> None:
    doc = Document.from_json(PULL["before"])
    held = {(model.id, attr): value for model in doc.models.values() for attr, value in model._values.items()}
    seen: list[list[str]] = []

    def record(e: Any) -> None:
        if e.kind == "TitleChanged":
            seen.append([e.kind, e.title])
        else:
            seen.append([e.kind, e.model.id, e.attr] if e.kind == "ModelChanged" else [e.kind, e.model.id])

    doc.on_change(record)
    doc.update_from_json(case["pulled"], setter="pull")
    assert seen == case["reported"]
    assert canonical(doc) == case["pulled"]
    changed = {(model_id, attr) for _, model_id, attr in (e for e in seen if e[0] == "ModelChanged")}
    for (model_id, attr), value in held.items():
        model = doc.get_model_by_id(model_id)
        if model is not None and (model_id, attr) not in changed:
            assert model._values[attr] is value, f"{model_id}.{attr} not kept"


FRAME_CASES = LOADED["frame_cases"]["cases"]


@pytest.mark.parametrize("case", FRAME_CASES, ids=[case["description"] for case in FRAME_CASES])
def test_frame_case(case: dict[str, Any]) -> None:
    receiver = Receiver(**case["limits"])
    for frame, outcome in zip(frames_of(case["frames"]), case["outcomes"], strict=True):
        if outcome is not None and "error" in outcome:
            with pytest.raises(ProtocolError) as caught:
                receiver.receive(frame)
            assert str(caught.value) == outcome["error"]
            continue
        message = receiver.receive(frame)
        if outcome is None:
            assert message is None
        else:
            assert message is not None
            assert message_json(message) == outcome["message"]


def test_canonical_form_has_no_buffers() -> None:
    # The canonical form is what Encoder(use_buffers=False) writes: every binary value inline.
    for _, fixture in of_kind("document"):
        assert '"buffer"' not in json.dumps(fixture["document"])
    assert Encoder(use_buffers=False).encode(b"ab") == {"type": "bytes", "base64": "YWI="}
