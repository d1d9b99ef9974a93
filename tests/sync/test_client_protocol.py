"""ClientProtocol in memory: the shared client scripts, illegal transitions, limits, names."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from docsync.document import Document, ModelChangedEvent, RootAddedEvent, TitleChangedEvent
from docsync.document.models import ColumnDataSource, Slider, TextInput
from docsync.exceptions import MessageTooBigError, ProtocolError
from docsync.protocol import Receiver, new_message, server_info_req
from docsync.protocol.msgtypes import ACK, OK, PULL_DOC_REPLY, PULL_DOC_REQ, PUSH_DOC, RESUME_REQ
from docsync.sync import ChangesLost, ClientProtocol, ClientState, ErrorReported, Live, Reset, describe_change

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


def _live(send_limits: Receiver) -> tuple[ClientProtocol, dict[str, TextInput]]:
    """A protocol with ``send_limits``, live on a document of three named text inputs (at position 2)."""
    protocol = ClientProtocol(Document(), client_id="c", send_limits=send_limits)
    protocol.connection_made()
    protocol.receive_message(new_message(ACK))
    (request,) = protocol.messages_to_send()
    server = Document()
    for name in "abc":
        server.add_root(TextInput(id=name, name=name, value=""))
    doc_json, _ = server.to_json()
    protocol.receive_message(new_message(PULL_DOC_REPLY, {"doc": doc_json, "seq": 2}, reqid=request.msgid))
    protocol.events_received()
    inputs = {name: protocol.document.get_model_by_name(name) for name in "abc"}
    return protocol, inputs  # type: ignore[return-value]


def test_changes_over_the_send_limits_together_go_in_patches_that_fit() -> None:
    protocol, inputs = _live(Receiver(max_message_bytes=2_500))
    for name in "abc":
        inputs[name].value = name * 1_000
    protocol.flush()
    (first,) = protocol.messages_to_send()  # two changes (the batch of three, halved), then one
    assert [e["model"]["id"] for e in first.content["events"]] == ["a", "b"] and first.content["base"] == 2
    assert protocol.send_limits is not None and protocol.send_limits.size_fault(first.to_frames()) is None
    protocol.receive_message(new_message(OK, {"seq": 4}, reqid=first.msgid))
    (second,) = protocol.messages_to_send()
    assert [e["model"]["id"] for e in second.content["events"]] == ["c"] and second.content["base"] == 2
    protocol.receive_message(new_message(OK, {"seq": 5}, reqid=second.msgid))
    assert protocol.events_received() == [] and protocol.settled


def test_one_change_over_the_send_limits_is_lost_and_the_document_pulled() -> None:
    protocol, inputs = _live(Receiver(max_values=100))
    inputs["a"].value = "fits"
    inputs["b"].value = ",".join(["x"] * 200)  # commas in a string: no values
    protocol.flush()
    (fits,) = protocol.messages_to_send()
    assert len(fits.content["events"]) == 2
    protocol.receive_message(new_message(OK, {"seq": 3}, reqid=fits.msgid))
    source = ColumnDataSource(name="source", data={"x": list(range(200))})
    inputs["c"].value = "made with it"
    protocol.document.add_root(source)  # 200 values in a list: over the limit alone
    protocol.flush()
    (made_with,) = protocol.messages_to_send()  # the two, halved: the first one fits
    assert [e["kind"] for e in made_with.content["events"]] == ["ModelChanged"]
    protocol.receive_message(new_message(OK, {"seq": 4}, reqid=made_with.msgid))
    (pull,) = protocol.messages_to_send()  # the other is not sent: the document is pulled
    assert pull.msgtype == PULL_DOC_REQ
    assert protocol.in_flight is None and not protocol.outbox and protocol.state is ClientState.SYNCING
    (event,) = protocol.events_received()
    assert isinstance(event, ChangesLost) and (event.reason, event.changes, event.count) == ("too-large", ("roots",), 1)
    assert re.fullmatch(r"not sent: too many values in content frame: 2\d\d > 100", event.text or "")


def test_a_request_over_the_send_limits_is_not_sent() -> None:
    protocol, _ = _live(Receiver(max_frame_bytes=1_000))
    with pytest.raises(MessageTooBigError, match=r"^PUSH-DOC not sent: frame too large: 1\d\d\d > 1000 bytes$"):
        protocol.send(new_message(PUSH_DOC, {"doc": {"title": "x" * 1_000}}))
    assert protocol.messages_to_send() == []
    protocol.send(server_info_req())
    assert len(protocol.messages_to_send()) == 1


def _reset(protocol: ClientProtocol, seq: int, **values: str) -> None:
    """The server resets the client to text inputs named and valued as ``values`` (ids: the names)."""
    server = Document()
    for name, value in values.items():
        server.add_root(TextInput(id=name, name=name, value=value))
    doc_json, _ = server.to_json()
    protocol.receive_message(new_message(PUSH_DOC, {"doc": doc_json, "seq": seq}))
    assert [type(event) for event in protocol.events_received()] == [Reset]


def _sent_changes(protocol: ClientProtocol) -> tuple[int, list[tuple[str, str, Any]]]:
    protocol.flush()
    (patch,) = protocol.messages_to_send()
    return patch.content["base"], [(e["model"]["id"], e["attr"], e["new"]) for e in patch.content["events"]]


def test_a_reset_keeps_the_models_held_and_their_changes_are_sent() -> None:
    protocol, inputs = _live(Receiver())
    _reset(protocol, 6, a="server's", b="")
    document = protocol.document
    assert document.get_model_by_name("a") is inputs["a"] and inputs["a"].value == "server's"
    assert document.get_model_by_name("b") is inputs["b"]
    assert inputs["c"].document is None and "c" not in document.models
    inputs["a"].value = "mine"  # on the object held since before the reset
    assert _sent_changes(protocol) == (6, [("a", "value", "mine")])


def test_a_change_a_callback_makes_in_reaction_to_a_pull_is_sent() -> None:
    protocol, inputs = _live(Receiver())
    inputs["a"].on_change("value", lambda attr, old, new: setattr(inputs["b"], "value", new.upper()))
    _reset(protocol, 6, a="loud", b="", c="")
    assert inputs["b"].value == "LOUD"
    # As after a server patch: made on the document pulled (its position), and sent.
    assert _sent_changes(protocol) == (6, [("b", "value", "LOUD")])


def test_a_request_after_changes_held_by_the_rate_does_not_overtake_them() -> None:
    now = [0.0]
    document = Document()
    protocol = ClientProtocol(document, client_id="c", max_messages_per_second=2, clock=lambda: now[0])
    protocol.connection_made()
    protocol.receive_message(new_message(ACK))
    (request,) = protocol.messages_to_send()  # the pull: a bucket of its own
    server = Document()
    server.add_root(Slider(id="s", value=1.0))
    doc_json, _ = server.to_json()
    protocol.receive_message(new_message(PULL_DOC_REPLY, {"doc": doc_json, "seq": 2}, reqid=request.msgid))
    protocol.send(server_info_req())
    assert [m.msgtype for m in protocol.messages_to_send()] == ["SERVER-INFO-REQ"]  # the one token of the burst
    slider = document.get_model_by_id("s")
    assert isinstance(slider, Slider)
    slider.value = 3.0
    protocol.flush()
    assert protocol.messages_to_send() == [] and protocol.in_flight is None  # held by the rate
    protocol.send(server_info_req())  # a barrier after the change
    sent = []
    for _ in range(2):  # a burst of one: a message a token
        now[0] += 10.0
        protocol.flush()
        sent += protocol.messages_to_send()
    assert [m.msgtype for m in sent] == ["PATCH-DOC", "SERVER-INFO-REQ"]
    assert sent[0].content["events"][0]["new"] == 3.0


def test_a_pull_lost_with_its_connection_is_asked_again() -> None:
    # Found over the real server (convergence, seed 2110444279): a client that could not
    # read a replayed patch pulled the document again, dropping its waiting changes (one
    # took a root out, reported lost); a reconnect cut the pull, the client resumed from
    # its position, and its document kept the removal for good.
    protocol, inputs = _live(Receiver())
    protocol.document.remove_root(inputs["c"])  # waiting: lost to the pull, which undoes it
    protocol.resync()
    (pull,) = protocol.messages_to_send()
    assert pull.msgtype == PULL_DOC_REQ
    (lost,) = protocol.events_received()
    assert isinstance(lost, ChangesLost) and lost.reason == "resync"
    protocol.connection_lost()  # before the reply
    protocol.connection_made()
    protocol.receive_message(new_message(ACK))
    (again,) = protocol.messages_to_send()
    assert again.msgtype == PULL_DOC_REQ  # not a resume: the document holds what was lost
    server = Document()
    for name in "abc":
        server.add_root(TextInput(id=name, name=name, value=""))
    doc_json, _ = server.to_json()
    protocol.receive_message(new_message(PULL_DOC_REPLY, {"doc": doc_json, "seq": 3}, reqid=again.msgid))
    assert sorted(protocol.document.models) == ["a", "b", "c"] and protocol.last_seq == 3
    protocol.connection_lost()  # pulled: the next connection resumes
    protocol.connection_made()
    protocol.receive_message(new_message(ACK))
    (resume,) = protocol.messages_to_send()
    assert resume.msgtype == RESUME_REQ and resume.content["last_seq"] == 3
