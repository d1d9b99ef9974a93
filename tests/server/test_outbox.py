"""Outbox: a connection's bounded queue of outgoing messages and its one writer task."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import pytest

from docsync.server.outbox import Outbox
from docsync.server.queued_shares import QueuedShare, QueuedShares
from docsync.server.serial_calls import SerialCalls
from docsync.testing import EVENT_WAIT


class Socket:
    """A socket whose writes wait while it is paused, as a client that stopped reading."""

    def __init__(self) -> None:
        self.written: list[str] = []
        self.reading = asyncio.Event()
        self.reading.set()

    async def write(self, frames: list[str]) -> None:
        for frame in frames:
            await self.reading.wait()
            self.written.append(frame)


def _outbox(socket: Socket, max_bytes: int = 100) -> tuple[Outbox, list[tuple[int, int]], list[int]]:
    overflows: list[tuple[int, int]] = []
    written: list[int] = []
    outbox = Outbox(
        socket.write,
        max_bytes=max_bytes,
        on_overflow=lambda queued, size: overflows.append((queued, size)),
        on_written=written.extend,
    )
    return outbox, overflows, written


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


@contextlib.contextmanager
def _still_clock() -> Iterator[list[float]]:
    """Stop the running loop's clock: it moves only when the test sets ``now[0]``.

    A pace is read from the loop's clock. On the real one, a test descheduled for longer
    than the pace between two puts (a loaded machine) sees the pace end between them.
    """
    loop = asyncio.get_running_loop()
    now = [loop.time()]
    loop.time = lambda: now[0]  # type: ignore[method-assign]
    try:
        yield now
    finally:
        del loop.time


@pytest.mark.asyncio
async def test_messages_are_written_whole_and_in_order() -> None:
    socket = Socket()
    outbox, overflows, written = _outbox(socket)
    for n in range(5):
        assert outbox.put([f"{n}a", f"{n}b"], 10)
    assert outbox.queued_bytes == 50  # put returns at once: nothing was written yet
    await _settle()
    assert socket.written == [f"{n}{part}" for n in range(5) for part in "ab"]
    assert (outbox.pending_bytes, overflows, written) == (0, [], [10] * 5)


@pytest.mark.asyncio
async def test_a_client_that_does_not_read_is_cut_off_at_the_bound() -> None:
    socket = Socket()
    socket.reading.clear()
    outbox, overflows, _ = _outbox(socket, max_bytes=100)
    assert outbox.put(["first"], 500)  # nothing waits: taken whatever its size
    await _settle()
    assert (outbox.writing_bytes, outbox.queued_bytes) == (500, 0)  # being written, stuck
    for _ in range(4):
        assert outbox.put(["m"], 25)  # waiting behind it: 100 bytes, at the bound
    assert outbox.pending_bytes == 600 and not overflows
    assert not outbox.put(["one too many"], 1)
    assert overflows == [(100, 1)] and outbox.overflowed and outbox.stopped
    await outbox.stopped_writer()
    assert outbox.pending_bytes == 0 and not outbox.put(["later"], 1)
    socket.reading.set()
    await _settle()
    assert socket.written == []  # the stuck message was cut off with the writer


@pytest.mark.asyncio
async def test_a_large_message_queued_right_behind_a_small_one_is_taken() -> None:
    # An answer and what it caused are queued in one go, before the writer runs: the few
    # bytes of the answer do not make the client a slow reader (half the bound may wait).
    socket = Socket()
    outbox, overflows, _ = _outbox(socket, max_bytes=100)
    assert outbox.put(["ok"], 10)
    assert outbox.put(["reset"], 500)
    await _settle()
    assert socket.written == ["ok", "reset"] and not overflows


@pytest.mark.asyncio
async def test_one_message_bigger_than_the_bound_goes_when_none_waits() -> None:
    socket = Socket()
    outbox, overflows, _ = _outbox(socket, max_bytes=10)
    for n in range(3):
        assert outbox.put([f"big {n}"], 1000)
        await _settle()
    assert socket.written == ["big 0", "big 1", "big 2"] and not overflows


@pytest.mark.asyncio
async def test_an_action_runs_after_the_messages_queued_before_it() -> None:
    socket = Socket()
    outbox, _, _ = _outbox(socket)
    seen: list[list[str]] = []

    async def close() -> None:
        seen.append(list(socket.written))

    outbox.put(["a"], 1)
    outbox.then(close)
    outbox.put(["b"], 1)
    await _settle()
    assert seen == [["a"]] and socket.written == ["a", "b"]


@pytest.mark.asyncio
async def test_a_failed_write_stops_the_outbox() -> None:
    async def broken(frames: list[str]) -> None:
        raise ConnectionError("gone")

    outbox = Outbox(broken, max_bytes=10, on_overflow=lambda queued, size: None)
    outbox.put(["a"], 1)
    outbox.put(["b"], 1)
    await _settle()
    assert outbox.stopped and outbox.pending_bytes == 0 and not outbox.put(["c"], 1)


@pytest.mark.asyncio
async def test_serial_calls_run_in_order_one_at_a_time_within_their_bound() -> None:
    running: list[int] = []
    done: list[int] = []
    idle: list[bool] = []
    gate = asyncio.Event()

    def call(n: int) -> object:
        async def run() -> None:
            running.append(n)
            assert len(running) - len(done) == 1  # never two at once
            await gate.wait()
            done.append(n)

        return run

    calls = SerialCalls("test", max_calls=3, on_idle=lambda: idle.append(True))
    assert all(calls.put(call(n)) for n in range(3))  # type: ignore[arg-type]
    assert not calls.put(call(3)) and calls.refused == 1  # type: ignore[arg-type]
    await _settle()
    assert running == [0] and len(calls) == 2
    gate.set()
    await _settle()
    assert done == [0, 1, 2] and idle == [True] and len(calls) == 0


@pytest.mark.asyncio
async def test_a_paced_outbox_writes_what_came_meanwhile_in_one_write() -> None:
    writes: list[list[str]] = []

    async def write(frames: list[str]) -> None:
        writes.append(list(frames))

    with _still_clock() as now:
        start = now[0]
        outbox = Outbox(write, max_bytes=1000, on_overflow=lambda queued, size: None, pace=0.05)
        outbox.put(["a"], 1)
        await _settle()
        for frame in "bcd":
            outbox.put([frame], 1)
            await _settle()
        now[0] = start + 0.049
        await _settle()
        assert writes == [["a"]]  # b, c and d wait for the pace
        now[0] = start + 0.05  # the pace, from a's write
        await _settle()
        assert writes == [["a"], ["b", "c", "d"]]


@pytest.mark.asyncio
async def test_a_paced_outbox_paces_only_while_told_to() -> None:
    # A relay paces its publishes only while its process publishes a lot.
    writes: list[list[str]] = []
    busy = [False]

    async def write(frames: list[str]) -> None:
        writes.append(list(frames))

    with _still_clock() as now:
        start = now[0]
        outbox = Outbox(
            write, max_bytes=1000, on_overflow=lambda queued, size: None, pace=0.05, pace_when=lambda: busy[0]
        )
        for frame in "ab":
            outbox.put([frame], 1)
            await _settle()
        assert writes == [["a"], ["b"]]  # not busy: each goes at once
        busy[0] = True
        for frame in "cd":
            outbox.put([frame], 1)
            await _settle()
        now[0] = start + 0.049
        await _settle()
        assert writes == [["a"], ["b"]]  # busy: c and d wait for the pace, then go together
        now[0] = start + 0.05  # the pace, from b's write
        await _settle()
        assert writes == [["a"], ["b"], ["c", "d"]]


@pytest.mark.asyncio
async def test_written_waits_for_what_was_queued_and_returns_when_the_outbox_stops() -> None:
    socket = Socket()
    socket.reading.clear()
    outbox, _, _ = _outbox(socket)
    await outbox.written()  # nothing queued: at once
    outbox.put(["a"], 10)
    waiting = asyncio.ensure_future(outbox.written())
    await _settle()
    assert not waiting.done() and socket.written == []
    socket.reading.set()
    await asyncio.wait_for(waiting, EVENT_WAIT)
    assert socket.written == ["a"]
    # A socket that never reads: stopping the outbox (its close) ends the wait.
    socket.reading.clear()
    outbox.put(["b"], 10)
    waiting = asyncio.ensure_future(outbox.written())
    await _settle()
    assert not waiting.done()
    outbox.stop()
    await asyncio.wait_for(waiting, EVENT_WAIT)
    assert socket.written == ["a"]


class NowSocket(Socket):
    """A socket that also takes frames at once while it reads (uvicorn's open connection), counting its writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes_now = 0
        self.writes_waited = 0
        self.broken = False

    def write_now(self, frames: list[str]) -> bool:
        if self.broken:
            raise ConnectionError("gone")
        if not self.reading.is_set():
            return False
        self.writes_now += 1
        self.written.extend(frames)
        return True

    async def write(self, frames: list[str]) -> None:
        self.writes_waited += 1
        await super().write(frames)


def _outbox_now(socket: NowSocket, max_bytes: int = 100) -> tuple[Outbox, list[int]]:
    written: list[int] = []
    outbox = Outbox(
        socket.write,
        max_bytes=max_bytes,
        on_overflow=lambda queued, size: None,
        on_written=written.extend,
        write_now=socket.write_now,
    )
    return outbox, written


@pytest.mark.asyncio
async def test_messages_queued_together_are_written_at_once_in_one_write_without_a_task() -> None:
    socket = NowSocket()
    outbox, written = _outbox_now(socket)
    assert outbox.put(["ok", "{}", "{}"], 10) and outbox.put(["patch", "{}", "{}"], 20)
    assert socket.written == []  # put never writes: the caller queues the rest of its reply first
    await asyncio.sleep(0)  # one turn of the loop
    assert socket.written == ["ok", "{}", "{}", "patch", "{}", "{}"]
    assert (socket.writes_now, socket.writes_waited, written, outbox.pending_bytes) == (1, 0, [10, 20], 0)
    assert outbox._task is None and len(outbox) == 0


@pytest.mark.asyncio
async def test_what_the_socket_does_not_take_at_once_waits_in_order_for_the_task() -> None:
    socket = NowSocket()
    socket.reading.clear()  # the client stopped reading: nothing is taken at once
    outbox, written = _outbox_now(socket)
    outbox.put(["a"], 10)
    await _settle()
    assert socket.written == [] and outbox.pending_bytes == 10
    outbox.put(["b"], 10)  # behind it, in order, written by the same task
    socket.reading.set()
    await _settle()
    assert socket.written == ["a", "b"] and written == [10, 10] and socket.writes_waited == 2
    outbox.put(["c"], 10)  # the task is gone: at once again
    await _settle()
    assert socket.written == ["a", "b", "c"] and socket.writes_now == 1


@pytest.mark.asyncio
async def test_an_action_after_messages_written_at_once_runs_after_them() -> None:
    socket = NowSocket()
    outbox, _ = _outbox_now(socket)
    seen: list[list[str]] = []

    async def close() -> None:
        seen.append(list(socket.written))

    outbox.put(["a"], 1)
    outbox.then(close)
    outbox.put(["b"], 1)
    await _settle()
    assert seen == [["a"]] and socket.written == ["a", "b"]


@pytest.mark.asyncio
async def test_a_failed_write_at_once_stops_the_outbox() -> None:
    socket = NowSocket()
    socket.broken = True
    outbox, _ = _outbox_now(socket)
    outbox.put(["a"], 1)
    await _settle()
    assert outbox.stopped and outbox.pending_bytes == 0 and not outbox.put(["b"], 1)


class Transport:
    """A transport that holds written bytes back while its client does not read (a ``TransportFlow``)."""

    def __init__(self) -> None:
        self.reading = asyncio.Event()

    def held_back(self) -> bool:
        return not self.reading.is_set()

    async def drained(self) -> None:
        await self.reading.wait()


def _sharing(sockets: list[Socket], cap: int, max_bytes: int = 10_000) -> tuple[list[Outbox], QueuedShare, list[tuple]]:
    """Outboxes for ``sockets``, all of one client with a share of ``cap``; and what each was told of an overflow."""
    shares = QueuedShares()
    told: list[tuple] = []
    outboxes = []
    for n, socket in enumerate(sockets):
        outbox = Outbox(
            socket.write,
            max_bytes=max_bytes,
            on_overflow=lambda queued, size, n=n: told.append((n, "connection", queued, size)),  # type: ignore[misc]
            on_share_overflow=lambda held, size, cap, n=n: told.append((n, "share", held, size, cap)),  # type: ignore[misc]
        )
        outbox.share = share = shares.join("address:10.0.0.1", cap, outbox)
        outboxes.append(outbox)
    assert share is not None
    return outboxes, share, told


@pytest.mark.asyncio
async def test_a_clients_sockets_together_hold_at_most_its_share() -> None:
    # Each socket is within MAX_QUEUED_BYTES; together they pass the client's share.
    sockets = [Socket() for _ in range(3)]
    for socket in sockets:
        socket.reading.clear()
    (first, second, third), share, told = _sharing(sockets, cap=1000)
    assert first.put(["doc"], 400)  # being written, stuck: still held
    await _settle()
    assert (first.writing_bytes, share.held) == (400, 400)
    assert second.put(["doc"], 600)  # exactly the share
    assert not second.put(["more"], 1)  # one byte more, for the one holding the most of the two: closed
    assert told == [(1, "share", 1000, 1, 1000)] and second.stopped and second.overflowed
    assert third.put(["doc"], 1)  # its one byte fits now
    assert not first.stopped and not third.stopped  # the others go on
    for socket in sockets:
        socket.reading.set()
    await _settle()
    assert share.held == 0 and sockets[0].written == ["doc"] and sockets[2].written == ["doc"]


@pytest.mark.asyncio
async def test_the_connection_holding_the_most_is_closed_not_the_one_sent_to() -> None:
    # One silent socket of an address held a whole document; every other socket of the
    # address (a NAT's honest tabs) was closed 4009 in turn on its next sizeable message.
    silent, reading = Socket(), Socket()
    silent.reading.clear()
    (stuck, tab), share, told = _sharing([silent, reading], cap=1000)
    assert stuck.put(["doc"], 900)
    await _settle()
    assert tab.put(["note"], 200)  # would pass the share: the silent one is closed, the note taken
    assert told == [(0, "share", 900, 200, 1000)] and stuck.stopped and not tab.stopped
    assert share.held == 200
    await _settle()
    assert reading.written == ["note"] and share.held == 0


@pytest.mark.asyncio
async def test_the_biggest_holders_are_closed_until_the_message_fits() -> None:
    sockets = [Socket() for _ in range(4)]
    for socket in sockets[:3]:
        socket.reading.clear()
    (big, bigger, small, tab), share, told = _sharing(sockets, cap=1000)
    for outbox, size in ((big, 300), (bigger, 400), (small, 100)):
        assert outbox.put(["doc"], size)
    await _settle()
    assert tab.put(["note"], 700)  # 800 + 700: the 400 goes, then the 300
    assert [n for n, *_ in told] == [1, 0] and not small.stopped and not tab.stopped
    assert share.held == 800


@pytest.mark.asyncio
async def test_a_client_holding_nothing_is_sent_a_message_bigger_than_its_share() -> None:
    socket = Socket()
    (outbox,), share, told = _sharing([socket], cap=100)
    assert outbox.put(["whole document"], 5000)
    await _settle()
    assert socket.written == ["whole document"] and share.held == 0 and not told


@pytest.mark.asyncio
async def test_a_stopped_outbox_gives_its_bytes_back_to_the_share() -> None:
    sockets = [Socket(), Socket()]
    sockets[0].reading.clear()
    (stuck, other), share, _ = _sharing(sockets, cap=1000)
    assert stuck.put(["a"], 300) and stuck.put(["b"], 300)
    await _settle()
    assert share.held == 600
    await stuck.stopped_writer()  # its socket closed, one message cut off mid-write
    assert share.held == 0
    assert other.put(["c"], 1000)


@pytest.mark.asyncio
async def test_what_the_transport_holds_back_counts_until_it_drains() -> None:
    # uvicorn's send returns once the bytes are in its transport, which keeps what a client
    # does not read: uncounted, each socket of a silent client held one whole document.
    socket, transport = Socket(), Transport()
    (outbox,), share, _ = _sharing([socket], cap=1000)
    outbox.flow = transport
    assert outbox.put(["doc"], 700)
    await _settle()
    assert socket.written == ["doc"]  # written: the transport has it
    assert (outbox.writing_bytes, outbox.draining_bytes, share.held, outbox.pending_bytes) == (0, 700, 700, 700)
    transport.reading.set()
    await _settle()
    assert (outbox.draining_bytes, share.held) == (0, 0)


@pytest.mark.asyncio
async def test_a_transport_holding_back_at_stop_gives_its_bytes_back() -> None:
    socket, transport = Socket(), Transport()
    (outbox,), share, _ = _sharing([socket], cap=1000)
    outbox.flow = transport
    outbox.put(["doc"], 700)
    await _settle()
    assert share.held == 700
    outbox.stop()
    await _settle()
    assert share.held == 0 and outbox.pending_bytes == 0
