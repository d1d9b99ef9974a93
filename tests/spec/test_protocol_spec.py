"""docs/protocol.md, statement by statement, against a real server, through a client written from it.

Each test names the part of the document it checks. The client (``wire_client``) imports
nothing of docsync: if the document is not enough to write it, these tests say where.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import websockets

from docsync.testing import ServerProcess

from .conftest import ALLOWED_ORIGIN, SECRET_KEY, SERVER_KINDS, spec_site
from .wire_client import (
    Closed,
    WireClient,
    autoload_config,
    changed,
    cookie_header,
    http_get,
    model_by,
    ndarray,
    ndarray_values,
    page_config,
    token_payload,
)

Open = Callable[..., Awaitable[tuple[WireClient, dict[str, Any]]]]


@pytest_asyncio.fixture
async def open_client(server: ServerProcess) -> AsyncIterator[Open]:
    """Open a client on a page of ``app`` (or on ``config``) and pull; all are closed at the end."""
    clients: list[WireClient] = []

    async def open_one(
        app: str = "spec", query: str = "", *, config: dict[str, Any] | None = None, **kwargs: Any
    ) -> tuple[WireClient, dict[str, Any]]:
        client = await WireClient.connect(config or page_config(f"{server.url}{app}/{query}"), **kwargs)
        clients.append(client)
        return client, await client.handshake()

    yield open_one
    for client in clients:
        await client.close()


def _level(doc: dict[str, Any]) -> str:
    return str(model_by(doc, name="level")["id"])


# -- §4: where a token comes from, and which session it opens ------------------------------


@pytest.mark.asyncio
async def test_tokens_come_from_the_page_autoload_js_and_the_metadata_url(
    server: ServerProcess, open_client: Open
) -> None:
    config = page_config(server.url + "spec/")
    assert {"app", "sessionId", "token", "wsUrl"} <= set(config)
    assert config["wsUrl"] == f"ws://127.0.0.1:{server.port}/spec/ws"

    # autoload.js: the same configuration, for the element named by ?target=.
    embedded = autoload_config(server.url + "spec/autoload.js?target=here")
    assert embedded["target"] == "here" and embedded["sessionId"] != config["sessionId"]
    _, doc = await open_client(config=embedded)
    assert model_by(doc, name="level")["attributes"]["value"] == 1.0

    # The metadata endpoint names the app's page (where a token is issued) and its metadata.
    status, body = http_get(server.url + "spec/metadata")
    assert status == 200
    metadata = __import__("json").loads(body)
    assert metadata == {"url": "/spec/", "data": {"purpose": "protocol spec tests"}}
    assert "token" in page_config(server.url.rstrip("/") + metadata["url"])


@pytest.mark.asyncio
async def test_room_and_session_id_select_the_session(server: ServerProcess, open_client: Open) -> None:
    # A shared app: one session per ?room= (the default room when none is named).
    red = page_config(server.url + "board/?room=red")
    assert page_config(server.url + "board/?room=red")["sessionId"] == red["sessionId"]
    assert page_config(server.url + "board/?room=blue")["sessionId"] != red["sessionId"]
    assert (
        page_config(server.url + "board/")["sessionId"] == page_config(server.url + "board/?room=default")["sessionId"]
    )

    # Any other app: a new session per page, unless ?session_id= names a live one of the
    # same user; anonymous, of the same visitor (a browser: its Django session cookie).
    jar = CookieJar()
    mine = page_config(server.url + "spec/", jar)
    first, _ = await open_client(config=mine, headers=cookie_header(jar))
    live = first.config["sessionId"]
    assert page_config(server.url + f"spec/?session_id={live}", jar)["sessionId"] == live
    assert page_config(server.url + f"spec/?session_id={live}", CookieJar())["sessionId"] != live
    assert page_config(server.url + f"spec/?session_id={live}")["sessionId"] != live
    assert page_config(server.url + "spec/?session_id=no-such-session", jar)["sessionId"] not in (
        live,
        "no-such-session",
    )
    assert page_config(server.url + "spec/", jar)["sessionId"] != live


# -- Convergence and resume: positions, OK, no-ops ------------------------------------------


@pytest.mark.asyncio
async def test_ok_names_the_position_and_the_others_get_the_patch_there(open_client: Open) -> None:
    a, doc = await open_client("spec")
    b, _ = await open_client(config={**a.config, "token": a.config["token"]})
    await b.settle(0.1)
    level = _level(doc)
    before = a.last_seq
    ok = await a.patch([changed(level, "value", 2.5)])
    assert ok.msgtype == "OK" and ok.content == {"seq": before + 1, "applied_seq": before + 1, "rejected": 0}
    [seen] = await _patches_until(b, before + 1)
    assert seen.content["events"] == [changed(level, "value", 2.5)]
    assert not a.patches(before)  # never echoed to its sender
    # SERVER-INFO-REQ is answered in order: after it, everything sent before was handled.
    info = await a.request("SERVER-INFO-REQ", {})
    assert info.msgtype == "SERVER-INFO-REPLY" and set(info.content["version_info"]) == {"docsync", "server"}


async def _patches_until(client: WireClient, seq: int) -> list[Any]:
    while not any(m.content.get("seq") == seq for m in client.patches()):
        await client.receive()
    return [m for m in client.patches() if m.content.get("seq") == seq]


@pytest.mark.asyncio
async def test_a_change_that_changes_nothing_takes_no_position(open_client: Open) -> None:
    a, doc = await open_client("spec")
    b, _ = await open_client(config=a.config)
    level = _level(doc)
    before = a.last_seq
    ok = await a.patch([changed(level, "value", 1.0)])  # its value already
    assert ok.content == {"seq": before, "applied_seq": before, "rejected": 0}  # no entry in the order
    await b.settle(0.3)
    assert not b.patches(before)  # nothing broadcast
    # Nor does it conflict: a change based before it wins.
    ok = await b.patch([changed(level, "value", 4.0)], base=before)
    assert ok.content == {"seq": before + 1, "applied_seq": before + 1, "rejected": 0}


@pytest.mark.asyncio
async def test_only_a_value_or_title_set_as_it_is_changes_nothing(open_client: Open) -> None:
    a, doc = await open_client("spec")
    b, _ = await open_client(config=a.config)
    source, s = model_by(doc, name="source")["id"], a.last_seq
    ok = await a.patch([{"kind": "TitleChanged", "title": doc["title"]}])
    assert ok.content == {"seq": s, "applied_seq": s, "rejected": 0}
    # Any other event takes a position, whatever it leaves as it was: a stream of no rows,
    # a patch of no cells; the others receive it.
    stream = {"kind": "ColumnsStreamed", "model": {"id": source}, "attr": "data", "data": {"x": []}, "rollover": None}
    cells = {"kind": "ColumnsPatched", "model": {"id": source}, "attr": "data", "patches": {"x": []}}
    for n, event in enumerate((stream, cells), start=1):
        ok = await a.patch([event], base=s + n - 1)
        assert ok.content == {"seq": s + n, "applied_seq": s + n, "rejected": 0}
        [seen] = await _patches_until(b, s + n)
        assert [e["kind"] for e in seen.content["events"]] == [event["kind"]]


# -- Conflicts, corrections, precedence ------------------------------------------------------


@pytest.mark.asyncio
async def test_a_losing_change_is_corrected_for_everyone_and_the_correction_wins_too(open_client: Open) -> None:
    a, doc = await open_client("spec")
    b, _ = await open_client(config=a.config)
    level, s = _level(doc), a.last_seq
    ok = await a.patch([changed(level, "value", 2.0)], base=s)
    assert ok.content == {"seq": s + 1, "applied_seq": s + 1, "rejected": 0}
    # b had not seen s + 1: its change of the same property loses and is corrected. The
    # answer comes first (seq: all before s + 2 was sent), then the correction at s + 2.
    ok = await b.patch([changed(level, "value", 3.0)], base=s)
    assert ok.content == {"seq": s + 1, "applied_seq": s + 2, "rejected": 1, "lost": [0]}
    correction = await _patches_until(b, s + 2)
    assert [m.content["events"] for m in correction] == [[changed(level, "value", 2.0)]]
    [to_a] = await _patches_until(a, s + 2)
    assert to_a.content["events"] == [changed(level, "value", 2.0)]
    # A correction is a change made after every base before it: a's own next change,
    # made before a saw the correction, loses to it as well.
    ok = await a.patch([changed(level, "value", 5.0)], base=s + 1)
    assert ok.content["rejected"] == 1


@pytest.mark.asyncio
async def test_an_invalid_event_refuses_the_whole_patch_even_beside_a_losing_one(open_client: Open) -> None:
    a, doc = await open_client("spec")
    b, _ = await open_client(config=a.config)
    level, s = _level(doc), a.last_seq
    await a.patch([changed(level, "value", 2.0)], base=s)
    reply = await b.patch([changed(level, "value", 3.0), changed(level, "end", 99.0)], base=s)
    assert reply.msgtype == "ERROR" and reply.content["code"] == "patch-refused"
    assert reply.content["text"] == "Slider.end is not writable from the client"
    # Every property the patch touched is corrected (end was never changed: its value is
    # sent back), right after the ERROR.
    corrected = {(e["attr"], e["new"]) for m in await _patches_until(b, s + 2) for e in m.content["events"]}
    assert corrected == {("value", 2.0), ("end", 10.0)}


@pytest.mark.asyncio
async def test_the_correction_of_a_property_holding_models_defines_every_model_its_value_reaches(
    open_client: Open,
) -> None:
    a, doc = await open_client("spec")
    b, _ = await open_client(config=a.config)
    layout, s = model_by(doc, name="layout"), a.last_seq
    # The layout's children are not client-writable: refused. a's document no longer holds
    # the slider, the text input and the button, so the correction defines them again.
    reply = await a.patch([changed(layout["id"], "children", [])])
    assert reply.msgtype == "ERROR" and reply.content["code"] == "patch-refused"
    for client in (a, b):
        [correction] = await _patches_until(client, s + 1)
        assert correction.content["events"] == [changed(layout["id"], "children", layout["attributes"]["children"])]
        defined = {m["id"]: m for m in correction.content["references"]}
        assert set(defined) == {child["id"] for child in layout["attributes"]["children"]}
        # As the models are now (as a pull would give them), the slider's value included.
        assert all(m in doc["models"] for m in defined.values())


@pytest.mark.asyncio
async def test_a_correction_over_the_limit_resets_the_sender_and_is_sent_to_no_one(open_client: Open) -> None:
    a, doc = await open_client("spec_big")
    b, _ = await open_client(config=a.config)
    layout, s = model_by(doc, name="layout"), a.last_seq
    # Column.children is not writable: refused. Its value reaches the table's 800 kB
    # source, over the 256 KiB a patch's corrections may take (§13): a alone is reset.
    reply = await a.patch([changed(layout["id"], "children", [])])
    assert reply.msgtype == "ERROR" and reply.content["code"] == "patch-refused"
    while not [m for m in a.inbox if m.msgtype == "PUSH-DOC"]:
        await a.receive()
    [reset] = [m for m in a.inbox if m.msgtype == "PUSH-DOC"]
    assert reset.content["seq"] == s + 1
    assert {m["id"] for m in reset.content["doc"]["models"]} == {m["id"] for m in doc["models"]}
    assert not a.patches(s), "no correction came to the sender"
    # b receives the next change (a's, made on the reset document) and nothing before it.
    a.last_seq = reset.content["seq"]
    ok = await a.patch([changed(_level(doc), "value", 2.0)])
    assert ok.content == {"seq": s + 2, "applied_seq": s + 2, "rejected": 0}
    while not b.patches(s):
        await b.receive()
    assert [(m.content["seq"], m.content["events"]) for m in b.patches(s)] == [
        (s + 2, [changed(_level(doc), "value", 2.0)])
    ]
    assert not [m for m in b.inbox if m.msgtype == "PUSH-DOC"]


@pytest.mark.asyncio
async def test_a_change_of_roots_that_loses_resets_the_client(open_client: Open) -> None:
    a, _ = await open_client("spec")
    b, _ = await open_client(config=a.config)
    s = a.last_seq
    div = {"type": "object", "name": "Div", "id": "b-div", "attributes": {"text": "from b"}}
    ok = await b.request(
        "PATCH-DOC",
        {"events": [{"kind": "RootAdded", "model": {"id": "b-div"}}], "references": [div], "base": s},
    )
    assert ok.content == {"seq": s + 1, "applied_seq": s + 1, "rejected": 0}
    # a adds a root on a base before b's: its RootAdded loses, and so does every event of
    # the patch on the model it brought (that model never joined the document).
    mine = {"type": "object", "name": "Div", "id": "a-div", "attributes": {"text": "from a"}}
    events = [{"kind": "RootAdded", "model": {"id": "a-div"}}, changed("a-div", "text", "edited")]
    ok = await a.request("PATCH-DOC", {"events": events, "references": [mine], "base": s})
    assert ok.msgtype == "OK" and ok.content["rejected"] == 2
    # The reset comes after the answer, at a position of its own.
    while not [m for m in a.inbox if m.msgtype == "PUSH-DOC"]:
        await a.receive()
    [reset] = [m for m in a.inbox if m.msgtype == "PUSH-DOC"]
    assert reset.content["seq"] == ok.content["applied_seq"] + 1
    assert "a-div" not in {m["id"] for m in reset.content["doc"]["models"]}
    assert "b-div" in {m["id"] for m in reset.content["doc"]["models"]}
    # A later patch naming that model loses too (it is not in the document).
    ok = await a.patch([changed("a-div", "text", "again")], base=reset.content["seq"])
    assert ok.content["rejected"] == 1
    # b is not reset: it never received that position.
    await b.settle(0.3)
    assert not [m for m in b.inbox if m.msgtype == "PUSH-DOC"]


# -- Resume --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_resume_replays_what_was_missed_and_a_fresh_session_loses_every_resent_patch(open_client: Open) -> None:
    a, doc = await open_client("spec")
    level, s = _level(doc), a.last_seq
    other, _ = await open_client(config=a.config)
    await other.patch([changed(level, "value", 6.0)])
    # a comes back on a new socket, naming what it had applied and the session it knew.
    again = await WireClient.connect(a.config, client_id=a.client_id)
    assert (await again.receive()).msgtype == "ACK"
    reply = await again.request("RESUME-REQ", {"last_seq": s, "client_id": a.client_id, "incarnation": a.incarnation})
    assert reply.content["mode"] == "replay" and reply.content["seq"] == s + 1
    assert [p["events"] for p in reply.content["patches"]] == [[changed(level, "value", 6.0)]]
    await again.close()

    # Naming another incarnation (the session it knew is gone): the whole document, fresh.
    gone = await WireClient.connect(a.config, client_id=a.client_id)
    await gone.receive()
    old_position = 1000  # the gone session had come this far
    content = {"last_seq": old_position, "client_id": a.client_id, "incarnation": "gone"}
    reply = await gone.request("RESUME-REQ", content)
    assert reply.content["mode"] == "full" and reply.content["fresh"] is True
    fresh_seq = reply.content["seq"]
    assert fresh_seq > old_position  # after every position the old session could have given
    # Every patch resent from before loses, whatever base it names (none can reach the new position).
    for base in (s, old_position):
        ok = await gone.patch([changed(level, "value", 7.0), {"kind": "TitleChanged", "title": "old"}], base=base)
        assert ok.msgtype == "OK" and ok.content["rejected"] == 2
    # A change made on the new document (after the corrections those losses brought) is applied.
    now = ok.content["applied_seq"]
    ok = await gone.patch([{"kind": "TitleChanged", "title": "new"}], base=now)
    assert ok.content == {"seq": now + 1, "applied_seq": now + 1, "rejected": 0}
    await gone.close()


# -- Buffers in server patches -------------------------------------------------------------


@pytest.mark.asyncio
async def test_server_patches_number_their_buffers_by_position(open_client: Open) -> None:
    a, doc = await open_client("spec")
    grow = model_by(doc, name="grow")["id"]
    click = {"kind": "MessageSent", "msg_type": "button_click", "msg_data": None, "model": {"id": grow}}
    ok = await a.patch([click])
    # The callback's stream is what the click caused: it follows the answer, at its position.
    await _patches_until(a, ok.content["applied_seq"])
    [streamed] = [m for m in a.patches() if m.content["events"][0]["kind"] == "ColumnsStreamed"]
    [buffer_id] = streamed.buffers
    assert re.fullmatch(r"\d+\.\d+\.\d+", buffer_id) and buffer_id.startswith(f"{streamed.content['seq']}.")
    assert streamed.content["events"][0]["data"]["x"]["buffer"] == buffer_id
    assert len(streamed.buffers[buffer_id]) == 3 * 8
    assert ok.content["applied_seq"] == streamed.content["seq"]


# -- Origins and close codes ---------------------------------------------------------------


@pytest.mark.asyncio
async def test_origins(server: ServerProcess, open_client: Open) -> None:
    config = page_config(server.url + "spec/")
    refused = await WireClient.connect(config, origin="http://elsewhere.example")
    closed = await refused.until_closed()
    [error] = [m for m in refused.inbox if m.msgtype == "ERROR"]
    assert (closed.code, error.content) == (1008, {"text": "origin not allowed", "code": "close-1008"})
    # A listed origin, and the websocket's own, are let in.
    await open_client(config=page_config(server.url + "spec/"), origin=ALLOWED_ORIGIN)
    await open_client(config=page_config(server.url + "spec/"))
    # The websocket's own origin is its Host's, as written: a page of localhost whose
    # websocket opens 127.0.0.1 is another origin (both are hosts ALLOWED_HOSTS accepts).
    config = page_config(server.url + "spec/")
    assert config["wsUrl"].startswith(f"ws://127.0.0.1:{server.port}/")
    refused = await WireClient.connect(config, origin=f"http://localhost:{server.port}")
    closed = await refused.until_closed()
    assert (closed.code, refused.inbox[-1].content) == (1008, {"text": "origin not allowed", "code": "close-1008"})


@pytest.mark.asyncio
async def test_a_token_is_for_its_own_app(server: ServerProcess) -> None:
    config = page_config(server.url + "spec/")
    client = await WireClient.connect({**config, "wsUrl": config["wsUrl"].replace("/spec/", "/sliders/")})
    closed = await client.until_closed()
    assert closed.code == 1008 and client.inbox[-1].content["text"] == "token is for another application"
    # No token at all: the same close, saying how to give one.
    client = await WireClient.connect(config, subprotocols=["docsync"])
    closed = await client.until_closed()
    assert closed.code == 1008
    assert client.inbox[-1].content["text"] == "missing token: use subprotocols ['docsync', <token>]"


@pytest.mark.asyncio
async def test_no_subprotocols_is_no_token_and_an_empty_list_of_them_is_the_asgi_servers_to_refuse(
    server: ServerProcess,
) -> None:
    config = page_config(server.url + "spec/")
    # No Sec-WebSocket-Protocol header: docsync's refusal (§4), under either server.
    client = WireClient(await websockets.connect(config["wsUrl"], max_size=None), config, "c")
    assert (await client.until_closed()).code == 1008
    assert client.inbox[-1].content["text"] == "missing token: use subprotocols ['docsync', <token>]"
    # An empty one lists no subprotocol either. daphne hands the handshake on to docsync,
    # which refuses it so; uvicorn refuses the handshake itself, HTTP 400, before docsync
    # sees it (so no ERROR).
    empty = {"Sec-WebSocket-Protocol": ""}
    if server.server == "uvicorn":
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(config["wsUrl"], additional_headers=empty)
        assert refused.value.response.status_code == 400
        assert b"invalid Sec-WebSocket-Protocol header" in refused.value.response.body
    else:
        client = WireClient(await websockets.connect(config["wsUrl"], additional_headers=empty), config, "c")
        assert (await client.until_closed()).code == 1008
        assert client.inbox[-1].content["text"] == "missing token: use subprotocols ['docsync', <token>]"


def test_closed_is_an_exception() -> None:
    assert str(Closed(1000, "bye")) == "closed with 1000: bye"


@pytest.mark.asyncio
async def test_what_is_refused_what_loses_and_what_is_corrected(open_client: Open) -> None:
    a, doc = await open_client("spec")
    level, s = _level(doc), a.last_seq
    # A value of the wrong type: the patch is refused, and the property's value is sent back.
    reply = await a.patch([changed(level, "value", "abc")])
    assert reply.content == {"text": "Slider.value expected an int or a float, got 'abc'", "code": "patch-refused"}
    assert [e["new"] for m in await _patches_until(a, s + 1) for e in m.content["events"]] == [1.0]
    # A patch that cannot be read (an unknown event kind): refused, nothing to correct.
    s = max(m.content["seq"] for m in a.patches()) if a.patches() else s
    reply = await a.patch([{"kind": "Teleported", "model": {"id": level}}])
    assert reply.msgtype == "ERROR" and reply.content["code"] == "patch-refused"
    await a.settle(0.3)
    assert not a.patches(s)
    # The kind is judged first: an unknown kind refuses the patch even beside an unknown model.
    reply = await a.patch([{"kind": "Teleported", "model": {"id": "no-such-model"}}])
    assert reply.content == {"text": "unknown event kind 'Teleported'", "code": "patch-refused"}
    reply = await a.patch([{"model": {"id": level}, "attr": "value", "new": 2.0}])
    assert reply.content == {"text": "unknown event kind None", "code": "patch-refused"}
    # An event naming a model the document does not hold (any more) loses; it is not refused.
    reply = await a.patch([changed("no-such-model", "value", 2.0), changed(level, "value", 2.0)], base=s)
    assert reply.content == {"seq": s + 1, "applied_seq": s + 1, "rejected": 1, "lost": [0]}


@pytest.mark.asyncio
async def test_a_change_that_changes_nothing_still_loses_to_a_newer_one(open_client: Open) -> None:
    a, doc = await open_client("spec")
    b, _ = await open_client(config=a.config)
    level, s = _level(doc), a.last_seq
    await a.patch([changed(level, "value", 2.0)], base=s)
    # b sets 2.0 too, based before a's change: no entry of its own, but it loses and is corrected.
    reply = await b.patch([changed(level, "value", 2.0)], base=s)
    assert reply.content == {"seq": s + 1, "applied_seq": s + 2, "rejected": 1, "lost": [0]}


@pytest.mark.asyncio
async def test_no_such_application_is_4004(server: ServerProcess) -> None:
    from django.core import signing

    # A token for an app the server does not serve (one removed since the page was made, say).
    signer = signing.TimestampSigner(key=SECRET_KEY, salt="docsync.session-token", sep=".", fallback_keys=[])
    token = signer.sign_object({"sid": "s-ghost", "app": "ghost", "uid": None, "args": {}})
    config = {"wsUrl": f"ws://127.0.0.1:{server.port}/ghost/ws", "token": token}
    client = await WireClient.connect(config)
    closed = await client.until_closed()
    assert closed.code == 4004 and client.inbox[-1].content == {
        "text": "no application at 'ghost'",
        "code": "close-4004",
    }


@pytest.mark.asyncio
@pytest.mark.parametrize(("kind", "code"), [("daphne", None), ("uvicorn", 1012)])
async def test_what_a_client_sees_when_the_server_shuts_down(
    kind: str, code: int | None, tmp_path: Path, database: Path
) -> None:
    # §12: daphne drops its websockets (the client's library reports 1006); uvicorn closes them with 1012.
    other = spec_site(tmp_path, database, kind).start().server
    try:
        client = await WireClient.connect(page_config(other.url + "spec/"))
        await client.handshake()
        os.kill(other.pid, signal.SIGTERM)
        closed = await client.until_closed()
        assert closed.code == code
        assert not [m for m in client.inbox if m.msgtype == "ERROR"]
    finally:
        other.stop()


@pytest.mark.asyncio
async def test_a_client_id_the_server_cannot_adopt_is_refused(server: ServerProcess, open_client: Open) -> None:
    # §13: a client id is 1 to 64 characters. One the server would not adopt is refused
    # (before, it was dropped silently: the client's resent patches went unrecognised).
    a, doc = await open_client("spec")
    client = await WireClient.connect(a.config)
    assert (await client.receive()).msgtype == "ACK"
    for bad in ("x" * 65, "", 7):
        for msgtype, content in (("PULL-DOC-REQ", {}), ("RESUME-REQ", {"last_seq": a.last_seq})):
            reply = await client.request(msgtype, {**content, "client_id": bad})
            assert reply.content == {
                "text": f"client_id must be a string of 1 to 64 characters, got {bad!r}",
                "code": "bad-request",
            }
    # Nothing changed: the connection still pulls, with a good id or none (as BokehJS-style clients do).
    assert (await client.request("PULL-DOC-REQ", {"client_id": "x" * 64})).content["doc"] == doc
    assert (await client.request("PULL-DOC-REQ", {})).content["seq"] == a.last_seq
    await client.close()


@pytest.mark.asyncio
async def test_a_large_message_right_behind_an_answer_reaches_a_client_that_reads(open_client: Open) -> None:
    # §12, 4009: a client is closed for reading slowly, never for the few bytes of an answer
    # queued just before a message over MAX_QUEUED_BYTES (8 MiB) that the answer's patch
    # caused. Before, both cases here closed the sender 4009 (and its ERROR was lost).
    a, doc = await open_client("spec_huge")
    double, source = model_by(doc, name="double")["id"], model_by(doc, name="source")["id"]
    # The button's callback rewrites the 8.8 MB column: the OK, then that patch.
    click = {"kind": "MessageSent", "msg_type": "button_click", "msg_data": None, "model": {"id": double}}
    reply = await a.patch([click])
    assert reply.content == {"seq": a.last_seq, "applied_seq": a.last_seq + 1, "rejected": 0}
    caused = await a.receive()
    assert caused.msgtype == "PATCH-DOC" and caused.content["seq"] == a.last_seq + 1
    assert [len(payload) for payload in caused.buffers.values()] == [8_800_000]
    a.last_seq += 1
    # A refused change of the column: its correction is over 256 KiB, so the ERROR, then a reset.
    reply = await a.patch(
        [{"kind": "ColumnsPatched", "model": {"id": source}, "attr": "data", "patches": {"x": [[2_000_000, 1.0]]}}]
    )
    assert reply.content == {"text": "patch index 2000000 out of range for column 'x'", "code": "patch-refused"}
    reset = await a.receive()
    assert reset.msgtype == "PUSH-DOC" and reset.content["seq"] == a.last_seq + 1


# -- §7: arrays a client sends -------------------------------------------------------------


def _columns(source: str, **columns: Any) -> dict[str, Any]:
    return {"kind": "ColumnDataChanged", "model": {"id": source}, "attr": "data", "columns": columns}


@pytest.mark.asyncio
async def test_a_client_sends_an_array_as_a_binary_buffer_in_either_byte_order(open_client: Open) -> None:
    a, doc = await open_client("spec")
    b, _ = await open_client(config=a.config)
    source, s = model_by(doc, name="source")["id"], a.last_seq
    values = [0.5, -1.25, 1e300]
    # Big-endian: the server converts it to its own order (§7); everyone gets the same numbers.
    x, payload = ndarray(values, "float64", "0", order="big")
    ok = await a.request("PATCH-DOC", {"events": [_columns(source, x=x)], "base": s}, {"0": payload})
    assert ok.content == {"seq": s + 1, "applied_seq": s + 1, "rejected": 0}
    [seen] = await _patches_until(b, s + 1)
    [event] = seen.content["events"]
    assert ndarray_values(event["columns"]["x"], seen.buffers) == values
    c, pulled = await open_client(config=a.config)
    [reply] = [m for m in c.inbox if m.msgtype == "PULL-DOC-REPLY"]
    assert ndarray_values(model_by(pulled, name="source")["attributes"]["data"]["x"], reply.buffers) == values
    # A payload of the wrong length, or a buffer the message does not carry: the patch
    # cannot be read (refused, §13 rule 3), nothing changes and nothing is corrected.
    short = {**x, "shape": [2]}
    reply = await a.request("PATCH-DOC", {"events": [_columns(source, x=short)], "base": s + 1}, {"0": payload[:8]})
    assert reply.content == {"text": "buffer length 8 does not match float64[2] (16 bytes)", "code": "patch-refused"}
    reply = await a.request("PATCH-DOC", {"events": [_columns(source, x={**x, "buffer": "7"})], "base": s + 1})
    assert reply.content == {"text": "missing buffer '7'", "code": "patch-refused"}
    await b.settle(0.3)
    assert not b.patches(s + 1)


# -- §3, §11: errors that answer a request, framing errors that close ----------------------


@pytest.mark.asyncio
async def test_an_error_that_answers_a_request_keeps_the_connection(open_client: Open) -> None:
    a, doc = await open_client("spec")
    reply = await a.patch([changed(_level(doc), "value", 2.0)], base="x")
    assert reply.content == {"text": "base must be an integer", "code": "bad-patch"}
    reply = await a.request("PULL-DOC-REPLY", {"doc": {}})
    assert reply.content == {"text": "unexpected message type 'PULL-DOC-REPLY'", "code": "bad-request"}
    # ACK, OK and ERROR from a client are read and ignored: the next reply is the next message.
    received = len(a.inbox)
    for msgtype in ("ACK", "OK", "ERROR"):
        await a.send(msgtype, {})
    info = await a.request("SERVER-INFO-REQ", {})
    assert [m.msgtype for m in a.inbox[received:]] == ["SERVER-INFO-REPLY"] and info.reqid
    # Nothing of the refused patch was applied.
    assert (await a.request("PULL-DOC-REQ", {"client_id": a.client_id})).content["doc"] == doc


# 300 B's: 17 and 18 of them around "...". A list of 9 strings of 50 m's: 4 items shown
# (each cut so), "...", then the whole cut to 60 characters.
_SHOWN_STRING = f"unknown message type '{'B' * 17}...{'B' * 18}'"
_LIST = json.dumps(["m" * 50] * 9)
_SHOWN_LIST = "['" + "m" * 17 + "..." + "m" * 18 + "', '" + "m" * 13 + "..."
# 300 emoji (4 bytes of UTF-8 each): the reason shown is 35 of them, 162 bytes, past the
# 123 a close frame holds (§12).
_EMOJI = "\U0001f600"
_SHOWN_EMOJI = f"unknown message type '{_EMOJI * 17}...{_EMOJI * 18}'"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("frames", "text"),
    [
        (['{"msgid":"5","msgtype":"NOPE"}', "{}", "{}"], "unknown message type 'NOPE'"),
        ([b"\x00\x01"], "expected text header frame, got binary frame"),
        (['{"msgid":"5","msgtype":"SERVER-INFO-REQ"}', "{}", "[]"], "content must be a JSON object"),
        # §11: a long value is shown shortened, its ends around "...".
        (['{"msgid":"5","msgtype":"' + "B" * 300 + '"}', "{}", "{}"], _SHOWN_STRING),
        (['{"msgtype":"ACK","msgid":' + _LIST + "}", "{}", "{}"], "msgid must be a string, got " + _SHOWN_LIST),
        # §12: a reason past a close frame's 123 bytes, whole in the ERROR, cut in the close.
        (['{"msgid":"5","msgtype":"' + _EMOJI * 300 + '"}', "{}", "{}"], _SHOWN_EMOJI),
    ],
    ids=["unknown-type", "binary-header", "content-list", "long-string", "long-list", "long-utf8-reason"],
)
async def test_a_frame_sequence_that_is_not_a_message_closes_1002(
    server: ServerProcess, frames: list[str | bytes], text: str
) -> None:
    client = await WireClient.connect(page_config(server.url + "spec/"))
    assert (await client.receive()).msgtype == "ACK"
    for frame in frames:
        await client.socket.send(frame)
    closed = await client.until_closed()
    # §12: an ERROR without reqid repeats the reason, then the close, whose reason is as
    # much of it as 123 bytes of UTF-8 hold, cut between characters.
    assert closed.code == 1002
    cut = text.encode()[:123].decode(errors="ignore")
    assert closed.reason == cut
    assert [(m.header.get("reqid"), m.content) for m in client.inbox[1:]] == [
        (None, {"text": text, "code": "close-1002"})
    ]


@pytest.mark.asyncio
async def test_a_text_frame_that_is_not_utf8_is_failed_by_the_asgi_server(server: ServerProcess) -> None:
    client = await WireClient.connect(page_config(server.url + "spec/"))
    assert (await client.receive()).msgtype == "ACK"
    await client.socket.send(b'{"msgid":"\xff"}', text=True)
    closed = await client.until_closed()
    # §11, §12: it never reaches docsync (no ERROR); daphne drops the connection (1006,
    # no close frame), uvicorn closes it 1007.
    assert closed.code == (None if server.server == "daphne" else 1007)
    assert [m.msgtype for m in client.inbox] == ["ACK"]


@pytest.mark.asyncio
async def test_a_forged_token_is_refused_before_the_ack(server: ServerProcess) -> None:
    config = page_config(server.url + "spec/")
    payload, _, signature = config["token"].rpartition(".")
    forged = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    client = await WireClient.connect({**config, "token": forged})
    closed = await client.until_closed()
    assert closed.code == 1008
    assert [m.content for m in client.inbox] == [{"text": "invalid token", "code": "close-1008"}]


@pytest.mark.asyncio
async def test_more_than_ten_document_requests_a_second_close_4029(server: ServerProcess) -> None:
    client = await WireClient.connect(page_config(server.url + "spec/"))
    assert (await client.receive()).msgtype == "ACK"
    for _ in range(12):
        await client.send("PULL-DOC-REQ", {"client_id": client.client_id})
    closed = await client.until_closed()
    # A burst of 10 is answered; the 11th is refused with the close, the 12th is not read.
    assert closed.code == 4029
    assert [m.msgtype for m in client.inbox[1:]] == ["PULL-DOC-REPLY"] * 10 + ["ERROR"]
    assert client.inbox[-1].content == {"text": "too many document requests per second", "code": "close-4029"}


# -- Resume: pending patches, positions the server never gave -----------------------------


@pytest.mark.asyncio
async def test_a_patch_whose_answer_was_lost_is_answered_on_resume_and_never_applied_twice(
    open_client: Open,
) -> None:
    msgids = itertools.count(1)
    a, doc = await open_client("spec", msgids=msgids)
    b, _ = await open_client(config=a.config)
    level, s = _level(doc), a.last_seq
    content = {"events": [changed(level, "value", 4.5)], "references": [], "base": s}
    pending = await a.send("PATCH-DOC", content)
    await _patches_until(b, s + 1)  # the server applied it; its OK is lost with the socket
    a.drop()
    again = await WireClient.connect(a.config, client_id=a.client_id, msgids=msgids)
    assert (await again.receive()).msgtype == "ACK"
    request = {"last_seq": s, "client_id": a.client_id, "incarnation": a.incarnation, "pending": [pending]}
    reply = await again.request("RESUME-REQ", request)
    # Nothing to replay (its own change is left out), and how the server answered it.
    assert (reply.content["mode"], reply.content["seq"], reply.content.get("patches", [])) == ("replay", s + 1, [])
    assert reply.content["answers"] == [{"msgid": pending, "seq": s + 1, "rejected": 0, "lost": []}]
    # Sent again anyway (with its msgid): answered as the first time, not applied again.
    await again.send("PATCH-DOC", content, msgid=pending)
    ok = await again.reply_to(pending)
    assert ok.content["applied_seq"] == s + 1 and ok.content["rejected"] == 0
    await b.settle(0.3)
    assert [m.content["seq"] for m in b.patches(s)] == [s + 1]
    await again.close()


@pytest.mark.asyncio
async def test_a_resume_from_a_position_the_server_never_gave(open_client: Open) -> None:
    a, _ = await open_client("spec")
    client = await WireClient.connect(a.config)
    assert (await client.receive()).msgtype == "ACK"
    # Past the session's position (a snapshot restored from before it, say): the whole
    # document, not fresh, at a position of its own after last_seq.
    request = {"last_seq": a.last_seq + 1000, "client_id": client.client_id, "incarnation": a.incarnation}
    reply = await client.request("RESUME-REQ", request)
    assert (reply.content["mode"], reply.content["fresh"]) == ("full", False)
    assert reply.content["seq"] > a.last_seq + 1000
    # Past 2**52: refused, nothing changes.
    reply = await client.request("RESUME-REQ", {**request, "last_seq": 2**52 + 1})
    assert reply.content == {
        "text": f"last_seq past the largest position: {2**52 + 1} > 4503599627370496",
        "code": "bad-request",
    }
    await client.close()


@pytest.mark.asyncio
async def test_a_resume_on_the_websocket_that_made_its_session_is_fresh(server: ServerProcess) -> None:
    # A new page's token: the first websocket offering it makes the session (§4). For that
    # websocket the session the client knew is gone, whatever it names (§13, fresh).
    config = page_config(server.url + "spec/")
    maker = await WireClient.connect(config)
    assert (await maker.receive()).msgtype == "ACK"
    request = {"last_seq": 0, "client_id": maker.client_id}
    reply = await maker.request("RESUME-REQ", request)
    assert (reply.content["mode"], reply.content.get("fresh")) == ("full", True)
    fence, incarnation = reply.content["seq"], reply.content["incarnation"]
    # The same client on another websocket of the session resumes from the fence: a replay.
    joined = await WireClient.connect(config, client_id=maker.client_id)
    assert (await joined.receive()).msgtype == "ACK"
    reply = await joined.request("RESUME-REQ", {**request, "last_seq": fence, "incarnation": incarnation})
    assert reply.content["mode"] == "replay" and reply.content["patches"] == []
    await maker.close()
    await joined.close()


@pytest.mark.asyncio
async def test_a_bad_patch_answer_is_not_remembered_and_the_patch_sent_again_is_refused_alike(
    open_client: Open,
) -> None:
    msgids = itertools.count(1)
    a, doc = await open_client("spec", msgids=msgids)
    level, s = _level(doc), a.last_seq
    unread = {"events": [changed(level, "value", 2.0)], "references": [], "base": "x"}
    bad = await a.send("PATCH-DOC", unread)
    refused = await a.send("PATCH-DOC", {"events": [changed(level, "end", 9.0)], "references": [], "base": s})
    await a.reply_to(refused)  # answered in order: both were handled
    a.drop()
    again = await WireClient.connect(a.config, client_id=a.client_id, msgids=msgids)
    assert (await again.receive()).msgtype == "ACK"
    request = {"last_seq": s, "client_id": a.client_id, "incarnation": a.incarnation, "pending": [bad, refused]}
    reply = await again.request("RESUME-REQ", request)
    # §13, answers: the refusal read from memory has its entry; the bad-patch one has none.
    assert reply.content["answers"] == [
        {"msgid": refused, "error": "Slider.end is not writable from the client", "code": "patch-refused"}
    ]
    # Sent again, as a client does with a pending patch that got no entry: refused alike.
    await again.send("PATCH-DOC", unread, msgid=bad)
    assert (await again.reply_to(bad)).content == {"text": "base must be an integer", "code": "bad-patch"}
    await again.close()


@pytest.mark.asyncio
async def test_a_connection_is_the_client_its_last_pull_or_resume_named(open_client: Open) -> None:
    a, doc = await open_client("spec")
    level, s = _level(doc), a.last_seq

    async def send_as(msgid: str, value: float, base: int) -> dict[str, Any]:
        await a.send(
            "PATCH-DOC", {"events": [changed(level, "value", value)], "references": [], "base": base}, msgid=msgid
        )
        return dict((await a.reply_to(msgid)).content)

    first = "m-" + a.client_id
    assert (await send_as(first, 2.0, s))["applied_seq"] == s + 1
    # §2, §13: a PATCH-DOC carries no client_id. Once the connection names another client,
    # the same msgid is that client's first patch, applied.
    other = "other-" + a.client_id
    assert (await a.request("PULL-DOC-REQ", {"client_id": other})).msgtype == "PULL-DOC-REPLY"
    assert (await send_as(first, 3.0, s + 1))["applied_seq"] == s + 2
    # A request naming none, or one refused, leaves the connection the client it was:
    # the msgid is answered from that client's memory, not applied.
    assert (await a.request("PULL-DOC-REQ", {})).msgtype == "PULL-DOC-REPLY"
    refused = await a.request("PULL-DOC-REQ", {"client_id": ""})
    assert refused.content["code"] == "bad-request"
    assert (await send_as(first, 4.0, s + 2))["applied_seq"] == s + 2
    # Named again, the first client's memory answers.
    assert (await a.request("PULL-DOC-REQ", {"client_id": a.client_id})).msgtype == "PULL-DOC-REPLY"
    assert (await send_as(first, 5.0, s + 2))["applied_seq"] == s + 1
    pulled = await a.request("PULL-DOC-REQ", {"client_id": a.client_id})
    assert (pulled.content["seq"], model_by(pulled.content["doc"], name="level")["attributes"]["value"]) == (s + 2, 3.0)


# -- The README's demo app: an answer, then what the callback changed ----------------------


@pytest.mark.asyncio
async def test_the_demo_sliders_app_answers_then_sends_what_its_callback_changed(open_client: Open) -> None:
    a, doc = await open_client("sliders")
    b, _ = await open_client(config=a.config)
    frequency, source = model_by(doc, name="frequency")["id"], model_by(doc, name="source")
    [pull] = [m for m in a.inbox if m.msgtype == "PULL-DOC-REPLY"]
    xs = ndarray_values(source["attributes"]["data"]["x"], pull.buffers)
    ys = ndarray_values(source["attributes"]["data"]["y"], pull.buffers)
    assert len(xs) == 200 and all(abs(y - math.sin(x)) < 1e-12 for x, y in zip(xs, ys, strict=True))
    s = a.last_seq
    ok = await a.patch([changed(frequency, "value", 2.0)])
    # The callback redrew the curve: the OK's seq is the position before the entry.
    assert ok.content == {"seq": s, "applied_seq": s + 1, "rejected": 0}
    [caused] = await _patches_until(a, s + 1)
    [entry] = await _patches_until(b, s + 1)
    # The others get the whole entry, the client's event first; the sender all but its own event.
    assert entry.content["events"][0] == changed(frequency, "value", 2.0)
    assert len(caused.content["events"]) == len(entry.content["events"]) - 1
    for message in (caused, entry):
        [y] = [e["columns"]["y"] for e in message.content["events"] if e["kind"] == "ColumnDataChanged"]
        assert all(
            abs(v - math.sin(2 * x)) < 1e-12 for x, v in zip(xs, ndarray_values(y, message.buffers), strict=True)
        )
        [status] = [e["new"] for e in message.content["events"] if e.get("attr") == "text"]
        assert status == "frequency changed from 1 to 2"
    # §1: a buffer id counts the events of the whole entry. The sender is not sent its own
    # event (the entry's first), so the first event it receives holds buffer "<seq>.1.0".
    assert caused.content["events"][0]["kind"] == "ColumnDataChanged"
    assert set(caused.buffers) == set(entry.buffers) == {f"{s + 1}.1.0"}


# -- §4: what a token says, and whom it lets in ---------------------------------------------


@pytest.mark.asyncio
async def test_a_token_is_readable_and_carries_no_credential(server: ServerProcess, open_client: Open) -> None:
    jar = CookieJar()
    first = token_payload(page_config(server.url + "spec/?n=1", jar)["token"])
    assert first["app"] == "spec" and first["args"] == {"n": ["1"]} and first["vnew"] is True
    [visitor] = [c.value for c in jar if c.name == "docsync_visitor"]
    # The browser's next page: the same visitor, known by its cookie. The token carries the
    # page request's other cookies, never the visitor's (a token is readable by the page;
    # before, anyone shown a token could read the cookie out of it and be that visitor).
    headers = {"Cookie": f"docsync_visitor={visitor}; theme=dark"}
    config = page_config(server.url + "spec/", headers=headers)
    second = token_payload(config["token"])
    assert second["vis"] == first["vis"] and "vnew" not in second
    assert second["ck"] == {"theme": "dark"}
    # Such a token opens its session only with the visitor's cookie ...
    refused = await WireClient.connect(config)
    closed = await refused.until_closed()
    assert closed.code == 1008
    assert refused.inbox[-1].content == {
        "text": "token belongs to another user or a closed login",
        "code": "close-1008",
    }
    await open_client(config=config, headers=headers)
    # ... while a first page's token ("vnew") stands for its visitor alone, from any browser.
    fresh = page_config(server.url + "spec/", CookieJar())
    assert token_payload(fresh["token"])["vis"] != first["vis"]
    await open_client(config=fresh, headers=headers)


# -- §3: PUSH-DOC, from a client creating its session where the app's "push" rule allows it --

_CREATORS_ONLY = "only a client creating its session may push, and only where the application allows it"
_NO_LONGER = "the session is no longer being created (another connection joined, or it was changed)"


def _document_to_push(values: list[float]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """A document of a data source (its column in buffer "7") and a text input, and its buffers."""
    x, payload = ndarray(values, "float64", "7")
    source = {"type": "object", "name": "ColumnDataSource", "id": "c1", "attributes": {"data": {"x": x}}}
    text = {"type": "object", "name": "TextInput", "id": "t1", "attributes": {"value": "pushed"}}
    return {"title": "pushed", "roots": [{"id": "c1"}, {"id": "t1"}], "models": [source, text]}, {"7": payload}


@pytest.mark.asyncio
async def test_a_creator_the_app_lets_push_replaces_the_document(server: ServerProcess, open_client: Open) -> None:
    a, _ = await open_client("spec_push")  # its websocket made the session (the page makes none)
    s, values = a.last_seq, [0.5, -1.25, 1e300]
    doc, buffers = _document_to_push(values)
    # A refused document changes nothing, and the creator may push again (before, the
    # refusal took its right away).
    nope = {"type": "object", "name": "Nope", "id": "n1", "attributes": {}}
    reply = await a.request("PUSH-DOC", {"doc": {**doc, "models": [*doc["models"], nope]}}, buffers)
    assert reply.content == {"text": "push refused: unknown model type 'Nope'", "code": "bad-document"}
    ok = await a.request("PUSH-DOC", {"doc": doc}, buffers)
    # The OK names the position the push took; the push itself is never sent back to its
    # sender (before, it came as a PATCH-DOC of RootRemoved/TitleChanged/RootAdded before the OK).
    assert ok.msgtype == "OK" and ok.content == {"seq": s + 1}
    assert [m.msgtype for m in a.inbox] == ["ACK", "PULL-DOC-REPLY", "ERROR", "OK"]
    # Another client pulls the pushed document, at that position.
    b, pulled = await open_client(config=a.config)
    assert (b.last_seq, pulled["title"], pulled["roots"]) == (s + 1, "pushed", doc["roots"])
    [reply] = [m for m in b.inbox if m.msgtype == "PULL-DOC-REPLY"]
    models = {m["id"]: m for m in pulled["models"]}
    assert set(models) == {"c1", "t1"} and models["t1"] == doc["models"][1]
    assert ndarray_values(models["c1"]["attributes"]["data"]["x"], reply.buffers) == values
    # The session is made: nobody pushes again, neither its creator nor a joiner.
    for client, why in ((a, _NO_LONGER), (b, _CREATORS_ONLY)):
        reply = await client.request("PUSH-DOC", {"doc": doc}, buffers)
        assert reply.content == {"text": f"PUSH-DOC not allowed: {why}", "code": "push-not-allowed"}
    # The creator goes on from the push's position; the joiner gets the change there.
    a.last_seq = ok.content["seq"]
    ok = await a.patch([changed("t1", "value", "edited")])
    assert ok.content == {"seq": s + 2, "applied_seq": s + 2, "rejected": 0}
    [seen] = await _patches_until(b, s + 2)
    assert seen.content["events"] == [changed("t1", "value", "edited")]


@pytest.mark.asyncio
async def test_a_push_the_app_does_not_allow_is_refused_and_changes_nothing(open_client: Open) -> None:
    a, before = await open_client("spec")  # no "push" rule: nobody may push
    doc, buffers = _document_to_push([1.0])
    reply = await a.request("PUSH-DOC", {"doc": doc}, buffers)
    assert reply.content == {"text": f"PUSH-DOC not allowed: {_CREATORS_ONLY}", "code": "push-not-allowed"}
    _, after = await open_client(config=a.config)
    assert after == before


# -- §11, §12: wire limits and incomplete messages, on a server with small ones ------------

_TIMEOUT, _FRAME, _MESSAGE = 1, 64 * 1024, 256 * 1024
# §11: the frame limits of the ASGI servers themselves (daphne's by default, uvicorn's --ws-max-size by default).
_DAPHNE_LIMIT, _UVICORN_LIMIT = 1024 * 1024, 16 * 1024 * 1024


@pytest.fixture(scope="module", params=SERVER_KINDS)
def small_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, database: Path
) -> Iterator[ServerProcess]:
    """The spec site with INCOMPLETE_MESSAGE_TIMEOUT 1 s, MAX_FRAME_BYTES 64 KiB, MAX_MESSAGE_BYTES 256 KiB."""
    env = {
        "DOCSYNC_INCOMPLETE_MESSAGE_TIMEOUT": str(_TIMEOUT),
        "DOCSYNC_MAX_FRAME_BYTES": str(_FRAME),
        "DOCSYNC_MAX_MESSAGE_BYTES": str(_MESSAGE),
    }
    with spec_site(tmp_path_factory.mktemp(f"spec-small-{request.param}"), database, request.param, **env) as site:
        yield site.server


def _patch_frames(level: str, buffers: list[bytes]) -> list[str | bytes]:
    """The frames of a PATCH-DOC setting the slider to 9 and carrying ``buffers`` (§1, §2)."""
    header = json.dumps({"msgid": "1", "msgtype": "PATCH-DOC", "num_buffers": len(buffers)})
    frames: list[str | bytes] = [header, "{}", json.dumps({"events": [changed(level, "value", 9.0)], "base": 0})]
    for i, payload in enumerate(buffers):
        frames += [json.dumps({"id": str(i)}), payload]
    return frames


def _frame_bytes(frame: str | bytes) -> int:
    return len(frame.encode() if isinstance(frame, str) else frame)


@pytest.mark.asyncio
@pytest.mark.parametrize("case", ["stalled", "frame", "message", "asgi-server", "daphne-limit"])
async def test_a_message_over_the_limits_or_left_incomplete_is_dropped_with_its_close(
    small_server: ServerProcess, case: str
) -> None:
    watcher = await WireClient.connect(page_config(small_server.url + "spec/"))
    before = await watcher.handshake()
    client = await WireClient.connect(watcher.config)
    assert (await client.receive()).msgtype == "ACK"
    level = _level(before)
    if case == "stalled":  # the buffer's payload never comes
        frames, code, text = _patch_frames(level, [b""])[:-1], 4408, f"message incomplete for {_TIMEOUT} s"
    elif case == "frame":
        frames = _patch_frames(level, [bytes(_FRAME + 1)])
        code, text = 1009, f"frame too large: {_FRAME + 1} > {_FRAME} bytes"
    elif case == "message":  # every frame within MAX_FRAME_BYTES; all of them together over MAX_MESSAGE_BYTES
        frames = _patch_frames(level, [bytes(_FRAME)] * 5)
        # Counted as the frames' bytes (text as UTF-8), up to the frame that passes the limit.
        sizes = list(itertools.accumulate(_frame_bytes(f) for f in frames))
        total = next(n for n in sizes if n > _MESSAGE)
        code, text = 1009, f"message too large: {total} > {_MESSAGE} bytes"
    elif case == "asgi-server":  # over the ASGI server's own limit, which it enforces before docsync reads the frame
        # Sent as the first frame: docsync never sees it, so no message of docsync's is begun
        # whose INCOMPLETE_MESSAGE_TIMEOUT (1 s here) could end first while a loaded machine
        # is still sending the 16 MiB (it did: 4408 for uvicorn's 1009, load average 11).
        if small_server.server == "daphne":  # its 1 MiB, which docsync raises only to a larger MAX_MESSAGE_BYTES
            frames, code, text = [bytes(_DAPHNE_LIMIT + 1)], None, None
        else:  # uvicorn's --ws-max-size: a close 1009 of its own, without docsync's ERROR
            frames, code, text = [bytes(_UVICORN_LIMIT + 1)], 1009, None
    else:  # a frame of daphne's limit's size: under uvicorn, whose limit is larger, docsync's own refusal
        frames = _patch_frames(level, [bytes(_DAPHNE_LIMIT + 1)])
        code = None if small_server.server == "daphne" else 1009
        text = None if code is None else f"frame too large: {_DAPHNE_LIMIT + 1} > {_FRAME} bytes"
    for frame in frames:
        await client.socket.send(frame)
    closed = await client.until_closed()
    # §12: an ERROR without reqid gives the reason, then the close. daphne drops the
    # connection itself, with neither (the client's library reports 1006: no close frame);
    # uvicorn closes it itself, with no ERROR (§11).
    assert closed.code == code
    errors = [(m.reqid, m.content) for m in client.inbox if m.msgtype == "ERROR"]
    assert errors == ([(None, {"text": text, "code": f"close-{code}"})] if text else [])
    # Nothing of the message was applied: the session is as it was, for the others too.
    pulled = await watcher.request("PULL-DOC-REQ", {"client_id": watcher.client_id})
    assert pulled.content["doc"] == before and pulled.content["seq"] == watcher.last_seq
    await watcher.settle(0.3)
    assert not watcher.patches()
    await watcher.close()


# -- §8: the column fields of events are objects keyed by name; §2: unknown fields --------


@pytest.mark.asyncio
async def test_column_fields_are_objects_keyed_by_column_name_whatever_the_names(open_client: Open) -> None:
    a, doc = await open_client("spec")
    b, _ = await open_client(config=a.config)
    source, s = model_by(doc, name="source")["id"], a.last_seq
    x, payload = ndarray([1.0, 2.0], "float64", "0")
    # A column named "type" is a plain key of `columns`, `data` and `patches` (never a map),
    # both ways: the server takes it so and sends it so.
    ok = await a.request("PATCH-DOC", {"events": [_columns(source, x=x, type=["p", "q"])], "base": s}, {"0": payload})
    assert ok.content == {"seq": s + 1, "applied_seq": s + 1, "rejected": 0}
    [seen] = await _patches_until(b, s + 1)
    assert seen.content["events"][0]["columns"]["type"] == ["p", "q"]
    stream = {"kind": "ColumnsStreamed", "model": {"id": source}, "attr": "data"}
    ok = await a.patch([{**stream, "data": {"x": [3.0], "type": ["r"]}, "rollover": None}])
    assert ok.content == {"seq": s + 2, "applied_seq": s + 2, "rejected": 0}
    [seen] = await _patches_until(b, s + 2)
    assert seen.content["events"][0]["data"]["type"] == ["r"]
    cells = {"kind": "ColumnsPatched", "model": {"id": source}, "attr": "data", "patches": {"type": [[0, "P"]]}}
    ok = await a.patch([cells], base=s + 2)
    assert ok.content == {"seq": s + 3, "applied_seq": s + 3, "rejected": 0}
    [seen] = await _patches_until(b, s + 3)
    assert seen.content["events"][0]["patches"] == {"type": [[0, "P"]]}
    # The whole value, though, is a typed value (§6): a pull writes this data as a map.
    c, pulled = await open_client(config=a.config)
    data = model_by(pulled, name="source")["attributes"]["data"]
    assert data["type"] == "map" and [k for k, _ in data["entries"]] == ["x", "type"]
    # A `columns`, `data` or `patches` written as a map is read as columns `type` and
    # `entries`: refused, and nothing changes (a refusal's correction of `data` takes a
    # position: the next patch is based on it).
    as_map = {"type": "map", "entries": [["type", ["s", "t", "u"]]]}
    reply = await a.patch([{**_columns(source), "columns": as_map}], base=s + 3)
    assert reply.content["code"] == "patch-refused"
    assert reply.content["text"].startswith("ColumnDataSource.data expected a dict of column name to ndarray or list")
    await _patches_until(a, s + 4)
    reply = await a.patch([{**stream, "data": as_map, "rollover": None}], base=s + 4)
    assert reply.content == {
        "text": "stream must supply every column: missing ['x'], extra ['entries']",
        "code": "patch-refused",
    }
    await _patches_until(a, s + 5)
    reply = await a.patch([{**cells, "patches": {"type": "map", "entries": [["type", [[0, "Q"]]]]}}], base=s + 5)
    # (One that cannot be read is refused unread, §13 rule 3: nothing to correct.)
    assert reply.content == {"text": "patches of column 'type' must be [index, value] pairs", "code": "patch-refused"}
    assert (await c.request("PULL-DOC-REQ", {"client_id": c.client_id})).content["doc"] == pulled
    # DictItemsSet's `items` is a typed value whole: a lone key "id" takes the map form.
    # On a column-data property it sets columns, and the others get it as the
    # ColumnDataChanged it made, whose `columns` names the column as a plain key.
    items = {"type": "map", "entries": [["id", ["i", "j", "k"]]]}
    ok = await a.patch([{"kind": "DictItemsSet", "model": {"id": source}, "attr": "data", "items": items}], base=s + 5)
    assert ok.content == {"seq": s + 6, "applied_seq": s + 6, "rejected": 0}
    [seen] = await _patches_until(b, s + 6)
    assert seen.content["events"] == [{**_columns(source), "columns": {"id": ["i", "j", "k"]}}]


@pytest.mark.asyncio
async def test_a_content_field_the_type_does_not_define_is_ignored(open_client: Open) -> None:
    a, doc = await open_client("spec")
    level, s = _level(doc), a.last_seq
    # A client's `seq` (a field of the server's patches) and a field of no type: judged by `base` alone.
    ok = await a.patch([changed(level, "value", 2.0)], seq=s + 500, future={"x": 1})
    assert ok.content == {"seq": s + 1, "applied_seq": s + 1, "rejected": 0}
    reply = await a.request("PULL-DOC-REQ", {"client_id": a.client_id, "future": [1, 2]})
    assert reply.msgtype == "PULL-DOC-REPLY" and reply.content["seq"] == s + 1


# -- §10: a plot's UI events, subscribed or not; §11: decoding errors of arrays ------------


@pytest.mark.asyncio
async def test_a_plot_event_no_callback_subscribed_to_is_taken_and_runs_nothing(open_client: Open) -> None:
    a, doc = await open_client("sliders")
    b, _ = await open_client(config=a.config)
    [plot] = [m for m in doc["models"] if m["name"] == "Plot"]
    assert not plot["attributes"].get("subscribed_events")  # no Python callback asked for any
    s = a.last_seq
    tap = {"kind": "MessageSent", "msg_type": "tap", "msg_data": {"x": 1.0, "y": 0.5, "sx": 10, "sy": 20}}
    ok = await a.patch([{**tap, "model": {"id": plot["id"]}}])
    assert ok.content == {"seq": s, "applied_seq": s, "rejected": 0}
    reply = await a.patch([{**tap, "msg_type": "nope", "model": {"id": plot["id"]}}])
    assert reply.content == {"text": "Plot does not accept 'nope' events", "code": "patch-refused"}
    await b.settle(0.3)
    assert not b.patches(s)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"order": "middle"}, "invalid byte order 'middle'"),
        ({"shape": [1] * 9}, "invalid ndarray shape [1, 1, 1, 1, 1, 1, 1, 1, 1]"),
        ({"shape": [True]}, "invalid ndarray shape [True]"),
        ({"buffer": None}, "binary value without 'buffer' or 'base64'"),
    ],
)
async def test_an_array_that_cannot_be_read_is_refused_with_its_reason(
    open_client: Open, change: dict[str, Any], text: str
) -> None:
    a, doc = await open_client("spec")
    source = model_by(doc, name="source")["id"]
    x, payload = ndarray([1.0], "float64", "0")
    x = {k: v for k, v in {**x, **change}.items() if v is not None}
    reply = await a.request("PATCH-DOC", {"events": [_columns(source, x=x)], "base": a.last_seq}, {"0": payload})
    assert reply.content == {"text": text, "code": "patch-refused"}
    assert (await a.request("PULL-DOC-REQ", {"client_id": a.client_id})).content["doc"] == doc


# -- §13 rule 3: a change naming a model that another change made leave the document ------
#
# Found by a client written from protocol.md alone: each of these left that client's
# document apart from the server's for good (no correction, no reset), where §13 says a
# lost change of the roots resets its sender and a lost change of a property is corrected.


async def _layout_removed_by_b(open_client: Open) -> tuple[WireClient, WireClient, dict[str, Any], int]:
    """a and b on one session; b removes the root holding the slider (it leaves the document) at s + 1."""
    a, doc = await open_client("spec")
    b, _ = await open_client(config=a.config)
    s = a.last_seq
    layout = model_by(doc, name="layout")["id"]
    ok = await b.patch([{"kind": "RootRemoved", "model": {"id": layout}}], base=s)
    assert ok.content == {"seq": s + 1, "applied_seq": s + 1, "rejected": 0}
    return a, b, doc, s


def _resets(client: WireClient) -> list[Any]:
    return [m for m in client.inbox if m.msgtype == "PUSH-DOC"]


@pytest.mark.asyncio
async def test_a_root_added_for_a_model_that_left_the_document_resets_its_sender(open_client: Open) -> None:
    a, b, doc, s = await _layout_removed_by_b(open_client)
    # a, not having seen s + 1, makes the slider it holds a root: that model is gone, the
    # event loses (rule 3), and a, which holds it as a root, is reset.
    ok = await a.patch([{"kind": "RootAdded", "model": {"id": _level(doc)}}], base=s)
    assert ok.content == {"seq": s + 1, "applied_seq": s + 1, "rejected": 1, "lost": [0]}
    await a.request("SERVER-INFO-REQ", {})  # answered in order: the reset came before it
    [reset] = _resets(a)
    assert reset.content["seq"] == s + 2
    assert _level(doc) not in {m["id"] for m in reset.content["doc"]["models"]}
    await b.request("SERVER-INFO-REQ", {})
    assert not _resets(b) and not b.patches(s + 1)  # nothing for b: the change never happened


@pytest.mark.asyncio
async def test_a_value_naming_a_model_that_left_the_document_is_corrected(open_client: Open) -> None:
    a, doc = await open_client("spec")
    b, _ = await open_client(config=a.config)
    s = a.last_seq
    column = {"type": "object", "name": "Column", "id": "a-col", "attributes": {}}
    ok = await a.request(
        "PATCH-DOC", {"events": [{"kind": "RootAdded", "model": {"id": "a-col"}}], "references": [column], "base": s}
    )
    assert ok.content == {"seq": s + 1, "applied_seq": s + 1, "rejected": 0}
    layout = model_by(doc, name="layout")["id"]
    ok = await b.patch([{"kind": "RootRemoved", "model": {"id": layout}}], base=s + 1)
    assert ok.content["applied_seq"] == s + 2
    # a puts the slider in its own column, not having seen s + 2: the event loses (rule 3)
    # and the column's children are corrected, for a (which holds the slider there) and b.
    ok = await a.patch([changed("a-col", "children", [{"id": _level(doc)}])], base=s + 1)
    assert ok.content == {"seq": s + 2, "applied_seq": s + 3, "rejected": 1, "lost": [0]}
    for client in (a, b):
        [correction] = await _patches_until(client, s + 3)
        assert correction.content["events"] == [changed("a-col", "children", [])]


@pytest.mark.asyncio
async def test_a_definition_naming_a_model_that_left_the_document_is_refused_and_resets_its_sender(
    open_client: Open,
) -> None:
    a, b, doc, s = await _layout_removed_by_b(open_client)
    # a defines a column holding the slider, not having seen s + 1: the definition cannot be
    # built (rule 3), and a, which holds the column as a root, is reset after the ERROR.
    column = {"type": "object", "name": "Column", "id": "a-col", "attributes": {"children": [{"id": _level(doc)}]}}
    events = [{"kind": "RootAdded", "model": {"id": "a-col"}}]
    reply = await a.request("PATCH-DOC", {"events": events, "references": [column], "base": s})
    assert reply.content == {"text": f"reference to unknown model id '{_level(doc)}'", "code": "patch-refused"}
    await a.request("SERVER-INFO-REQ", {})
    [reset] = _resets(a)
    assert reset.content["seq"] == s + 2
    assert "a-col" not in {m["id"] for m in reset.content["doc"]["models"]}
    await b.request("SERVER-INFO-REQ", {})
    assert not _resets(b)


# -- §9: a client's own batch that detaches a model and attaches it again -------------------


@pytest.mark.asyncio
async def test_a_client_patch_that_removes_a_root_and_adds_it_again_takes_two_positions(open_client: Open) -> None:
    a, _ = await open_client("spec")
    b, _ = await open_client(config=a.config)
    s = a.last_seq
    div = {"type": "object", "name": "Div", "id": "a-div", "attributes": {"text": "mine"}}
    added = {"kind": "RootAdded", "model": {"id": "a-div"}}
    removed = {"kind": "RootRemoved", "model": {"id": "a-div"}}
    ok = await a.request("PATCH-DOC", {"events": [added], "references": [div], "base": s})
    assert ok.content["applied_seq"] == s + 1
    # Defining the model again in the patch that detaches it is refused: the server reads
    # the definitions first, while it still holds the model.
    again = {"events": [removed, added], "references": [div], "base": s + 1}
    reply = await a.request("PATCH-DOC", again)
    assert reply.content == {"text": "duplicate model id 'a-div'", "code": "patch-refused"}
    # Without the definition it is taken: the attachment goes at the next position, where
    # the other connections are sent the model's definition; the sender is sent neither.
    ok = await a.request("PATCH-DOC", {**again, "references": []})
    assert ok.content == {"seq": s + 3, "applied_seq": s + 3, "rejected": 0}
    await _patches_until(b, s + 3)
    assert [(m.content["seq"], m.content["events"]) for m in b.patches(s + 1)] == [(s + 2, [removed]), (s + 3, [added])]
    assert b.patches(s + 2)[0].content["references"] == [div]
    await a.request("SERVER-INFO-REQ", {})
    assert not a.patches(s)


@pytest.mark.asyncio
async def test_a_batch_split_where_it_attaches_again_ends_for_its_sender_with_an_empty_patch(
    open_client: Open,
) -> None:
    a, doc = await open_client("spec_detach")
    b, _ = await open_client(config=a.config)
    s, level = a.last_seq, _level(doc)
    div = {"type": "object", "name": "Div", "id": "a-div", "attributes": {"text": "mine"}}
    added = {"kind": "RootAdded", "model": {"id": "a-div"}}
    removed = {"kind": "RootRemoved", "model": {"id": "a-div"}}
    ok = await a.request("PATCH-DOC", {"events": [added], "references": [div], "base": s})
    assert ok.content["applied_seq"] == s + 1
    # a moves the slider (its callback takes the note out of the layout) and, in the same
    # patch, takes its own root out and adds it again: the root is attached again after a
    # change of the batch detached it, so that attachment goes at the next position (§9).
    # (A patch attaching the note itself again, which the callback hid, loses: §9, §13
    # rule 7, tests/hardening/test_hidden_by_callback.py.)
    events = [changed(level, "value", 2.0), removed, added]
    ok = await a.request("PATCH-DOC", {"events": events, "references": [], "base": s + 1})
    assert ok.content == {"seq": s + 1, "applied_seq": s + 3, "rejected": 0}
    # b: both positions, the second defining the root again.
    await _patches_until(b, s + 3)
    first, second = b.patches(s + 1)
    assert first.content["seq"] == s + 2 and first.content["events"][0] == changed(level, "value", 2.0)
    assert first.content["events"][-1] == removed
    assert second.content["seq"] == s + 3 and second.content["events"] == [added]
    assert second.content["references"] == [div]
    # a: the callback's change at s + 2, then s + 3, all its own, as an empty patch.
    await _patches_until(a, s + 3)
    mine = a.patches(s + 1)
    assert [m.content["seq"] for m in mine] == [s + 2, s + 3]
    assert [e["kind"] for e in mine[0].content["events"]] == ["ModelChanged"]
    assert mine[0].content["events"][0]["attr"] == "children"
    assert mine[1].content == {"events": [], "references": [], "seq": s + 3}


# -- §9, §11 (error codes): a definition whose id the client may not take is a refusal -------


def _reserved_ids(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """Ids a client may not give a model it defines (§9, §11), each with its ERROR text."""
    # The server's ids: six hexadecimal digits, then a number the counter has not reached.
    prefix = re.fullmatch(r"([0-9a-f]{6})[1-9][0-9]*", _level(doc))
    assert prefix, _level(doc)
    unissued = f"{prefix.group(1)}99999999"
    return [
        ("roots", "model id 'roots' is reserved for the document's roots"),
        (unissued, f"model id '{unissued}' is reserved for the server's own models"),
        ("m" * 129, "model id too long: 129 > 128 characters"),
    ]


@pytest.mark.asyncio
async def test_a_reserved_model_id_refuses_the_patch_and_corrects_what_it_touched(open_client: Open) -> None:
    a, doc = await open_client("spec")
    b, _ = await open_client(config=a.config)
    level = _level(doc)
    for model_id, text in _reserved_ids(doc):
        s = a.last_seq
        # A valid change beside a definition whose id is reserved: the whole patch is refused
        # (§11: `patch-refused`, "the touched properties are corrected"), so the slider the
        # sender moved is sent back at its server value, to every connection, after the ERROR.
        div = {"type": "object", "name": "Div", "id": model_id, "attributes": {}}
        body = {"events": [changed(level, "value", 2.0)], "references": [div], "base": s}
        reply = await a.request("PATCH-DOC", body)
        assert reply.content == {"text": text, "code": "patch-refused"}
        for client in (a, b):
            await client.request("SERVER-INFO-REQ", {})  # answered in order: the correction came before it
            corrections = [m.content for m in client.patches(s)]
            assert corrections == [{"events": [changed(level, "value", 1.0)], "references": [], "seq": s + 1}]
            client.last_seq = s + 1


@pytest.mark.asyncio
async def test_a_root_added_with_a_reserved_model_id_is_refused_and_resets_its_sender(open_client: Open) -> None:
    a, doc = await open_client("spec")
    b, _ = await open_client(config=a.config)
    for model_id, text in _reserved_ids(doc):
        s = a.last_seq
        # The sender holds the model as a root: a refused change of the roots resets it (§10, §13).
        div = {"type": "object", "name": "Div", "id": model_id, "attributes": {}}
        events = [{"kind": "RootAdded", "model": {"id": model_id}}]
        reply = await a.request("PATCH-DOC", {"events": events, "references": [div], "base": s})
        assert reply.content == {"text": text, "code": "patch-refused"}
        await a.request("SERVER-INFO-REQ", {})  # answered in order: the reset came before it
        [reset] = [m for m in _resets(a) if m.content["seq"] > s]
        assert model_id not in {m["id"] for m in reset.content["doc"]["models"]}
        a.last_seq = reset.content["seq"]
    await b.request("SERVER-INFO-REQ", {})
    assert not _resets(b) and not b.patches()


@pytest.mark.asyncio
async def test_a_patch_that_cannot_be_read_is_followed_by_nothing_and_its_sender_pulls(open_client: Open) -> None:
    a, doc = await open_client("spec")
    level, s = _level(doc), a.last_seq
    # §13, A client, step by step, rule 6: a valid change beside an event the server cannot
    # read (rule 3) is refused unread; no correction follows, so a sender that applied the
    # change tells so by a SERVER-INFO-REQ, then pulls to drop it.
    reply = await a.patch([changed(level, "value", 2.0), {"kind": "Bogus"}])
    assert reply.content == {"text": "unknown event kind 'Bogus'", "code": "patch-refused"}
    await a.request("SERVER-INFO-REQ", {})
    assert not a.patches(s) and not _resets(a)
    pulled = await a.request("PULL-DOC-REQ", {"client_id": a.client_id})
    assert pulled.content["seq"] == s
    assert model_by(pulled.content["doc"], name="level")["attributes"]["value"] == 1.0
