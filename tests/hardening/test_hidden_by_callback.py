"""A client cannot put back, in the same patch, a model the application's callback just hid.

The swapper app shows one of two views; its Select's callback takes the other out of the
document (the application hides it, keeping it). A patch whose first event sets the
Select (the callback hides view a) and whose next event attaches view a by reference (a
``RootAdded``: the server read the reference while view a was still shown) put the hidden
view back, as a root, for every tab of the session. In a later patch the reference loses
(docs/protocol.md §9, §13); within the patch it now loses too: the event is left out, its
sender is reset, the document is what the application left, and no other tab hears of it.
"""

from __future__ import annotations

from typing import Any

import pytest

from docsync.protocol import OK, PATCH_DOC, PUSH_DOC

from .harness import Site, canonical, find_model, pull_json
from .hostile import Victim, patch

pytestmark = pytest.mark.asyncio


def _names_model(message_content: dict[str, Any], model_id: str) -> bool:
    """Whether a PATCH-DOC's content defines ``model_id`` or adds it as a root."""
    references = message_content.get("references") or []
    events = message_content.get("events") or []
    return any(r.get("id") == model_id for r in references) or any(
        e.get("kind") == "RootAdded" and e.get("model", {}).get("id") == model_id for e in events
    )


async def test_a_view_the_callback_hides_is_not_put_back_by_the_same_patch(site: Site) -> None:
    victim = await Victim.open(site, "swapper")
    try:
        view_a = victim.model_id("view_a")
        choice, slider, root = victim.model_id("choice"), victim.model_id("slider"), victim.model_id("root")
        observed = len(victim.observer.received)
        sock = await victim.raw()
        try:
            seq = (await sock.pull()).content["seq"]
            attack = patch(
                [
                    {"kind": "ModelChanged", "model": {"id": choice}, "attr": "value", "new": "b"},
                    {"kind": "RootAdded", "model": {"id": view_a}},
                ],
                base=seq,
            )
            reply = await sock.request(attack)
            assert reply.msgtype == OK, reply.content
            # The Select's change is taken; the put-back loses (the second event, index 1).
            assert reply.content["rejected"] == 1 and reply.content["lost"] == [1], reply.content
            # Its sender, which added the root, is reset to the server's document.
            while (message := await sock.read_message()).msgtype != PUSH_DOC:
                assert message.msgtype == PATCH_DOC, message.content
            server = await pull_json(victim.config)
            assert canonical(message.content["doc"]) == canonical(server)
        finally:
            await sock.close()
        # What the application left: view b shown, view a out of the document.
        assert server["roots"] == [{"id": root}]
        assert view_a not in {m["id"] for m in server["models"]}
        assert find_model(server, "choice")["attributes"]["value"] == "b"
        view_b = find_model(server, "view_b")["id"]
        children = [c["id"] for c in find_model(server, "root")["attributes"]["children"]]
        assert children == [choice, slider, view_b]
        # The other tab follows the application, and was never sent view a.
        observer = victim.observer
        await observer.wait_for(lambda: observer.document.get_model_by_id(view_b) is not None, 10)
        victim.before = await victim.document_bytes()
        await victim.assert_unharmed()
        patches = [m for m in observer.received[observed:] if m.msgtype == PATCH_DOC]
        assert not any(_names_model(m.content, view_a) for m in patches), [m.content for m in patches]
        assert observer.document.get_model_by_id(view_a) is None
        assert canonical(observer.document.to_json()[0]) == canonical(await pull_json(victim.config))
        # The application shows view a again, its own.
        sock = await victim.raw()
        try:
            show = patch([{"kind": "ModelChanged", "model": {"id": choice}, "attr": "value", "new": "a"}])
            assert (await sock.request(show)).msgtype == OK
        finally:
            await sock.close()
        shown = await pull_json(victim.config)
        assert find_model(shown, "view_a")["id"] == view_a and shown["roots"] == [{"id": root}]
    finally:
        await victim.close()


async def test_a_put_back_after_the_callback_in_a_later_patch_loses_as_before(site: Site) -> None:
    # The rule the same patch now keeps: the hiding answered first, the reference loses.
    victim = await Victim.open(site, "swapper")
    try:
        view_a, choice = victim.model_id("view_a"), victim.model_id("choice")
        sock = await victim.raw()
        try:
            seq = (await sock.pull()).content["seq"]
            hide = patch([{"kind": "ModelChanged", "model": {"id": choice}, "attr": "value", "new": "b"}], base=seq)
            assert (await sock.request(hide)).msgtype == OK
            put_back = patch([{"kind": "RootAdded", "model": {"id": view_a}}], base=seq)
            reply = await sock.request(put_back)
            assert reply.msgtype == OK and reply.content["rejected"] == 1, reply.content
        finally:
            await sock.close()
        assert view_a not in {m["id"] for m in (await pull_json(victim.config))["models"]}
    finally:
        await victim.close()
