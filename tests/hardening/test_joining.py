"""Joining a session by id: only its own user, unless the app declares its sessions shareable.

Against the main hardening site: alice opens a login-protected app; bob asks for her
session with ``?session_id=`` (he gets a session of his own) and tries a token for it
(refused with 1008, her document unchanged, her next change applied). On a shareable
app both join one session, and each change's callbacks see the user who made it.
"""

from __future__ import annotations

from typing import Any

import pytest

from docsync.client import ClientSession
from docsync.testing import EVENT_WAIT

from .harness import Site, canonical, expect_refusal, find_model, mint_token, open_client, pull_json


async def _move(session: ClientSession, value: int) -> None:
    session.document.get_model_by_name("slider").value = value
    await session.sync(EVENT_WAIT)


def _who(doc_json: dict[str, Any]) -> str:
    return str(find_model(doc_json, "who")["attributes"]["text"])


@pytest.mark.asyncio
async def test_another_users_session_is_not_joined(site: Site) -> None:
    alice, bob = site.browser("alice"), site.browser("bob")
    mine = alice.page_config("own_sessions")
    session = await open_client(mine, headers=alice.cookie_header())
    try:
        await _move(session, 1)
        before = canonical(await pull_json(mine, headers=alice.cookie_header()))

        # The page gives bob a session of his own: it says nothing of alice's.
        asked = bob.page_config("own_sessions", f"?session_id={mine['sessionId']}")
        assert asked["sessionId"] != mine["sessionId"]
        # Alice herself, in another tab, is given her session back.
        assert alice.page_config("own_sessions", f"?session_id={mine['sessionId']}")["sessionId"] == mine["sessionId"]

        # A token for her session bound to bob (as a leaked one would be) is refused.
        token = mint_token(mine["sessionId"], "own_sessions", site.user_ids["bob"])
        code, errors = await expect_refusal(mine["wsUrl"], token, headers=bob.cookie_header())
        assert (code, errors) == (1008, ["session belongs to another user"])

        assert canonical(await pull_json(mine, headers=alice.cookie_header())) == before
        await _move(session, 2)
        assert _who(await pull_json(mine, headers=alice.cookie_header())) == "alice set 2; connected: alice"
    finally:
        await session.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("app", ["shareable_sessions", "shareable_async"])
async def test_a_shareable_session_keeps_each_connections_user(site: Site, app: str) -> None:
    # docs/howto/access.md: "doc.session_context.user is the user acting now", in a sync or async callback.
    alice, bob = site.browser("alice"), site.browser("bob")
    hers = alice.page_config(app)
    first = await open_client(hers, headers=alice.cookie_header())
    joined = bob.page_config(app, f"?session_id={hers['sessionId']}")
    assert joined["sessionId"] == hers["sessionId"]
    second = await open_client(joined, headers=bob.cookie_header())
    try:
        await _move(second, 7)
        assert _who(await pull_json(hers, headers=alice.cookie_header())) == "bob set 7; connected: alice, bob"
        await first.sync(EVENT_WAIT)
        await _move(first, 8)
        assert _who(await pull_json(joined, headers=bob.cookie_header())) == "alice set 8; connected: alice, bob"
    finally:
        await first.close()
        await second.close()
