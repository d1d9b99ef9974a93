"""A Sequencer for a test's document, and a client's PATCH-DOC sent to it: what the cost tests share."""

from __future__ import annotations

from typing import Any

from docsync.document import Document
from docsync.protocol import Message, new_message
from docsync.protocol.msgtypes import PATCH_DOC
from docsync.sync.encoded_documents import EncodedDocuments
from docsync.sync.sequencer import PatchOutcome, Sequencer


def sequencer_for(
    document: Document,
    *,
    allow_client_structure: bool = True,
    log_entries: int = 1000,
    log_bytes: int = 1 << 20,
    max_client_models: int = 1000,
    max_array_elements: int = 1_000_000,
    encodings: EncodedDocuments | None = None,
) -> Sequencer:
    """A Sequencer for ``document`` with the limits the cost tests use, each overridable by keyword."""
    return Sequencer(
        document,
        allow_client_structure=allow_client_structure,
        log_entries=log_entries,
        log_bytes=log_bytes,
        max_client_models=max_client_models,
        max_array_elements=max_array_elements,
        encodings=encodings,
    )


def patch_outcome(
    sequencer: Sequencer,
    origin: str,
    events: list[dict[str, Any]],
    references: list[dict[str, Any]] | None = None,
    *,
    base: int | None = None,
    fence: int = 0,
) -> PatchOutcome:
    """What ``sequencer`` makes of ``origin``'s PATCH-DOC of ``events`` (no references unless given)."""
    content: dict[str, Any] = {"events": events, "references": [] if references is None else references}
    if base is not None:
        content["base"] = base
    return sequencer.handle_patch(origin, fence, new_message(PATCH_DOC, content))


def send(
    sequencer: Sequencer,
    origin: str,
    events: list[dict[str, Any]],
    references: list[dict[str, Any]] | None = None,
    *,
    base: int | None = None,
    fence: int = 0,
) -> Message:
    """The answer to ``origin``'s PATCH-DOC of ``events`` (``patch_outcome``'s, the rest left out)."""
    return patch_outcome(sequencer, origin, events, references, base=base, fence=fence).answer
