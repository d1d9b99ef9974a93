"""Client-chosen model ids are bounded: at most 128 characters, and never the server's next ones.

A model's id appears in a pull at every reference to it (twice for a root: its
definition and the roots list), and an id of control characters takes six bytes of JSON
per character (``\\u0001``). Before ids were bounded, a client's 16 KiB ids grew the
document towards what a pull may carry; the size bound of docs/protocol.md §11 held
them, but an id had no limit of its own (docs/protocol.md §5 said so). Now one over
``MAX_CLIENT_MODEL_ID_LENGTH`` is refused naming the bound, and one at it is taken.
Against a real server whose frames are at most 64 KiB (``settings.py``).
"""

from __future__ import annotations

import json

import pytest

from docsync.document.model import MAX_CLIENT_MODEL_ID_LENGTH
from docsync.protocol import OK

from .hostile import Victim, definition, patch

pytestmark = pytest.mark.asyncio


def new_root(model_id: str) -> object:
    return patch([{"kind": "RootAdded", "model": {"id": model_id}}], [definition(model_id)])


@pytest.mark.parametrize("character", ["a", "\x01"])
async def test_a_model_id_past_its_bound_is_refused_and_one_at_it_taken(victim: Victim, character: str) -> None:
    # Before: a 16 KiB id was taken, and 2,500 control characters (15,000 bytes of JSON).
    for length in (MAX_CLIENT_MODEL_ID_LENGTH + 1, 2_500):
        text = await victim.refused(new_root(character * length), code="patch-refused")  # type: ignore[arg-type]
        assert text == f"model id too long: {length} > {MAX_CLIENT_MODEL_ID_LENGTH} characters"
        await victim.assert_unharmed()
    at_bound = character * MAX_CLIENT_MODEL_ID_LENGTH
    sock = await victim.raw()
    try:
        reply = await sock.request(new_root(at_bound))  # type: ignore[arg-type]
    finally:
        await sock.close()
    assert reply.msgtype == OK, reply.content
    assert json.dumps(at_bound).encode() in await victim.document_bytes()  # the pull writes it as JSON does


async def test_an_id_the_server_will_issue_is_reserved(victim: Victim) -> None:
    # Server ids are a per-process prefix and a counter (new_model_id): a client that
    # took the next ones would make the application's new models collide with its own.
    ids = [victim.model_id(name) for name in ("slider", "text", "source", "root")]
    prefix = ids[0][:6]
    assert all(i.startswith(prefix) and i[6:].isdigit() for i in ids), ids
    ahead = f"{prefix}{max(int(i[6:]) for i in ids) + 1_000_000}"
    text = await victim.refused(new_root(ahead), code="patch-refused")  # type: ignore[arg-type]
    assert text == f"model id {ahead!r} is reserved for the server's own models"
    await victim.assert_unharmed()
