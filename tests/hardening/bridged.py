"""An application that reports what its session's splice bridge holds (its server process's own objects)."""

from __future__ import annotations

import gc

from docsync.document import Document, MessageSentEvent
from docsync.document.models import Column, Div, MultiChoice
from docsync.sync.sequencer import Sequencer


def bridged(doc: Document) -> None:
    """A MultiChoice clients splice, and a Div a "bridge" message fills with ``<clients>:<unseen splices>``."""
    choice = MultiChoice(options=["a", "b", "c"], value=[], name="choice")
    report = Div(text="", name="bridge")

    def bridge(event: MessageSentEvent) -> None:
        # The session's Sequencer holds this document; the test reads its bridge's bounds.
        [sequencer] = [o for o in gc.get_objects() if isinstance(o, Sequencer) and o.document is doc]
        clients = sequencer.splices._clients
        unseen = sum(len(items) for client in clients.values() for items in client.unseen.values())
        report.text = f"{len(clients)}:{unseen}"

    doc.on_message("bridge", bridge)
    doc.add_root(Column(choice, report, name="root"))
