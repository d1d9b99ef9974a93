"""A client's limits in a cluster: counted per process, a session where it is made, a socket where it is held."""

from __future__ import annotations

import asyncio
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from docsync.protocol import Message, new_message
from docsync.testing import RawSocket

from .conftest import Cluster, accepted, open_raw, refusal, run

pytestmark = pytest.mark.cluster

SESSIONS, CONNECTIONS = 2, 3
SHARE = 4  # MAX_CONNECTIONS_PER_SESSION_PER_CLIENT: counted by the session's owner, relayed sockets too
SHARE_REFUSED = (
    f"this client holds its maximum of {SHARE} connections to this session (MAX_CONNECTIONS_PER_SESSION_PER_CLIENT)"
)
CONNECTIONS_REFUSED = f"this client holds its maximum of {CONNECTIONS} connections (MAX_CONNECTIONS_PER_CLIENT)"
QUEUED = 1024 * 1024  # MAX_QUEUED_BYTES: a relayed socket past it waits for its owner's go-ahead
METRICS_TOKEN = "client-limits-metrics-token"


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two processes whose clients may each hold 2 sessions and 3 websockets of a process, and 4 of a session."""
    running = Cluster(
        tmp_path_factory.mktemp("client-limits"),
        2,
        DOCSYNC_MAX_SESSIONS_PER_CLIENT=str(SESSIONS),
        DOCSYNC_MAX_CONNECTIONS_PER_CLIENT=str(CONNECTIONS),
        DOCSYNC_MAX_CONNECTIONS_PER_SESSION_PER_CLIENT=str(SHARE),
        DOCSYNC_MAX_QUEUED_BYTES=str(QUEUED),
        DOCSYNC_METRICS_TOKEN=METRICS_TOKEN,
    )
    try:
        yield running
    finally:
        running.stop()


def test_a_clients_sessions_are_counted_per_process(limited: Cluster) -> None:
    source = "127.0.1.2"

    async def scenario() -> None:
        held: list[RawSocket] = []
        try:
            tokens = [(await asyncio.to_thread(limited.page_config, "counted", 0))["token"] for _ in range(4)]
            for token in tokens[:SESSIONS]:
                assert accepted(await open_raw(limited, token, 0, source, held))
            refused = await open_raw(limited, tokens[2], 0, source, held)
            reason = f"this client holds its maximum of {SESSIONS} sessions (MAX_SESSIONS_PER_CLIENT)"
            assert await refusal(refused) == (1013, [reason])
            # The other process counts its own: the same client makes a session there.
            assert accepted(await open_raw(limited, tokens[3], 1, source, held))
        finally:
            for sock in held:
                await sock.close()

    run(scenario())


def test_a_relayed_socket_counts_where_it_is_held(limited: Cluster) -> None:
    maker, joiner = "127.0.1.3", "127.0.1.4"

    async def scenario() -> None:
        held: list[RawSocket] = []
        try:
            token = (await asyncio.to_thread(limited.page_config, "counted", 0))["token"]
            assert accepted(await open_raw(limited, token, 0, maker, held))  # process 0 owns the session
            # Joined through process 1, relayed to process 0: process 1 counts the sockets.
            for _ in range(CONNECTIONS):
                assert accepted(await open_raw(limited, token, 1, joiner, held))
            refused = await open_raw(limited, token, 1, joiner, held)
            assert await refusal(refused) == (1013, [CONNECTIONS_REFUSED])
            # The owner holds none of that client's sockets: it takes one there.
            assert accepted(await open_raw(limited, token, 0, joiner, held))
        finally:
            for sock in held:
                await sock.close()

    run(scenario())


def test_a_clients_share_of_a_session_counts_its_relayed_sockets(limited: Cluster) -> None:
    maker, client = "127.0.1.5", "127.0.1.6"

    async def scenario() -> None:
        held: list[RawSocket] = []
        try:
            token = (await asyncio.to_thread(limited.page_config, "counted", 0))["token"]
            assert accepted(await open_raw(limited, token, 0, maker, held))  # process 0 owns the session
            # Two of the client's sockets relayed from process 1, two held by the owner: its share.
            relayed = [await open_raw(limited, token, 1, client, held) for _ in range(2)]
            for _ in range(2):
                assert accepted(await open_raw(limited, token, 0, client, held))
            assert all(accepted(sock) for sock in relayed)
            # Past it, refused by the owner, through either process (each holds fewer than CONNECTIONS).
            assert await refusal(await open_raw(limited, token, 1, client, held)) == (4008, [SHARE_REFUSED])
            assert await refusal(await open_raw(limited, token, 0, client, held)) == (4008, [SHARE_REFUSED])
            assert accepted(await open_raw(limited, token, 1, "127.0.1.7", held)), "another client still joins"
            # A relayed socket closes: the owner detaches it, and the client's place is back.
            await relayed[0].close()
            deadline = asyncio.get_running_loop().time() + 60
            while asyncio.get_running_loop().time() < deadline:
                sock = await open_raw(limited, token, 1, client, held)
                if accepted(sock):
                    return
                # Refused until the owner has seen the close (the refused sockets count on
                # process 1 until they close: its own limit may answer first).
                code, errors = await refusal(sock)
                assert (code, errors) in ((4008, [SHARE_REFUSED]), (1013, [CONNECTIONS_REFUSED])), (code, errors)
                await asyncio.sleep(0.1)
            raise AssertionError("the closed relayed socket's place was not given back in 60 s")
        finally:
            for sock in held:
                await sock.close()

    run(scenario())


def _message_sent(msg_type: str, msg_data: str) -> Message:
    return new_message("PATCH-DOC", {"events": [{"kind": "MessageSent", "msg_type": msg_type, "msg_data": msg_data}]})


def _metric(server_url: str, name: str) -> int:
    """One figure of a process's ``/docsync-metrics``."""
    request = urllib.request.Request(
        server_url + "docsync-metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    found = re.search(rf"^{re.escape(name)} (\d+)$", text, re.M)
    assert found is not None, text
    return int(found.group(1))


def test_a_relayed_socket_whose_task_is_cancelled_gives_its_place_back_on_the_owner(
    limited: Cluster, tmp_path: Path
) -> None:
    """daphne cancels an application still running 10 s after its disconnect: its relay must close too.

    A relayed socket held back (its busy session has MAX_QUEUED_BYTES of its messages) is
    stuck in its forward when its client goes; daphne cancels it, and disconnect() never
    runs. The relaying process forgot the socket, but the owner kept the relayed
    connection: its client's share of the session lost a place until the relaying process
    died, and the session never expired.
    """
    maker, client = "127.0.1.8", "127.0.1.9"
    released = tmp_path / "released"
    relaying = limited.servers[1].url
    killed = "took too long to shut down and was killed"

    async def scenario() -> None:
        held: list[RawSocket] = []
        try:
            token = (await asyncio.to_thread(limited.page_config, "counted", 0))["token"]
            assert accepted(await open_raw(limited, token, 0, maker, held))  # process 0 owns the session
            stuck = await open_raw(limited, token, 1, client, held)
            assert accepted(stuck)
            held_before = await asyncio.to_thread(_metric, relaying, "docsync_relay_held_back_total")
            await stuck.send_message(_message_sent("hold", str(released)))  # the owner's lock, held
            for n in range(3):  # 1.5 MiB > MAX_QUEUED_BYTES: the third waits for the owner
                await stuck.send_message(_message_sent("ignored", f"{n}:" + "x" * (QUEUED // 2)))
            while await asyncio.to_thread(_metric, relaying, "docsync_relay_held_back_total") == held_before:
                await asyncio.sleep(0.1)
            kills_before = limited.log_text(1).count(killed)
            stuck.socket.transport.abort()  # gone; its consumer waits on, until daphne cancels it
            deadline = asyncio.get_running_loop().time() + 60
            while limited.log_text(1).count(killed) == kills_before:
                assert asyncio.get_running_loop().time() < deadline, "daphne did not cancel the stuck consumer"
                await asyncio.sleep(0.2)
            released.touch()
            # The client's full share through the relaying process, then the owner (a process
            # takes CONNECTIONS of a client). The relayed opens go after the cancelled socket's
            # close on the same route: the owner has detached it when it admits them.
            relayed = [await open_raw(limited, token, 1, client, held) for _ in range(2)]
            assert [accepted(sock) for sock in relayed] == [True, True]
            direct = [await open_raw(limited, token, 0, client, held) for _ in range(SHARE - 2)]
            refusals = [await refusal(sock) for sock in direct if not accepted(sock)]
            assert refusals == [], f"the cancelled relayed socket still holds a place on the owner: {refusals}"
        finally:
            released.touch()
            for sock in held:
                await sock.close()

    run(scenario())
