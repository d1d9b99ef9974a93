"""Per-connection objects keep their attributes in slots, not in a __dict__ that can outgrow its shared keys.

Past 30 attributes CPython 3.11 gives an instance a dict of its own, sized for growth
(1,584 bytes): the consumer crossed that line with its 31st attribute and bench/budget.py
charged the dict to whichever line set it (the token check's). These tests fail when an
attribute is added to one of these classes without its slot.
"""

from __future__ import annotations

import inspect
import re

import pytest

from docsync.protocol import Receiver
from docsync.server.connection import DocumentConsumer
from docsync.server.incomplete import IncompleteInput
from docsync.server.outbox import Outbox
from docsync.sync.answers import RememberedAnswers

_SET = re.compile(r"\bself\.(\w+)\s*(?::[^=\n]+)?=(?!=)")


def _set_attributes(cls: type) -> set[str]:
    """Names the class's own methods assign on ``self`` (``self.x = ...``, ``self.x: T = ...``)."""
    names = set(_SET.findall(inspect.getsource(cls)))
    for line in inspect.getsource(cls).splitlines():  # ``self.a, self.b = ...``
        left = line.split("=", 1)[0]
        if "=" in line and left.count("self.") > 1 and "==" not in line:
            names.update(re.findall(r"self\.(\w+)", left))
    return names


@pytest.mark.parametrize("cls", [DocumentConsumer, Outbox, IncompleteInput, Receiver])
def test_every_attribute_a_per_connection_object_sets_is_a_slot(cls: type) -> None:
    slots = set(cls.__dict__["__slots__"])
    missing = _set_attributes(cls) - slots - {"groups"}
    assert not missing, f"{cls.__name__}: attributes without a slot: {sorted(missing)}"


def test_a_consumer_keeps_nothing_in_its_dict() -> None:
    # Channels' classes give it a __dict__; docsync's attributes are all slots, and
    # groups (Channels') is a class attribute, not a list per socket.
    consumer = DocumentConsumer()
    assert vars(consumer) == {}
    assert consumer.session is None and consumer.client_slot is None and not consumer.may_push


def test_remembered_answers_hold_no_containers_until_the_first_answer() -> None:
    answers = RememberedAnswers(max_answers=4, max_clients=2)
    assert (answers._answers, answers._clients) == (None, None)
    assert len(answers) == 0 and answers.clients == 0 and answers.items() == []
    assert answers.get("client", "1") is None
