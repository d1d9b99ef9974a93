"""A mass restore after a restart is not refused by the new-session bucket (NEW_SESSIONS_PER_CLIENT_*).

After a deploy every tab behind one address (a NAT, an office) resumes at once, each
reaching a process that restores its session from the store. Each of those sessions
took its token when it was made; restoring it takes none (docs/persistence.md,
Restore), or a bucket of 2 refused all but 2 of them with 4029 and the sessions did not
outlive their process. Real daphne processes, one SQLite store, docsync's Python client
from one address.
"""

from __future__ import annotations

import asyncio
import signal

import pytest

from docsync.client import ClientSession, ServerError, fetch_page_config
from docsync.testing import EVENT_WAIT

from .conftest import Site
from .test_kill_and_drain import notes_of, open_client, wait_until

pytestmark = pytest.mark.asyncio

BURST = 2  # NEW_SESSIONS_PER_CLIENT_BURST of the restarted process
SESSIONS = 6  # saved by the first process, all from one address: more than BURST


async def test_every_tab_of_one_address_resumes_after_a_restart_and_only_new_sessions_take_tokens(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # The first process makes the sessions as tabs opened over an afternoon would: its
    # bucket is off here, so that the test need not wait for it to refill.
    site = Site(tmp_path_factory.mktemp("restore-rate"), DOCSYNC_NEW_SESSIONS_PER_CLIENT_PER_SECOND="0")
    site.start()
    clients = [await open_client(site) for _ in range(SESSIONS)]
    try:
        for n, client in enumerate(clients):
            notes_of(client).items.append(f"tab {n}")
            await client.sync(EVENT_WAIT)
        process = site.server.process
        assert process is not None
        process.send_signal(signal.SIGTERM)  # a deploy: the process drains (saves every session) and stops
        await asyncio.to_thread(process.wait, 60)
        assert f"drained {SESSIONS} sessions ({SESSIONS} saved" in site.log()
        await wait_until(lambda: not any(c.connected.is_set() for c in clients), "every client to see 4012")

        # The new process: a bucket of BURST, refilled at one session per 1,000 s.
        site.env["DOCSYNC_NEW_SESSIONS_PER_CLIENT_BURST"] = str(BURST)
        site.env["DOCSYNC_NEW_SESSIONS_PER_CLIENT_PER_SECOND"] = "0.001"
        second = site.start().server
        outcomes = await asyncio.gather(*(c.reconnect() for c in clients), return_exceptions=True)
        refused = [(str(o), c.close_code) for o, c in zip(outcomes, clients, strict=True) if o is not None]
        assert refused == [], f"restores refused: {refused}"
        for n, client in enumerate(clients):
            assert not client.resumed_fresh
            assert list(notes_of(client).items) == [f"tab {n}"]
            assert f"{second.pid} restored {client.id}" in site.hooks()

        # The bucket is in force, untouched by the restores: BURST new sessions, then 4029.
        made = [await open_client(site) for _ in range(BURST)]
        clients += made
        config = await asyncio.to_thread(fetch_page_config, site.url + "board/")
        late = ClientSession(config)
        with pytest.raises(ServerError) as excinfo:
            await late.connect()
        assert late.close_code == 4029
        assert "NEW_SESSIONS_PER_CLIENT_PER_SECOND" in str(excinfo.value)
        assert not any(line.endswith(f"created {late.id}") for line in site.hooks())  # no app code ran
    finally:
        for client in clients:
            await client.close()
        site.stop()
