"""A Bokeh app's write of a value deeper than a pull can write fails at once; its session lives on.

A client's values nest at most 128 JSON levels as Bokeh writes them back (docs/bokeh.md);
the application's were not bounded: a callback that set a Div's tags to 90 nested dicts
(270 levels as a map each) had its own change fail to encode ("Recursion limit
reached", orjson's 255 levels), after Bokeh stored it: every pull of the session then
failed the same way, each new or reconnecting tab closed with 1011. Against a real
daphne serving a Bokeh app: each way the app writes (a property set, a list appended
to in place, column data set, one column set, rows streamed, a cell patched) past 128
levels raises ValueTooDeepError (a ValueError) with Bokeh's words around it, changes
nothing, and the session still pulls; at 128 levels it is taken and pulled.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import websockets

from docsync.protocol import new_message, pull_doc_req

from .bokeh_deep import lists
from .bokeh_tabs import Session, definitions, named
from .harness import Site

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")
pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def bokeh_site(shared_bokeh_site: Site) -> Site:
    return shared_bokeh_site  # this worker's, shared with the other modules on it


@pytest.fixture(scope="module", autouse=True)
def log_start(bokeh_site: Site) -> int:
    """Where this module's part of the shared site's log begins (taken before its first test)."""
    return len(bokeh_site.log_text())


async def request(session: Session, message: Any) -> tuple[dict[str, Any], Any]:
    """Send ``message`` on a new connection, read as BokehJS reads (JSON.parse: no 128-level bound); its reply."""
    async with websockets.connect(session.url, subprotocols=["bokeh", session.token], max_size=None) as socket:  # type: ignore[list-item]
        for frame in message.to_frames():
            await socket.send(frame)
        while True:
            header, _, content = [json.loads(await socket.recv()) for _ in range(3)]
            for _ in range(2 * header.get("num_buffers", 0)):
                await socket.recv()
            if header.get("reqid") == message.msgid:
                return header, content


async def pulled(session: Session) -> dict[str, Any]:
    """The session's document, as a new tab pulls it."""
    header, content = await request(session, pull_doc_req())
    assert header["msgtype"] == "PULL-DOC-REPLY", content
    return content["doc"]  # type: ignore[no-any-return]


def attributes(doc: dict[str, Any], name: str) -> dict[str, Any]:
    model_id = named(doc, name)
    return next(d for d in definitions(doc) if d["id"] == model_id).get("attributes", {})  # type: ignore[no-any-return]


async def write(session: Session, kind: str, levels: int) -> str:
    """Have the application write a value ``levels`` deep; what it said of it."""
    doc = await pulled(session)
    events = [
        {"kind": "ModelChanged", "model": {"id": named(doc, "kind")}, "attr": "value", "new": kind},
        {"kind": "ModelChanged", "model": {"id": named(doc, "levels")}, "attr": "value", "new": levels},
    ]
    header, content = await request(session, new_message("PATCH-DOC", {"events": events}))
    assert header["msgtype"] == "OK", content
    return str(attributes(await pulled(session), "said")["text"])


def values(doc: dict[str, Any]) -> tuple[Any, Any]:
    return attributes(doc, "target").get("tags"), attributes(doc, "source")["data"]


#: What each kind of write sets, as its refusal names it.
KINDS = {
    "tags": "tags",
    "tags_append": "tags",
    "data": "data",
    "column": "data",
    "stream": "data",
    "patch": "data",
}


@pytest.mark.parametrize("kind", list(KINDS))
async def test_a_write_past_the_bound_raises_and_one_at_it_is_taken(bokeh_site: Site, kind: str) -> None:
    session = Session(bokeh_site, "bk_deep")
    before = values(await pulled(session))
    said = await write(session, kind, 129)
    assert said.startswith("refused: failed to validate "), said
    assert said.endswith(f".{KINDS[kind]}: value nested deeper than 128 JSON levels (as Bokeh writes it)"), said
    assert values(await pulled(session)) == before, "a refused write changed the document"

    assert await write(session, kind, 128) == f"took {kind} 128"
    tags, data = values(await pulled(session))
    column = dict(data["entries"])["s"] if KINDS[kind] == "data" else None  # (a map, as Bokeh writes dicts)
    written = tags[-1] if column is None else column[-1 if kind == "stream" else 0]
    assert written == lists(127 if KINDS[kind] == "tags" else 124)


async def test_a_value_too_deep_for_any_pull_leaves_the_session_pulled(bokeh_site: Site, log_start: int) -> None:
    # 300 levels: Bokeh stored it, its change failed to encode in the app's callback, and
    # every pull failed ("Recursion limit reached"): the session could not be opened again.
    session = Session(bokeh_site, "bk_deep")
    before = values(await pulled(session))
    assert (await write(session, "tags", 300)).startswith("refused: ")
    assert values(await pulled(session)) == before
    assert "Traceback" not in bokeh_site.log_text()[log_start:]


async def test_an_int_past_64_bits_is_written_as_bokeh_writes_it_and_the_session_pulls(
    bokeh_site: Site, log_start: int
) -> None:
    # The hole docsync's own dialect had (an int past 64 bits stored, then no pull could
    # be encoded: tests/hardening/test_wide_ints.py) is not the Bokeh dialect's: Bokeh's
    # serializer writes such an int as a float (warning of the lost precision), as
    # `bokeh serve` does, so the change and every later pull encode.
    session = Session(bokeh_site, "bk_deep")
    assert await write(session, "wide", 5) == "took wide 5"
    for _ in range(2):  # (a new tab, then another)
        tags, data = values(await pulled(session))
        assert tags == [{"type": "map", "entries": [["n", [float(2**70)]]]}], tags
        assert dict(data["entries"])["s"][-1] == [-float(2**80)]
    assert "Traceback" not in bokeh_site.log_text()[log_start:]


@pytest.mark.parametrize("kind", ["huge_tags", "huge_stream", "huge_value"])
async def test_an_int_past_what_a_float_holds_is_refused_and_the_session_pulls(bokeh_site: Site, kind: str) -> None:
    # Bokeh writes an int past 2**53 as a float; one past ~2**1024 raised OverflowError
    # in the write of its change and of every later pull (1011 for every new tab). Found
    # by the Bokeh callback fuzz (test_fuzz_bokeh_sessions.py): a callback squared int(1e300).
    session = Session(bokeh_site, "bk_deep")
    before = values(await pulled(session))
    said = await write(session, kind, 5)
    assert said.startswith("refused: failed to validate "), said
    assert said.endswith(": integer of 1329 bits is too large to write even as a float (at most 1024 bits)"), said
    assert values(await pulled(session)) == before
