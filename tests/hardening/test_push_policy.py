"""PUSH-DOC only where it is meant: a client creating its session, as a user the app's "push" rule allows.

Against the main hardening site. Every refusal is ERROR ``push-not-allowed``, the
document is unchanged (pulled over the same connection before and after), and a valid
patch that follows is applied. The allowed case is docsync's own ``push_session``.
"""

from __future__ import annotations

import pytest

from docsync.client import push_session
from docsync.document import Document
from docsync.document.models import Column, Div, Slider
from docsync.protocol import ERROR
from docsync.testing import RawSocket

from .harness import Site, open_client
from .pusher import Creator, push

NOT_ALLOWED = "push-not-allowed"
CREATORS_ONLY = (
    "PUSH-DOC not allowed: only a client creating its session may push, and only where the application allows it"
)
NO_LONGER = (
    "PUSH-DOC not allowed: the session is no longer being created (another connection joined, or it was changed)"
)
PUSHED = {"title": "pushed", "roots": [{"id": "p1"}], "models": [{"type": "object", "name": "Div", "id": "p1"}]}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("app", "user"), [("limits", "alice"), ("pushable", None)], ids=["app-without-push", "anonymous"]
)
async def test_a_creator_the_app_does_not_let_push_is_refused(site: Site, app: str, user: str | None) -> None:
    creator = await Creator.open(site, app, site.browser(user))
    try:
        assert await creator.refused(push(PUSHED), code=NOT_ALLOWED) == CREATORS_ONLY
        await creator.assert_patch_applied(5.0)
    finally:
        await creator.close()


@pytest.mark.asyncio
async def test_a_connection_that_did_not_create_the_session_is_refused(site: Site) -> None:
    alice = site.browser("alice")
    creator = await Creator.open(site, "pushable", alice)
    joiner = await RawSocket.connect(creator.config["wsUrl"], creator.config["token"], headers=alice.cookie_header())
    try:
        await joiner.read_message()  # ACK
        # The joiner, though its user may push, did not create the session.
        reply = await joiner.request(push(PUSHED))
        assert (reply.content["code"], reply.content["text"]) == (NOT_ALLOWED, CREATORS_ONLY)
        # And the creator, now that another connection joined, may not either.
        assert await creator.refused(push(PUSHED), code=NOT_ALLOWED) == NO_LONGER
        await creator.assert_patch_applied(6.0)
    finally:
        await joiner.close()
        await creator.close()


@pytest.mark.asyncio
async def test_a_creator_that_changed_its_session_may_no_longer_push(site: Site) -> None:
    creator = await Creator.open(site, "pushable", site.browser("alice"))
    try:
        await creator.assert_patch_applied(7.0)
        assert await creator.refused(push(PUSHED), code=NOT_ALLOWED) == NO_LONGER
        await creator.assert_patch_applied(8.0)
    finally:
        await creator.close()


@pytest.mark.asyncio
async def test_push_session_by_an_allowed_user_replaces_the_new_sessions_document(site: Site) -> None:
    alice = site.browser("alice")
    document = Document()
    document.add_root(Column(Slider(start=0, end=10, value=2, name="slider"), Div(text="from python", name="text")))
    session = await push_session(document, f"{site.url}pushable/", headers=alice.cookie_header())
    try:
        config = session.config
        other = await open_client(config, headers=alice.cookie_header())
        try:
            assert other.document.get_model_by_name("text").text == "from python"  # type: ignore[union-attr]
        finally:
            await other.close()
        # Once pushed, the session is made: a second push is refused.
        reply = await session.request(push(PUSHED))
        assert (reply.msgtype, reply.content["code"], reply.content["text"]) == (ERROR, NOT_ALLOWED, NO_LONGER)
    finally:
        await session.close()
