"""A patch (or a pushed document) defining more models than a client may still create, in docsync's own dialect.

Against a real daphne with docsync's default limits (``default_site``): such a message is
refused before one model is built (``counted``'s CountedDiv counts every one the server
process builds; the app reports the count on request), nothing is applied, and a
patch's sender is reset.
"""

from __future__ import annotations

from typing import Any

import pytest

from docsync.conf import DEFAULTS
from docsync.protocol import ERROR, OK, PUSH_DOC, new_message

from . import counted  # noqa: F401  (CountedDiv is registered here too, as in the server)
from .harness import Site, find_model, open_client, open_raw, pull_json
from .hostile import definition, patch

MAX_CLIENT_MODELS = int(DEFAULTS["MAX_CLIENT_MODELS"])


def _count(tag: str) -> Any:
    """A PATCH-DOC whose "count" message makes the app write ``<tag>:<CountedDiv built>`` into its Div."""
    return patch([{"kind": "MessageSent", "msg_type": "count", "msg_data": tag}])


@pytest.mark.asyncio
async def test_a_patch_of_too_many_definitions_is_refused_before_any_is_built(default_site: Site) -> None:
    config = default_site.browser().page_config("counted")
    observer = await open_client(config)
    sock = await open_raw(config["wsUrl"], config["token"])
    try:
        report = observer.document.get_model_by_name("built")
        assert (await sock.request(_count("before"))).msgtype == OK
        await observer.wait_for(lambda: report.text == "before:0", 5)  # type: ignore[union-attr]
        before = await pull_json(config)
        # 5,000 definitions: a Column of 4,999 CountedDivs, added as a root.
        count = 5 * MAX_CLIENT_MODELS
        divs = [definition(f"c-{i}", "CountedDiv", text=f"div {i}") for i in range(1, count)]
        column = definition("c-0", "Column", children=[{"id": f"c-{i}"} for i in range(1, count)])
        reply = await sock.request(patch([{"kind": "RootAdded", "model": {"id": "c-0"}}], [column, *divs]))
        assert reply.msgtype == ERROR and reply.content["code"] == "patch-refused", reply.content
        # Its sender, which holds what it defined, is reset to the server's document.
        while not any(m.msgtype == PUSH_DOC for m in sock.messages):
            await sock.read_message(5.0)
        [reset] = [m for m in sock.messages if m.msgtype == PUSH_DOC]
        assert reset.content["doc"] == before
        # Nothing applied, for everyone; and not one of the definitions was built.
        assert await pull_json(config) == before
        assert (await sock.request(_count("after"))).msgtype == OK
        await observer.wait_for(lambda: report.text.startswith("after:"), 5)  # type: ignore[union-attr]
        assert report.text == "after:0"  # type: ignore[union-attr]
        assert len(observer.document.roots) == 1 and not observer.errors
        assert reply.content["text"] == (
            f"too many models created by clients: at most {MAX_CLIENT_MODELS} ({count} defined by this patch, 0 before)"
        )
        # Within the limit, definitions are built as before (one each).
        small = [definition("d-1", "CountedDiv", text="one"), definition("d-2", "CountedDiv", text="two")]
        events = [{"kind": "RootAdded", "model": {"id": "d-1"}}, {"kind": "RootAdded", "model": {"id": "d-2"}}]
        assert (await sock.request(patch(events, small))).msgtype == OK
        assert (await sock.request(_count("small"))).msgtype == OK
        await observer.wait_for(lambda: report.text == "small:2", 5)  # type: ignore[union-attr]
        assert len(observer.document.roots) == 3
    finally:
        await sock.close()
        await observer.close()


@pytest.mark.asyncio
async def test_a_pushed_document_of_too_many_models_is_refused_before_any_is_built(default_site: Site) -> None:
    config = default_site.browser().page_config("counted_push")
    sock = await open_raw(config["wsUrl"], config["token"])  # it makes the session: it may push
    try:
        count = 5 * MAX_CLIENT_MODELS
        models = [definition("c-0", "Column", children=[{"id": f"c-{i}"} for i in range(1, count)])]
        models += [definition(f"c-{i}", "CountedDiv", text=f"div {i}") for i in range(1, count)]
        doc = {"title": "pushed", "roots": [{"id": "c-0"}], "models": models}
        reply = await sock.request(new_message(PUSH_DOC, {"doc": doc}))
        assert reply.msgtype == ERROR and reply.content["code"] == "bad-document", reply.content
        assert reply.content["text"] == f"push refused: too many models: {count} > {MAX_CLIENT_MODELS}"
        assert (await sock.request(_count("pushed"))).msgtype == OK
        after = await pull_json(config)
        assert find_model(after, "built")["attributes"]["text"] == "pushed:0"
        assert after["title"] != "pushed" and len(after["roots"]) == 1
    finally:
        await sock.close()
