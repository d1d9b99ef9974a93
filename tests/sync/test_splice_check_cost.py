"""Checking a splice of a list its model judges whole checks the new items only.

The model's own rule still sees the whole list after each splice (here: at most
``limit`` items), but the items already in it are not checked again: that made one
patch of many small splices of a long list cost their number times its length.
"""

from __future__ import annotations

from typing import Any

from docsync.document import Document, Model
from docsync.document.properties import Int, List, Property, String, ValidationError
from docsync.protocol import ERROR, OK, PATCH_DOC, new_message
from docsync.sync.sequencer import Sequencer


class CountingString(String):
    """A string property that counts the values it judges."""

    __slots__ = ()
    calls = 0

    def accepts(self, value: Any) -> Any:
        CountingString.calls += 1
        return super().accepts(value)


class Tags(Model):
    """A list judged whole by its model: at most ``limit`` tags."""

    __type_name__ = "test_splice_check_cost.Tags"
    __client_writable__ = frozenset({"tags"})
    tags = List(CountingString())
    limit = Int(1000)

    def validate_value(self, prop: Property, value: Any) -> Any:
        value = super().validate_value(prop, value)
        if prop.name == "tags" and len(value) > self._values.get("limit", 1000):
            raise ValidationError(f"at most {self._values.get('limit', 1000)} tags")
        return value


def _splices(count: int) -> dict[str, Any]:
    event = {"kind": "ListSpliced", "model": {"id": "t"}, "attr": "tags", "index": 0, "delete": 0, "items": ["x"]}
    return {"events": [event] * count, "base": 0}


def _sequencer(limit: int) -> tuple[Sequencer, Tags]:
    document = Document()
    tags = Tags(id="t", tags=["a"] * 500, limit=limit)
    document.add_root(tags)
    settings = {"log_entries": 100, "log_bytes": 1 << 20, "max_client_models": 10, "max_array_elements": 1000}
    return Sequencer(document, allow_client_structure=True, **settings), tags


def test_each_splice_checks_its_own_items_and_the_model_s_rule() -> None:
    sequencer, tags = _sequencer(limit=1000)
    CountingString.calls = 0
    answer = sequencer.handle_patch("c", 0, new_message(PATCH_DOC, _splices(100))).answer
    assert answer.msgtype == OK, answer.content
    assert len(tags.tags) == 600
    # The 100 new items once as they are checked (applying does not check them again);
    # never the 500 already there (that was 100 x 600 more).
    assert CountingString.calls <= 2 * 100


def test_the_model_s_rule_still_judges_the_list_each_splice_leaves() -> None:
    sequencer, tags = _sequencer(limit=550)
    answer = sequencer.handle_patch("c", 0, new_message(PATCH_DOC, _splices(51))).answer
    assert answer.msgtype == ERROR and "at most 550 tags" in answer.content["text"], answer.content
    assert len(tags.tags) == 500  # refused whole
