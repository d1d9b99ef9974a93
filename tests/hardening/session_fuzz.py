"""What the session fuzzers share: their budget, reading the server, the checks every case makes.

The four fuzzers (``test_fuzz_pushes``, ``test_fuzz_resumes``, ``test_fuzz_callbacks``,
``test_fuzz_interleaved``) reach what the frame and poisoning fuzzers cannot: an
accepted PUSH-DOC, RESUME-REQs naming real pending msgids, callbacks fed fuzzed values,
several connections on one session at once. They run against one server
(``session_fuzz_site`` in ``conftest.py``) serving the ``workers`` app (``apps.workers``:
callbacks that compute with the values clients send and write other models), and across
the processes of a cluster (``tests/cluster/test_fuzz_relayed.py``, and with the
session's owner killed mid-case, persistence on: ``tests/cluster/test_fuzz_owner_killed.py``):
a ``FuzzTarget`` lands each connection where its case drew. In every
case the server answers with messages the protocol knows, never a traceback in an
ERROR, closes only with a documented code right after an ERROR naming it, and logs
tracebacks only under the callback errors it reports.

CI sends ``CI_EXAMPLES`` draws of each (about 10 s of cases on a 2-core machine at a load of 15, and one
server start). For long runs: ``DOCSYNC_SESSION_FUZZ_EXAMPLES=<n>`` (the cases of each
fuzzer run), ``DOCSYNC_SESSION_FUZZ_SEED=<n>`` (repeatable draws: a failure is rebuilt by
rerunning with the same seed), ``DOCSYNC_SESSION_FUZZ_SECONDS=<s>`` (no new case after
that; pass ``--timeout`` above it, pytest-timeout caps a test at 300 s), one test file at
a time.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import websockets
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from docsync.client import ClientSession, fetch_page_config
from docsync.document import Document
from docsync.document.registry import model_class
from docsync.protocol import ERROR, OK, PULL_DOC_REPLY, Message, new_message, pull_doc_req
from docsync.serialization import Encoder
from docsync.testing import EVENT_WAIT, RawSocket, SiteUnderTest

from .fuzz_sessions import NAMES
from .harness import open_raw
from .test_errors import LEAKS
from .test_fuzz import ALLOWED_TYPES, DOCUMENTED_CLOSES, Enough

#: Cases of each fuzzer in CI (a count, not a time: a loaded machine sends as many).
CI_EXAMPLES = {
    "push": 30,
    "resume": 30,
    "callbacks": 40,
    "interleaved": 15,
    # The same across a cluster's processes (tests/cluster/test_fuzz_relayed.py), and fuzzed frames relayed.
    "relayed push": 6,
    "relayed resume": 8,
    "relayed callbacks": 8,
    "relayed interleaved": 4,
    "relayed frames": 12,
    # The owner of a session killed (SIGKILL) mid-case, persistence on (tests/cluster/test_fuzz_owner_killed.py).
    "owner killed": 3,
}
#: For long runs: the cases of each fuzzer (0: CI's), hypothesis's seed, the time after which no case starts.
EXAMPLES = int(os.environ.get("DOCSYNC_SESSION_FUZZ_EXAMPLES", "0"))
SEED = os.environ.get("DOCSYNC_SESSION_FUZZ_SEED")
SECONDS = float(os.environ.get("DOCSYNC_SESSION_FUZZ_SECONDS", "inf"))
#: What a page is told of a failed callback with DEBUG off (docsync.server.session.notices).
NOTICE_TEXT = "Something went wrong on the server ({}); the server log has the details."
#: Tracebacks the server logs on purpose: a user callback that raised (reported to the page).
CALLBACK_LOG_LINES = ("error in callback ", "error in message callback ", "error in async callback ")
#: ERROR codes a patch may earn, and a push.
PATCH_CODES = {"patch-refused", "bad-patch"}
PUSH_CODES = {"bad-document", "push-not-allowed"}


def examples(name: str) -> int:
    return EXAMPLES or CI_EXAMPLES[name]


class FuzzTarget:
    """Where a fuzzer's connections land: one server, or the processes of a cluster, picked by a hop.

    A hop is any integer, drawn with the case (draws never depend on the server); process
    ``hop % processes`` takes the connection. The first connection of a session makes its
    process the owner; a connection landing on another process is relayed to it. On one
    server every hop is that server.
    """

    def __init__(self, site: SiteUnderTest) -> None:
        self.site = site

    @property
    def processes(self) -> int:
        return len(self.site.servers)

    def index(self, hop: int) -> int:
        """The process a connection of ``hop`` lands on."""
        return hop % self.processes

    def page_config(self, app: str, hop: int = 0) -> dict[str, Any]:
        """A new session's page configuration, the page served by process ``hop``."""
        return fetch_page_config(self.site.servers[self.index(hop)].url + f"{app}/")

    def via(self, config: dict[str, Any], hop: int) -> dict[str, Any]:
        """``config`` for a connection landing on process ``hop``."""
        url = urllib.parse.urlsplit(config["wsUrl"])
        port = self.site.servers[self.index(hop)].port
        return dict(config, wsUrl=url._replace(netloc=f"{url.hostname}:{port}").geturl())

    def other(self, hop: int, step: int) -> int:
        """A hop landing on another process than ``hop`` (``step`` picks which; ``hop`` itself on one server)."""
        if self.processes == 1:
            return hop
        return self.index(hop) + 1 + step % (self.processes - 1)

    def log_mark(self) -> tuple[int, ...]:
        """Where each process's log ends now (``log_since`` reads what each logs after it)."""
        return tuple(len(self.site.log_text(i)) for i in range(self.processes))

    def log_since(self, mark: tuple[int, ...]) -> str:
        """What each process logged after ``mark``, process by process.

        Per process: an offset into the joined logs of a cluster would skip what an earlier
        process logged meanwhile (a callback's traceback on its owner went uncounted).
        """
        return "".join(self.site.log_text(i)[start:] for i, start in enumerate(mark))


def run_fuzz(
    name: str, strategy: st.SearchStrategy[Any], case: Callable[[Any], None], stats: collections.Counter[str]
) -> None:
    """Run ``case`` on hypothesis's draws of ``strategy`` until ``examples(name)`` were sent (or time is up)."""
    deadline = time.monotonic() + SECONDS

    @settings(
        max_examples=max(100, 3 * examples(name)),
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(drawn=strategy)
    def fuzz(drawn: Any) -> None:
        if stats["cases"] >= examples(name) or time.monotonic() > deadline:
            raise Enough
        stats["cases"] += 1
        case(drawn)

    if SEED is not None:
        fuzz = seed(int(SEED))(fuzz)
    with contextlib.suppress(Enough):
        fuzz()


# -- reading the server ------------------------------------------------------------------


def snapshot(doc_json: dict[str, Any], buffers: dict[str, Any] | None = None) -> str:
    """A document as comparable text: read as a client reads it, arrays inline, defaults spelled out."""
    document = Document.from_json(doc_json, buffers or {})
    return snapshot_of(document)


def snapshot_of(document: Document) -> str:
    data, _ = document.to_json(encoder=Encoder(use_buffers=False))
    return json.dumps(spelled_out(data), sort_keys=True)


def spelled_out(doc_json: dict[str, Any]) -> dict[str, Any]:
    """``doc_json`` with every default written out and models sorted by id.

    As ``harness.canonical``, but with the defaults of a model read from the wire (made
    with an id): a ColumnDataSource made in Python gets a new Selection, another each
    time, which two equal documents do not share.
    """
    encoder = Encoder(use_buffers=False)
    models = []
    for model in doc_json["models"]:
        cls = model_class(model["name"])
        fresh = cls(id="spelled-out")
        given = model["attributes"]
        attributes = {
            name: given[name] if name in given else encoder.encode(getattr(fresh, name)) for name in cls.properties()
        }
        models.append({**model, "attributes": attributes})
    return {**doc_json, "models": sorted(models, key=lambda m: m["id"])}


@dataclass
class Pulled:
    """The session's document from a fresh connection: its bytes and its snapshot."""

    raw: bytes
    text: str
    doc: dict[str, Any]


async def pull(config: dict[str, Any]) -> Pulled:
    sock = await open_raw(config["wsUrl"], config["token"])
    try:
        assert sock.messages, "no ACK"
        reply = await sock.request(pull_doc_req(), timeout=EVENT_WAIT)
        assert reply.msgtype == PULL_DOC_REPLY, reply.content
        doc = reply.content["doc"]
        raw = json.dumps(doc, sort_keys=True).encode() + b"".join(bytes(b) for _, b in reply.buffers)
        return Pulled(raw, snapshot(doc, dict(reply.buffers)), doc)
    finally:
        await sock.close()


async def converged(session: ClientSession, config: dict[str, Any], what: str) -> Pulled:
    """Wait until ``session``'s document is the server's (a fresh pull); return the pull."""
    latest = await pull(config)
    deadline = time.monotonic() + EVENT_WAIT
    while snapshot_of(session.document) != latest.text:
        if time.monotonic() > deadline:
            mine = snapshot_of(session.document)
            raise AssertionError(
                f"{what}: a client did not converge\nclient {mine[:1500]}\nserver {latest.text[:1500]}"
            )
        await asyncio.sleep(0.02)
        latest = await pull(config)
    return latest


def ids_of(document: Document) -> dict[str, str]:
    found = {name: document.get_model_by_name(name) for name in NAMES}
    return {name: model.id for name, model in found.items() if model is not None}


def check_messages(sock: RawSocket | ClientSession, what: str) -> None:
    """Every message is one the protocol knows; no ERROR shows a traceback."""
    for message in sock.messages if isinstance(sock, RawSocket) else sock.received:
        assert message.msgtype in ALLOWED_TYPES, f"{what}: unknown message {message.msgtype}"
        if message.msgtype == ERROR:
            text = message.content.get("text")
            assert isinstance(text, str), f"{what}: ERROR without text {message.content}"
            assert not [m for m in LEAKS if m in text], f"{what}: ERROR shows a traceback: {text[:300]}"


def check_close(sock: RawSocket, what: str, closes: dict[int, tuple[str, ...]] = DOCUMENTED_CLOSES) -> None:
    """A connection the server closed: with a code of ``closes``, right after an ERROR naming it and its text."""
    code = sock.close_code
    assert code in closes, f"{what}: closed with {code} ({sock.close_reason}); {sock.messages[-3:]}"
    last = sock.messages[-1] if sock.messages else None
    assert last is not None and last.msgtype == ERROR, f"{what}: closed with {code} without an ERROR first"
    assert last.content.get("code") == f"close-{code}", f"{what}: ERROR {last.content} before close {code}"
    assert str(last.content["text"]).startswith(closes[code]), f"{what}: {last.content} for {code}"


async def answered_or_closed(sock: RawSocket, reader: asyncio.Future[Any], what: str) -> bool:
    """Send a sentinel SERVER-INFO-REQ, wait until it is answered or ``reader`` ends, check what came; True: closed.

    ``reader`` reads ``sock`` until the server closes it. A connection the server
    closed must have been closed with a documented code, right after its ERROR.
    """
    sentinel = new_message("SERVER-INFO-REQ")
    with contextlib.suppress(websockets.ConnectionClosed):
        await sock.send_message(sentinel)
    deadline = time.monotonic() + EVENT_WAIT
    while not reader.done() and not any(m.reqid == sentinel.msgid for m in sock.messages):
        assert time.monotonic() < deadline, f"{what}: the sentinel got no answer and the connection stayed open"
        await asyncio.sleep(0.005)
    check_messages(sock, what)
    if reader.done():
        check_close(sock, what)
        return True
    return False


async def reply_to(sock: RawSocket, msgid: str) -> Message | None:
    """The OK or ERROR answering ``msgid`` (None: the server closed the connection first)."""
    try:
        while True:
            message = await sock.read_message(timeout=EVENT_WAIT)
            if message.reqid == msgid and message.msgtype in (OK, ERROR):
                return message
            if (
                message.reqid is None
                and message.msgtype == ERROR
                and str(message.content.get("code")).startswith("close-")
            ):
                await sock.until_closed(EVENT_WAIT)
                return None
    except websockets.ConnectionClosed:
        return None


def check_log(target: FuzzTarget, mark: tuple[int, ...], what: str) -> int:
    """Since ``mark``: no unhandled exception; every traceback is under a callback error it reports. Return those."""
    text = target.log_since(mark)
    assert "Exception inside application" not in text, text[-3000:]
    lines = text.splitlines()
    reported = 0
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            assert any(line in before for line in CALLBACK_LOG_LINES), (
                f"{what}: a traceback logged under {before!r}:\n{text[-3000:]}"
            )
            reported += 1
    return reported


async def responsive(config: dict[str, Any]) -> None:
    """The server still answers: a pull over a new connection."""
    await pull(config)


async def reply_to_request(sock: RawSocket, msgid: str) -> Message | None:
    """The message answering ``msgid`` (None: the server closed the connection first)."""
    try:
        while True:
            message = await sock.read_message(timeout=EVENT_WAIT)
            if message.reqid == msgid:
                return message
            if message.reqid is None and message.msgtype == ERROR:
                await sock.until_closed(EVENT_WAIT)
                return None
    except websockets.ConnectionClosed:
        return None
