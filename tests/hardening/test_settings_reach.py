"""Settings of the README's table reach what they bound in a served site.

``MAX_ARRAY_ELEMENTS``, ``MAX_COLUMN_BYTES`` and ``SYNC_CALLBACK_THREADS``: their
mechanisms have unit tests (the decoder's element bound, the document's column bound,
the worker-thread pool); these check that the Django setting is the one a running daphne
process applies: one site with ``MAX_ARRAY_ELEMENTS`` 100, ``MAX_COLUMN_BYTES`` 4000 and
``SYNC_CALLBACK_THREADS`` 2.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from docsync.protocol import ERROR, OK
from docsync.testing import EVENT_WAIT

from .harness import Database, Site, open_client, running_site
from .hostile import Victim, patch

MAX_ELEMENTS = 100
MAX_COLUMN = 4000
THREADS = 2
SESSIONS = 6  # even: the probe's callbacks run in pairs

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    yield from running_site(
        tmp_path_factory,
        database,
        "settings-reach",
        DOCSYNC_MAX_ARRAY_ELEMENTS=str(MAX_ELEMENTS),
        DOCSYNC_MAX_COLUMN_BYTES=str(MAX_COLUMN),
        DOCSYNC_SYNC_CALLBACK_THREADS=str(THREADS),
        DOCSYNC_NEW_SESSIONS_PER_CLIENT_PER_SECOND="1000",
    )


def _column(length: int) -> dict[str, Any]:
    """A float64 array of ``length`` elements as a client writes it."""
    payload = base64.b64encode(np.arange(float(length)).tobytes()).decode()
    return {"type": "ndarray", "base64": payload, "dtype": "float64", "shape": [length], "order": "little"}


def _stream(source: str, length: int) -> dict[str, Any]:
    data = {"x": _column(length), "s": ["v"] * length}
    return {"kind": "ColumnsStreamed", "model": {"id": source}, "attr": "data", "data": data, "rollover": None}


async def test_an_array_over_max_array_elements_is_refused_and_one_at_it_is_taken(site: Site) -> None:
    victim = await Victim.open(site)
    try:
        source = victim.model_id("source")
        sock = await victim.raw()
        try:
            reply = await sock.request(patch([_stream(source, MAX_ELEMENTS + 1)]))
            assert reply.msgtype == ERROR and reply.content["code"] == "patch-refused", reply.content
            assert f"ndarray too large: {MAX_ELEMENTS + 1} > {MAX_ELEMENTS} elements" in reply.content["text"]
            await victim.assert_unharmed()
            # At the bound: taken (the refusal above was the setting's, not another limit's).
            reply = await sock.request(patch([_stream(source, MAX_ELEMENTS)]))
            assert reply.msgtype == OK, reply.content
        finally:
            await sock.close()
        observed = victim.observer.document.get_model_by_name("source")
        await victim.observer.wait_for(lambda: len(observed.data["x"]) == 4 + MAX_ELEMENTS, EVENT_WAIT)  # type: ignore[union-attr]
    finally:
        await victim.close()


async def test_a_column_grown_past_max_column_bytes_is_refused(site: Site) -> None:
    victim = await Victim.open(site)
    try:
        source = victim.model_id("source")
        sock = await victim.raw()
        try:
            # x starts with 4 float64 values; each stream adds 100 (800 bytes): the fifth makes 4032.
            for _ in range(4):
                reply = await sock.request(patch([_stream(source, MAX_ELEMENTS)]))
                assert reply.msgtype == OK, reply.content
            victim.before = await victim.document_bytes()
            reply = await sock.request(patch([_stream(source, MAX_ELEMENTS)]))
        finally:
            await sock.close()
        assert reply.msgtype == ERROR and reply.content["code"] == "patch-refused", reply.content
        expected = f"column 'x' of ColumnDataSource {source!r} too large: {504 * 8} > {MAX_COLUMN} bytes"
        assert expected in reply.content["text"], reply.content
        await victim.assert_unharmed()
    finally:
        await victim.close()


async def test_sync_callbacks_run_in_at_most_sync_callback_threads(site: Site) -> None:
    clients = [await open_client(site.browser().page_config("threads_probe")) for _ in range(SESSIONS)]
    try:
        # Every session's callback at once (they run in pairs): a thread each if there were enough.
        for number, client in enumerate(clients, start=1):
            client.document.get_model_by_name("slider").value = number  # type: ignore[union-attr]
        await asyncio.gather(*(client.sync(EVENT_WAIT) for client in clients))
        # One more, alone (the slider's end: no pair): its report counts every callback so far.
        first = clients[0]
        first.document.get_model_by_name("slider").value = 1_000_000  # type: ignore[union-attr]
        await first.sync(EVENT_WAIT)
        text = first.document.get_model_by_name("report").text  # type: ignore[union-attr]
    finally:
        for client in clients:
            await client.close()
    match = re.fullmatch(r"peak (\d+) threads \[(.*)\]", text)
    assert match is not None, text
    threads = [name.strip(" '") for name in match.group(2).split(",")]
    assert int(match.group(1)) == THREADS, text
    assert len(threads) == THREADS and all(name.startswith("docsync-sync") for name in threads), threads
