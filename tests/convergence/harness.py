"""Test clients whose network the test controls, and a canonical form of documents.

``ControlledClient`` is a real ``ClientSession`` over a real websocket. The test may
hold its incoming messages (released later, in order: all a websocket allows), hold its
outgoing patches, drop its socket abruptly, and read back every patch it sent with the
server's answer, and the wire size of every message it received.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import operator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import websockets

from docsync.client import SERVER, ClientSession
from docsync.document import Document, ListSplicedEvent, Model
from docsync.protocol import Message
from docsync.protocol.message import frame_nbytes
from docsync.protocol.msgtypes import ERROR, OK, PATCH_DOC, PUSH_DOC, RESUME_REPLY
from docsync.testing import EVENT_WAIT

from .apps import Item, Stack

__all__ = ["ControlledClient", "Recorder", "SentPatch", "canonical", "canonical_document", "sorted_items"]


@dataclass
class SentPatch:
    """A PATCH-DOC a client sent, as first sent, and every answer the server gave.

    ``views``: for each of its ListSpliced events (by index), the list as the client
    saw it when it made the splice.
    """

    origin: str
    order: int
    msgid: str
    content: dict[str, Any]
    buffers: list[tuple[str, bytes]]
    replies: list[Message] = field(default_factory=list)
    views: dict[int, list[Any]] = field(default_factory=dict)

    @property
    def base(self) -> int:
        base: int = self.content["base"]
        return base


class Recorder:
    """What a test client records: patches sent (with the list each splice was made on),
    answers, resumes, resets, and a trace of what happened, for the report of a failed run.

    Mixed into a client that has ``document``, ``protocol`` and ``last_seq``.
    """

    document: Document
    protocol: Any
    last_seq: int

    def _start_recording(self, name: str) -> None:
        self.name = name
        self.sent: dict[str, SentPatch] = {}
        self.resumes: list[Message] = []
        self.resets: list[Message] = []
        #: Every message received, with the bytes its frames took on the wire.
        self.wire: list[tuple[Message, int]] = []
        self.trace: list[Any] = []  # strings and Traced lines
        # The tags of every Item as they were before the latest change, and, per local
        # splice (the event, kept so that its id is not reused), the list it was made on.
        self._lists: dict[tuple[str, str], list[Any]] = {}
        self._views: dict[int, tuple[ListSplicedEvent, list[Any]]] = {}
        #: Whether the layouts' children are watched too (a run that moves items into them).
        self.track_children = False
        self.document.on_change(self._watch_lists)

    def _watch_lists(self, event: Any) -> None:
        attr = getattr(event, "attr", None)  # (None: not a property's change, ``property_key`` None)
        if attr is None or (self.track_children and attr == "children" and isinstance(event.model, Stack)):
            # Roots (or the whole document) changed, or a layout's children: items may have
            # joined (the tags of one another client made) or left; every list looked at.
            if attr is not None and isinstance(event, ListSplicedEvent) and event.setter != SERVER:
                self._views[id(event)] = (event, self._lists.get((event.model.id, attr), []))
            self._lists = {(m.id, "tags"): list(m.tags) for m in self.document.models.values() if isinstance(m, Item)}
            if self.track_children:  # (runs that move items into layouts: the others leave them empty)
                self._lists.update(
                    ((m.id, "children"), [c.id for c in m.children])
                    for m in self.document.models.values()
                    if isinstance(m, Stack)
                )
            return
        if isinstance(event, ListSplicedEvent) and event.setter != SERVER:
            self._views[id(event)] = (event, self._lists.get((event.model.id, attr), []))
        if attr == "tags" and isinstance(event.model, Item):
            self._lists[event.property_key()] = list(event.model.tags)  # only this list changed

    def _splice_views(self, message: Message) -> dict[int, list[Any]]:
        in_flight = self.protocol.in_flight
        if in_flight is None or in_flight[0] is not message:
            return {}
        views = {}
        for index, entry in enumerate(in_flight[1]):  # one entry per event of the patch
            known = self._views.get(id(entry.event))
            if known is not None and known[0] is entry.event:
                views[index] = known[1]
        return views

    def _record_sent(self, message: Message) -> None:
        header = message.header  # (``Message.msgtype`` and ``msgid``, without their calls)
        msgid = header["msgid"]
        if header["msgtype"] == PATCH_DOC and msgid not in self.sent:
            buffers = [(i, bytes(b)) for i, b in message.buffers]
            record = SentPatch(self.protocol.client_id, len(self.sent), msgid, message.content, buffers)
            record.views = self._splice_views(message)
            self.sent[msgid] = record
            self.trace.append(_traced((message, False, None)))

    def _record(self, message: Message, last_seq: int | None = None) -> None:
        """Record a message received; ``last_seq``: the client's, if the caller has it at hand."""
        header = message.header  # (``Message.msgtype`` and ``reqid``, without their calls)
        msgtype = header["msgtype"]
        self.trace.append(_traced((message, True, self.last_seq if last_seq is None else last_seq)))
        if msgtype in (OK, ERROR) and header.get("reqid") in self.sent:
            self.sent[header["reqid"]].replies.append(message)
        elif msgtype == RESUME_REPLY:
            self.resumes.append(message)
            # A patch the server saw before the connection dropped is answered in the reply.
            for answer in message.content.get("answers", []):
                if answer["msgid"] in self.sent:
                    self.sent[answer["msgid"]].replies.append(_answer_message(answer))
        elif msgtype == PUSH_DOC:
            self.resets.append(message)


class ControlledClient(Recorder, ClientSession):
    """A ClientSession whose incoming and outgoing messages the test may hold back."""

    def __init__(self, config: dict[str, Any], name: str = "") -> None:
        super().__init__(config)
        self._start_recording(name)
        self.hold_in = False
        self.hold_out = False
        self.offline = False
        self._inbox: list[Message] = []
        # Held patches are frames already: in a network a message in flight is bytes,
        # and an array edited in place after it was sent must not change it.
        self._held_out: list[list[str | bytes]] = []
        self._frame_bytes = 0
        self.reader_error: BaseException | None = None
        self._writers: set[asyncio.Task[None]] = set()

    # -- receiving ------------------------------------------------------------------

    async def _read_message(self, socket: Any) -> Message:
        while True:
            frame = await socket.recv()
            self._frame_bytes += frame_nbytes(frame)
            message = self._receiver.receive(frame)
            if message is not None:
                self.wire.append((message, self._frame_bytes))
                self._frame_bytes = 0
                return message

    async def _read_forever(self, socket: Any) -> None:
        try:
            await super()._read_forever(socket)
        except Exception as exc:
            # A reader that dies leaves the client deaf; make the test say why.
            self.reader_error = exc
            raise

    async def sync(self, timeout: float = EVENT_WAIT) -> None:
        try:
            await super().sync(max(timeout, EVENT_WAIT))
        except TimeoutError:
            if self.reader_error is not None:
                raise AssertionError(f"client {self.name}'s reader died") from self.reader_error
            raise

    def _dispatch(self, message: Message) -> None:
        if self.hold_in and self._reader is not None:
            self._inbox.append(message)
            return
        self._record(message)
        super()._dispatch(message)

    def release_in(self, count: int | None = None) -> None:
        """Deliver the first ``count`` held incoming messages (all by default), in order."""
        if self.offline:
            return  # what is held belongs to a dead socket, behind messages already lost
        count = len(self._inbox) if count is None else count
        released, self._inbox = self._inbox[:count], self._inbox[count:]
        for message in released:
            self._record(message)
            ClientSession._dispatch(self, message)
        if released:
            # An answer lets the next patch go: write what the protocol queued.
            task = asyncio.get_running_loop().create_task(self._write_quietly())
            self._writers.add(task)
            task.add_done_callback(self._writers.discard)

    async def _write_quietly(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):  # then sent again on resume
            await self._write()

    @property
    def held_in(self) -> int:
        """How many incoming messages are held."""
        return len(self._inbox)

    # -- sending --------------------------------------------------------------------

    async def _send(self, message: Message) -> None:
        self._record_sent(message)
        if message.msgtype == PATCH_DOC and (self.hold_out or self._held_out):
            self._held_out.append([f if isinstance(f, str) else bytes(f) for f in message.to_frames()])
            return
        await super()._send(message)

    async def release_out(self, count: int | None = None) -> None:
        """Send the first ``count`` held patches (all by default), in order."""
        count = len(self._held_out) if count is None else count
        released, self._held_out = self._held_out[:count], self._held_out[count:]
        try:
            async with self._send_lock:
                for frames in released:
                    for frame in frames:
                        await self._socket.send(frame)
        except websockets.ConnectionClosed:
            pass  # still in flight: sent again after the next resume

    @property
    def held_out(self) -> int:
        """How many outgoing patches are held."""
        return len(self._held_out)

    async def release_all(self) -> None:
        """Stop holding anything and deliver everything held, in order."""
        self.hold_in = self.hold_out = False
        self.release_in()
        await self.release_out()

    # -- connection -----------------------------------------------------------------

    def _forget_held(self) -> None:
        # Messages held "in the network" die with the socket, as they would; so does
        # everything behind them (a socket delivers in order or not at all): whatever
        # the old socket still reads is held too, and dropped when the next one opens.
        self._inbox.clear()
        self._held_out.clear()
        self.hold_in, self.hold_out = True, False

    async def connect(self, *, resume: bool = False) -> None:
        self._inbox.clear()
        self.hold_in = False
        await super().connect(resume=resume)

    async def drop(self) -> None:
        """Lose the connection abruptly: no close frame, the TCP connection is aborted."""
        self._forget_held()
        self.trace.append("drop")
        self.offline = True
        if self._socket is not None:
            self._socket.transport.abort()
        if self._reader is not None:
            with contextlib.suppress(BaseException):  # the reader ends however it ends
                await self._reader
            self._reader = None

    async def disconnect(self) -> None:
        """Close the websocket cleanly from this side (a close frame is sent)."""
        self._forget_held()
        self.trace.append("disconnect")
        self.offline = True
        await self._drop_socket()

    async def lost(self, timeout: float = EVENT_WAIT) -> None:
        """Wait until the reader notices that the connection is gone (cut elsewhere)."""
        if self._reader is not None:
            await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        self._forget_held()
        self.offline = True

    async def reconnect(self) -> None:
        self._forget_held()
        self.trace.append(f"reconnect from {self.last_seq}")
        await super().reconnect()
        self.offline = False

    def patch_sizes(self, first_seq: int, last_seq: int) -> list[tuple[int, int]]:
        """Return (seq, wire bytes) of every PATCH-DOC received for positions in the range."""
        out = []
        for message, size in self.wire:
            seq = message.content.get("seq")
            if message.msgtype == PATCH_DOC and isinstance(seq, int) and first_seq <= seq <= last_seq:
                out.append((seq, size))
        return out


class Traced(tuple[Message, bool, "int | None"]):
    """A line of a client's trace, written out only if a failed run's trace is asked for.

    Its text is made then: a run traces every message, a failed one is read once. A
    tuple (message, received, last_seq), made by ``_traced`` without a Python call.
    """

    __slots__ = ()

    def __str__(self) -> str:
        message, received, last_seq = self
        if received:
            return f"recv {message.msgtype} {_describe(message)} (last_seq {last_seq})"
        return f"send {message.msgtype} {message.msgid} {_describe(message)}".rstrip()


#: ``Traced((message, received, last_seq))``, made in C (a line per message a client sends or receives).
_traced = functools.partial(tuple.__new__, Traced)


def _answer_message(answer: dict[str, Any]) -> Message:
    """An answer carried by a RESUME-REPLY, as the OK or ERROR it stands for."""
    header = {"msgid": "", "msgtype": ERROR if "error" in answer else OK, "reqid": answer["msgid"]}
    if "error" in answer:
        return Message(header, {}, {"text": answer["error"], "code": answer.get("code")})
    seq, rejected, lost = answer["seq"], answer["rejected"], answer["lost"]
    return Message(header, {}, {"seq": seq, "applied_seq": seq, "rejected": rejected, "lost": lost})


def _describe(message: Message) -> str:
    content = message.content
    parts = [f"{k}={content[k]}" for k in ("seq", "base", "rejected", "applied_seq", "mode", "text") if k in content]
    if message.reqid:
        parts.append(f"re {message.reqid}")
    events = content.get("events") or [e for p in content.get("patches", []) for e in p["events"]]
    for event in events:
        target = event.get("model", {}).get("id") if isinstance(event.get("model"), dict) else ""
        shown = ("index", "delete", "items", "keys", "new", "rollover", "patches", "columns")
        detail = {k: v for k, v in event.items() if k in shown}
        parts.append(f"<{event.get('kind')} {target}.{event.get('attr', '')} {str(detail)[:300]}>")
    return " ".join(parts)


#: The values that are their own canonical form.
_VERBATIM = frozenset({str, int, bool, type(None)})


def _value(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:  # most values: one check
        return value
    if kind is float:
        return ("nan",) if math.isnan(value) else value
    if isinstance(value, Model):
        return ("ref", value.id)
    if isinstance(value, np.ndarray):
        items = value.ravel().tolist()
        # (Numbers are their own form, but NaN: looked at in C where the array holds no NaN.)
        if not (value.dtype.kind in "biu" or (value.dtype.kind == "f" and not np.isnan(value).any())):
            items = [_value(v) for v in items]
        return ("ndarray", value.dtype.str, value.shape, items)
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    if isinstance(value, list | tuple):
        if _VERBATIM.issuperset(map(type, value)):  # (a list of strings: each its own form, looked at in C)
            return list(value)
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return sorted_items([(_value(k), _value(v)) for k, v in value.items()])
    if isinstance(value, set | frozenset):
        return ("set", sorted((_value(v) for v in value), key=repr))
    return value


def sorted_items(pairs: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """A dict's (key, value) pairs in the one order every equal dict gives.

    By key where every key is a string (distinct: the values never decide, and are not
    written out as ``repr`` would, a column of floats each time), else by ``repr``.
    """
    if all(type(key) is str for key, _ in pairs):
        return sorted(pairs, key=_first)
    return sorted(pairs, key=repr)


_first = operator.itemgetter(0)


def canonical_document(document: Document) -> dict[str, Any]:
    """Return everything a document holds, in a form that compares with ``==``.

    Every property of every model is read with its default, so a value stored
    explicitly on one side and left at its default on the other compares equal; order
    matters only where it means something (roots, lists, columns).
    """
    models = {}
    for model in document.models.values():
        values = {attr: _value(getattr(model, attr)) for attr in sorted(model.properties())}
        models[model.id] = (model.__type_name__, values)
    return {"title": document.title, "roots": [root.id for root in document.roots], "models": models}


def canonical(doc_json: dict[str, Any], buffers: Any) -> dict[str, Any]:
    """Return the canonical form of document JSON (decoded into a fresh Document)."""
    return canonical_document(Document.from_json(doc_json, dict(buffers)))
