"""Bokeh sessions outlive their process: a real uvicorn, SQLite or redis-server, and a client speaking Bokeh's protocol.

The client does what BokehJS does (tests/e2e/test_bokeh_persistence.py drives BokehJS
itself): it reads the page's token, opens the websocket with subprotocols ``bokeh`` and
the token, pulls the document, sends PATCH-DOC, and after the server died connects
again with the same token and pulls again. The Python document is read in the server
process (tests/bokeh/urls.py). A change the store cannot take (SQLite held by another
writer) is answered ERROR, never shown to the other browser, and gone after the pull.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import json
import secrets
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

import websockets

from docsync.bokeh.persistence import SNAPSHOT_MAGIC as BOKEH_MAGIC
from docsync.server.persistence.snapshot import pack, unpack
from docsync.testing import RedisServer
from tests.e2e.bokeh_page import session_of

from .conftest import Site

SETTINGS = "tests.persistence.bokeh_settings"


class Refused(Exception):
    """The server answered the handshake with ERROR (BokehJS: "First message was not an ACK", then it retries)."""


class BokehWire:
    """One websocket as BokehJS opens it: ``bokeh`` and the page's token as subprotocols."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.pulled_buffers = -1  # binary buffers of the last PULL-DOC-REPLY

    @classmethod
    async def open(cls, site: Site, app: str, token: str, cookie: str | None = None) -> BokehWire:
        socket = await websockets.connect(
            f"ws://127.0.0.1:{site.port}/{app}/ws",
            subprotocols=["bokeh", token],
            max_size=None,  # type: ignore[list-item]
            additional_headers={"Cookie": cookie} if cookie else None,
        )
        wire = cls(socket)
        header, content = await wire.receive()
        if header["msgtype"] != "ACK":
            await socket.close()
            raise Refused(str(content.get("text")))
        return wire

    async def send(self, msgtype: str, content: dict[str, Any]) -> str:
        msgid = secrets.token_hex(4)
        await self.socket.send(json.dumps({"msgid": msgid, "msgtype": msgtype}))
        await self.socket.send("{}")
        await self.socket.send(json.dumps(content))
        return msgid

    async def receive(self) -> tuple[dict[str, Any], dict[str, Any]]:
        header = json.loads(await asyncio.wait_for(self.socket.recv(), 30))
        await self.socket.recv()
        content = json.loads(await self.socket.recv())
        for _ in range(2 * header.get("num_buffers", 0)):
            await self.socket.recv()
        return header, content

    async def reply_to(self, msgid: str) -> tuple[dict[str, Any], dict[str, Any]]:
        while True:
            header, content = await self.receive()
            if header.get("reqid") == msgid:
                return header, content

    async def pull(self) -> dict[str, Any]:
        header, content = await self.reply_to(await self.send("PULL-DOC-REQ", {}))
        assert header["msgtype"] == "PULL-DOC-REPLY"
        self.pulled_buffers = int(header.get("num_buffers", 0))
        return dict(content["doc"])

    async def set_value(self, model_id: str, value: Any) -> None:
        event = {"kind": "ModelChanged", "model": {"id": model_id}, "attr": "value", "new": value}
        header, content = await self.reply_to(await self.send("PATCH-DOC", {"events": [event]}))
        assert header["msgtype"] == "OK", content


def _objects(value: Any) -> Iterator[dict[str, Any]]:
    """Every model object in Bokeh's document JSON, wherever it is written (where first referenced)."""
    if isinstance(value, dict):
        if value.get("type") == "object":
            yield value
        for item in value.values():
            yield from _objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from _objects(item)


def named(doc: Any, name: str) -> dict[str, Any]:
    """The model named ``name`` in Bokeh's document JSON."""
    found = [model for model in _objects(doc) if model.get("attributes", {}).get("name") == name]
    assert len(found) == 1, f"{len(found)} models named {name!r}"
    return found[0]


def python_values(site: Site, app: str, name: str, attr: str, session_id: str) -> list[Any]:
    """``attr`` of the model named ``name`` in the server's document of session ``session_id``."""
    url = f"{site.url}_test/bokeh/{app}/{name}/{attr}?session={session_id}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return list(json.loads(response.read())["values"])


def open_page(site: Site, app: str) -> tuple[str, str]:
    """GET the app's page (which makes its session): its token and session id."""
    with urllib.request.urlopen(f"{site.url}{app}/", timeout=60) as response:
        html = response.read().decode()
    token = json.loads('"' + html.split('"token":', 1)[1].split('"', 2)[1] + '"')
    return token, session_of(html)


def _bokeh_site(stack: contextlib.ExitStack, tmp: Path, store: str, **extra: str) -> Site:
    """uvicorn with persistence in SQLite, or in a private redis-server (a cluster of one), stopped with ``stack``."""
    env = {"DJANGO_SETTINGS_MODULE": SETTINGS, "DOCSYNC_SNAPSHOT_INTERVAL": "30", **extra}
    if store == "redis":
        redis = stack.enter_context(RedisServer())
        # A cluster of one: after a kill -9 the process started again waits out the dead
        # one's liveness (2 x PROCESS_TIMEOUT after joining) before its relays to it
        # close 4010 and the client's retry restores the session. 1 s, as
        # test_held_sessions.py's: only the dead process can be taken for dead here (a
        # live one's late beat only delays), and each restore waited 6-7 s with 3 s.
        env |= {"DOCSYNC_PERSISTENCE": "redis", "DOCSYNC_REDIS_URL": redis.url, "DOCSYNC_PROCESS_TIMEOUT": "1.0"}
    running = Site(tmp, kind="uvicorn", **env)
    stack.callback(running.stop)
    return running


@pytest.fixture(params=["database", "redis"])
def bokeh_site(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """uvicorn with persistence in SQLite, or in a private redis-server (a cluster of one); a snapshot
    only when a session is made (then the journal)."""
    with contextlib.ExitStack() as stack:
        yield _bokeh_site(stack, tmp_path, request.param)


class OneKill:
    """A site whose process was killed -9 once and started again, shared by the tests of one kill.

    Each test's ``made_before_the_kill`` function made its sessions on the first process;
    ``made[name]`` is what it returned. The tests then check their own sessions, all
    restored by the one process started again: a process start (Django, Bokeh) is seconds
    of CPU, two per test when each killed a process of its own. The tests of two kills
    (``killed_twice``) go on with the same site: killed again, after the tests of one kill.
    No periodic snapshot (SNAPSHOT_INTERVAL an hour): every restore reads the journal.
    """

    def __init__(self, site: Site, made: dict[str, Any]) -> None:
        self.site = site
        self.made = made
        self.kills = 1
        self.between: dict[str, Any] = {}  # what the tests of two kills did on the second process


_BEFORE_THE_KILL: dict[str, tuple[tuple[str, ...], Callable[[Site], Any]]] = {}
_BETWEEN_THE_KILLS: dict[str, tuple[tuple[str, ...], Callable[[Site, Any], Any]]] = {}


def made_before_the_kill(
    name: str, stores: tuple[str, ...] = ("database", "redis")
) -> Callable[[Callable[[Site], Any]], Callable[[Site], Any]]:
    """Register what test ``name`` makes on the process of ``one_kill`` before it is killed (with these stores)."""

    def register(make: Callable[[Site], Any]) -> Callable[[Site], Any]:
        _BEFORE_THE_KILL[name] = (stores, make)
        return make

    return register


def done_between_the_kills(
    name: str, stores: tuple[str, ...] = ("database", "redis")
) -> Callable[[Callable[[Site, Any], Any]], Callable[[Site, Any], Any]]:
    """Register what test ``name`` does on the second process of ``killed_twice`` (given what it made before)."""

    def register(make: Callable[[Site, Any], Any]) -> Callable[[Site, Any], Any]:
        _BETWEEN_THE_KILLS[name] = (stores, make)
        return make

    return register


def _one_kill(stack: contextlib.ExitStack, tmp: Path, store: str) -> OneKill:
    site = _bokeh_site(stack, tmp, store, DOCSYNC_SNAPSHOT_INTERVAL="3600")
    site.start()
    made = {name: make(site) for name, (stores, make) in _BEFORE_THE_KILL.items() if store in stores}
    site.server.kill()  # kill -9: no drain, no snapshot since the sessions were made
    site.start()
    return OneKill(site, made)


@pytest.fixture(scope="module")
def killed_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OneKill]:
    """The tests of one kill with persistence in SQLite."""
    with contextlib.ExitStack() as stack:
        yield _one_kill(stack, tmp_path_factory.mktemp("killed-database"), "database")


@pytest.fixture(scope="module")
def killed_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OneKill]:
    """The tests of one kill with persistence in a private redis-server."""
    with contextlib.ExitStack() as stack:
        yield _one_kill(stack, tmp_path_factory.mktemp("killed-redis"), "redis")


@pytest.fixture(params=["database", "redis"])
def one_kill(request: pytest.FixtureRequest) -> OneKill:
    """The site of one kill, with persistence in SQLite or in Redis: ``killed_database`` or ``killed_redis``."""
    killed: OneKill = request.getfixturevalue(f"killed_{request.param}")
    assert killed.kills == 1, "a test of one kill after the second kill: the tests of two kills come last"
    return killed


def _kill_again(killed: OneKill, store: str) -> OneKill:
    """Run the tests of two kills' steps on the second process, then kill it -9 and start a third."""
    if killed.kills == 1:
        for name, (stores, make) in _BETWEEN_THE_KILLS.items():
            if store in stores:
                killed.between[name] = make(killed.site, killed.made[name])
        killed.site.server.kill()  # kill -9 again: no drain, no periodic snapshot
        killed.site.start()
        killed.kills = 2
    return killed


@pytest.fixture(scope="module")
def killed_twice_database(killed_database: OneKill) -> OneKill:
    """The site of ``killed_database`` killed -9 a second time (after the tests of one kill) and started again."""
    return _kill_again(killed_database, "database")


@pytest.fixture(scope="module")
def killed_twice_redis(killed_redis: OneKill) -> OneKill:
    """The site of ``killed_redis`` killed -9 a second time (after the tests of one kill) and started again."""
    return _kill_again(killed_redis, "redis")


@pytest.fixture(params=["database", "redis"])
def killed_twice(request: pytest.FixtureRequest) -> OneKill:
    """The site of two kills, with persistence in SQLite or in Redis: ``killed_twice_database`` or ``_redis``."""
    return request.getfixturevalue(f"killed_twice_{request.param}")  # type: ignore[no-any-return]


async def _reconnect(site: Site, app: str, token: str, cookie: str | None = None) -> tuple[BokehWire, dict[str, Any]]:
    """Connect with ``token`` and pull, as BokehJS does, trying again (five times, as it does) while refused.

    ``cookie``: the ``Cookie`` header its browser sends (its visitor's, for a token bound to it).
    """
    for attempt in range(5):
        try:
            wire = await BokehWire.open(site, app, token, cookie)
            return wire, await wire.pull()
        except (Refused, websockets.ConnectionClosed, websockets.InvalidStatus, OSError) as exc:
            print(f"reconnection {attempt + 1} refused: {exc!r}")
            if attempt == 4:
                raise
            await asyncio.sleep(2**attempt)  # 1, 2, 4, 8 s: the cluster learns the old process is gone
    raise AssertionError("unreachable")


async def _change(site: Site, app: str, value: float) -> tuple[str, str, BokehWire]:
    token, session_id = open_page(site, app)
    wire = await BokehWire.open(site, app, token)
    doc = await wire.pull()
    assert wire.pulled_buffers > 0  # a first pull: the arrays as binary buffers
    await wire.set_value(named(doc, "phase")["id"], value)  # OK: the change is in the journal
    return token, session_id, wire


@made_before_the_kill("journal")
def _journal_before_the_kill(site: Site) -> tuple[str, str, str, str, list[Any], list[Any]]:
    async def before() -> tuple[str, str, str, str]:
        token, session_id, wire = await _change(site, "bk_sliders", 1.5)
        unsaved_token, unsaved_id, unsaved = await _change(site, "bk_sliders_unsaved", 1.5)
        await wire.socket.close()
        await unsaved.socket.close()
        return token, session_id, unsaved_token, unsaved_id

    token, session_id, unsaved_token, unsaved_id = asyncio.run(before())
    phase = python_values(site, "bk_sliders", "phase", "value", session_id)
    y_before = python_values(site, "bk_sliders", "plot", "renderers.0.data_source.data.y", session_id)
    return token, session_id, unsaved_token, unsaved_id, phase, y_before


def test_a_bokeh_session_killed_with_kill_9_is_restored_from_its_journal(one_kill: OneKill) -> None:
    site = one_kill.site  # killed -9 with no drain, no snapshot since the session was made
    token, session_id, unsaved_token, unsaved_id, phase, y_before = one_kill.made["journal"]
    assert phase == [1.5]

    async def after() -> tuple[dict[str, Any], dict[str, Any]]:
        wire, doc = await _reconnect(site, "bk_sliders", token)  # what BokehJS does: the same token again
        unsaved, unsaved_doc = await _reconnect(site, "bk_sliders_unsaved", unsaved_token)
        # The restored session's callbacks are wired: a change reshapes the wave again.
        await wire.set_value(named(doc, "amplitude")["id"], 2.0)
        await wire.socket.close()
        await unsaved.socket.close()
        return doc, unsaved_doc

    doc, unsaved_doc = asyncio.run(after())
    assert named(doc, "phase")["attributes"]["value"] == 1.5
    # BokehJS reads a reconnection's pull without its buffers: a restored session's are inline (base64).
    wave = named(doc, "wave")["attributes"]["data"]
    assert wave["entries"][1][1]["array"]["type"] == "bytes"
    assert isinstance(wave["entries"][1][1]["array"]["data"], str)
    # The callback's own change (the wave's data) came back with it, from the journal.
    assert python_values(site, "bk_sliders", "plot", "renderers.0.data_source.data.y", session_id) != y_before
    assert python_values(site, "bk_sliders", "phase", "value", session_id) == [1.5]
    assert python_values(site, "bk_sliders", "amplitude", "value", session_id) == [2.0]
    # ``"persist": False``: that app's session is made afresh.
    assert named(unsaved_doc, "phase")["attributes"].get("value", 0.0) == 0.0
    assert python_values(site, "bk_sliders_unsaved", "phase", "value", unsaved_id) == [0.0]
    assert f"Bokeh session {session_id} of bk_sliders restored (1 records after its snapshot)" in site.log()


def test_a_drained_bokeh_session_closes_with_4012_and_is_restored_by_the_next_process(bokeh_site: Site) -> None:
    site = bokeh_site
    site.start()

    async def before() -> tuple[str, str, Any]:
        token, session_id, wire = await _change(site, "bk_sliders", 0.7)
        site.server.terminate()  # type: ignore[union-attr]  # SIGTERM: the drain
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await wire.receive()
        return token, session_id, closed.value.rcvd

    token, session_id, close = asyncio.run(before())
    assert close is not None and close.code == 4012
    site.server.wait_stopped()
    assert "drained 1 sessions (1 saved, 1 connections closed, 1 sockets gone)" in site.log()
    site.start()

    async def after() -> dict[str, Any]:
        wire, doc = await _reconnect(site, "bk_sliders", token)
        await wire.socket.close()
        return doc

    assert named(asyncio.run(after()), "phase")["attributes"]["value"] == 0.7
    assert python_values(site, "bk_sliders", "phase", "value", session_id) == [0.7]


def test_a_new_bokeh_session_over_max_snapshot_bytes_is_refused_not_run_unsaved(tmp_path: Path) -> None:
    """Its page made it and it ran unsaved: a change was acknowledged, and a kill -9 took it (phase 0.0 after)."""
    site = Site(tmp_path, kind="uvicorn", DJANGO_SETTINGS_MODULE=SETTINGS, DOCSYNC_MAX_SNAPSHOT_BYTES="4000")
    try:
        site.start()
        with pytest.raises(urllib.error.HTTPError) as refused:
            open_page(site, "bk_sliders")
        assert refused.value.code == 500  # an application failure, as a snapshot refused on restore
        assert "of bk_sliders not saved: snapshot too big: over 4000 bytes" in site.log()
    finally:
        site.stop()


@made_before_the_kill("restored hook", stores=("database",))
def _restored_hook_before_the_kill(site: Site) -> tuple[str, str]:
    async def before() -> tuple[str, str]:
        token, session_id = open_page(site, "bk_restored")
        wire = await BokehWire.open(site, "bk_restored", token)
        await wire.set_value(named(await wire.pull(), "count")["id"], 4)
        await wire.socket.close()
        return token, session_id

    return asyncio.run(before())


def test_on_session_restored_of_a_directory_app_runs_after_the_restore(killed_database: OneKill) -> None:
    site = killed_database.site
    token, session_id = killed_database.made["restored hook"]
    assert site.hooks() == []  # the only app with the hook: its session not restored yet

    async def after() -> dict[str, Any]:
        wire, doc = await _reconnect(site, "bk_restored", token)
        await wire.socket.close()
        return doc

    doc = asyncio.run(after())
    assert site.hooks() == [f"restored {session_id}"]
    # The hook ran after the saved state was laid over the build, and what it changed is served.
    assert named(doc, "status")["attributes"]["text"] == "restored with count 4"
    assert python_values(site, "bk_restored", "status", "text", session_id) == ["restored with count 4"]


@pytest.fixture(scope="module")
def impatient_bokeh_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """``bokeh_site`` in SQLite, started, waiting 1 s for another writer (DOCSYNC_TEST_SQLITE_TIMEOUT), not 20 s.

    Shared by the tests of a store that fails (a process start is seconds of CPU): each
    uses sessions of its own and reads only what the log says after it began.
    """
    with contextlib.ExitStack() as stack:
        site = _bokeh_site(stack, tmp_path_factory.mktemp("impatient"), "database", DOCSYNC_TEST_SQLITE_TIMEOUT="1")
        yield site.start()


def test_a_bokeh_change_the_store_refuses_is_answered_error_and_the_session_comes_back_without_it(
    impatient_bokeh_site: Site,
) -> None:
    # SQLite held by another writer (a long transaction elsewhere): the journal cannot
    # write the change. BokehJS hears ERROR for its PATCH-DOC (it logs "Unhandled ERROR
    # reply"), the other browser never hears of the change, both are closed with 1013,
    # and the pull after the reconnection gives the document without it. (The write gives
    # up after the site's busy timeout: 1 s here, 20 s by default, the same refusal.)
    site = impatient_bokeh_site
    logged = len(site.log())  # the process is shared: what this test logs comes after

    async def run() -> tuple[dict[str, Any], str]:
        token, session_id, wire = await _change(site, "bk_sliders", 0.5)  # OK: stored
        other = await BokehWire.open(site, "bk_sliders", token)
        doc = await other.pull()
        holder = sqlite3.connect(site.db, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            event = {"kind": "ModelChanged", "model": {"id": named(doc, "phase")["id"]}, "attr": "value", "new": 2.5}
            header, content = await wire.reply_to(await wire.send("PATCH-DOC", {"events": [event]}))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert header["msgtype"] == "ERROR", (header, content)
        assert content["code"] == "store-unavailable"
        assert content["text"] == "change not saved: the session store (database) is unavailable"
        for socket, name in ((wire, "the sender"), (other, "the other browser")):
            seen = []
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    seen.append((await socket.receive())[0]["msgtype"])
            assert "PATCH-DOC" not in seen, (name, seen)  # the refused change was never shown
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013, (name, closed.value)
        back, pulled = await _reconnect(site, "bk_sliders", token)
        await back.set_value(named(pulled, "phase")["id"], 0.9)  # the restored session takes changes
        await back.socket.close()
        return pulled, session_id

    pulled, session_id = asyncio.run(run())
    assert named(pulled, "phase")["attributes"]["value"] == 0.5  # as the store held it: 2.5 never was
    assert python_values(site, "bk_sliders", "phase", "value", session_id) == [0.9]
    log = site.log()[logged:]
    assert "changes not written to the store (database): refused" in log
    assert f"session {session_id} of bk_sliders dropped" in log
    assert "sent without the store" not in log


def _land_refused_record(db: Path, session_id: str, value: float) -> None:
    """Write what a write reported failed may have stored all the same: record 1 again as record 2, with ``value``."""
    from docsync.bokeh.persistence import RECORD_MAGIC
    from docsync.server.persistence.snapshot import pack, unpack

    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT number, expires, data FROM docsync_sessionrecord WHERE session_id = ? ORDER BY number",
            (session_id,),
        ).fetchall()
        assert [row[0] for row in rows] == [1], rows  # the change stored before the refusal
        header, views = unpack(bytes(rows[0][2]), RECORD_MAGIC, "Bokeh journal record")
        header["number"], header["seq"] = 2, header["seq"] + 1
        for event in header["events"]:
            if event.get("attr") == "value":
                event["new"] = value
        data = pack(RECORD_MAGIC, json.dumps(header).encode(), [bytes(v) for v in views], 1 << 30, "journal record")
        connection.execute(
            "INSERT INTO docsync_sessionrecord (session_id, number, expires, data) VALUES (?, 2, ?, ?)",
            (session_id, rows[0][1], data),
        )


async def _refused_at_open(site: Site, app: str, token: str) -> tuple[str, int | None]:
    """Open a socket as BokehJS does and read what the server says first: (its ERROR's text, the close code)."""
    socket = await websockets.connect(f"ws://127.0.0.1:{site.port}/{app}/ws", subprotocols=["bokeh", token])  # type: ignore[list-item]
    wire = BokehWire(socket)
    header, content = await wire.receive()
    assert header["msgtype"] == "ERROR", (header, content)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await wire.receive()
    return str(content.get("text")), closed.value.rcvd.code if closed.value.rcvd is not None else None


def test_a_store_that_fails_as_a_restore_drops_refused_records_refuses_the_restore_with_1013(
    impatient_bokeh_site: Site,
) -> None:
    # The session was dropped for a change the store refused; that write landed all the
    # same, so the restore deletes it (drop_records_after) before it makes the session.
    # With the store failing then (SQLite held by another writer: reads go on, the delete
    # waits, then fails), the restore is refused with 1013 and BokehJS tries again, as for
    # any store failure at a restore. It escaped as a raw error: an application failure (1011).
    # The delete gives up after the site's busy timeout: 1 s here (20 s by default), the same failure.
    site = impatient_bokeh_site
    logged = len(site.log())  # the process is shared: what this test logs comes after

    async def run() -> tuple[tuple[str, int | None], dict[str, Any], str]:
        token, session_id = open_page(site, "bk_sliders")
        wire = await BokehWire.open(site, "bk_sliders", token)
        phase = named(await wire.pull(), "phase")["id"]
        await wire.set_value(phase, 0.5)  # OK: record 1
        holder = sqlite3.connect(site.db, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            event = {"kind": "ModelChanged", "model": {"id": phase}, "attr": "value", "new": 2.5}
            header, _ = await wire.reply_to(await wire.send("PATCH-DOC", {"events": [event]}))
        finally:
            holder.execute("ROLLBACK")
        assert header["msgtype"] == "ERROR"
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await wire.receive()
        _land_refused_record(site.db, session_id, 2.5)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            refusal = await _refused_at_open(site, "bk_sliders", token)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        back, pulled = await _reconnect(site, "bk_sliders", token)  # the store is back: restored
        await back.socket.close()
        return refusal, pulled, session_id

    refusal, pulled, session_id = asyncio.run(run())
    assert refusal == ("session store unavailable; try again", 1013), refusal
    assert named(pulled, "phase")["attributes"]["value"] == 0.5  # the refused 2.5 never applied
    with sqlite3.connect(site.db) as connection:
        numbers = connection.execute(
            "SELECT number FROM docsync_sessionrecord WHERE session_id = ?", (session_id,)
        ).fetchall()
    assert numbers == [(1,)]  # the landed record dropped at the restore that went through
    log = site.log()[logged:]
    assert "persistence: the store (database) cannot drop records" in log
    assert f"refused records of session {session_id} found in the store: dropped" in log


def _of_type(doc: Any, kind: str) -> list[str]:
    """The ids of the models of type ``kind`` in Bokeh's document JSON."""
    return [model["id"] for model in _objects(doc) if model.get("name") == kind and "id" in model]


async def _patch(wire: BokehWire, events: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    header, content = await wire.reply_to(await wire.send("PATCH-DOC", {"events": events}))
    return str(header["msgtype"]), content


def _set(doc: Any, name: str, attr: str, value: Any) -> dict[str, Any]:
    return {"kind": "ModelChanged", "model": {"id": named(doc, name)["id"]}, "attr": attr, "new": value}


def _visitor() -> tuple[urllib.request.OpenerDirector, http.cookiejar.CookieJar]:
    """A browser's cookies for urllib: the page's ``docsync_visitor`` cookie is shown again, as a browser does."""
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)), jar


def _cookie_header(jar: http.cookiejar.CookieJar) -> str:
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def _page_as(
    visitor: urllib.request.OpenerDirector, site: Site, app: str, query: str = "", headers: dict[str, str] | None = None
) -> tuple[str, str]:
    """GET the app's page as ``visitor`` (``headers``: more it sends): its token and session id."""
    page = urllib.request.Request(f"{site.url}{app}/{query}", headers=headers or {})
    with visitor.open(page, timeout=60) as response:
        html = response.read().decode()
    token = json.loads('"' + html.split('"token":', 1)[1].split('"', 2)[1] + '"')
    return token, session_of(html)


@made_before_the_kill("own visitor")
def _own_visitor_before_the_kill(site: Site) -> tuple[Any, Any, Any, str, str]:
    (mine, jar), (theirs, _) = _visitor(), _visitor()
    token, session_id = _page_as(mine, site, "bk_sliders")
    _page_as(theirs, site, "bk_sliders")  # a visitor of its own (its cookie), which owns another session

    async def before() -> None:
        wire = await BokehWire.open(site, "bk_sliders", token)
        await wire.set_value(named(await wire.pull(), "phase")["id"], 1.3)  # OK: in the journal
        await wire.socket.close()

    asyncio.run(before())
    return mine, jar, theirs, token, session_id


def test_a_page_naming_a_bokeh_session_killed_with_kill_9_restores_it_for_its_own_visitor_only(
    one_kill: OneKill,
) -> None:
    """``?session_id=`` of a session only the store holds: its own browser's page gets it back, another's does not."""
    site = one_kill.site  # killed -9: no drain, no snapshot since the session was made
    mine, jar, theirs, token, session_id = one_kill.made["own visitor"]

    # Another visitor first: the store says whose the session is, and it is not theirs.
    _, other = _page_as(theirs, site, "bk_sliders", f"?session_id={session_id}")
    assert other != session_id
    # Its own visitor's page: the same session, restored from the store with its change.
    token, again = _page_as(mine, site, "bk_sliders", f"?session_id={session_id}")
    assert again == session_id

    async def after() -> dict[str, Any]:
        # The page's token, as its BokehJS opens it: bound to its visitor, whose cookie it shows.
        wire, doc = await _reconnect(site, "bk_sliders", token, _cookie_header(jar))
        await wire.socket.close()
        return doc

    assert named(asyncio.run(after()), "phase")["attributes"]["value"] == 1.3
    assert python_values(site, "bk_sliders", "phase", "value", session_id) == [1.3]
    assert python_values(site, "bk_sliders", "phase", "value", other) == [0.0]


@made_before_the_kill("no owner", stores=("database",))
def _no_owner_before_the_kill(site: Site) -> tuple[Any, str]:
    mine, _ = _visitor()
    _, session_id = _page_as(mine, site, "bk_sliders")
    return mine, session_id


def test_a_page_naming_a_stored_session_whose_snapshot_names_no_owner_gets_a_new_one(
    killed_database: OneKill,
) -> None:
    """An anonymous session's snapshot without its visitor (as an earlier release wrote it): the page does not guess."""
    site = killed_database.site
    mine, session_id = killed_database.made["no owner"]
    data, _, _ = site.snapshot_row(session_id)
    header, buffers = unpack(bytes(data), BOKEH_MAGIC, "Bokeh snapshot")
    assert header["visitor"]  # saved: whom the session belongs to
    del header["visitor"]
    site.set_snapshot_data(session_id, pack(BOKEH_MAGIC, json.dumps(header).encode(), buffers, 1 << 30, "snapshot"))
    _, other = _page_as(mine, site, "bk_sliders", f"?session_id={session_id}")
    assert other != session_id  # its own browser, but the store cannot say so
    site.set_snapshot_data(session_id, bytes(data))
    _, again = _page_as(mine, site, "bk_sliders", f"?session_id={session_id}")
    assert again == session_id
    assert python_values(site, "bk_sliders", "phase", "value", session_id) == [0.0]


_MADE = "arguments=[('colour', ['red']), ('rows', ['2'])] team=blue"


async def _change_arguments(site: Site, jar: http.cookiejar.CookieJar, token: str, value: int) -> None:
    wire, doc = await _reconnect(site, "bk_arguments", token, _cookie_header(jar))
    assert named(doc, "echo")["attributes"].get("text", "") == (f"value={value - 1} {_MADE}" if value > 3 else "")
    await wire.set_value(named(doc, "pick")["id"], value)  # OK: in the journal, its callback ran
    await wire.socket.close()


@made_before_the_kill("arguments")
def _arguments_before_the_kill(site: Site) -> tuple[Any, Any, str, list[Any]]:
    mine, jar = _visitor()
    token, session_id = _page_as(mine, site, "bk_arguments", "?rows=2&colour=red", {"X-Team": "blue"})
    asyncio.run(_change_arguments(site, jar, token, 3))
    return mine, jar, session_id, python_values(site, "bk_arguments", "echo", "text", session_id)


def test_a_bokeh_session_restored_by_a_page_with_other_arguments_runs_the_app_with_those_it_was_made_with(
    one_kill: OneKill,
) -> None:
    """``session_context.request`` of the restore's build is the original page's: arguments and headers."""
    site = one_kill.site  # killed -9: only the store holds it
    mine, jar, session_id, echoed = one_kill.made["arguments"]
    assert echoed == [f"value=3 {_MADE}"]
    # Its own browser's page, with other arguments and header, restores it (the page makes it).
    query = f"?session_id={session_id}&rows=5&colour=green"
    token, again = _page_as(mine, site, "bk_arguments", query, {"X-Team": "red"})
    assert again == session_id
    # (In a cluster of one, the page may find the dead process's claim: its socket's retry restores it.)
    asyncio.run(
        _change_arguments(site, jar, token, 4)
    )  # the saved document, and the callback the restore's build wired
    assert python_values(site, "bk_arguments", "echo", "text", session_id) == [f"value=4 {_MADE}"]


# The tests of two kills: last in the module, after every test of one kill (``one_kill``).


def _refill(doc: Any, country: str, cities: list[str]) -> list[dict[str, Any]]:
    changes = [("country", "value", country), ("city", "options", cities), ("city", "value", cities[0])]
    return [_set(doc, *change) for change in changes]


_OWN_APP = "bk_dependent_selects_own"


@made_before_the_kill("browser's code", stores=("database",))
def _browsers_code_before_the_kill(site: Site) -> tuple[str, str]:
    async def before() -> tuple[str, str]:
        token, session_id = open_page(site, _OWN_APP)
        wire = await BokehWire.open(site, _OWN_APP, token)
        doc = await wire.pull()
        assert (await _patch(wire, _refill(doc, "France", ["Paris", "Lyon"])))[0] == "OK"  # the app's CustomJS
        mine = {"type": "object", "name": "CustomJS", "id": "client-js", "attributes": {"code": "distance.start = -5"}}
        assert (await _patch(wire, [{"kind": "RootAdded", "model": mine}]))[0] == "OK"
        (code,) = _of_type(doc, "CustomJS")
        rewrite = {"kind": "ModelChanged", "model": {"id": code}, "attr": "code", "new": "city.value = 'Lyon'"}
        assert (await _patch(wire, [rewrite]))[0] == "OK"
        await wire.socket.close()
        return token, session_id

    return asyncio.run(before())


async def _browsers_code_refused(site: Site, token: str) -> None:
    """Reconnect with ``token``: what only the browser's code names is refused, what the app's names is taken."""
    wire, doc = await _reconnect(site, _OWN_APP, token)
    assert len(_of_type(doc, "CustomJS")) == 2  # the app's (rewritten) and the browser's
    pulled = await wire.pull()
    for events, refused in (
        ([_set(doc, "distance", "start", -5), _set(doc, "distance", "value", -5)], "Slider.start"),
        (_refill(doc, "Switzerland", ["Bern", "Basel", "Geneva"]), "Select.options"),
    ):
        msgtype, content = await _patch(wire, events)
        assert msgtype == "ERROR", (refused, content)
        assert content["code"] == "patch-refused"
        assert content["text"].startswith(f"{refused}: a browser may not change what a widget offers"), content
        assert await wire.pull() == pulled
    # The app's SetValue (untouched) still names the slider's end: a patch of it is taken.
    assert (await _patch(wire, [_set(doc, "distance", "end", 20), _set(doc, "distance", "value", 15)]))[0] == "OK"
    await wire.socket.close()


@done_between_the_kills("browser's code", stores=("database",))
def _browsers_code_between_the_kills(site: Site, made: tuple[str, str]) -> tuple[list[Any], list[Any]]:
    token, session_id = made
    asyncio.run(_browsers_code_refused(site, token))  # restored from the journal alone
    distance = python_values(site, _OWN_APP, "distance", "value", session_id)
    return distance, python_values(site, _OWN_APP, "shown", "text", session_id)


def test_a_restored_bokeh_session_tells_the_apps_code_from_code_its_browser_wrote(
    killed_twice_database: OneKill,
) -> None:
    # What a widget offers a browser may change only where the app's own code names it
    # (docs/bokeh.md). Code the browser wrote (a CustomJS it defined, the app's CustomJS
    # it rewrote) never counts, and that is still so after the process died twice: first
    # restored from the journal (kill -9, the snapshot older than the changes), then from
    # the same snapshot and the records of both lives (a restored session keeps its ids).
    site = killed_twice_database.site
    token, session_id = killed_twice_database.made["browser's code"]
    distance, shown = killed_twice_database.between["browser's code"]  # after the first kill
    assert distance == [15]
    assert shown == ["Paris within 15 km (of 20)"]
    asyncio.run(_browsers_code_refused(site, token))  # restored again: the same snapshot, the records of both lives
    assert python_values(site, _OWN_APP, "city", "options", session_id) == [["Paris", "Lyon"]]


_PUSH_REFUSAL = {
    "text": "PUSH-DOC not allowed: a Bokeh app's document is made by its code; no client replaces it",
    "code": "push-not-allowed",
}


@made_before_the_kill("push")
def _push_before_the_kill(site: Site) -> tuple[str, str]:
    async def before() -> tuple[str, str]:
        token, session_id, wire = await _change(site, "bk_sliders", 1.25)
        await wire.socket.close()
        return token, session_id

    return asyncio.run(before())


@done_between_the_kills("push")
def _push_between_the_kills(site: Site, made: tuple[str, str]) -> tuple[dict[str, Any], list[Any]]:
    token, session_id = made

    async def push() -> dict[str, Any]:
        wire, doc = await _reconnect(site, "bk_sliders", token)  # restored from the journal
        # The first message of a new connection, then after its pull: refused alike.
        for pushed in ({"title": "mine", "roots": [], "version": "3"}, {**doc, "title": "pushed"}):
            header, content = await wire.reply_to(await wire.send("PUSH-DOC", {"doc": pushed}))
            assert (header["msgtype"], content) == ("ERROR", _PUSH_REFUSAL)
            assert await wire.pull() == doc
        # The connection goes on: its next change is applied (and saved).
        await wire.set_value(named(doc, "amplitude")["id"], 1.75)
        await wire.socket.close()
        return doc

    doc = asyncio.run(push())
    return doc, python_values(site, "bk_sliders", "amplitude", "value", session_id)


def test_a_push_into_a_restored_bokeh_session_is_refused_and_changes_nothing(killed_twice: OneKill) -> None:
    """A restored session refuses a PUSH-DOC as a live one does (docs/bokeh.md): nothing of it is kept or saved."""
    site = killed_twice.site
    token, session_id = killed_twice.made["push"]
    doc, amplitude = killed_twice.between["push"]  # pushed into after the first kill -9
    assert doc["title"] != "pushed" and named(doc, "phase")["attributes"]["value"] == 1.25
    assert amplitude == [1.75]

    async def again() -> dict[str, Any]:  # restored again: nothing of the pushes was saved, the change was
        wire, pulled = await _reconnect(site, "bk_sliders", token)
        await wire.socket.close()
        return pulled

    restored = asyncio.run(again())
    assert restored["title"] == doc["title"] and named(restored, "amplitude")["attributes"]["value"] == 1.75
    assert python_values(site, "bk_sliders", "phase", "value", session_id) == [1.25]
