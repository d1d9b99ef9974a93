"""Poisoned and outgrown documents (issue 12, findings 1-3 and 7), against a real server.

Each attack is refused with the ERROR docs/protocol.md §11 names, the session's
document stays byte-identical (its JSON text and buffers, as a pull carries them), and
a valid patch that follows is applied and reaches the observer tab. The test site's
wire limits are low (``settings.py``): 64 KiB frames, 256 KiB messages, 8 buffers, so
the documents may hold 64 KiB per column, 64 KiB of JSON and 128 KiB in all.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest
import websockets

from docsync.client import ClientSession
from docsync.protocol import ACK, ERROR, OK, RESUME_REPLY, new_message, pull_doc_req
from docsync.serialization import Encoder
from docsync.testing import EVENT_WAIT, RawSocket

from .harness import Site
from .hostile import Victim, definition, patch, raw_pull
from .pusher import Creator, push
from .settings import MAX_BUFFERS, MAX_CLIENT_MODELS, MAX_FRAME_BYTES, MAX_MESSAGE_BYTES

REFUSED = "patch-refused"


def ref(model_id: str) -> dict[str, str]:
    return {"id": model_id}


def array_message(events: list[dict[str, Any]], arrays: dict[str, np.ndarray], **fields: Any) -> Any:
    """A PATCH-DOC whose events name arrays as ``{"array": name}``, sent as binary buffers."""
    encoder = Encoder()
    encoded = {name: encoder.encode(array) for name, array in arrays.items()}

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"array"}:
                return encoded[value["array"]]
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    content = {"events": fill(events), "references": [], **fields}
    return new_message("PATCH-DOC", content, buffers=encoder.buffers)


# -- 2a: references -----------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("app", ["hostile", "hostile_closed"])
async def test_a_column_holding_a_model_is_refused(site: Site, app: str) -> None:
    victim = await Victim.open(site, app)
    try:
        source = victim.model_id("source")
        poisoned = patch(
            [{"kind": "ColumnDataChanged", "model": ref(source), "attr": "data", "columns": {"s": [ref("div-1")]}}],
            [definition("div-1", text="poison")],
        )
        text = await victim.refused(poisoned, code=REFUSED)
        if app == "hostile_closed":
            assert text == "creating models is not allowed from the client"
        else:
            assert text.startswith("ColumnDataSource.data expected a dict of column name to ndarray or list, got")
        # An existing model, no references: refused the same way.
        existing = patch(
            [
                {
                    "kind": "ColumnsPatched",
                    "model": ref(source),
                    "attr": "data",
                    "patches": {"s": [[0, ref(victim.model_id("slider"))]]},
                }
            ]
        )
        assert "holds models" in await victim.refused(existing, code=REFUSED)
        await victim.assert_unharmed()
    finally:
        await victim.close()


# -- 2b: cycles ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_column_that_contains_itself_is_refused(victim: Victim) -> None:
    itself = patch([{"kind": "RootAdded", "model": ref("c1")}], [definition("c1", "Column", children=[ref("c1")])])
    assert await victim.refused(itself, code=REFUSED) == "cycle: Column 'c1' would be among its own descendants"
    # Deeper, through a model the document holds.
    two = patch(
        [{"kind": "RootAdded", "model": ref("c1")}],
        [
            definition("c1", "Column", children=[ref("c2")]),
            definition("c2", "Column", children=[ref(victim.model_id("slider")), ref("c1")]),
        ],
    )
    assert (await victim.refused(two, code=REFUSED)).startswith("cycle: Column")
    await victim.assert_unharmed()


# -- 2c: sizes ----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_streams_stop_at_the_column_bound(victim: Victim) -> None:
    source = victim.model_id("source")
    rows = 4200  # 33,600 bytes of float64 per stream, well within every message limit

    def stream() -> Any:
        event: dict[str, Any] = {"kind": "ColumnsStreamed", "model": ref(source), "attr": "data", "rollover": None}
        event["data"] = {"x": {"array": "x"}, "s": ["q"] * rows}
        return array_message([event], {"x": np.ones(rows)})

    sock = await victim.raw()
    try:
        assert (await sock.request(stream())).msgtype == OK  # 4,204 rows
    finally:
        await sock.close()
    victim.before = await victim.document_bytes()
    text = await victim.refused(stream(), code=REFUSED)  # 8,404 rows: 67,232 bytes
    assert text == f"column 'x' of ColumnDataSource {source!r} too large: 67232 > {MAX_FRAME_BYTES} bytes"
    await victim.assert_unharmed()


@pytest.mark.asyncio
async def test_the_document_bound_holds_across_columns(victim: Victim) -> None:
    source = victim.model_id("source")
    sock = await victim.raw()
    try:
        for name in ("a", "b"):  # 56,000 bytes each, under the column bound, in the source's 4 rows
            event = {
                "kind": "ColumnDataChanged",
                "model": ref(source),
                "attr": "data",
                "columns": {name: {"array": name}},
            }
            assert (await sock.request(array_message([event], {name: np.zeros((4, 1750))}))).msgtype == OK
    finally:
        await sock.close()
    victim.before = await victim.document_bytes()
    event = {"kind": "ColumnDataChanged", "model": ref(source), "attr": "data", "columns": {"c": {"array": "c"}}}
    text = await victim.refused(array_message([event], {"c": np.zeros((4, 1750))}), code=REFUSED)
    assert text.startswith("document too large: ") and text.endswith(f" > {MAX_MESSAGE_BYTES // 2} bytes")
    # Whatever clients did, a pull of the document fits every wire limit.
    reply, frames = await raw_pull(victim.url, victim.config["token"])
    assert max(len(f) for f in frames) <= MAX_FRAME_BYTES and sum(len(f) for f in frames) <= MAX_MESSAGE_BYTES
    assert len(reply.buffers) <= MAX_BUFFERS
    await victim.assert_unharmed()


@pytest.mark.asyncio
async def test_the_document_s_json_fits_one_frame_and_its_arrays_the_buffers(victim: Victim) -> None:
    text_id, source = victim.model_id("text"), victim.model_id("source")
    sock = await victim.raw()
    try:
        reply = await sock.request(
            patch([{"kind": "ModelChanged", "model": ref(text_id), "attr": "value", "new": "t" * 40_000}])
        )
        assert reply.msgtype == OK
        # The source holds one array already (of 4 rows, as every column a client adds).
        arrays = {f"c{i}": np.zeros(4) for i in range(MAX_BUFFERS - 1)}
        event = {
            "kind": "ColumnDataChanged",
            "model": ref(source),
            "attr": "data",
            "columns": {k: {"array": k} for k in arrays},
        }
        assert (await sock.request(array_message([event], arrays))).msgtype == OK
    finally:
        await sock.close()
    victim.before = await victim.document_bytes()
    cells = patch(
        [{"kind": "ColumnsPatched", "model": ref(source), "attr": "data", "patches": {"s": [[0, "w" * 30_000]]}}]
    )
    text = await victim.refused(cells, code=REFUSED)
    assert text.startswith("document JSON too large: ") and text.endswith(f" > {MAX_FRAME_BYTES} bytes")
    one_more = {"kind": "ColumnDataChanged", "model": ref(source), "attr": "data", "columns": {"z": {"array": "z"}}}
    text = await victim.refused(array_message([one_more], {"z": np.zeros(4)}), code=REFUSED)
    assert text == f"too many arrays in the document: {MAX_BUFFERS + 1} > {MAX_BUFFERS}"
    await victim.assert_unharmed()


@pytest.mark.asyncio
async def test_a_document_the_server_made_too_big_is_not_sent_and_says_so(site: Site) -> None:
    config = site.browser().page_config("oversized")
    socket = await websockets.connect(config["wsUrl"], subprotocols=["docsync", config["token"]], max_size=None)  # type: ignore[list-item]
    sock = RawSocket(socket)
    assert (await sock.read_message()).msgtype == ACK
    await sock.send_message(pull_doc_req())
    assert (await sock.until_closed()).code == 1009
    expected = f"server message too large for the client: frame too large: 80000 > {MAX_FRAME_BYTES} bytes"
    assert [(m.msgtype, m.content.get("text"), m.content.get("code")) for m in sock.messages[1:]] == [
        (ERROR, expected, "close-1009")
    ]
    assert "oversized: PULL-DOC-REPLY not sent: frame too large: 80000" in site.log_text()


# -- PUSH-DOC: every rule a patch obeys ------------------------------------------------


def column(model_id: str, *children: str) -> dict[str, Any]:
    return definition(model_id, "Column", children=[ref(c) for c in children])


PUSHES: dict[str, tuple[str, dict[str, Any], str]] = {
    "client structure off": (
        "hostile_closed",
        {"title": "x", "roots": [ref("d1")], "models": [definition("d1")]},
        "push refused: creating models is not allowed from the client",
    ),
    "more models than MAX_CLIENT_MODELS": (
        "hostile",
        {
            "title": "x",
            "roots": [ref("c0")],
            "models": [column("c0", *[f"d{i}" for i in range(MAX_CLIENT_MODELS)])]
            + [definition(f"d{i}") for i in range(MAX_CLIENT_MODELS)],
        },
        f"push refused: too many models: {MAX_CLIENT_MODELS + 1} > {MAX_CLIENT_MODELS}",
    ),
    "a model id past MAX_CLIENT_MODEL_ID_LENGTH": (
        "hostile",
        {"title": "x", "roots": [ref("m" * 129)], "models": [definition("m" * 129)]},
        "push refused: model id too long: 129 > 128 characters",
    ),
    "a cycle": (
        "hostile",
        {"title": "x", "roots": [ref("c1")], "models": [column("c1", "c1")]},
        "push refused: cycle: Column 'c1'",
    ),
    "a model in a column": (
        "hostile",
        {
            "title": "x",
            "roots": [ref("s1")],
            "models": [definition("s1", "ColumnDataSource", data={"x": [ref("d1")]}), definition("d1")],
        },
        "push refused: ColumnDataSource.data expected",
    ),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("case", sorted(PUSHES))
async def test_a_pushed_document_obeys_every_rule_of_patches(site: Site, case: str) -> None:
    app, doc, text = PUSHES[case]
    creator = await Creator.open(site, app)  # only a client creating its session may push at all
    try:
        assert (await creator.refused(push(doc), code="bad-document")).startswith(text)
        await creator.assert_patch_applied(3.0)
    finally:
        await creator.close()


@pytest.mark.asyncio
async def test_a_pushed_document_obeys_the_size_bounds(site: Site) -> None:
    encoder = Encoder()
    data = {name: encoder.encode(np.zeros(6000)) for name in ("a", "b", "c")}  # 144,000 bytes
    doc = {"title": "x", "roots": [ref("s1")], "models": [definition("s1", "ColumnDataSource", data=data)]}
    creator = await Creator.open(site, "hostile")
    try:
        text = await creator.refused(push(doc, encoder.buffers), code="bad-document")
        assert text.startswith("push refused: document too large: ")
        await creator.assert_patch_applied(4.0)
    finally:
        await creator.close()


# -- finding 3: chosen ids ------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_long_msgid_closes_the_connection_with_1002(victim: Victim) -> None:
    sock = await victim.raw()
    message = patch([])
    message.header["msgid"] = "m" * 1000
    await sock.send_message(message)
    assert (await sock.until_closed()).code == 1002
    assert sock.errors() == ["msgid too long: 1000 > 128 characters"]
    await victim.assert_unharmed()


# -- finding 7: a refused splice leaves the JSON as it was ------------------------------


@pytest.mark.asyncio
async def test_a_refused_list_splice_leaves_the_document_byte_identical(victim: Victim) -> None:
    selection = victim.model_id("source")
    data, _ = victim.observer.document.to_json()
    selection = next(m["attributes"]["selected"]["id"] for m in data["models"] if m["id"] == selection)
    splice = patch(
        [{"kind": "ListSpliced", "model": ref(selection), "attr": "indices", "index": 5, "delete": 0, "items": [1]}]
    )
    assert await victim.refused(splice, code=REFUSED) == "splice at 5 deleting 0 out of range of Selection.indices"
    assert b'"indices"' not in victim.before
    await victim.assert_unharmed()


# -- RESUME: a replay never outgrows what a client accepts -----------------------------


@pytest.mark.asyncio
async def test_a_replay_too_big_for_the_client_is_sent_as_the_whole_document(victim: Victim) -> None:
    source = victim.model_id("source")
    absent = ClientSession(victim.config)
    await asyncio.wait_for(absent.connect(), EVENT_WAIT)
    last_seq, client_id, incarnation = absent.last_seq, absent.client_id, absent.incarnation
    await absent.close()
    writer = await victim.raw()
    try:
        # Each patch carries two arrays: MAX_BUFFERS / 2 + 1 of them are too many for one reply.
        for i in range(MAX_BUFFERS // 2 + 1):
            columns = {"x": {"array": "x"}, "y": {"array": "y"}}
            event = {"kind": "ColumnDataChanged", "model": ref(source), "attr": "data", "columns": columns}
            assert (await writer.request(array_message([event], {"x": np.full(4, i), "y": np.zeros(4)}))).msgtype == OK
    finally:
        await writer.close()
    sock = await victim.raw()
    try:
        request = new_message("RESUME-REQ", {"last_seq": last_seq, "client_id": client_id, "incarnation": incarnation})
        reply = await sock.request(request)
    finally:
        await sock.close()
    assert reply.msgtype == RESUME_REPLY
    assert reply.content["mode"] == "full" and reply.content["fresh"] is False
    assert len(reply.buffers) <= MAX_BUFFERS
