"""Real server processes: killed (SIGKILL) or drained (SIGTERM), started again, their sessions restored.

Clients are docsync's Python client over real websockets; the store is the Django
database (SQLite) the processes share across restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import Callable

import pytest

from docsync.client import ClientSession, ServerError, fetch_page_config
from docsync.document.models import Slider
from docsync.server.sigterm import STOP_GRACE
from docsync.testing import EVENT_WAIT

from .apps import Notes
from .conftest import ROOT, Site

pytestmark = pytest.mark.asyncio


async def wait_until(predicate: Callable[[], bool], what: str, timeout: float = EVENT_WAIT) -> None:
    timeout = max(timeout, EVENT_WAIT)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def block_until(predicate: Callable[[], bool], what: str, timeout: float = EVENT_WAIT) -> None:
    """``wait_until`` with the event loop blocked meanwhile: the client reads nothing until it holds."""
    deadline = time.monotonic() + max(timeout, EVENT_WAIT)
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


async def open_client(site: Site) -> ClientSession:
    config = await asyncio.to_thread(fetch_page_config, site.url + "board/")
    client = ClientSession(config)
    await client.connect()
    return client


def notes_of(client: ClientSession) -> Notes:
    notes = client.document.get_model_by_name("notes")
    assert isinstance(notes, Notes), f"no notes in {client.id[:8]}'s document: {client.document.to_json()[0]!r:.300}"
    return notes


def slider_of(client: ClientSession) -> Slider:
    return next(m for m in client.document.models.values() if isinstance(m, Slider))


async def server_view(site: Site, client: ClientSession) -> ClientSession:
    """A second client of the same session (the same token): what the server holds now."""
    other = ClientSession(client.config)
    await other.connect()
    return other


async def test_a_killed_process_started_again_restores_the_session_its_client_resumes(site: Site) -> None:
    site.start()
    client = await open_client(site)
    try:
        slider_of(client).value = 7
        notes_of(client).items.extend(["kept", "also kept"])
        await client.sync(EVENT_WAIT)
        echo = client.document.get_model_by_name("echo")
        await client.wait_for(lambda: echo.text.startswith("value=7 "), EVENT_WAIT)  # type: ignore[union-attr]
        seq, incarnation, first_pid = client.last_seq, client.incarnation, site.server.pid  # type: ignore[union-attr]
        await wait_until(lambda: (site.saved_seq(client.id) or -1) >= seq, "the snapshot of the last change")
        # The admin's live-session row shows the last snapshot: when, and its size.
        nbytes = site.snapshot_row(client.id)[2]
        await wait_until(lambda: (site.live_snapshot(client.id) or (None, 0))[1] == nbytes, "the admin's row")
        assert site.live_snapshot(client.id)[0] is not None  # type: ignore[index]

        site.server.kill()
        await wait_until(lambda: not client.connected.is_set(), "the client to see its socket drop")
        second = site.start().server
        await client.reconnect()

        assert not client.resumed_fresh
        assert client.incarnation == incarnation
        assert notes_of(client).items == ["kept", "also kept"]
        # The new process's admin row shows the snapshot the session was made from (it said 0 bytes).
        await wait_until(lambda: site.live_snapshot(client.id, second.pid) is not None, "the new process's row")  # type: ignore[union-attr]
        assert site.live_snapshot(client.id, second.pid)[1] == nbytes  # type: ignore[index,union-attr]
        viewer = await server_view(site, client)
        try:
            assert notes_of(viewer).items == ["kept", "also kept"]
            assert slider_of(viewer).value == 7
            assert viewer.document.get_model_by_name("echo").text == f"value=7 pid={first_pid}"  # type: ignore[union-attr]
            assert list(viewer.document.get_model_by_name("source").data["x"]) == [i * 0.5 for i in range(10)]  # type: ignore[union-attr]
        finally:
            await viewer.close()
        # The application ran again: its callback is wired to the restored slider.
        slider_of(client).value = 9
        await client.sync(EVENT_WAIT)
        await client.wait_for(lambda: echo.text == f"value=9 pid={second.pid}", EVENT_WAIT)  # type: ignore[union-attr]
        assert f"{second.pid} restored {client.id}" in site.hooks()
        assert sum(line.endswith(f"created {client.id}") for line in site.hooks()) == 2  # made, then made again
    finally:
        await client.close()


def in_order(acked: list[str], items: list[str]) -> bool:
    """Tell whether every acknowledged item is in ``items``, in the order acknowledged, each once."""
    if len(set(items)) != len(items):
        return False
    position = {item: n for n, item in enumerate(items)}
    places = [position.get(item, -1) for item in acked]
    return -1 not in places and places == sorted(places)


async def edit_until_closed(client: ClientSession, name: str, acked: list[str], limit: int = 400) -> None:
    """Append notes one by one, each waited for, until the server closes the connection (bounded)."""
    notes = notes_of(client)
    for i in range(limit):
        if not client.connected.is_set():
            return
        item = f"{name}-{i}"
        notes.items.append(item)
        try:
            await client.sync(EVENT_WAIT)
        except (TimeoutError, Exception):
            return  # closed while in flight: not acknowledged (resent on resume)
        acked.append(item)
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("kind", ["daphne", "uvicorn"])
async def test_a_sigkill_while_clients_edit_loses_no_acknowledged_change(
    tmp_path_factory: pytest.TempPathFactory, kind: str
) -> None:
    """No periodic snapshot after the first (SNAPSHOT_INTERVAL 30 s): every change is in the journal before its OK."""
    site = Site(tmp_path_factory.mktemp(kind), kind=kind, DOCSYNC_SNAPSHOT_INTERVAL="30")
    site.start()
    clients = [await open_client(site) for _ in range(5)]
    late = await open_client(site)  # leaves early: it resumes from an older position
    try:
        await late.sync(EVENT_WAIT)
        shared = ClientSession(late.config)  # a second tab of the session of ``late``
        await shared.connect()
        await late.disconnect()  # the socket goes; the client keeps its document and position
        left_at = late.last_seq
        acked: list[list[str]] = [[] for _ in clients]
        editors = [asyncio.ensure_future(edit_until_closed(c, f"c{n}", acked[n])) for n, c in enumerate(clients)]
        shared_acked: list[str] = []
        editors.append(asyncio.ensure_future(edit_until_closed(shared, "shared", shared_acked)))
        await wait_until(lambda: all(len(a) >= 5 for a in [*acked, shared_acked]), "changes acknowledged")
        site.server.kill()
        await asyncio.gather(*editors)
        site.start()
        for n, client in enumerate([*clients, shared]):
            started = time.monotonic()
            await client.reconnect()
            print(f"{kind}: session {client.id[:8]} resumed in {time.monotonic() - started:.3f} s: {client.live}")
            assert not client.resumed_fresh
            # The restored session holds every position the client saw: what it missed is replayed.
            assert client.live is not None and client.live.mode == "replay"
            await client.sync(EVENT_WAIT)
            items = list(notes_of(client).items)
            assert in_order(acked[n] if n < len(clients) else shared_acked, items)
            viewer = await server_view(site, client)
            try:
                assert list(notes_of(viewer).items) == items  # the server holds what the client holds
            finally:
                await viewer.close()
        # The client that left before the edits gets them as a replay, not the whole document.
        await late.reconnect()
        assert late.live is not None and late.live.mode == "replay" and late.live.replayed > 0
        assert late.last_seq > left_at
        assert list(notes_of(late).items) == list(notes_of(shared).items)
    finally:
        for client in [*clients, late]:
            await client.close()
        site.stop()


async def test_after_a_restore_a_resume_within_snapshot_tail_is_replayed_and_one_from_before_gets_the_document(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """SNAPSHOT_TAIL 3: the store keeps the snapshot's last 3 records, so the restored log reaches back that far."""
    site = Site(tmp_path_factory.mktemp("tail"), DOCSYNC_SNAPSHOT_TAIL="3")
    site.start()
    editor = await open_client(site)
    tabs = [ClientSession(editor.config) for _ in range(2)]  # other tabs of the session, which leave
    try:
        for tab in tabs:
            await tab.connect()
        notes = notes_of(editor)
        for n in range(8):
            if n in (4, 5):  # tab 0 leaves 4 changes before the last (past the tail), tab 1 leaves 3 before it
                tab = tabs[n - 4]
                await tab.wait_for(lambda t=tab: t.last_seq == editor.last_seq, EVENT_WAIT)
                await tab.disconnect()
            notes.items.append(f"n{n}")
            await editor.sync(EVENT_WAIT)
        last = editor.last_seq
        await wait_until(lambda: (site.saved_seq(editor.id) or -1) >= last, "the snapshot of the last change")
        await wait_until(lambda: len(site.records(editor.id)) == 3, "the records before it trimmed to the tail")
        site.server.kill()
        site.start()
        for tab, mode in zip(tabs, ["full", "replay"], strict=True):
            await tab.reconnect()
            assert tab.live is not None and (tab.live.mode, tab.resumed_fresh) == (mode, False), tab.live
            assert notes_of(tab).items == [f"n{n}" for n in range(8)]
    finally:
        for client in [editor, *tabs]:
            await client.close()
        site.stop()


@pytest.mark.parametrize(("kind", "how"), [("daphne", "signal"), ("uvicorn", "command")])
async def test_a_drain_saves_every_session_and_clients_resume_losing_no_acknowledged_change(
    tmp_path_factory: pytest.TempPathFactory, kind: str, how: str
) -> None:
    """SIGTERM (from the test, or from ``manage.py docsync_drain``) while 5 clients keep editing."""
    site = Site(tmp_path_factory.mktemp(kind), kind=kind, DOCSYNC_SNAPSHOT_INTERVAL="30")
    site.start()
    clients = [await open_client(site) for _ in range(5)]
    try:
        acked: list[list[str]] = [[] for _ in clients]
        editors = [asyncio.ensure_future(edit_until_closed(c, f"c{n}", acked[n])) for n, c in enumerate(clients)]
        await wait_until(lambda: all(len(a) >= 3 for a in acked), "every client to have changes acknowledged")
        process = site.server.process  # type: ignore[union-attr]
        if how == "signal":
            process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
            command = None
        else:
            # The command signals the pid only while the live sessions' rows name its process.
            await wait_until(lambda: site.live_snapshot(clients[0].id, process.pid) is not None, "its live rows")  # type: ignore[union-attr]
            command = await asyncio.create_subprocess_exec(
                sys.executable, "manage.py", "docsync_drain", f"{socket.gethostname()}:{process.pid}",  # type: ignore[union-attr]
                cwd=ROOT, env={**os.environ, **site.env}, stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
        await asyncio.gather(*editors)
        assert [c.close_code for c in clients] == [4012] * 5
        assert all(any(m.content.get("code") == "close-4012" for m in c.errors) for c in clients), (
            "each client is told why in an ERROR"
        )
        await asyncio.to_thread(process.wait, 60)  # type: ignore[union-attr]
        if command is not None:
            output, _ = await command.communicate()
            assert command.returncode == 0
            assert f"process {process.pid} drained and stopped in " in output.decode()  # type: ignore[union-attr]
        assert "drained 5 sessions (5 saved, 5 connections closed, 5 sockets gone)" in site.log()

        site.start()
        for n, client in enumerate(clients):
            await client.reconnect()
            assert not client.resumed_fresh
            await client.sync(EVENT_WAIT)
            items = list(notes_of(client).items)
            assert in_order(acked[n], items)  # every acknowledged change, in order, once
            viewer = await server_view(site, client)
            try:
                assert list(notes_of(viewer).items) == items  # the server holds what the client holds
            finally:
                await viewer.close()
    finally:
        for client in clients:
            await client.close()
        site.stop()


@pytest.mark.parametrize("kind", ["daphne", "uvicorn"])
async def test_a_drain_over_drain_timeout_stops_the_process_anyway_losing_no_acknowledged_change(
    tmp_path_factory: pytest.TempPathFactory, kind: str
) -> None:
    """The database locked by another writer: the drain's snapshot cannot be written, the process stops anyway.

    Its shutdown would wait on the database too (SQLite's 20 s busy timeout, for each
    write of it): the process exits ``STOP_GRACE`` after the drain's bound. What the
    drain could not save is still in the store: the acknowledged changes are in the
    journal, so the session comes back with them once the database is free.
    """
    site = Site(tmp_path_factory.mktemp(kind), kind=kind, DOCSYNC_DRAIN_TIMEOUT="1.0", DOCSYNC_SNAPSHOT_INTERVAL="30")
    site.start()
    client = await open_client(site)
    locker = sqlite3.connect(site.db, timeout=0, isolation_level=None)
    try:
        notes_of(client).items.extend(["acknowledged", "also acknowledged"])
        await client.sync(EVENT_WAIT)
        process = site.server.process  # type: ignore[union-attr]
        locker.execute("BEGIN EXCLUSIVE")  # no other writer until the ROLLBACK below
        process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        await asyncio.to_thread(process.wait, EVENT_WAIT)  # type: ignore[union-attr]
        log = site.log()
        assert "persistence: drain (DRAIN_TIMEOUT) took over 1.0 s: stopping anyway" in log, log[-3000:]
        assert "drained 1 sessions" not in log
        # Its shutdown waited on the locked database (20 s per write): cut STOP_GRACE after the bound.
        assert f"still running {STOP_GRACE:.1f} s after stopping anyway" in log, log[-3000:]
        locker.execute("ROLLBACK")

        site.start()
        await client.reconnect()
        viewer = await server_view(site, client)
        try:
            assert list(notes_of(viewer).items) == ["acknowledged", "also acknowledged"]
        finally:
            await viewer.close()
    finally:
        locker.close()
        await client.close()
        site.stop()


@pytest.mark.parametrize("kind", ["daphne", "uvicorn"])
async def test_a_drain_waits_for_a_slow_client_to_answer_its_close(
    tmp_path_factory: pytest.TempPathFactory, kind: str
) -> None:
    """A client busy elsewhere when the drain closes its socket still reads 4012, not a dropped connection.

    Its loop is blocked (``block_until``) while the process drains, until the process
    logs that it wrote the close and waits for the answer; once free, the client writes
    a change before it reads. A process that stopped without waiting for the client to
    answer its close has closed the socket by then: the write gets a reset, and the
    client's transport drops the close frame it had not read yet (1006).
    """
    site = Site(tmp_path_factory.mktemp(kind), kind=kind)
    site.start()
    client = await open_client(site)
    try:
        notes = notes_of(client)
        notes.items.append("before")
        await client.sync(EVENT_WAIT)
        process = site.server.process  # type: ignore[union-attr]
        process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        # The client's loop neither reads nor answers (blocked here) while the server drains,
        # until the server has written the close and waits for its answer (or has stopped).
        block_until(
            lambda: "drain: 1 of 1 closes written, not answered yet" in site.log() or process.poll() is not None,  # type: ignore[union-attr]
            "the drain to write the close and wait for its answer",
        )
        notes.items.append("after")  # written first, as soon as the loop is free
        with contextlib.suppress(TimeoutError, ServerError):
            await client.sync(1.0)  # never answered: the connection is over (ServerError once it sees the close)
        await wait_until(lambda: not client.connected.is_set(), "the client to see its socket close")
        assert client.close_code == 4012, (client.close_code, client.close_reason, site.log()[-2000:])
        await asyncio.to_thread(process.wait, 60)  # type: ignore[union-attr]
        assert "drained 1 sessions (1 saved, 1 connections closed, 1 sockets gone)" in site.log()
    finally:
        await client.close()
        site.stop()


async def test_a_corrupt_snapshot_is_refused_clearly_kept_and_restored_once_repaired(site: Site) -> None:
    site.start()
    client = await open_client(site)
    try:
        notes_of(client).items.append("precious")
        await client.sync(EVENT_WAIT)
        await wait_until(lambda: (site.saved_seq(client.id) or -1) >= client.last_seq, "the snapshot")
        site.server.kill()
        good = bytes(site.snapshot_row(client.id)[0])
        bad = bytearray(good)
        bad[-5] ^= 0xFF
        site.set_snapshot_data(client.id, bytes(bad))
        site.start()
        with pytest.raises(ServerError) as refused:
            await client.reconnect()
        assert refused.value.code == "close-1011"
        refusal = "refused (kept in the store): corrupt snapshot: checksum mismatch"
        await wait_until(lambda: refusal in site.log(), "the log")
        assert f"snapshot of session {client.id} refused" in site.log()
        assert bytes(site.snapshot_row(client.id)[0]) == bytes(bad)  # left as it was, nothing overwritten
        site.set_snapshot_data(client.id, good)  # repaired (by an operator, say)
        await _reconnect_once_restored(client)
        assert not client.resumed_fresh
        assert list(notes_of(client).items) == ["precious"]
    finally:
        await client.close()


async def test_a_corrupt_journal_record_is_refused_clearly_kept_and_restored_once_repaired(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    site = Site(tmp_path_factory.mktemp("records"), DOCSYNC_SNAPSHOT_INTERVAL="30")
    site.start()
    client = await open_client(site)
    try:
        for item in ["first", "second"]:
            notes_of(client).items.append(item)
            await client.sync(EVENT_WAIT)
        site.server.kill()
        records = site.records(client.id)
        assert len(records) >= 2, "each change is a record (no snapshot since the session was made)"
        row_id, good = records[0]
        bad = bytearray(good)
        bad[-2] ^= 0xFF
        site.set_record_data(row_id, bytes(bad))
        site.start()
        with pytest.raises(ServerError) as refused:
            await client.reconnect()
        assert refused.value.code == "close-1011"
        refusal = "refused (kept in the store): corrupt journal record: checksum mismatch"
        await wait_until(lambda: refusal in site.log(), "the log")
        assert site.records(client.id)[0] == (row_id, bytes(bad))  # left as it was
        site.set_record_data(row_id, good)
        await _reconnect_once_restored(client)
        assert not client.resumed_fresh
        assert list(notes_of(client).items) == ["first", "second"]
    finally:
        await client.close()
        site.stop()


async def test_a_new_session_over_max_snapshot_bytes_is_refused_not_run_unsaved(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Its first snapshot cannot be written: run anyway, a kill lost its acknowledged changes (made fresh after)."""
    site = Site(tmp_path_factory.mktemp("limit"), DOCSYNC_MAX_SNAPSHOT_BYTES="600")
    site.start()
    try:
        client = ClientSession(await asyncio.to_thread(fetch_page_config, site.url + "board/"))
        with pytest.raises(ServerError) as refused:
            await client.connect()
        assert refused.value.code == "close-1011"  # an application failure: retried after its backoff, then 4011
        assert f"session {client.id} of board not saved: snapshot too big: over 600 bytes" in site.log()
        assert site.saved_seq(client.id) is None and site.records(client.id) == []
    finally:
        site.stop()


async def test_a_session_that_expires_takes_its_snapshot_with_it(tmp_path_factory: pytest.TempPathFactory) -> None:
    site = Site(
        tmp_path_factory.mktemp("expiry"), DOCSYNC_UNUSED_SESSION_LIFETIME="1", DOCSYNC_CHECK_UNUSED_SESSIONS="0.2"
    )
    site.start()
    try:
        client = await open_client(site)
        notes_of(client).items.append("short-lived")
        await client.sync(EVENT_WAIT)
        await wait_until(lambda: (site.saved_seq(client.id) or -1) >= client.last_seq, "the snapshot")
        await client.close()  # no connection left: the session expires a second later
        await wait_until(lambda: site.saved_seq(client.id) is None, "the snapshot to be deleted with its session")
        assert f"{site.server.pid} created {client.id}" in site.hooks()  # type: ignore[union-attr]
    finally:
        site.stop()


async def _reconnect_once_restored(client: ClientSession) -> None:
    """Reconnect until the session is restored: a failed one is tried again after SESSION_RETRY_BACKOFF's first wait."""
    deadline = time.monotonic() + EVENT_WAIT
    while True:
        try:
            await client.reconnect()
            return
        except ServerError:
            assert time.monotonic() < deadline, "never restored"
            await asyncio.sleep(0.3)
