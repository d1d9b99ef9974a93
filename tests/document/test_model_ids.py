"""Which ids a client may not define: those this process's new_model_id has yet to issue."""

from __future__ import annotations

from docsync.document.model import is_unissued_id, new_model_id


def test_only_ids_the_counter_has_not_reached_are_unissued() -> None:
    issued = new_model_id()
    prefix, number = issued[:6], int(issued[6:])
    assert not is_unissued_id(issued)
    assert is_unissued_id(f"{prefix}{number + 1}") and is_unissued_id(f"{prefix}{number + 10**9}")
    for other in (f"{prefix}0{number + 1}", f"{prefix}+{number + 1}", f"{prefix}{number + 1}x", prefix, "9" * 5000):
        assert not is_unissued_id(other), other
    assert not is_unissued_id(prefix + "9" * 5000)  # past int()'s digit limit: never issued
    other_prefix = ("0" if prefix[0] != "0" else "1") + prefix[1:]
    assert not is_unissued_id(f"{other_prefix}{number + 1}")


def test_a_push_defining_an_unissued_id_is_refused_and_changes_nothing() -> None:
    from docsync.document import Document
    from docsync.document.models import Div
    from docsync.protocol import ERROR, PUSH_DOC, new_message
    from docsync.sync.sequencer import Sequencer

    document = Document()
    document.add_root(Div(text="before"))
    settings = {"log_entries": 10, "log_bytes": 1 << 20, "max_client_models": 10, "max_array_elements": 10}
    sequencer = Sequencer(document, allow_client_structure=True, **settings)
    issued = new_model_id()
    ahead = f"{issued[:6]}{int(issued[6:]) + 5}"
    doc = {"title": "t", "roots": [{"id": ahead}], "models": [{"type": "object", "name": "Div", "id": ahead}]}
    refusal = sequencer.push(new_message(PUSH_DOC, {"doc": doc}), "c1")
    assert refusal is not None and refusal.msgtype == ERROR
    assert refusal.content == {
        "text": f"push refused: model id {ahead!r} is reserved for the server's own models",
        "code": "bad-document",
    }
    assert [root.text for root in document.roots] == ["before"]  # type: ignore[attr-defined]
