"""A session made by its owner for a relayed websocket counts against the client that connected.

NEW_SESSIONS_PER_CLIENT_* is counted by the process making the session. In a cluster
the process a websocket reaches relays it to the session's owner, naming the socket's
client: the owner takes that client's token. Without the client in the relay, the owner
counted the session against no one, and a client reaching a session id another process
had claimed made sessions there without bound. A redis-server and two daphne
processes; each client connects from its own 127.x address.
"""

from __future__ import annotations

import asyncio
import re
import urllib.request
from collections.abc import Iterator

import pytest

from docsync.testing import RawSocket

from .conftest import Cluster, accepted, open_raw, refusal, run

pytestmark = pytest.mark.cluster

BURST = 2  # NEW_SESSIONS_PER_CLIENT_BURST; refilled at one per 1,000 s
LIMIT = "NEW_SESSIONS_PER_CLIENT_PER_SECOND"
REFUSED = f"this client makes sessions too fast: {BURST} at once, then 0.001 per second ({LIMIT})"
METRICS_TOKEN = "relayed-session-rate-metrics-token"
OWNER, RELAYING = 0, 1


@pytest.fixture(scope="module")
def rated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two processes whose clients may each make BURST sessions on each."""
    running = Cluster(
        tmp_path_factory.mktemp("relayed-session-rate"),
        2,
        DOCSYNC_NEW_SESSIONS_PER_CLIENT_BURST=str(BURST),
        DOCSYNC_NEW_SESSIONS_PER_CLIENT_PER_SECOND="0.001",
        DOCSYNC_METRICS_TOKEN=METRICS_TOKEN,
    )
    try:
        yield running
    finally:
        running.stop()


def _refusals(cluster: Cluster, index: int) -> int:
    """The process's docsync_limit_refusals_total{limit="NEW_SESSIONS_PER_CLIENT_PER_SECOND"}."""
    request = urllib.request.Request(
        cluster.servers[index].url + "docsync-metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    found = re.search(rf'^docsync_limit_refusals_total\{{limit="{LIMIT}"\}} (\d+)$', text, re.M)
    assert found is not None, text
    return int(found.group(1))


def test_a_session_its_owner_makes_for_a_relayed_socket_takes_the_connecting_clients_token(rated: Cluster) -> None:
    claimer, client = "127.0.3.2", "127.0.3.3"

    async def scenario() -> None:
        held: list[RawSocket] = []
        try:
            pages = [await asyncio.to_thread(rated.page_config, "counted", OWNER) for _ in range(2 * BURST + 1)]
            tokens = [page["token"] for page in pages]
            # The claimer spends its bucket on the owner, then its websockets for the other ids
            # are refused there: the owner has claimed those ids, and made nothing.
            for token in tokens[:BURST]:
                assert accepted(await open_raw(rated, token, OWNER, claimer, held))
            unmade, ids = tokens[BURST:], [page["sessionId"] for page in pages[BURST:]]
            for token in unmade:
                assert await refusal(await open_raw(rated, token, OWNER, claimer, held)) == (4029, [REFUSED])
            owner_refused = _refusals(rated, OWNER)
            assert owner_refused == BURST + 1

            # Another client reaches them through the other process: relayed to the owner,
            # which makes each as the client's, BURST of them, and refuses the next.
            for token in unmade[:BURST]:
                assert accepted(await open_raw(rated, token, RELAYING, client, held))
            refused = await open_raw(rated, unmade[BURST], RELAYING, client, held)
            assert not accepted(refused), "the owner made a session past the connecting client's bucket"
            assert await refusal(refused) == (4029, [REFUSED])
            assert (_refusals(rated, OWNER), _refusals(rated, RELAYING)) == (owner_refused + 1, 0)
            owner_pid = str(rated.servers[OWNER].pid)
            assert [rated.runs(session_id) for session_id in ids] == [[owner_pid]] * BURST + [[]]
            # Counted where the sessions were made: the relaying process made none, so the
            # client's bucket there is full.
            fresh = (await asyncio.to_thread(rated.page_config, "counted", RELAYING))["token"]
            assert accepted(await open_raw(rated, fresh, RELAYING, client, held))
        finally:
            for sock in held:
                await sock.close()

    run(scenario())
