"""A websocket relayed to its session's process is told why it is closed once, as a local one is.

protocol.md §12: before the server closes a connection it sends an ERROR without
``reqid`` naming the reason. The owning process queues that ERROR and the close for a
relayed websocket; the relaying process used to add an ERROR of its own when it closed
the socket, so a relayed client read the reason twice (found by a client written from
protocol.md alone, with the admin's end of a session: close 4001).
"""

from __future__ import annotations

import time

import pytest

from docsync.protocol import ACK
from docsync.testing import RawSocket

from .conftest import AdminBrowser, Cluster, run

pytestmark = pytest.mark.cluster

ENDED = "This session was ended by an administrator."


def test_a_relayed_socket_gets_one_error_before_the_admins_4001(pair: Cluster) -> None:
    config = pair.page_config("counted", 0)
    session_id = config["sessionId"]
    admin = AdminBrowser(pair.servers[0].url)
    admin.login()

    async def scenario() -> None:
        own = await RawSocket.connect(pair.ws_url("counted", 0), config["token"])  # process 0 makes the session
        relayed = await RawSocket.connect(pair.ws_url("counted", 1), config["token"])
        try:
            assert (await own.read_message()).msgtype == ACK
            assert (await relayed.read_message()).msgtype == ACK
            deadline = time.monotonic() + 30  # the admin's list is written every ADMIN_REFRESH
            while session_id[:8] not in " ".join(row[0] for row in admin.session_rows()):
                assert time.monotonic() < deadline, "the session never reached the admin's list"
                time.sleep(0.2)
            admin.post(
                "admin/docsync/livesession/", {"action": "expire_now", "_selected_action": session_id, "index": "0"}
            )
            own_closed, relayed_closed = await own.until_closed(), await relayed.until_closed()
            assert (own_closed.code, own.errors()) == (4001, [ENDED])
            assert (relayed_closed.code, relayed.errors()) == (4001, [ENDED])  # was [ENDED, ENDED]
        finally:
            await own.close()
            await relayed.close()

    run(scenario())
