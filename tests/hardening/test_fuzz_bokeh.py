"""Mutated BokehJS PATCH-DOCs (``fuzz_bokeh``) against a real daphne serving a Bokeh app: applied or refused whole.

Each case is one PATCH-DOC from a sender tab of a session; a watcher tab of the same
session stands in for another browser (a Python Bokeh document, as BokehJS keeps one:
made from a pull, then the server's PATCH-DOCs applied). For each case, either

- it is applied (OK): the watcher's document, the server's broadcast applied, equals a
  fresh pull of the session, decoded (the session converges, and its pull decodes); or
- it is refused: an ERROR ``patch-refused`` whose text says why (non-empty, no
  ``callback error``: the app's callbacks take any value), or a close with a documented
  code after an ERROR naming it; the watcher heard nothing, and a fresh pull is
  byte-identical to the one before.

And the server logs no traceback for any case, closes no tab 1011, and a new session
of it is served afterwards. Sessions are replaced every ``PER_SESSION`` cases (clients
may create only ``MAX_CLIENT_MODELS`` models in one).

A count, not a time: ``CASES`` cases of seeds ``SEED``, ``SEED + 1``, ... (a failure
names its seed; ``fuzz_bokeh.make_case(seed, ids)`` rebuilds it). For a longer run:
``DOCSYNC_BOKEH_FUZZ_CASES=20000 DOCSYNC_BOKEH_FUZZ_SEED=<n>``, with
``DOCSYNC_BOKEH_FUZZ_SECONDS`` the time after which no new case starts (once
``MIN_CASES`` have run).
"""

from __future__ import annotations

import asyncio
import base64
import collections
import gzip
import json
import os
import time
import warnings
from typing import Any

import numpy as np
import orjson
import pytest
import websockets

from docsync.protocol import ERROR, OK, PATCH_DOC, PULL_DOC_REPLY, SERVER_INFO_REQ, Message, new_message

from .bokeh_tabs import Session, Tab, definitions
from .fuzz_bokeh import KINDS, MUTATIONS, Case, make_case
from .harness import Site
from .test_errors import LEAKS

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

from bokeh.core.serialization import Buffer, Serialized, Serializer
from bokeh.document import Document

from .bokeh_fuzzed import NAMES

CASES = int(os.environ.get("DOCSYNC_BOKEH_FUZZ_CASES", "120"))
SEED = int(os.environ.get("DOCSYNC_BOKEH_FUZZ_SEED", "0"))
SECONDS = float(os.environ.get("DOCSYNC_BOKEH_FUZZ_SECONDS", "3600"))
#: Cases every run checks, however long they take.
MIN_CASES = min(CASES, 120)
PER_SESSION = 25
APP = "bk_fuzzed"
#: close code -> how the ERROR sent before it begins (protocol.md §11, §1)
DOCUMENTED_CLOSES = {1002: "content must be a JSON object", 1009: ("frame too large", "message too large")}


@pytest.fixture(scope="module")
def bokeh_site(shared_bokeh_site: Site) -> Site:
    return shared_bokeh_site  # this worker's, shared with the other modules on it


def canonical(document: Any) -> bytes:
    """A Bokeh document's state as BokehJS holds it: title, roots, every model's type and property values.

    Defaults too (Bokeh's JSON leaves out some it was given); every number a double, an
    array its shape and values (BokehJS holds an int64 or object array of numbers as
    doubles, as a float64 one); maps' and sets' entries in no order.
    """
    serializer = Serializer(references=set(document.models), deferred=False)
    state: dict[str, Any] = {"title": document.title, "roots": sorted(root.id for root in document.roots)}
    for model in document.models:
        values = serializer.encode(model.properties_with_values(include_defaults=True))
        state[model.id] = [type(model).__qualified_model__, _as_js(values)]
    return orjson.dumps(state, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=repr)


def _as_js(value: Any) -> Any:
    """``value`` (Bokeh's encoding) as BokehJS would hold it (see ``canonical``)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        try:
            return float(value) + 0.0  # -0.0 + 0.0 is 0.0: JSON.stringify writes -0 as 0
        except OverflowError:
            return repr(value)
    if isinstance(value, list | tuple):
        return [_as_js(item) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("type")
    if kind == "ndarray":
        array = value.get("array")
        if isinstance(array, dict) and isinstance(array.get("data"), str):
            raw = gzip.decompress(base64.b64decode(array["data"]))
            array = np.frombuffer(raw, dtype=value["dtype"]).tolist()
        return {"ndarray": value.get("shape"), "values": _as_js(array)}
    value = {key: _as_js(item) for key, item in value.items()}
    if kind in ("map", "set") and isinstance(value.get("entries"), list):
        value["entries"] = sorted(value["entries"], key=lambda entry: orjson.dumps(entry, default=repr))
    return value


def difference(mine: bytes, theirs: bytes) -> str:
    """The first model (or title, roots) whose state differs between two ``canonical`` states."""
    a, b = orjson.loads(mine), orjson.loads(theirs)
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            return f"{key}: watcher {str(a.get(key))[:600]} != pulled {str(b.get(key))[:600]}"
    return "none"


def decoded(doc_json: Any, buffers: Any = ()) -> Any:
    """The document a pull carries, as a client would load it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Document.from_json(Serialized(doc_json, [Buffer(i, bytes(b)) for i, b in buffers]))


def frames(case: Case, msgid: str) -> list[str | bytes]:
    """The case's PATCH-DOC as frames (its content whatever it is; ``num_buffers`` as its buffers)."""
    header: dict[str, Any] = {"msgid": msgid, "msgtype": PATCH_DOC}
    if case.buffers:
        header["num_buffers"] = len(case.buffers)
    out: list[str | bytes] = [json.dumps(header), "{}", json.dumps(case.content)]
    for buffer_id, payload in case.buffers:
        out += [json.dumps({"id": buffer_id}), payload]
    return out


class Watcher:
    """A second tab of the session, keeping the document as BokehJS would; and fresh tabs to pull with."""

    def __init__(self, session: Session, tab: Tab) -> None:
        self.session = session
        self.tab = tab
        self.text = ""
        self.document: Any = None

    async def heard(self) -> list[Message]:
        """The PATCH-DOCs sent to this tab so far (a SERVER-INFO round trip: its reply comes after them)."""
        request = new_message(SERVER_INFO_REQ)
        await self.tab.send_message(request)
        patches = []
        while True:
            message = await self.tab.read_message()
            if message.reqid == request.msgid:
                return patches
            assert message.msgtype == PATCH_DOC, (message.msgtype, message.content)
            patches.append(message)

    async def pull(self) -> str:
        """A pull by a new tab (a tab may pull 10 times a second): its content frame."""
        tab = await self.session.tab()
        try:
            reply = await tab.pull()
            assert reply.msgtype == PULL_DOC_REPLY, reply.content
            return str(reply.to_frames()[2])
        finally:
            await tab.close()

    async def start(self) -> None:
        self.text = await self.pull()
        self.document = decoded(orjson.loads(self.text)["doc"])


async def _send(sender: Tab, case: Case, msgid: str) -> tuple[str, Any]:
    """Send the case: ("reply", the OK or ERROR) or ("closed", (code, ERROR texts))."""
    try:
        await sender.send_frames(*frames(case, msgid))
        while True:
            message = await sender.read_message()
            assert message.msgtype in (OK, ERROR, PATCH_DOC), message.msgtype
            if message.reqid == msgid:
                return "reply", message
    except websockets.ConnectionClosed:
        return "closed", (sender.close_code, sender.errors())


async def _case(site: Site, sender: Tab, watcher: Watcher, case: Case, stats: collections.Counter[str]) -> bool:
    """Run one case and check it; False when the sender was closed (a documented close)."""
    what = case.describe()
    logged = len(site.log_text())
    before = watcher.text
    outcome, result = await _send(sender, case, f"fz{case.seed}")
    patches = await watcher.heard()
    after = await watcher.pull()
    if outcome == "closed":
        code, errors = result
        assert code in DOCUMENTED_CLOSES and errors, (code, errors, what)
        assert errors[-1].startswith(DOCUMENTED_CLOSES[code]), (code, errors, what)
        stats[f"closed {code}"] += 1
    elif result.msgtype == ERROR:
        text = result.content.get("text")
        assert isinstance(text, str) and text.strip(), f"ERROR without text {result.content}: {what}"
        assert result.content.get("code") == "patch-refused", (result.content, what)
        assert "callback error" not in text, (text, what)
        assert not [m for m in LEAKS if m in text], (text, what)
        stats["refused"] += 1
    else:
        assert result.msgtype == OK
        stats["applied"] += 1
    if outcome == "closed" or result.msgtype == ERROR:
        assert not patches, f"a refused patch was sent to another tab: {what}"
        assert after == before, f"a refused patch changed the document: {what}"
    else:
        for patch in patches:
            buffers = [Buffer(buffer_id, bytes(payload)) for buffer_id, payload in patch.buffers]  # type: ignore[arg-type]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    watcher.document.apply_json_patch(Serialized(patch.content, buffers))
            except Exception as exc:
                raise AssertionError(f"another tab cannot apply {str(patch.content)[:600]}: {what}") from exc
        fresh = decoded(orjson.loads(after)["doc"])
        mine, theirs = canonical(watcher.document), canonical(fresh)
        assert mine == theirs, f"the watcher's document diverged: {difference(mine, theirs)}; {what}"
        watcher.document = fresh
    watcher.text = after
    log = site.log_text()[logged:]
    assert "Traceback" not in log and "Exception inside application" not in log, (log[-3000:], what)
    return outcome != "closed"


def ids_of(doc_json: Any) -> dict[str, str]:
    """The fuzzed models' ids, by name."""
    named = {d.get("attributes", {}).get("name"): d["id"] for d in definitions(doc_json)}
    return {name: named[name] for name in NAMES}


async def _fuzz(site: Site) -> collections.Counter[str]:
    stats: collections.Counter[str] = collections.Counter()
    started = time.monotonic()
    done = 0
    while done < CASES and (done < MIN_CASES or time.monotonic() - started < SECONDS):
        session = Session(site, APP)
        sender, watcher = await session.tab(), Watcher(session, await session.tab())
        try:
            await watcher.start()
            ids = ids_of(orjson.loads(watcher.text)["doc"])
            for seed in range(SEED + done, SEED + min(done + PER_SESSION, CASES)):
                done += 1
                if not await _case(site, sender, watcher, make_case(seed, ids), stats):
                    await sender.close()
                    sender = await session.tab()
        finally:
            await sender.close()
            await watcher.tab.close()
    stats["cases"] = done
    return stats


async def _still_serves(site: Site) -> None:
    tab = await Session(site, APP).tab()
    try:
        slider = ids_of(await tab.document())["slider"]
        reply = await tab.patch([{"kind": "ModelChanged", "model": {"id": slider}, "attr": "value", "new": 42}])
        assert reply.msgtype == OK, reply.content
        reply = await tab.pull()
        assert decoded(reply.content["doc"], reply.buffers).get_model_by_id(slider).value == 42
    finally:
        await tab.close()


def test_mutated_bokeh_patches_apply_whole_or_not_at_all(bokeh_site: Site) -> None:
    logged = len(bokeh_site.log_text())
    stats = asyncio.run(_fuzz(bokeh_site))
    print(f"bokeh fuzz: {dict(stats)}")
    assert stats["cases"] >= MIN_CASES, stats
    # Both outcomes were reached: the fuzz got past the decoder and the checks, and was stopped by them.
    assert stats["applied"] >= MIN_CASES // 5 and stats["refused"] >= MIN_CASES // 5, stats
    asyncio.run(_still_serves(bokeh_site))
    log = bokeh_site.log_text()[logged:]
    assert "Traceback" not in log and "Exception inside application" not in log, log[-3000:]


def test_the_cases_reach_every_event_kind_encoding_and_mutation() -> None:
    """The fuzz above sends ``CASES`` cases: the generator's first ones cover the ground (no server needed)."""
    ids = {name: f"p{1000 + i}" for i, name in enumerate(NAMES)}
    seen: collections.Counter[str] = collections.Counter()
    for seed in range(SEED, SEED + CASES):
        case = make_case(seed, ids)
        seen.update(step.split()[0] for step in case.steps)
        text = json.dumps(case.content)
        seen.update(kind for kind in KINDS if f'"kind": "{kind}"' in text)
        seen.update(
            f"type {kind}"
            for kind in ("number", "map", "set", "bytes", "ndarray", "slice", "object")
            if f'"type": "{kind}"' in text
        )
        seen["buffers"] += bool(case.buffers)
    for kind in (*KINDS, "valid", "buffers", "reused"):
        assert seen[kind], (kind, seen)
    for mutation in MUTATIONS:
        assert seen[mutation], (mutation, seen)
    for encoding in ("number", "map", "set", "bytes", "ndarray", "slice", "object"):
        assert seen[f"type {encoding}"], (encoding, seen)


#: Inputs the fuzz found (each also tested where its fix is), after a valid change: refused whole.
FOUND = [
    # An event's kind decoded to an array (seed 947): ValueError comparing it with the kinds.
    {
        "kind": {
            "type": "ndarray",
            "array": {"type": "bytes", "data": "H4sIAAAAAAAC/wMAAAAAAAAAAAA="},
            "dtype": "uint8",
            "order": "little",
            "shape": [0],
        },
        "model": {"id": "@slider@"},
    },
    # No msg_data (seed 3510): TypeError once applied.
    {"kind": "MessageSent", "msg_type": "hello"},
    # A string streamed into the float column: the server's column became strings, the tabs' NaN.
    {
        "kind": "ColumnsStreamed",
        "model": {"id": "@source@"},
        "attr": "data",
        "rollover": None,
        "data": {"type": "map", "entries": [["x", ["a"]], ["n", [1]], ["s", ["a"]], ["l", [1.0]], ["img", [1]]]},
    },
    # A sub-index slice stopping at 2**63 (seed 52454): numpy clipped it, BokehJS loops to it.
    {
        "kind": "ColumnsPatched",
        "model": {"id": "@source@"},
        "attr": "data",
        "patches": {"img": [[[4, {"type": "slice", "start": 0, "stop": 2**63, "step": 1}, 1], [5.0, 6.0]]]},
    },
    # An object without an id: refused, with an empty text.
    {"kind": "ModelChanged", "model": {"id": "@slider@"}, "attr": "tags", "new": [{"type": "object"}]},
    # A menu click naming no model (a number): Bokeh's dispatch to the Dropdown's
    # on_event callback read its id, AttributeError once the change before it was applied.
    {
        "kind": "MessageSent",
        "msg_type": "bokeh_event",
        "msg_data": {"type": "event", "name": "menu_item_click", "values": {"model": 5, "item": "one"}},
    },
]


@pytest.mark.parametrize("found", FOUND)
def test_what_the_fuzz_found_is_refused_whole(bokeh_site: Site, found: dict[str, Any]) -> None:
    async def run() -> None:
        session = Session(bokeh_site, APP)
        sender, watcher = await session.tab(), Watcher(session, await session.tab())
        try:
            await watcher.start()
            ids = ids_of(orjson.loads(watcher.text)["doc"])
            good = {"kind": "ModelChanged", "model": {"id": ids["slider"]}, "attr": "value", "new": 50}
            text = json.dumps(found)
            for name, model_id in ids.items():
                text = text.replace(f"@{name}@", model_id)
            stats: collections.Counter[str] = collections.Counter()
            await _case(bokeh_site, sender, watcher, Case(-1, {"events": [good, json.loads(text)]}), stats)
            assert stats["refused"] == 1, stats
        finally:
            await sender.close()
            await watcher.tab.close()

    asyncio.run(run())
