"""Values and events shaped against docs/protocol.md's wire format: refused, the session unharmed.

Found by a client written from the protocol document alone (helper-139's review),
against a real daphne (the main hardening site); run under uvicorn too.
"""

from __future__ import annotations

import base64

import numpy as np
import pytest

from docsync.protocol import PATCH_DOC, new_message
from docsync.testing import EVENT_WAIT

from .conftest import main_site_on_each_server
from .harness import Site, open_raw, pull_json
from .hostile import Victim

pytestmark = pytest.mark.asyncio

site = main_site_on_each_server("wire-strictness")


@pytest.mark.parametrize("kind", ["ndarray", "bytes"])
async def test_a_binary_value_with_both_a_buffer_and_base64_is_refused(victim: Victim, kind: str) -> None:
    """§7: a value has ``buffer`` or ``base64``, never both.

    Before, the server took the buffer and ignored the base64 (the browser client did
    the same): a sender's two copies of the bytes could disagree and one was dropped
    unread, the patch answered OK.
    """
    in_buffer = np.arange(4.0)
    in_base64 = base64.b64encode(np.full(4, 7.0).tobytes()).decode()
    value: dict[str, object] = {"type": kind, "buffer": "0", "base64": in_base64}
    if kind == "ndarray":
        value.update(dtype="float64", shape=[4], order="little")
        event = {"kind": "ColumnDataChanged", "model": {"id": victim.model_id("source")}, "attr": "data"}
        event["columns"] = {"x": value}
    else:
        event = {"kind": "ModelChanged", "model": {"id": victim.model_id("text")}, "attr": "value", "new": value}
    message = new_message(PATCH_DOC, {"events": [event], "references": []}, buffers=[("0", in_buffer.tobytes())])
    text = await victim.refused(message, code="patch-refused")
    assert text == "binary value with both 'buffer' and 'base64'"
    await victim.assert_unharmed()


@pytest.mark.parametrize("kind", ["ModelChanged", "RootRemoved"])
async def test_an_event_whose_model_reference_has_another_key_is_refused(victim: Victim, kind: str) -> None:
    """§5: a reference is exactly ``{"id": ...}``; with another key it names no model.

    Before, the server read ``{"id": <slider>, "x": 1}`` as the slider and applied the
    change (OK), while a value of that shape is a plain mapping (§6).
    """
    ref = {"id": victim.model_id("slider" if kind == "ModelChanged" else "root"), "x": 1}
    event: dict[str, object] = {"kind": kind, "model": ref}
    if kind == "ModelChanged":
        event.update(attr="value", new=12345.0)
    message = new_message(PATCH_DOC, {"events": [event], "references": []})
    text = await victim.refused(message, code="patch-refused")
    assert text.startswith("event without a model reference: "), text
    await victim.assert_unharmed()


async def raw_request(victim: Victim, msgid: str, msgtype: str, content_text: str) -> dict[str, object]:
    """Send a message whose content frame is ``content_text`` as written; return its reply's type and content."""
    sock = await victim.raw()
    try:
        await sock.send_frames(f'{{"msgid":"{msgid}","msgtype":"{msgtype}"}}', "{}", content_text)
        while True:
            reply = await sock.read_message()
            if reply.reqid == msgid:
                return {"msgtype": reply.msgtype, **reply.content}
    finally:
        await sock.close()


@pytest.mark.parametrize("base", [str(2**64), str(-(2**63) - 1)])
async def test_a_base_past_64_bit_integers_is_not_an_integer(victim: Victim, base: str) -> None:
    """§1: an integer past -2⁶³ … 2⁶⁴-1 is read as a float, so such a ``base`` is not an integer.

    The review client expected rule 4 (a base past the session's position, or negative,
    loses) and got ``base must be an integer``: the documented answer once §1 says how
    such numbers are read. 2**64 - 1 and -2**63 are still integers (they lose).
    """
    slider = victim.model_id("slider")
    event = f'{{"kind":"ModelChanged","model":{{"id":"{slider}"}},"attr":"value","new":77.0}}'
    reply = await raw_request(victim, "big", "PATCH-DOC", f'{{"events":[{event}],"references":[],"base":{base}}}')
    assert reply == {"msgtype": "ERROR", "text": "base must be an integer", "code": "bad-patch"}
    await victim.assert_unharmed()
    edge = str(2**64 - 1) if base.isdigit() else str(-(2**63))
    reply = await raw_request(victim, "edge", "PATCH-DOC", f'{{"events":[{event}],"references":[],"base":{edge}}}')
    assert reply["msgtype"] == "OK" and reply["rejected"] == 1, reply
    await victim.assert_unharmed()


async def test_a_null_base_is_not_an_integer(victim: Victim) -> None:
    """§13 rule 2: a ``base`` that is not an integer is refused, and ``null`` is not one.

    Found by a client written from protocol.md alone (helper-151): ``"base": null`` was
    taken as no base at all (OK, the last writer winning, without the convergence
    guarantee), where the document promises ERROR ``base must be an integer``. A client
    that sends no base leaves the field out.
    """
    slider = victim.model_id("slider")
    event = f'{{"kind":"ModelChanged","model":{{"id":"{slider}"}},"attr":"value","new":78.0}}'
    reply = await raw_request(victim, "null", "PATCH-DOC", f'{{"events":[{event}],"references":[],"base":null}}')
    assert reply == {"msgtype": "ERROR", "text": "base must be an integer", "code": "bad-patch"}
    await victim.assert_unharmed()


async def test_a_null_pending_is_refused(victim: Victim) -> None:
    """§13: a RESUME-REQ's ``pending`` that is anything but a list of strings is refused, ``null`` too.

    Found by a client written from protocol.md alone (helper-151): ``"pending": null``
    was taken as no pending patches (a RESUME-REPLY), where the document promises ERROR
    ``pending must be a list of msgids (strings)``.
    """
    content = '{"last_seq":0,"client_id":"null-pending","pending":null}'
    reply = await raw_request(victim, "r3", "RESUME-REQ", content)
    assert reply == {"msgtype": "ERROR", "text": "pending must be a list of msgids (strings)", "code": "bad-request"}
    await victim.assert_unharmed()


async def test_a_last_seq_past_64_bit_integers_is_answered_full(victim: Victim) -> None:
    """§13: a ``last_seq`` past 2⁵² is refused, but one past 2⁶⁴-1 is a float, answered ``full``.

    The review client expected the ERROR ``last_seq past the largest position`` for every
    larger number and got a full document: §1 and §13 now say so.
    """
    reply = await raw_request(victim, "r1", "RESUME-REQ", f'{{"last_seq":{2**64},"client_id":"big-resume"}}')
    assert reply["msgtype"] == "RESUME-REPLY" and reply["mode"] == "full" and reply["fresh"] is False, reply
    reply = await raw_request(victim, "r2", "RESUME-REQ", f'{{"last_seq":{2**64 - 1},"client_id":"big-resume"}}')
    assert reply["msgtype"] == "ERROR" and reply["code"] == "bad-request", reply
    await victim.assert_unharmed()


@pytest.mark.parametrize(
    ("field", "value", "text"),
    [
        ("index", False, "index must be an integer, got False"),
        ("index", 1.5, "index must be an integer, got 1.5"),
        ("delete", True, "delete must be an integer, got True"),
        ("items", {"a": 1}, "items must be a list"),
    ],
)
async def test_a_malformed_splice_is_refused_naming_its_field(
    victim: Victim, field: str, value: object, text: str
) -> None:
    """A ListSpliced whose index, delete or items is of the wrong type says which.

    Before, the ERROR was ``invalid ListSpliced event {'kind': 'ListSpliced', 'model':
    ...`` cut at 80 characters, before the field at fault: a bool index got an error
    that did not say why.
    """
    event = {"kind": "ListSpliced", "model": {"id": victim.model_id("root")}, "attr": "children"}
    event.update({"index": 0, "delete": 0, "items": [], field: value})
    message = new_message(PATCH_DOC, {"events": [event], "references": []})
    assert await victim.refused(message, code="patch-refused") == f"invalid ListSpliced event: {text}"
    await victim.assert_unharmed()


async def test_bools_stream_into_a_number_column_as_zero_and_one(victim: Victim) -> None:
    """§8: rows must fit an array column's dtype without changing value; bools do (0, 1).

    The review client read "no numbers into bool columns" and expected the reverse to be
    refused too: it is taken, as §8 now says.
    """
    event = {"kind": "ColumnsStreamed", "model": {"id": victim.model_id("source")}, "attr": "data"}
    event.update(data={"x": [True, False], "s": ["e", "f"]}, rollover=None)
    sock = await victim.raw()
    try:
        reply = await sock.request(new_message(PATCH_DOC, {"events": [event], "references": []}))
    finally:
        await sock.close()
    assert reply.msgtype == "OK" and reply.content["rejected"] == 0, reply.content
    source = victim.observer.document.get_model_by_name("source")
    await victim.observer.wait_for(lambda: len(source.data["x"]) == 6, EVENT_WAIT)  # type: ignore[union-attr]
    column = source.data["x"]  # type: ignore[union-attr]
    assert column.dtype == np.float64 and column[-2:].tolist() == [1.0, 0.0]


@pytest.mark.parametrize("upload_id", ["u" * 65, ""])
async def test_an_upload_id_out_of_bounds_is_refused_naming_the_bound(site: Site, upload_id: str) -> None:
    """widgets.md, Files: an upload id has at most 64 characters; the ERROR says so.

    Before, a 65-character id was refused as ``FileInput upload_start needs an 'upload'
    id`` (the client had sent one), and an empty id was taken.
    """
    config = site.browser().page_config("all_models")
    sock = await open_raw(config["wsUrl"], config["token"])
    try:
        before = await pull_json(config)
        file_input = next(m["id"] for m in before["models"] if m["name"] == "FileInput")
        files = {"type": "map", "entries": [["name", "a.csv"], ["type", "text/csv"], ["size", 3]]}
        data = {"upload": upload_id, "files": [files]}
        event = {"kind": "MessageSent", "msg_type": "upload_start", "msg_data": data, "model": {"id": file_input}}
        reply = await sock.request(new_message(PATCH_DOC, {"events": [event], "references": []}))
        assert reply.msgtype == "ERROR", reply.content
        assert reply.content == {
            "text": "FileInput upload_start needs an 'upload' id of 1 to 64 characters",
            "code": "patch-refused",
        }
        # Nothing started: a chunk of that upload is not in progress.
        chunk = {"upload": upload_id, "file": 0, "offset": 0, "data": {"type": "bytes", "base64": "YWJj"}}
        event = {**event, "msg_type": "upload_chunk", "msg_data": chunk}
        reply = await sock.request(new_message(PATCH_DOC, {"events": [event], "references": []}))
        assert reply.msgtype == "ERROR", reply.content
        assert await pull_json(config) == before
    finally:
        await sock.close()


async def test_a_markdown_a_client_defines_keeps_the_html_it_is_sent_sanitised(victim: Victim) -> None:
    """widgets.md, Markdown: one built from a client's definition is not rendered from its text.

    The review client defined a Markdown with ``text`` only (a blank pane for everyone)
    and one whose ``html`` said something else than its ``text``: both taken as sent,
    ``html`` sanitised. widgets.md now says so (doc-only: passes before and after).
    """
    definitions = [
        {"type": "object", "name": "Markdown", "id": "md-1", "attributes": {"text": "**bold**"}},
        {
            "type": "object",
            "name": "Markdown",
            "id": "md-2",
            "attributes": {"text": "plain", "html": "<b onclick='x()'>other</b><script>x()</script>"},
        },
    ]
    events = [{"kind": "RootAdded", "model": {"id": "md-1"}}, {"kind": "RootAdded", "model": {"id": "md-2"}}]
    sock = await victim.raw()
    try:
        reply = await sock.request(new_message(PATCH_DOC, {"events": events, "references": definitions}))
    finally:
        await sock.close()
    assert reply.msgtype == "OK" and reply.content["rejected"] == 0, reply.content
    doc = await pull_json(victim.config)
    held = {m["id"]: m["attributes"] for m in doc["models"] if m["id"] in ("md-1", "md-2")}
    assert held == {"md-1": {"text": "**bold**"}, "md-2": {"text": "plain", "html": "<b>other</b>"}}
