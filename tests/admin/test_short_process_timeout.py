"""Two live processes keep each other's rows of the live-session table with PROCESS_TIMEOUT below ADMIN_REFRESH.

A process deletes rows not written for PROCESS_TIMEOUT, and a live process's rows are up
to ADMIN_REFRESH old between its writes: with 1 s against 2 s (outside attackers'
report), each process deleted the other's live rows at every refresh and they were
written again at the next (probed: the two rows went 2, 1, 2, 1 in 10 s, 4 rewrites
logged). Now rows are kept at least ``silent_after(ADMIN_REFRESH)``.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.hardening.harness import Browser, Database, Site, open_client, wait_until

REFRESH = 0.6
TIMEOUT = 0.2  # under half a refresh: whatever the two writers' phases, one finds the other's row older
REWRITTEN = "were deleted by another"
WRITES = 5  # of each process, after the first one seen


@pytest.mark.asyncio
async def test_two_processes_keep_each_other_s_rows(
    tmp_path_factory: pytest.TempPathFactory, database: Database
) -> None:
    site = Site(
        tmp_path_factory.mktemp("short-timeout"),
        database,
        DOCSYNC_PROCESS_TIMEOUT=str(TIMEOUT),
        DOCSYNC_ADMIN_REFRESH=str(REFRESH),
    )
    site.servers.append(site._process("daphne", None, 1))  # a second process on the same database
    site.start()
    clients = []
    try:
        for server in site.servers:  # a session in each process
            config = await asyncio.to_thread(Browser(server.url).page_config, "sliders")
            clients.append(await open_client(config))
        await wait_until(lambda: len(site.live_rows()) == 2, 20, "both processes' rows written")
        # Every write of a process sets its rows' "reported" and deletes the rows older than the
        # timeout. Five more writes of each, counted by those times (not a fixed 3 s, in which a
        # loaded machine writes less): at each, the other's row was older than TIMEOUT.
        counts = []
        written: dict[str, set[str]] = {}

        def writes_seen() -> bool:
            rows = site.live_rows()
            counts.append(len(rows))
            for row in rows:
                written.setdefault(row["process"], set()).add(row["reported"])
            return len(written) == 2 and all(len(times) > WRITES for times in written.values())

        await wait_until(writes_seen, 60, f"{WRITES} more writes of each process", interval=0.1)
        assert REWRITTEN not in site.log_text()
        assert set(counts) == {2}
        processes = {row["process"] for row in site.live_rows()}
        assert len(processes) == 2
    finally:
        for client in clients:
            await client.close()
        site.stop()
