"""A restored session counts the models its clients had defined that its document holds (``MAX_CLIENT_MODELS``).

Which models clients defined is not saved, only how many: a restore counts every model
the application did not build again. In memory, through the server's own pieces
(``Sequencer``, ``ServerSession``, ``take_snapshot``, the binary form, ``apply_snapshot``).
"""

from __future__ import annotations

import pytest

from docsync.protocol import new_message
from docsync.protocol.msgtypes import ERROR, OK, PATCH_DOC
from docsync.server.persistence.capture import app_model_ids, app_model_names, apply_snapshot, take_snapshot
from docsync.server.session.session import ServerSession
from docsync.sync.sequencer import Sequencer

from .test_restore_renames import MAX, new_session, through_binary_form

pytestmark = pytest.mark.asyncio


def _session() -> ServerSession:
    """A session of ``apps.renamed`` whose clients may add roots, and define 2 models at most."""
    return new_session(allow_client_structure=True, max_client_models=2)


def _add_root(sequencer: Sequencer, model_id: str) -> str:
    """A client's patch adding a Div of id ``model_id`` as a root; its answer's type."""
    div = {"type": "object", "name": "Div", "id": model_id, "attributes": {"text": model_id}}
    content = {"events": [{"kind": "RootAdded", "model": {"id": model_id}}], "references": [div], "base": sequencer.seq}
    return str(sequencer.handle_patch("alice", 0, new_message(PATCH_DOC, content)).answer.msgtype)


async def test_a_restored_session_counts_its_clients_models_and_gives_back_those_that_leave() -> None:
    session = _session()
    app_ids, app_names = app_model_ids(session), app_model_names(session)
    assert _add_root(session.sequencer, "mine-1") == OK
    stored = through_binary_form(take_snapshot(session, app_ids, app_names, None))
    assert stored.client_models == 1

    restored = _session()
    apply_snapshot(restored, stored, MAX)
    sequencer = restored.sequencer
    assert sequencer.client_models == 1
    assert _add_root(sequencer, "mine-2") == OK
    assert _add_root(sequencer, "mine-3") == ERROR  # the restored one still counts
    mine = restored.document.get_model_by_id("mine-1")
    restored.document.remove_root(mine)  # type: ignore[arg-type]
    assert sequencer.client_models == 1
    assert _add_root(sequencer, "mine-3") == OK
