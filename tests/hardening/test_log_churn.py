"""Refused patches may not push other clients' changes out of a shared session.

A patch defining more models than the clients may still create is refused and its
sender reset; the reset takes a position of its own in the session's patch log (an empty
entry, sent to no one). An anonymous client of a shareable session sent PATCH_LOG_SIZE
such patches (a few bytes each, within its patch rate), and every position another
client had seen fell out of the log: that client's next patch, based on the last change
it saw, could no longer be judged and lost whole (OK with every event rejected, its
value put back), while the attacker went on. Empty entries hold no change: a base
behind them only is judged as before.

Against a real daphne with a 50-entry patch log (and the test site's MAX_CLIENT_MODELS, 5).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from docsync.protocol import ACK, ERROR, OK, PULL_DOC_REPLY, PUSH_DOC, new_message, pull_doc_req
from docsync.server.connection.rate import DOCUMENT_REQUESTS_PER_SECOND

from .harness import Database, RawSocket, Site, find_model, open_raw, set_value_patch

pytestmark = pytest.mark.asyncio

LOG = 50  # PATCH_LOG_SIZE
MAX_CLIENT_MODELS = 5  # the test site's


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[Site]:
    site = Site(tmp_path_factory.mktemp("log-churn"), database, DOCSYNC_PATCH_LOG_SIZE=str(LOG))
    site.start()
    try:
        yield site
    finally:
        site.stop()


def _too_many_models() -> dict[str, object]:
    """A patch defining more models than clients may create: refused unread, its sender reset."""
    definitions = [{"type": "object", "name": "Div", "id": f"x{n}"} for n in range(MAX_CLIENT_MODELS + 1)]
    return {"events": [], "references": definitions}


async def test_refused_patches_do_not_make_another_clients_changes_lose(site: Site) -> None:
    config = await asyncio.to_thread(site.browser().page_config, "anon_shareable")
    url, token = config["wsUrl"], config["token"]
    victim = await open_raw(url, token, source_address="127.0.40.2")
    attacker = await open_raw(url, token, source_address="127.0.40.3")
    sockets: list[RawSocket] = [victim, attacker]
    try:
        assert victim.messages[0].msgtype == ACK and attacker.messages[0].msgtype == ACK
        pulled = await victim.request(pull_doc_req())
        assert pulled.msgtype == PULL_DOC_REPLY
        base, slider = pulled.content["seq"], find_model(pulled.content["doc"], "slider")["id"]
        for i in range(LOG + 5):
            if i and i % int(DOCUMENT_REQUESTS_PER_SECOND) == 0:
                # Each refusal resets its sender (the whole document), which counts with the
                # connection's document requests (protocol.md §11): a new socket past them.
                await attacker.close()
                attacker = await open_raw(url, token, source_address="127.0.40.3")
                sockets.append(attacker)
            reply = await attacker.request(new_message("PATCH-DOC", _too_many_models()))
            assert reply.msgtype == ERROR and reply.content["code"] == "patch-refused", reply.content
            reset = await attacker.read_message()
            assert reset.msgtype == PUSH_DOC
        # The victim moves the slider, based on the last change it saw: it is applied.
        answer = await victim.request(set_value_patch(slider, "value", 7, base=base))
        assert answer.msgtype == OK, answer.content
        assert answer.content["rejected"] == 0, f"the victim's change lost: {answer.content}"
        check = await victim.request(pull_doc_req())
        assert find_model(check.content["doc"], "slider")["attributes"]["value"] == 7
    finally:
        for sock in sockets:
            await sock.close()
