"""Long and escaped model ids cannot grow a document past what a pull may carry.

A model's id appears in a pull twice when the model is a root (its definition and the
roots list), and an id of control characters takes six bytes of JSON per character
(``\\u0001``). The size bound of docs/protocol.md §11 counts both, so a client cannot
make the session's document too big to be pulled (every new tab would be closed with
1009). Against a real server whose frames are at most 64 KiB (``settings.py``).
"""

from __future__ import annotations

import pytest

from docsync.protocol import OK

from .hostile import Victim, definition, patch
from .settings import MAX_FRAME_BYTES

pytestmark = pytest.mark.asyncio


def new_root(model_id: str) -> object:
    return patch([{"kind": "RootAdded", "model": {"id": model_id}}], [definition(model_id)])


async def add_roots_until_refused(victim: Victim, ids: list[str]) -> str:
    """Add a root of each id in turn; return the text of the first refusal."""
    sock = await victim.raw()
    try:
        for model_id in ids:
            reply = await sock.request(new_root(model_id))  # type: ignore[arg-type]
            if reply.msgtype != OK:
                assert reply.content["code"] == "patch-refused", reply.content
                return str(reply.content["text"])
            victim.before = await victim.document_bytes()  # a pull still carries it
    finally:
        await sock.close()
    raise AssertionError("every root was accepted")


async def test_a_root_s_long_id_counts_in_the_roots_list_too(victim: Victim) -> None:
    # Each id is a quarter of a frame: two such roots are half a frame in definitions,
    # and another half in the roots list.
    ids = [chr(ord("a") + i) * (MAX_FRAME_BYTES // 4) for i in range(4)]
    text = await add_roots_until_refused(victim, ids)
    assert text.startswith("document JSON too large: ") and text.endswith(f" > {MAX_FRAME_BYTES} bytes"), text
    await victim.assert_unharmed()


async def test_an_id_of_control_characters_counts_as_its_escaped_json(victim: Victim) -> None:
    # 2,500 characters that JSON writes as \u00XX: 15,000 bytes, twice per root.
    ids = [chr(i) * 2_500 for i in range(1, 5)]
    text = await add_roots_until_refused(victim, ids)
    assert text.startswith("document JSON too large: ") and text.endswith(f" > {MAX_FRAME_BYTES} bytes"), text
    await victim.assert_unharmed()


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
