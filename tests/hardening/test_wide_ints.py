"""An integer past 64 bits never gets into a document: no pull of the session could be encoded.

Found by the callback fuzz (``test_fuzz_callbacks.py``, seed 2001): a callback squared a
client's number into a column (``derived.y``); the write raised only once the value
was stored, while the change was being recorded, so the document kept it unsent, and
every later pull of the session failed to encode it: the server closed each new tab's
connection with 1011 and no ERROR. And a client's Spinner value of 1.5e21 in mode
"int" was taken as the integer 1500000000000000000000, with the same effect. Now the
write is refused before anything changes (a column, a streamed row, a patched cell, an
Int property, a Spinner's value in mode "int").
"""

from __future__ import annotations

import json

import pytest

from docsync.protocol import ERROR, OK
from docsync.testing import EVENT_WAIT

from .harness import Site, find_model, open_client, open_raw, pull_json
from .hostile import patch

pytestmark = pytest.mark.asyncio

NOTICE = "Something went wrong on the server (a callback failed); the server log has the details."


async def test_a_callback_writing_a_wide_int_into_a_column_fails_and_the_session_lives(site: Site) -> None:
    config = site.browser().page_config("workers")
    watcher = await open_client(config)
    try:
        sock = await open_raw(config["wsUrl"], config["token"])
        try:
            # n * n = 2**80: the stream into derived.y is refused, the callback fails.
            work = {"kind": "MessageSent", "msg_type": "work", "msg_data": {"n": 2**40}}
            reply = await sock.request(patch([work]))
            assert reply.msgtype == OK, reply.content
        finally:
            await sock.close()
        await watcher.wait_for(lambda: NOTICE in [n.get("text") for n in watcher.notices], EVENT_WAIT)
        # A new tab loads the session: the callback's source patch stands (its own callback
        # wrote derived's data from it), the stream of 2**80 does not.
        derived = find_model(await pull_json(config), "derived")["attributes"]["data"]
        assert derived == {"x": [1.0, 2.0], "y": [2.0**40, 8.0]}, derived
    finally:
        await watcher.close()


async def test_a_spinner_value_past_64_bits_in_int_mode_is_refused(site: Site) -> None:
    config = site.browser().page_config("all_models")
    before = await pull_json(config)
    spinner = next(m for m in before["models"] if m["name"] == "Spinner")
    sock = await open_raw(config["wsUrl"], config["token"])
    try:
        event = {"kind": "ModelChanged", "model": {"id": spinner["id"]}, "attr": "value", "new": 1.5e21}
        reply = await sock.request(patch([event]))
    finally:
        await sock.close()
    assert reply.msgtype == ERROR and reply.content["code"] == "patch-refused", reply.content
    assert reply.content["text"] == "Spinner.value 1.5e+21 does not fit in 64 bits (mode 'int')"
    assert json.dumps(await pull_json(config), sort_keys=True) == json.dumps(before, sort_keys=True)


async def test_a_callback_writing_a_wide_int_into_a_free_form_value_fails_and_the_session_lives(site: Site) -> None:
    # FactorRange.factors is a List(Any_()): before, the nested 2**70 was stored, its
    # change failed to encode while being recorded, and every new tab's pull closed 1011.
    config = site.browser().page_config("workers")
    watcher = await open_client(config)
    try:
        sock = await open_raw(config["wsUrl"], config["token"])
        try:
            factor = {"kind": "MessageSent", "msg_type": "factor", "msg_data": {"n": 2**35}}
            reply = await sock.request(patch([factor]))
            assert reply.msgtype == OK, reply.content
        finally:
            await sock.close()
        # protocol.md §9: the callback's failure is told to every tab, without detail.
        await watcher.wait_for(lambda: NOTICE in [n.get("text") for n in watcher.notices], EVENT_WAIT)
        assert find_model(await pull_json(config), "factors")["attributes"]["factors"] == ["a", "b"]
        # A value that fits is still taken, and a new tab pulls it.
        sock = await open_raw(config["wsUrl"], config["token"])
        try:
            factor = {"kind": "MessageSent", "msg_type": "factor", "msg_data": {"n": 2**31}}
            assert (await sock.request(patch([factor]))).msgtype == OK
        finally:
            await sock.close()
        held = watcher.document.get_model_by_name("factors")
        await watcher.wait_for(lambda: len(held.factors) == 3, EVENT_WAIT)  # type: ignore[union-attr]
        assert find_model(await pull_json(config), "factors")["attributes"]["factors"] == ["a", "b", ["n8", 2**62]]
    finally:
        await watcher.close()
