"""ClientProtocol in memory: the shared client scripts, illegal transitions, limits, names."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from docsync.document import Document, ModelChangedEvent, RootAddedEvent, TitleChangedEvent
from docsync.document.models import Slider
from docsync.exceptions import ProtocolError
from docsync.protocol import new_message, server_info_req
from docsync.protocol.msgtypes import ACK, PULL_DOC_REPLY
from docsync.sync import ClientProtocol, ClientState, ErrorReported, Live, describe_change

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
sys.path.insert(0, str(FIXTURES))

from client_scripts import run_script  # noqa: E402

SCRIPTS = sorted(FIXTURES.glob("wire/client_*.json"))


def test_there_are_client_scripts() -> None:
    assert len(SCRIPTS) >= 6


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_script_gives_its_record(path: Path) -> None:
    fixture = json.loads(path.read_text())
    records = run_script(fixture["steps"])
    for index, (got, expected) in enumerate(zip(records, fixture["records"], strict=True)):
        assert json.loads(json.dumps(got)) == expected, f"step {index}: {fixture['steps'][index]['do']}"


def _protocol() -> ClientProtocol:
    return ClientProtocol(Document(), client_id="c")


def test_refuses_what_its_state_does_not_allow() -> None:
    protocol = _protocol()
    with pytest.raises(ProtocolError, match="cannot receive ACK while idle"):
        protocol.receive_message(new_message(ACK))
    protocol.connection_made()
    with pytest.raises(ProtocolError, match="cannot go from connecting to connecting"):
        protocol.connection_made()
    with pytest.raises(ProtocolError, match="cannot send SERVER-INFO-REQ while connecting"):
        protocol.send(server_info_req())
    protocol.close()
    assert protocol.state is ClientState.CLOSED
    with pytest.raises(ProtocolError, match="cannot go from closed to connecting"):
        protocol.connection_made()
    protocol.connection_lost()  # after close: nothing to do


@pytest.mark.parametrize("client_id", ["", "x" * 65, 7])
def test_client_id_is_1_to_64_characters(client_id: Any) -> None:
    with pytest.raises(ValueError, match="client_id must be a string of 1 to 64 characters"):
        ClientProtocol(Document(), client_id=client_id)


def test_max_array_elements_is_a_limit() -> None:
    with pytest.raises(ValueError, match="max_array_elements must be a positive integer"):
        ClientProtocol(Document(), client_id="c", max_array_elements=0)


def test_an_unreadable_document_is_reported_and_nothing_changes() -> None:
    document = Document(title="mine")
    protocol = ClientProtocol(document, client_id="c")
    protocol.connection_made()
    protocol.receive_message(new_message(ACK))
    (request,) = protocol.messages_to_send()
    bad = new_message(PULL_DOC_REPLY, {"doc": {"roots": [{"id": "nowhere"}]}, "seq": 4}, reqid=request.msgid)
    protocol.receive_message(bad)
    (event,) = protocol.events_received()
    assert isinstance(event, ErrorReported) and event.code == "bad-document"
    assert "root is not a defined model" in event.text
    assert document.title == "mine" and protocol.last_seq is None
    assert protocol.state is ClientState.SYNCING  # not live: the adapter gives up on this socket


def test_server_changes_are_not_sent_back() -> None:
    document = Document()
    protocol = ClientProtocol(document, client_id="c")
    protocol.connection_made()
    protocol.receive_message(new_message(ACK))
    (request,) = protocol.messages_to_send()
    server = Document(title="server")
    server.add_root(Slider(id="s", value=1.0))
    doc_json, buffers = server.to_json()
    reply = new_message(PULL_DOC_REPLY, {"doc": doc_json, "seq": 2}, reqid=request.msgid, buffers=buffers)
    protocol.receive_message(reply)
    assert isinstance(protocol.events_received()[0], Live)
    assert protocol.settled and not protocol.outbox


def test_changes_are_named_as_a_notice_would() -> None:
    named, anonymous = Slider(name="speed"), Slider()
    assert describe_change(ModelChangedEvent(named, "value", 0, 1)) == "speed.value"
    assert describe_change(ModelChangedEvent(anonymous, "value", 0, 1)) == "Slider.value"
    assert describe_change(TitleChangedEvent("t")) == "title"
    assert describe_change(RootAddedEvent(named)) == "roots"
