"""Two promises of ``MAX_DOCUMENT_BYTES_PER_CLIENT`` (README, protocol.md §11) test_document_share.py leaves out.

- "a session counts against its maker, whoever changes it": another address that joins
  a shareable session and grows it is refused when the maker's documents would pass the
  cap, though the joiner itself holds nothing, and the joiner's own session still grows.
- "the application's own changes are not refused": a callback that grows its document
  past the cap is applied; the document counts from the session's next client change,
  which is refused when it grows the document.

A real server process; clients are told apart by the address they connect from.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from docsync.protocol import ACK, OK, PULL_DOC_REPLY, pull_doc_req
from docsync.testing import RawSocket

from .harness import Browser, Site, find_model, open_raw, pull_json, set_value_patch, site_on_each_server
from .test_document_share import _assert_refused_past
from .test_hostile_documents import array_message

pytestmark = pytest.mark.asyncio

#: A grown hostile document (a 56,000-byte column) takes about 40% of it, as in test_document_share.py.
BUDGET = 150_000
#: Float64 zeros the app's callback writes: 320,000 bytes, twice the budget.
APP_GROWTH = 40_000
#: Source addresses of their own (test_document_share.py counts from 127.1.0.2).
_addresses = (f"127.2.{n // 250}.{n % 250 + 2}" for n in itertools.count(1))

site = site_on_each_server(
    "document-share-promises",
    DJANGO_SETTINGS_MODULE="tests.hardening.document_share_settings",
    DOCSYNC_MAX_DOCUMENT_BYTES_PER_CLIENT=str(BUDGET),
)


async def _open(browser: Browser, app: str, source: str, query: str = "") -> tuple[dict[str, Any], RawSocket]:
    """The page configuration of ``app`` and a socket of its session connected from ``source``."""
    config = browser.page_config(app, query)
    sock = await open_raw(config["wsUrl"], config["token"], source_address=source, headers=browser.cookie_header())
    assert sock.messages and sock.messages[0].msgtype == ACK, (sock.errors(), sock.close_code)
    return config, sock


async def _grow(sock: RawSocket, column: str) -> Any:
    """Send a patch adding a 56,000-byte column to the source; return its reply."""
    reply = await sock.request(pull_doc_req())
    source = find_model(reply.content["doc"], "source")["id"]
    event = {"kind": "ColumnDataChanged", "model": {"id": source}, "attr": "data", "columns": {column: {"array": "c"}}}
    return await sock.request(array_message([event], {"c": np.zeros((4, 1750))}))


async def test_a_joined_session_counts_against_its_maker(site: Site) -> None:
    maker, joiner = next(_addresses), next(_addresses)
    _, first = await _open(site.browser(), "hostile_shared", maker)
    shared_config, made = await _open(site.browser(), "hostile_shared", maker)
    # Another browser, from another address, joins the maker's second session.
    join = f"?session_id={shared_config['sessionId']}"
    joined_config, joined = await _open(site.browser(), "hostile_shared", joiner, join)
    _, own = await _open(site.browser(), "hostile_shared", joiner)
    try:
        assert joined_config["sessionId"] == shared_config["sessionId"]
        assert (await _grow(first, "a")).msgtype == OK
        assert (await _grow(joined, "a")).msgtype == OK  # the maker's: about 80% of its budget
        before = (await joined.request(pull_doc_req())).content["doc"]
        # The joiner holds no document of its own, but this one is the maker's: 120% of its budget.
        _assert_refused_past(await _grow(joined, "b"), BUDGET)
        after = await joined.request(pull_doc_req())  # the connection stays open
        assert after.msgtype == PULL_DOC_REPLY
        assert after.content["doc"] == before, "a refused patch changed the document"
        # The joiner's own session counts against the joiner, who holds nothing yet.
        assert (await _grow(own, "a")).msgtype == OK
        assert (await _grow(own, "b")).msgtype == OK
    finally:
        for sock in (first, made, joined, own):
            await sock.close()


async def test_the_applications_own_growth_is_not_refused(site: Site) -> None:
    config, sock = await _open(site.browser(), "app_grows", next(_addresses))
    try:
        doc = await pull_json(config)
        slider = find_model(doc, "slider")["id"]
        # The client's change is one number; the callback it runs writes twice the budget.
        reply = await sock.request(set_value_patch(slider, "value", APP_GROWTH))
        assert reply.msgtype == OK, reply.content
        grown = await sock.request(pull_doc_req())
        column = find_model(grown.content["doc"], "source")["attributes"]["data"]["x"]
        assert column["shape"] == [APP_GROWTH], column
        # The next client change that grows the document (100 characters) counts it whole, and is refused.
        text = find_model(doc, "text")["id"]
        _assert_refused_past(await sock.request(set_value_patch(text, "value", "y" * 100)), BUDGET)
        again = await sock.request(pull_doc_req())
        assert again.content["doc"] == grown.content["doc"], "a refused patch changed the document"
    finally:
        await sock.close()
