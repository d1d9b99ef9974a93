"""What a client's patch dropped for crossing a removal left it holding: the server's values, sent back to it.

Bokeh drops a whole PATCH-DOC that names a model which left the document (its ``seen``
set: the change crossed the removal on the wire), and answers OK. Its sender applied
every event of it already: the value that held the removed model (a layout's
``children``), a root it added, and the patch's other events (a slider moved in the
same patch) stayed in the sender's document alone. Bokeh's protocol has no reset from
the server, so the sender is sent a PATCH-DOC setting what the patch touched back to
the server's values, for it alone (BokehJS applies it as any patch of the server's).
So is the sender of a patch a check refused whole (a value out of what a widget offers,
a model id of the server's shape, too many events, ...): BokehJS applied it too, and
only logs the ERROR. While the session's bucket of such corrections owes (session.py),
none is sent: a patch of a few bytes may touch the whole document.
"""

from __future__ import annotations

from typing import Any

import orjson
from bokeh.core.serialization import Serializer

from ..protocol import Message, new_message
from ..protocol.msgtypes import PATCH_DOC
from .wire import frozen_content

__all__ = ["crossed_corrections", "message_bytes"]

#: The event kinds that change a model's property, and the property each changes.
_PROPERTY_KINDS = {
    "ModelChanged": None,  # its own ``attr``
    "ColumnDataChanged": "data",
    "ColumnsStreamed": "data",
    "ColumnsPatched": "data",
}


def _model_id(ref: Any) -> str | None:
    """The id of a reference or definition (``{"id": ...}``), or None."""
    model_id = ref.get("id") if type(ref) is dict else None
    return model_id if type(model_id) is str else None


def _touched(events: list[Any]) -> tuple[list[tuple[str, str]], list[str], list[str], bool]:
    """The properties, added roots, removed roots (ids) and title change of a patch's raw ``events``, once each."""
    properties: dict[tuple[str, str], None] = {}
    roots: dict[str, bool] = {}  # root id -> whether the patch's last event of it added it
    title = False
    for event in events:
        if type(event) is not dict:
            continue
        kind = event.get("kind")
        if type(kind) is not str:  # (a refused patch's may be anything: a dict is no key)
            continue
        model_id = _model_id(event.get("model"))
        if kind in _PROPERTY_KINDS:
            attr = _PROPERTY_KINDS[kind] or event.get("attr")
            if model_id is not None and type(attr) is str:
                properties[model_id, attr] = None
        elif kind in ("RootAdded", "RootRemoved") and model_id is not None:
            # The sender holds what its last event of the root left: a root it moved to the
            # end of the roots (removed, then added) is one it holds, not to define again.
            roots[model_id] = kind == "RootAdded"
        elif kind == "TitleChanged":
            title = True
    added = [model_id for model_id, last in roots.items() if last]
    removed = [model_id for model_id, last in roots.items() if not last]
    return list(properties), added, removed, title


def crossed_corrections(document: Any, events: Any) -> Message | None:
    """A PATCH-DOC putting back the server's values of what ``events`` (a dropped patch's) changed, or None.

    Every model it names is defined whole: the sender may no longer hold one (its dropped
    patch detached it), and BokehJS sets a model it holds to a definition's values.
    A property of a model the document no longer holds is not corrected: its sender
    receives (or received) the change that removed it. Call holding the session's lock.
    """
    if type(events) is not list:
        return None
    properties, added, removed, title = _touched(events)
    serializer = Serializer(deferred=True)
    corrections: list[dict[str, Any]] = []
    for model_id, attr in properties:
        model = document.get_model_by_id(model_id)
        if model is None or attr not in model.properties():
            continue
        # The model too may be one the patch detached, which the sender no longer holds;
        # defined after its value: Bokeh's Python reader skips the attributes of a model
        # it holds, so what the value defines must not first appear inside them.
        value = serializer.encode(getattr(model, attr))
        target = serializer.encode(model)
        corrections.append({"kind": "ModelChanged", "model": target, "attr": attr, "new": value})
    roots = {root.id: root for root in document.roots}
    for model_id in added:
        if model_id not in roots:  # the sender holds it as a root, the server does not
            corrections.append({"kind": "RootRemoved", "model": {"id": model_id}})
    for model_id in removed:
        if model_id in roots:
            corrections.append({"kind": "RootAdded", "model": serializer.encode(roots[model_id])})
    if title:
        corrections.append({"kind": "TitleChanged", "title": document.title})
    if not corrections:
        return None
    content, buffers = frozen_content(corrections, serializer.buffers)
    return new_message(PATCH_DOC, {"events": content}, buffers=buffers)


def message_bytes(message: Message) -> int:
    """The bytes of a ``crossed_corrections`` PATCH-DOC: its events' JSON and its buffers."""
    # (A Fragment tells not its length: dumped again, a copy of bytes made already.)
    return len(orjson.dumps(message.content["events"])) + sum(memoryview(data).nbytes for _, data in message.buffers)
