"""The direct route between processes (``PEER_ADDRESS``): relays go on it, and it takes only peers.

Two real processes and a private redis-server; the demo settings give each process a
route on a free loopback port, advertised in Redis as ``docsync:peer:<process id>``.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import msgpack
import pytest
import redis

from docsync.client import ClientSession
from docsync.protocol import Message, new_message
from docsync.protocol.msgtypes import PATCH_DOC
from docsync.testing import EVENT_WAIT, RawSocket

from .conftest import Cluster, connect, run, running_cluster, set_slider_and_wait

pytestmark = pytest.mark.cluster

METRICS_TOKEN = "peers-metrics-token"
METRICS = {"DOCSYNC_METRICS_TOKEN": METRICS_TOKEN}


@pytest.fixture(scope="module", params=["daphne", "uvicorn"])
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two processes of one ASGI server, shared by the module's tests (unlinked until the first one's relay)."""
    kinds = (request.param,) * 2
    with running_cluster(tmp_path_factory, f"peers-{request.param}", kinds=kinds, **METRICS) as running:
        yield running


def _channel_layer_calls(client: redis.Redis) -> float:
    """Channel-layer sends so far (each is one EVAL; an idle receive blocks again every few seconds, so not those)."""
    return float(client.info("commandstats").get("cmdstat_eval", {}).get("calls", 0))


def _peer_addresses(cluster: Cluster) -> list[str]:
    """The routes the cluster's processes advertise in Redis (each at its first beat)."""
    assert cluster.redis is not None
    client = redis.Redis.from_url(cluster.redis.url)
    addresses: dict[str, str] = {}
    deadline = time.monotonic() + EVENT_WAIT
    while len(addresses) < len(cluster.servers) and time.monotonic() < deadline:
        addresses = {key.decode(): client.get(key).decode() for key in client.keys("docsync:peer:*")}
        time.sleep(0.2)
    assert len(addresses) == len(cluster.servers), addresses
    return sorted(addresses.values())


async def _hold_silent(address: str, stop: asyncio.Event, closed: list[int]) -> None:
    """Keep a connection to ``address`` open saying nothing; open another whenever it is closed."""
    host, _, port = address.rpartition(":")
    while not stop.is_set():
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            read = asyncio.ensure_future(reader.read())
            while await asyncio.wait([read], timeout=0.1) and not read.done() and not stop.is_set():
                pass
            if read.done() and read.exception() is None:  # read() returns at the end: the listener closed it
                closed.append(1)
            read.cancel()
        finally:
            writer.close()
        await asyncio.sleep(0.2)


def test_connections_holding_the_unproven_slots_do_not_keep_relays_off_the_direct_route(pair: Cluster) -> None:
    """On the old code, 64 silent connections made the route refuse the peer: its relays went by Redis.

    The first test of the module's pair (file order): neither process has a route yet.
    """
    assert pair.redis is not None
    client = redis.Redis.from_url(pair.redis.url)
    assert client.keys("docsync:peer:*") == [], "the pair's processes joined before this test"

    async def scenario() -> None:
        local = []  # a process joins the cluster (and listens) at its first websocket: one each, not relayed
        for index in (0, 1):
            config = await asyncio.to_thread(pair.page_config, "counted", index)
            local.append(await connect(config, pair.ws_url("counted", index)))
        addresses = await asyncio.to_thread(_peer_addresses, pair)
        stop = asyncio.Event()
        closed: dict[str, list[int]] = {a: [] for a in addresses}
        holders = [asyncio.ensure_future(_hold_silent(a, stop, closed[a])) for a in addresses for _ in range(70)]
        try:
            # Every unproven slot of both routes taken, and more: each listener has closed one
            # under its holder (not the peer's) for a newer one (waited for, not a fixed second, in which a
            # loaded machine opens fewer; _HANDSHAKE_TIMEOUT, 5 s, closes none sooner).
            deadline = time.monotonic() + 60
            while not all(closed.values()):
                assert time.monotonic() < deadline, f"the silent connections did not fill the slots: {closed}"
                await asyncio.sleep(0.05)
            config = await asyncio.to_thread(pair.page_config, "counted", 0)
            owner = await connect(config, pair.ws_url("counted", 0))
            relayed = await connect(config, pair.ws_url("counted", 1))  # the route to 0, made now
            before = _channel_layer_calls(client)
            for value in range(3, 8):
                echo = await set_slider_and_wait(relayed, value)
                assert echo.endswith(f"pid={pair.servers[0].pid}"), echo
            assert _channel_layer_calls(client) == before  # the direct route, not the channel layer
            for session in (owner, relayed, *local):
                await session.close()
        finally:
            stop.set()
            await asyncio.gather(*holders, return_exceptions=True)

    run(scenario())


def test_relayed_round_trips_go_by_the_direct_route_not_the_channel_layer(pair: Cluster) -> None:
    """Fails over the channel layer: each relayed round trip there is two sends (EVAL)."""
    assert pair.redis is not None
    client = redis.Redis.from_url(pair.redis.url)

    async def scenario() -> None:
        config = await asyncio.to_thread(pair.page_config, "counted", 0)
        owner = await connect(config, pair.ws_url("counted", 0))
        relayed = await connect(config, pair.ws_url("counted", 1))
        await set_slider_and_wait(relayed, 2)
        before = _channel_layer_calls(client)
        for value in range(3, 13):
            echo = await set_slider_and_wait(relayed, value)
            assert echo.endswith(f"pid={pair.servers[0].pid}"), echo  # the owner ran each
        assert _channel_layer_calls(client) == before
        for session in (owner, relayed):
            await session.close()

    run(scenario())


def _relayed(server_url: str) -> dict[str, int]:
    """``docsync_relayed_connections`` of this process, by side (its ``/docsync-metrics``)."""
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    request = urllib.request.Request(server_url + "docsync-metrics", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    found = dict(re.findall(r'^docsync_relayed_connections\{side="(\w+)"\} (\d+)$', text, re.M))
    assert set(found) == {"holding", "owning"}, text
    return {side: int(count) for side, count in found.items()}


def _until_relayed(cluster: Cluster, holding: int, owning: int) -> None:
    """Wait until process 1 holds ``holding`` relayed sockets and process 0 owns ``owning`` relayed ones."""
    deadline = time.monotonic() + EVENT_WAIT
    seen: tuple[int, int] = (-1, -1)
    while time.monotonic() < deadline:
        seen = (_relayed(cluster.servers[1].url)["holding"], _relayed(cluster.servers[0].url)["owning"])
        if seen == (holding, owning):
            return
        time.sleep(0.1)
    raise AssertionError(f"relayed (holding on 1, owning on 0): {seen}, not {(holding, owning)}")


def test_the_metrics_count_the_websockets_relayed_on_each_side(pair: Cluster) -> None:
    # docs/howto/deploying.md, Monitoring: "the websockets it relays (docsync_relayed_connections,
    # by side: holding the socket or owning the session)".
    _until_relayed(pair, 0, 0)  # what the module's earlier tests relayed has gone

    async def scenario() -> None:
        config = await asyncio.to_thread(pair.page_config, "counted", 0)
        owner = await connect(config, pair.ws_url("counted", 0))
        relayed = [await connect(config, pair.ws_url("counted", 1)) for _ in range(2)]
        await asyncio.to_thread(_until_relayed, pair, 2, 2)
        assert _relayed(pair.servers[0].url)["holding"] == 0 and _relayed(pair.servers[1].url)["owning"] == 0
        await relayed[0].close()
        await asyncio.to_thread(_until_relayed, pair, 1, 1)
        for session in (owner, relayed[1]):
            await session.close()
        await asyncio.to_thread(_until_relayed, pair, 0, 0)

    run(scenario())


def _news_texts(messages: list[Message]) -> list[str]:
    """The texts of the "news" broadcasts among ``messages``."""
    return [
        event["msg_data"]["text"]
        for message in messages
        if message.msgtype == PATCH_DOC
        for event in message.content.get("events", [])
        if event.get("kind") == "MessageSent" and event.get("msg_type") == "news"
    ]


def _news(client: ClientSession) -> list[str]:
    """The texts of the "news" broadcasts ``client`` received."""
    return _news_texts(client.received)


def test_relayed_messages_larger_than_a_read_cross_the_direct_route_whole(pair: Cluster) -> None:
    """Records of hundreds of KB span many reads of the route, both ways, and the route stays in step."""

    async def scenario() -> None:
        config = await asyncio.to_thread(pair.page_config, "counted", 0)
        owner = await connect(config, pair.ws_url("counted", 0))
        relayed = await connect(config, pair.ws_url("counted", 1))
        text = "\u00e9" + "x" * 300_000 + "\u00fc"  # non-ASCII: bytes on the wire are not characters
        # To the owner, which broadcasts it to its sessions: back to the relayed socket.
        relayed.document.send_message("broadcast-request", text)
        await relayed.sync(EVENT_WAIT)
        await relayed.wait_for(lambda: _news(relayed) == [text], EVENT_WAIT)
        for value in (3, 4):  # the route still in step: small records after the large ones
            echo = await set_slider_and_wait(relayed, value)
            assert echo.endswith(f"pid={pair.servers[0].pid}"), echo
        for session in (owner, relayed):
            await session.close()

    run(scenario())


def _message_sent(msg_type: str, msg_data: str) -> Message:
    return new_message("PATCH-DOC", {"events": [{"kind": "MessageSent", "msg_type": msg_type, "msg_data": msg_data}]})


def _held_back(server_url: str) -> int:
    """The relayed messages this process has held back so far (its ``/docsync-metrics``)."""
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    request = urllib.request.Request(server_url + "docsync-metrics", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    found = re.search(r"^docsync_relay_held_back_total (\d+)$", text, re.M)
    assert found is not None, text
    return int(found.group(1))


@pytest.fixture(scope="module")
def layer_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two daphne processes relaying over the channel layer (no direct route)."""
    with running_cluster(tmp_path_factory, "peers-layer", DOCSYNC_PEER_ADDRESS="", **METRICS) as running:
        yield running


def test_a_relayed_client_outrunning_its_busy_session_is_held_back_like_a_local_one(
    pair: Cluster, tmp_path: Path
) -> None:
    """On the direct route: see ``_outrun_a_busy_session``."""
    _outrun_a_busy_session(pair, tmp_path)


def test_over_the_channel_layer_too_a_relayed_client_outrunning_its_session_is_held_back(
    layer_pair: Cluster, tmp_path: Path
) -> None:
    """Over the channel layer (no direct route): see ``_outrun_a_busy_session``."""
    _outrun_a_busy_session(layer_pair, tmp_path)


def _outrun_a_busy_session(pair: Cluster, tmp_path: Path) -> None:
    """Past MAX_QUEUED_BYTES waiting for its busy session, the relaying process stops reading the socket.

    A local socket is not read while its session is busy (TCP holds its client back). A
    relayed one is read by the relaying process: it forwarded everything, and the owner
    closed the client 4029 once MAX_QUEUED_BYTES waited (before that, it queued without
    bound). Now the owner says when its session has taken enough, the client is held
    back meanwhile, and every message is taken in order once the session is free.
    (docsync's own client has one patch in flight at a time: a raw socket sends them.)
    """
    released = tmp_path / "released"
    chunk = "x" * (1024 * 1024)
    relaying = pair.servers[1].url

    async def scenario() -> None:
        config = await asyncio.to_thread(pair.page_config, "counted", 0)
        owner = await connect(config, pair.ws_url("counted", 0))
        sock = await RawSocket.connect(pair.ws_url("counted", 1), config["token"])
        held_before = await asyncio.to_thread(_held_back, relaying)

        async def send_all() -> None:
            await sock.send_message(_message_sent("hold", str(released)))  # the lock, held until released
            for n in range(12):  # 12 MiB > MAX_QUEUED_BYTES (8 MiB), waiting behind the held lock
                await sock.send_message(_message_sent("ignored", f"{n}:{chunk}"))
            await sock.send_message(_message_sent("broadcast-request", "after twelve"))

        try:
            assert (await sock.read_message()).msgtype == "ACK"
            sending = asyncio.ensure_future(send_all())
            deadline = time.monotonic() + 60
            while await asyncio.to_thread(_held_back, relaying) == held_before and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert await asyncio.to_thread(_held_back, relaying) > held_before  # on the old code: closed 4029
            released.touch()
            await asyncio.wait_for(sending, 60)
            # In order, after the twelve: the broadcast its last message asked for, and no close.
            read: list[Message] = []
            while "after twelve" not in _news_texts(read):
                read.append(await sock.read_message(60))
            # Each of the twelve was taken (the app has no handler for them: an ERROR each), none refused.
            assert sock.errors() == ["no handler for messages of type 'ignored'"] * 12, sock.errors()[:3]
            assert sock.close_code is None
        finally:
            released.touch()
            await sock.close()
        # The owner's process and the session go on.
        echo = await set_slider_and_wait(owner, 8)
        assert echo == f"value=8 pid={pair.servers[0].pid}", echo
        await owner.close()

    run(scenario())


async def _handshake(address: str, proof: bytes) -> tuple[dict[str, object], bytes]:
    """Connect to a route as an impostor: return the listener's hello and what it says next."""
    host, _, port = address.rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        size = int.from_bytes(await asyncio.wait_for(reader.readexactly(4), EVENT_WAIT), "big")
        hello = msgpack.unpackb(await reader.readexactly(size), raw=False)
        record = msgpack.packb({"process": "impostor", "nonce": os.urandom(16), "proof": proof}, use_bin_type=True)
        writer.write(len(record).to_bytes(4, "big") + record)
        after = await asyncio.wait_for(reader.read(), EVENT_WAIT)  # b"" once the listener closes
    finally:
        writer.close()
    return hello, after


def test_a_route_refuses_a_connection_that_does_not_know_the_secret_key(pair: Cluster) -> None:
    """The route is no open door: a wrong proof is closed without an answer, and logged."""
    assert pair.redis is not None
    client = redis.Redis.from_url(pair.redis.url)
    addresses = {}
    deadline = time.monotonic() + EVENT_WAIT
    while len(addresses) < 2 and time.monotonic() < deadline:  # each process advertises its route at its first beat
        addresses = {key.decode(): client.get(key).decode() for key in client.keys("docsync:peer:*")}
        time.sleep(0.2)
    assert len(addresses) == 2, addresses
    address = sorted(addresses.values())[0]
    hello, after = run(_handshake(address, os.urandom(32)))
    assert set(hello) == {"process", "nonce"}, hello  # a nonce and a process id, nothing more
    assert after == b""
    logs = "".join(Path(path).read_text() for path in pair.tmp.glob("server*.log"))
    assert "refused a peer connection" in logs
    assert "no proof of this site's SECRET_KEY" in logs


async def _say_little(address: str, data: bytes) -> tuple[dict[str, object], bytes, object]:
    """Connect to a route, send ``data`` (part of a record, or nothing), wait: the hello, what follows, our address."""
    host, _, port = address.rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    ours = writer.get_extra_info("sockname")
    try:
        size = int.from_bytes(await asyncio.wait_for(reader.readexactly(4), EVENT_WAIT), "big")
        hello = msgpack.unpackb(await reader.readexactly(size), raw=False)
        writer.write(data)
        after = await asyncio.wait_for(reader.read(), EVENT_WAIT)  # b"" once the listener closes
    finally:
        writer.close()
    return hello, after, ours


def test_a_connection_that_never_completes_its_handshake_is_closed_and_logged_why(pair: Cluster) -> None:
    """Silent, or three bytes of a length: closed within 5 s, and the log says it was the timeout.

    The log line of such a refusal used to end after the colon: a timeout has no text.
    """

    async def scenario() -> list[tuple[dict[str, object], bytes, object]]:
        # Each process advertises its route at its first beat, once it joined the cluster: a socket on each.
        config = await asyncio.to_thread(pair.page_config, "counted", 0)
        sessions = [await connect(config, pair.ws_url("counted", index)) for index in (0, 1)]
        try:
            address = (await asyncio.to_thread(_peer_addresses, pair))[0]
            return [await _say_little(address, data) for data in (b"", b"\x00\x00\x00")]
        finally:
            for session in sessions:
                await session.close()

    results = run(scenario())
    logs = "".join(Path(path).read_text() for path in pair.tmp.glob("server*.log"))
    for hello, after, ours in results:
        assert set(hello) == {"process", "nonce"}, hello
        assert after == b""
        assert f"cluster: refused a peer connection from {ours!r}: no handshake within 5 s\n" in logs


def test_a_full_unproven_table_closes_its_oldest_connection_not_the_new_one() -> None:
    """In process: never more than _MAX_HANDSHAKES unproven, and the ones closed are the oldest."""
    from docsync.server.cluster.peers import _MAX_HANDSHAKES, Peers, parse_address

    async def scenario() -> None:
        peers = Peers("listener", lambda message, link: None, lambda link: None)
        host, port = parse_address(await peers.listen("127.0.0.1:0"))
        opened = []
        for _ in range(_MAX_HANDSHAKES + 3):
            opened.append(await asyncio.open_connection(host, port))
            await asyncio.sleep(0.005)  # accepted in order
        try:
            for reader, _ in opened[:3]:  # closed: read() returns (the hello) at the end of the stream
                await asyncio.wait_for(reader.read(), EVENT_WAIT)
            reads = [asyncio.ensure_future(reader.read()) for reader, _ in opened[3:]]
            done, waiting = await asyncio.wait(reads, timeout=0.3)
            assert not done  # the newer ones: still waiting for their proof
            for read in waiting:
                read.cancel()
            assert len(peers._unproven) == _MAX_HANDSHAKES
        finally:
            for _, writer in opened:
                writer.close()
            await peers.close()

    run(scenario())


def test_a_flood_from_one_address_closes_its_own_unproven_connections_not_another_address_s() -> None:
    """In process: the oldest unproven connection, of another address than the flood's, stays.

    Before, the oldest was closed whoever held the rest: a fast flood of new connections
    pushed a peer's handshake (one round trip) out of the table, and its relays went by
    the channel layer (probed: 6 of 47 handshakes failed under ~1,100 connections a second).
    """
    from docsync.server.cluster.peers import _MAX_HANDSHAKES, Peers, parse_address

    async def scenario() -> None:
        peers = Peers("listener", lambda message, link: None, lambda link: None)
        host, port = parse_address(await peers.listen("127.0.0.1:0"))
        peer = await asyncio.open_connection(host, port)
        await asyncio.sleep(0.005)
        flood = []
        for _ in range(_MAX_HANDSHAKES + 3):
            flood.append(await asyncio.open_connection(host, port, local_addr=("127.0.0.2", 0)))
            await asyncio.sleep(0.005)  # accepted in order
        try:
            for reader, _ in flood[:3]:  # the flood's oldest: closed (read() returns at the end)
                await asyncio.wait_for(reader.read(), EVENT_WAIT)
            read = asyncio.ensure_future(peer[0].read())
            done, _ = await asyncio.wait([read], timeout=0.3)
            assert not done  # the other address's connection: still waiting for its proof
            read.cancel()
            assert len(peers._unproven) == _MAX_HANDSHAKES
        finally:
            for _, writer in (peer, *flood):
                writer.close()
            await peers.close()

    run(scenario())
