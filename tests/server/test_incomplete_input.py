"""Half-sent messages: dropped after INCOMPLETE_MESSAGE_TIMEOUT (close 4408), capped per process (close 1013).

A real server with a 3 s timeout and a 300,000-byte process cap. Each refusal is the
documented ERROR then close; the attacked session's document is unchanged afterwards and
takes a valid patch; the cap frees what a closed connection held.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import orjson
import pytest
import pytest_asyncio

from docsync.client import ClientSession
from docsync.exceptions import ClientLimitError, IncompleteInputLimitError
from docsync.protocol import ERROR, Receiver
from docsync.server.incomplete import IncompleteBytes, IncompleteInput
from docsync.testing import EVENT_WAIT, RawSocket

from .clients import ServerUnderTest, open_session, page_config, pulled_document
from .conftest import StartServer

# Long enough that the slow sender's gaps (0.3 of it) stay well inside it on a loaded
# machine (at 1 s with 0.6 s gaps, 0.4 s of lateness in either process was enough to drop a correct sender).
TIMEOUT = 3.0
CAP = 300_000
CHUNK = 200_000  # two connections holding one each pass the cap


@pytest.fixture(scope="module")
def small_server(start_server: StartServer) -> Iterator[ServerUnderTest]:
    # Messages no larger than the cap, as docsync.E025 asks: a largest one could complete.
    server = start_server(
        "incomplete",
        DOCSYNC_INCOMPLETE_MESSAGE_TIMEOUT=str(TIMEOUT),
        DOCSYNC_MAX_INCOMPLETE_BYTES=str(CAP),
        DOCSYNC_MAX_MESSAGE_BYTES=str(CAP),
    )
    yield server
    server.server.stop()


@pytest_asyncio.fixture
async def watched(small_server: ServerUnderTest) -> AsyncIterator[tuple[dict[str, Any], ClientSession, Any]]:
    """A sliders session, its observer, and its document before the attack."""
    config = await page_config(small_server, "sliders")
    observer = await open_session(config)
    try:
        yield config, observer, await pulled_document(config)
    finally:
        await observer.close()


def _half_patch(padding: int) -> list[str]:
    """The first frames of a PATCH-DOC with one buffer: header, metadata, a padded content, buffer header."""
    header = orjson.dumps({"msgid": "m1", "msgtype": "PATCH-DOC", "num_buffers": 1}).decode()
    content = orjson.dumps({"events": [], "padding": "x" * padding}).decode()
    return [header, "{}", content, '{"id": "b0"}']


async def _attacker(config: dict[str, Any]) -> RawSocket:
    sock = await RawSocket.connect(config["wsUrl"], config["token"])
    assert (await sock.read_message()).msgtype == "ACK"
    return sock


async def _assert_unharmed(config: dict[str, Any], observer: ClientSession, before: Any) -> None:
    assert await pulled_document(config) == before, "the session document changed"
    slider = observer.document.get_model_by_name("frequency")
    slider.value = slider.value + 0.5
    await observer.sync(EVENT_WAIT)
    fresh = await open_session(config)
    try:
        assert fresh.document.get_model_by_name("frequency").value == slider.value, "a valid patch is applied"
    finally:
        await fresh.close()


@pytest.mark.asyncio
async def test_a_stalled_message_is_dropped_with_4408(watched: tuple[dict[str, Any], ClientSession, Any]) -> None:
    config, observer, before = watched
    sock = await _attacker(config)
    await sock.send_frames(*_half_patch(1000))  # then nothing: the buffer payload never comes
    code, messages = await sock.until_closed(TIMEOUT + 10)
    assert code == 4408
    assert [(m.msgtype, m.content["text"], m.content["code"]) for m in messages] == [
        (ERROR, f"message incomplete for {TIMEOUT:g} s", "close-4408")
    ]
    await _assert_unharmed(config, observer, before)


@pytest.mark.asyncio
async def test_a_slow_sender_that_makes_progress_is_not_stalled(
    watched: tuple[dict[str, Any], ClientSession, Any],
) -> None:
    config, observer, before = watched
    sock = await _attacker(config)
    frames = [*_half_patch(10), b"\x00" * 8]
    assert (len(frames) - 1) * 0.3 > 1  # the whole message takes longer than the timeout
    for frame in frames:  # each frame well within the timeout
        await sock.send_frames(frame)
        await asyncio.sleep(TIMEOUT * 0.3)
    reply = await sock.read_message()
    assert reply.msgtype == "OK"  # an empty patch (the buffer unused) is applied, not dropped
    await sock.close()
    await _assert_unharmed(config, observer, before)


@pytest.mark.asyncio
async def test_incomplete_messages_are_capped_per_process_with_1013(
    watched: tuple[dict[str, Any], ClientSession, Any],
) -> None:
    config, observer, before = watched
    first = await _attacker(config)
    await first.send_frames(*_half_patch(CHUNK))
    second = await _attacker(config)
    await second.send_frames(*_half_patch(CHUNK))
    code, messages = await second.until_closed()
    assert code == 1013
    ((text, kind),) = [(m.content["text"], m.content["code"]) for m in messages if m.msgtype == ERROR]
    assert kind == "close-1013"
    assert text.startswith("server busy: ") and text.endswith(f"bytes held in incomplete messages, at most {CAP}")
    await _assert_unharmed(config, observer, before)

    # Closing the first connection frees its share: a third may hold as much again
    # (once the server has seen the close, hence the few tries).
    await first.close()
    for _ in range(50):
        third = await _attacker(config)
        await third.send_frames(*_half_patch(CHUNK), b"\x00" * 8)
        try:
            reply = await third.read_message()
        except Exception:  # refused with 1013: the first close is not processed yet
            continue
        finally:
            await third.close()
        assert reply.msgtype == "OK"
        break
    else:
        raise AssertionError("the first connection's bytes were never freed")


# -- the process's one timer (no server: the receiver and the loop's clock) -------------


@pytest.mark.asyncio
async def test_one_timer_per_process_watches_only_connections_holding_an_incomplete_message() -> None:
    budget = IncompleteBytes()
    stalled: list[str] = []
    inputs = {
        name: IncompleteInput(Receiver(), budget, cap=CAP, timeout=0.2, on_stall=lambda name=name: stalled.append(name))
        for name in ("done", "stalls")
    }
    header = orjson.dumps({"msgid": "m1", "msgtype": "PULL-DOC-REQ"}).decode()
    for incomplete in inputs.values():
        incomplete.take(header, len(header))
    assert list(budget.watched) == list(inputs.values())
    done = inputs["done"]
    for frame in ("{}", "{}"):  # the rest of its message: complete, no longer watched
        done.take(frame, len(frame))
    assert list(budget.watched) == [inputs["stalls"]] and done.held == 0
    await asyncio.sleep(0.35)
    assert stalled == ["stalls"]  # dropped once, after its timeout and within a quarter more
    assert budget.watched == {}
    await asyncio.sleep(0.1)
    assert budget._timer is None  # nothing held anywhere: the process's timer is gone too


def _input(
    budget: IncompleteBytes, client: str, share: int, *, cap: int = CAP, timeout: float = 30.0
) -> tuple[IncompleteInput, list[Exception]]:
    """A connection's incomplete input of ``client`` (its share ``share``), and the refusals it is told."""
    incomplete = IncompleteInput(
        Receiver(max_frame_bytes=64 * 1024, max_message_bytes=share), budget, cap=cap, timeout=timeout, on_stall=list
    )
    incomplete.count_for(client, share)
    refused: list[Exception] = []
    incomplete.on_server_over = refused.append
    return incomplete, refused


@pytest.mark.asyncio
async def test_what_the_asgi_server_holds_counts_with_the_connections_incomplete_message() -> None:
    # Bytes of a websocket message the ASGI server is still reading (compat/partial_frames.py).
    budget = IncompleteBytes()
    one, refused_one = _input(budget, "attacker", 250_000)
    two, refused_two = _input(budget, "attacker", 250_000)
    other, refused_other = _input(budget, "other", 250_000)
    one.server_holds(40_000)
    one.server_holds(150_000)  # past the frame limit (64 KiB) with nothing held elsewhere: refused 1009 once read
    assert (budget.total, budget.by_client, refused_one) == (150_000, {"attacker": 150_000}, [])
    assert one in budget.watched  # its clock runs, as for a frame taken
    two.server_holds(60_000)
    assert budget.by_client == {"attacker": 210_000} and refused_two == []
    two.server_holds(110_000)  # past the client's share: refused, nothing more counted
    assert [type(e) for e in refused_two] == [ClientLimitError]
    assert str(refused_two[0]) == (
        "this client holds its maximum of 250000 bytes in incomplete messages (MAX_INCOMPLETE_BYTES_PER_CLIENT)"
    )
    assert budget.by_client == {"attacker": 210_000} and two.server_held == 60_000 and budget.refused_clients == 1
    two.server_holds(0)  # the connection dropped them
    assert budget.by_client == {"attacker": 150_000} and two not in budget.watched
    # The process's cap is counted for every client: another's bytes past it are refused "server busy".
    other.server_holds(60_000)
    other.server_holds(60_000 + CAP - 150_000)
    assert [type(e) for e in refused_other] == [IncompleteInputLimitError] and budget.refused == 1
    assert budget.total == 210_000
    # Held bytes and the receiver's frames count together; a completed message's bytes go.
    header = orjson.dumps({"msgid": "m1", "msgtype": "PATCH-DOC", "num_buffers": 1}).decode()
    other.take(header, len(header))
    assert budget.by_client["other"] == 60_000 + len(header)
    other.server_holds(0)
    assert other in budget.watched  # its message is still incomplete
    other.clear()
    assert "other" not in budget.by_client and other not in budget.watched
    # A connection over: what its server held is forgotten, and nothing more is told to it.
    one.forget_server()
    assert budget.total == 0 and budget.by_client == {} and budget.watched == {}
    one.on_server_over(ClientLimitError("unheard"))
    assert refused_one == []


@pytest.mark.asyncio
async def test_a_message_stalled_inside_the_asgi_servers_frame_is_dropped_after_its_timeout() -> None:
    budget = IncompleteBytes()
    stalled: list[str] = []
    slow, _ = _input(budget, "slow", 250_000, timeout=0.2)
    stuck, _ = _input(budget, "stuck", 250_000, timeout=0.2)
    slow.on_stall = lambda: stalled.append("slow")
    stuck.on_stall = lambda: stalled.append("stuck")
    slow.server_holds(1_000)
    stuck.server_holds(1_000)
    for n in range(2, 6):  # the slow sender's bytes keep arriving: progress
        await asyncio.sleep(0.1)
        slow.server_holds(n * 1_000)
    assert stalled == ["stuck"]
    slow.server_holds(0)  # its message read whole: not watched any more
    assert budget.watched == {}
