"""ClientProtocol: a client's side of a docsync session, sans I/O; the mirror of client_protocol.js.

It owns what a client must get right to converge with the server, and nothing that
waits: the handshake (ACK, then PULL-DOC-REQ or RESUME-REQ), the last server position
applied (``last_seq``), local changes encoded as they are made and sent one patch at a
time with the position they were made on (``base``), answers (OK, ERROR), resets
(PUSH-DOC), resumes (replay or full, ``fresh``), and changes made while offline, kept
with their base and resent after the resume.

Data goes in through plain methods (``connection_made``, ``receive_message``,
``connection_lost``, ``flush``, and the document's own change events); messages come
out of ``messages_to_send`` and events (``client_events``) out of ``events_received``.
An adapter moves messages between it and a socket: ``docsync.client.ClientSession``
in Python, ``connection.js`` in the browser. Tests drive it in memory.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable, Container, Mapping
from enum import Enum
from operator import attrgetter
from types import MappingProxyType
from typing import Any

from ..document import DecodedPatch, Document, DocumentEvent, Model
from ..document import events as ev
from ..document.patching import apply_events
from ..document.properties import models_in
from ..document.pulled import PulledDocument
from ..document.wire import decode_patch
from ..exceptions import DeserializationError, MessageTooBigError, PatchError, ProtocolError
from ..protocol import Message, Receiver, new_message, with_content_frame
from ..protocol.msgtypes import (
    ACK,
    ERROR,
    PATCH_DOC,
    PULL_DOC_REPLY,
    PULL_DOC_REQ,
    PUSH_DOC,
    RESUME_REPLY,
    RESUME_REQ,
)
from ..protocol.wire_json import dumps
from ..serialization import Decoder
from .client_events import ChangesLost, ClientEvent, ErrorReported, Live, Reply, Reset, describe_change
from .outbox import Batch, Outbox, OutboxEntry
from .pacing import Pacer
from .redefined import redefined
from .splices import Splice, transform

__all__ = ["NOTICE", "SERVER", "ClientProtocol", "ClientState"]

#: The setter of changes applied from the server (they are not sent back).
SERVER = "server"
#: The msg_type of the notices a server sends to be shown to the user.
NOTICE = "docsync.notice"


# The requests the server counts in a bucket of their own (DOCUMENT_REQUESTS_PER_SECOND).
_OWN_BUCKET = frozenset((PULL_DOC_REQ, RESUME_REQ, PUSH_DOC))
#: An outbox entry's key.
_KEY = attrgetter("key")
#: The models a change that attaches none needs from the document's index.
_NO_MODELS: Mapping[str, Any] = MappingProxyType({})
#: At most this many model ids kept as missed (beyond, a correction keeps the copy held, as before).
_MISSED_LIMIT = 10_000


class ClientState(Enum):
    """Where a client protocol is in a connection's life."""

    IDLE = "idle"  # no connection (before the first, or after one was lost)
    CONNECTING = "connecting"  # connected, waiting for the server's ACK
    SYNCING = "syncing"  # waiting for the PULL-DOC-REPLY or RESUME-REPLY
    LIVE = "live"
    CLOSED = "closed"  # for good

    # Members are singletons compared by identity: hashed as such, in C (Enum's own
    # __hash__ is a Python call, made twice per state change).
    __hash__ = object.__hash__


# The members as module constants, for the paths run per message: read off the class, each
# is a call of EnumType's ``__getattr__`` hook (about 100 ns in 3.11, a few per message).
_IDLE, _CONNECTING, _SYNCING, _LIVE, _CLOSED = (
    ClientState.IDLE,
    ClientState.CONNECTING,
    ClientState.SYNCING,
    ClientState.LIVE,
    ClientState.CLOSED,
)

_TRANSITIONS = {
    ClientState.IDLE: {ClientState.CONNECTING, ClientState.CLOSED},
    ClientState.CONNECTING: {ClientState.SYNCING, ClientState.IDLE, ClientState.CLOSED},
    ClientState.SYNCING: {ClientState.LIVE, ClientState.IDLE, ClientState.CLOSED},
    ClientState.LIVE: {ClientState.SYNCING, ClientState.IDLE, ClientState.CLOSED},
    ClientState.CLOSED: set[ClientState](),
}


class ClientProtocol:
    """Keep ``document`` in sync with one server session; no I/O.

    ``client_id`` names this client's changes across connections (at most 64
    characters); ``max_array_elements`` bounds arrays in what the server sends;
    ``send_limits``: the server's limits on what it receives, as a Receiver holding them
    (None: none checked), which every PATCH-DOC is checked against before it is sent;
    ``max_messages_per_second``: the server's ``MAX_PATCHES_PER_SECOND`` (None: no pacing),
    which ``messages_to_send`` keeps to (a message over it waits, ``send_delay`` says how
    long, and changes made meanwhile go in the next patch together).
    """

    def __init__(
        self,
        document: Document,
        *,
        client_id: str,
        setter: Any = SERVER,
        max_array_elements: int = 100_000_000,
        send_limits: Receiver | None = None,
        max_messages_per_second: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(client_id, str) or not 0 < len(client_id) <= 64:
            raise ValueError(f"client_id must be a string of 1 to 64 characters, got {client_id!r:.80}")
        if not isinstance(max_array_elements, int) or max_array_elements <= 0:
            raise ValueError(f"max_array_elements must be a positive integer, got {max_array_elements!r}")
        self.document = document
        self.client_id = client_id
        self.setter = setter
        self.max_array_elements = max_array_elements
        self.send_limits = send_limits
        self._state = _IDLE
        #: The last server position applied to the document (None before the first pull).
        self.last_seq: int | None = None
        #: Which session the document belongs to (changes if the server made it again).
        self.incarnation: str | None = None
        self.outbox = Outbox(alive=document.model_held)
        #: The patch sent and not answered yet, with the changes it carries.
        self.in_flight: tuple[Message, list[OutboxEntry]] | None = None
        # The msgid of the PULL-DOC-REQ or RESUME-REQ being answered: server patches
        # before its reply are already in it.
        self._handshake: str | None = None
        # A server patch could not be read while syncing: pull again once live.
        self._broken = False
        # A pull (``resync``) was asked and not answered: the document holds changes
        # reported lost, which only the server's document undoes. A connection lost
        # before the reply asks for it again, not for a resume from ``last_seq``.
        self._pull_owed = False
        # The position of what the server sends after an answer (the changes the patch
        # caused at its own position), while it has not arrived.
        self._reaction_seq = 0
        # Lists whose local splices lost to a server splice they conflict with: the
        # server's whole value of each is coming, and its splices are skipped until then.
        self._stale: set[tuple[str, str]] = set()
        # Models whose server changes were skipped while this client had them out (its
        # change unanswered): a correction's definition of one it holds again is taken.
        self._missed: set[str] = set()
        # Per server patch: a server splice of a list a waiting put-back defines, where that
        # put-back stands among this client's pending changes (``Outbox.refresh_redefined``).
        self._at_put_backs: dict[tuple[int, int], Splice] = {}
        self._to_send: list[Message] = []
        # The server closes a connection sending faster than its MAX_PATCHES_PER_SECOND (4029).
        self._pacer = None if max_messages_per_second is None else Pacer(max_messages_per_second, clock)
        self._events: list[ClientEvent] = []
        self._watching = False
        self._watch()

    # -- state --------------------------------------------------------------------------

    @property
    def state(self) -> ClientState:
        """Return where this protocol is in a connection's life."""
        return self._state

    def _set_state(self, state: ClientState) -> None:
        if state not in _TRANSITIONS[self._state]:
            raise ProtocolError(f"cannot go from {self._state.value} to {state.value}")
        self._state = state

    @property
    def settled(self) -> bool:
        """Tell whether the document is live with no local change in flight or waiting,
        and what the server did in reaction to the last one has arrived."""
        if self._state is not _LIVE or self.in_flight is not None or self.outbox.waiting:
            return False
        return (self.last_seq or 0) >= self._reaction_seq

    # -- out ----------------------------------------------------------------------------

    def messages_to_send(self) -> list[Message]:
        """Return (and forget) the messages to write to the socket now, in order.

        Those past the server's rate wait (``send_delay``), and those after them.
        """
        pacer = self._pacer
        if pacer is None:
            messages, self._to_send = self._to_send, []
            return messages
        ready = 0
        for message in self._to_send:
            # PULL-DOC-REQ, RESUME-REQ and PUSH-DOC have a bucket of their own, of 10 per
            # second, that one pull or resume per connection stays far under.
            if message.header["msgtype"] not in _OWN_BUCKET and not pacer.take():
                break
            ready += 1
        messages, self._to_send = self._to_send[:ready], self._to_send[ready:]
        return messages

    def send_delay(self) -> float | None:
        """Return in how many seconds a message waiting for the server's rate may go (None: none waits).

        The adapter then calls ``flush`` and ``messages_to_send`` again.
        """
        pacer = self._pacer
        if pacer is None:
            return None
        if self._to_send or (self._state is _LIVE and self.in_flight is None and self.outbox and not pacer.ready()):
            return pacer.delay()
        return None

    def events_received(self) -> list[ClientEvent]:
        """Return (and forget) what happened since the last call, in order."""
        events, self._events = self._events, []
        return events

    def send(self, message: Message) -> None:
        """Queue a request of the adapter's own; its reply comes back as a ``Reply`` event.

        Raise MessageTooBigError, sending nothing, for one the server would refuse for its
        size (``send_limits``): it would close the connection for it.
        """
        if self._state is not _LIVE:
            raise ProtocolError(f"cannot send {message.msgtype} while {self._state.value}")
        if self.send_limits is not None:
            fault = self.send_limits.size_fault(*message.sized_frames(), structure=True)
            if fault is not None:
                raise MessageTooBigError(f"{message.msgtype} not sent: {fault}")
        if self._pacer is not None:
            # Changes held only by the rate go first: a request after them (a barrier)
            # must not overtake them.
            self._flush_now()
        self._to_send.append(message)

    # -- the connection -----------------------------------------------------------------

    def connection_made(self) -> None:
        """A new connection is open: wait for the server's ACK."""
        self._set_state(_CONNECTING)
        if self._pacer is not None:
            self._pacer.reset()  # the server's bucket for the connection is full

    def connection_lost(self) -> None:
        """The connection is gone: what is in flight is sent again after the next resume."""
        if self._state is _CLOSED:
            return
        self._handshake = None
        self._to_send.clear()
        if self._state is not _IDLE:
            self._set_state(_IDLE)

    def close(self) -> None:
        """Stop for good: nothing more is sent."""
        self._unwatch()
        self._to_send.clear()
        self._state = _CLOSED

    # -- in -----------------------------------------------------------------------------

    def receive_message(self, message: Message) -> None:
        """Handle one message from the server."""
        state = self._state  # (the same until a branch below ends the call)
        if state is _IDLE or state is _CLOSED:
            raise ProtocolError(f"cannot receive {message.msgtype} while {state.value}")
        header = message.header  # (``Message.msgtype`` and ``reqid``, without their calls: per message)
        msgtype, reqid = header["msgtype"], header.get("reqid")
        if msgtype == ERROR:
            content = message.content
            asked = self._asked(reqid)
            self._events.append(ErrorReported(str(content.get("text", "")), content.get("code"), reqid, asked))
        if state is _CONNECTING:
            if msgtype == ACK:
                self._start_sync(resume=self.last_seq is not None and not self._pull_owed)
            return
        if reqid is not None and reqid == self._handshake:
            self._handshake = None
            if msgtype == PULL_DOC_REPLY:
                self._pulled(message)
            elif msgtype == RESUME_REPLY:
                self._resumed(message)
            # An ERROR to the handshake leaves the protocol syncing: the server closes.
            return
        in_flight = self.in_flight
        if in_flight is not None and reqid == in_flight[0].header["msgid"]:
            self._answered(message)
        elif reqid is not None:
            self._events.append(Reply(message))
        elif msgtype == PATCH_DOC:
            if state is _LIVE:
                buffers = message.buffers
                self._server_patch(message.content, dict(buffers) if buffers else {})
        elif msgtype == PUSH_DOC and state is _LIVE:
            self._reset(message)

    def _asked(self, reqid: str | None) -> str | None:
        """Return the type of the request of this protocol's own that ``reqid`` names, if any."""
        if reqid is not None and self.in_flight is not None and reqid == self.in_flight[0].msgid:
            return PATCH_DOC
        if reqid is not None and reqid == self._handshake:
            return RESUME_REQ if self.last_seq is not None and not self._pull_owed else PULL_DOC_REQ
        return None

    def _start_sync(self, *, resume: bool) -> None:
        if resume:
            content: dict[str, Any] = {"last_seq": self.last_seq, "client_id": self.client_id}
            if self.incarnation is not None:
                content["incarnation"] = self.incarnation
            if self.in_flight is not None:
                # The server answers it in the reply if it saw it, by position.
                content["pending"] = [self.in_flight[0].msgid]
            request = new_message(RESUME_REQ, content)
        else:
            request = new_message(PULL_DOC_REQ, {"client_id": self.client_id})
        self._handshake = request.msgid
        self._set_state(_SYNCING)
        self._to_send.append(request)

    def resync(self) -> None:
        """Pull the whole document again on this connection (after something went wrong)."""
        if self._state is not _LIVE:
            return
        self._lose(self.outbox.drain(), "resync", None)
        self._pull_owed = True
        self._start_sync(resume=False)

    # -- handshake replies --------------------------------------------------------------

    def _pulled(self, reply: Message) -> None:
        content = reply.content
        if not self._replace(content.get("doc"), reply, content.get("seq", 0)):
            return
        self._pull_owed = False
        self.incarnation = content.get("incarnation", self.incarnation)
        self._go_live(Live("pull", self.last_seq or 0))

    def _resumed(self, reply: Message) -> None:
        content = reply.content
        self.incarnation = content.get("incarnation", self.incarnation)
        seq = content.get("seq")
        answer = self._answer_in(content)
        if content.get("mode") == "full":
            if not self._replace(content.get("doc"), reply, seq if isinstance(seq, int) else 0):
                return
            if answer is not None:
                self._settle(answer)
            self._go_live(Live("full", self.last_seq or 0, fresh=bool(content.get("fresh"))))
            return
        buffers = dict(reply.buffers)
        patches = content.get("patches", [])
        for patch in patches:
            # The patch in flight took its place before this one: it is in the state the
            # patch was made on, and no longer shifts what follows.
            if answer is not None and isinstance(patch.get("seq"), int) and patch["seq"] >= answer.get("seq", 0):
                self._settle(answer)
                answer = None
            self._server_patch(patch, buffers)
        if answer is not None:
            self._settle(answer)
        if isinstance(seq, int):
            self.last_seq = max(self.last_seq or 0, seq)
        self._go_live(Live("replay", self.last_seq or 0, replayed=len(patches)))

    def _answer_in(self, content: dict[str, Any]) -> dict[str, Any] | None:
        """The answer a RESUME-REPLY carries to the patch in flight, if any."""
        if self.in_flight is None or not isinstance(content.get("answers"), list):
            return None
        msgid = self.in_flight[0].msgid
        return next((a for a in content["answers"] if isinstance(a, dict) and a.get("msgid") == msgid), None)

    def _go_live(self, event: Live) -> None:
        self._set_state(_LIVE)
        self._events.append(event)
        if self._broken:
            self._broken = False
            self.resync()
            return
        if self.in_flight is not None:
            # Unanswered: sent again, once, with its msgid (the server knows it by that).
            self._to_send.append(self.in_flight[0])
        else:
            self.flush()

    def _replace(self, doc_json: Any, message: Message, seq: int) -> bool:
        """Make the document the server's; False (reported, the document untouched) if it cannot be read.

        In place: a model the server's document still holds (same id and type) stays the
        object the application holds, with the server's values (``PulledDocument``).
        """
        try:
            pulled = PulledDocument.read(
                self.document,
                doc_json,
                dict(message.buffers),
                setter=self.setter,
                max_array_elements=self.max_array_elements,
            )
        except (DeserializationError, PatchError, ValueError, TypeError) as exc:
            self._events.append(ErrorReported(f"cannot read the server's document: {exc}", "bad-document", None))
            return False
        pulled.apply()
        self.outbox.held(self.document.models)  # the server holds what it sent, and nothing else of ours
        self.last_seq = seq
        self._reaction_seq = 0  # the document replaced holds whatever came before it
        # What is pending was made on the document replaced: the server judges it (it
        # loses to the fence), and server splices are no longer shifted past it.
        self._stale.clear()
        self._missed.clear()
        for entry in [*(self.in_flight[1] if self.in_flight is not None else ()), *self.outbox.entries]:
            entry.doomed = True
        # Reported (as the server's, so not sent back) once the pull is in place and
        # counted: a change a callback makes in reaction is made on it, and sent, as
        # after a server patch.
        pulled.report()
        return True

    # -- patches and answers ------------------------------------------------------------

    def _server_patch(self, content: dict[str, Any], buffers: dict[str, Any]) -> None:
        seq = content.get("seq")
        if isinstance(seq, int) and self.last_seq is not None and seq <= self.last_seq:
            return  # already in the document
        try:
            # keep_known: a correction defines the models its value reaches, held or not.
            # (``Document.decode_patch``, without the call around it: per patch received.)
            decoded = decode_patch(
                content,
                self.document.models,
                buffers,
                setter=self.setter,
                max_array_elements=self.max_array_elements,
                skip_unknown=True,
                keep_known=True,
                # One object per id: a model the application still holds (taken out, say)
                # defined anew is that object, with the server's values (protocol.md §9).
                reuse=self.document.departed_model,
                # And a model the server attaches by reference (another client moved it) that
                # this client took out, its change unanswered: that object, attached where the
                # server put it (a list skipping the splice was left unlike the server's for
                # good: child moves in memory, seed 5200001383).
                revive=self._revive,
            )
        except (DeserializationError, PatchError, ValueError, TypeError) as exc:
            self._events.append(ErrorReported(f"cannot apply the server's patch: {exc}", "bad-patch", None))
            if self._state is _LIVE:
                self.resync()
            else:
                self._broken = True
            return
        if self._stale and decoded.new_models:
            # A model defined anew comes with the server's whole value of each property: a
            # list of it left stale (its correction never came: the model had left this
            # client's document) is stale no more (child moves in memory, seed 4000001329).
            self._stale = {key for key in self._stale if key[0] not in decoded.new_models}
        if self.outbox.waiting:
            # A put-back of its own model the server came to hold since (an answer) keeps its
            # definition aside (redefine) from now, where the server's changes of the model
            # reach it (``refresh_redefined``): left among the definitions to send until the
            # patch went, it was sent without them (child moves in memory, seed 700001151).
            self.outbox.refer_to_held()
        # (Rare: most patches define no model.) Judged on the patch's events as sent, before
        # this client skips any: a definition is the model's state as of the event of the
        # patch that attached it, skipped here or not (``_before_attached``).
        early = _before_attached(decoded.events, decoded.new_models) if decoded.new_models else None
        laid: list[DocumentEvent] = []
        held_back = self.in_flight is not None or self.outbox.waiting or self._stale
        if (held_back or self._missed) and content.get("references"):
            # A model its changes kept held may come defined anew (none where nothing is defined:
            # most patches carry an empty list); and one whose server changes it skipped while
            # out takes a correction's definition, its own change of it answered or not (the
            # correction of a list the server's move attached it to follows that answer).
            decoded.events = redefined(
                decoded.events,
                content["references"],
                self.document.models,
                decoded.new_models,
                buffers,
                setter=self.setter,
                max_array_elements=self.max_array_elements,
                missed=self._missed,
                server_held=self._server_held,
                laid=laid,
            )
        if held_back:
            # (With nothing of its own unanswered, a client takes the server's events as they are.)
            # The keys of this client's unanswered changes (those known to lose too), gathered
            # without a Python frame (``attrgetter`` through ``map``).
            unanswered = set(map(_KEY, self.outbox.waiting))
            if self.in_flight is not None:
                unanswered.update(map(_KEY, self.in_flight[1]))
            if laid:  # (rare: a correction's definition laid over a model whose server changes were skipped)
                over = {id(event) for event in laid}
                decoded.events = [e for e in decoded.events if self._reconcile(e, unanswered, defining=id(e) in over)]
            else:
                # An event of a key with nothing of this client's unanswered and not left stale
                # (most events), other than a splice, is kept without ``_reconcile``'s call.
                stale = self._stale
                kept = []
                for event in decoded.events:  # (a loop: a comprehension is a call, per patch)
                    key = event.property_key()
                    if (
                        key is None
                        or (key not in unanswered and key not in stale and not isinstance(event, ev.ListSplicedEvent))
                        or self._reconcile(event, unanswered)
                    ):
                        kept.append(event)
                decoded.events = kept
            if decoded.skipped:  # (rare: events of models this client took out, or that left)
                self._reconcile_skipped(content["events"], decoded.new_models, buffers)
        if early:
            decoded.events = [event for event in decoded.events if id(event) not in early]
        fits = True
        try:
            # (``Document.apply_patch``, and ``_apply``, without the calls around it: per patch received.)
            apply_events(self.document, decoded.events, setter=self.setter, new_models=decoded.new_models)
        except (PatchError, ValueError):
            fits = False
        if not fits:
            self._apply_each(decoded)
        if decoded.new_models and (self._missed or self.in_flight is not None or self.outbox.waiting or self._stale):
            self._note_defined(decoded.new_models)  # (rare: most patches define no model)
        if self.outbox.waiting and self.outbox.redefining:  # (rare: a put-back of this client's own model waits)
            self.outbox.refresh_redefined(decoded.events, self._at_put_backs)
        if self._at_put_backs:
            self._at_put_backs.clear()
        if decoded.new_models and (self.in_flight is not None or self.outbox.waiting):
            self._pending_on_defined(decoded.new_models)
        if laid:
            # The definition laid over is the server's state before this client's unanswered
            # changes of the model, which the server applies after it (child moves in memory,
            # seed 948609809: its own label, in flight, was taken as lost to the definition).
            # Only those of the properties it changed: the others kept this client's changes.
            self._pending_on_defined(
                {event.model.id: event.model for event in laid},  # type: ignore[attr-defined]
                keys={event.property_key() for event in laid},
            )
        if isinstance(seq, int):
            self.last_seq = seq
        if self.in_flight is None and not self.outbox.waiting and not self._stale:
            self._missed.clear()  # (nothing of its own held back: the server's patches reach all it holds)

    def _revive(self, model_id: str) -> Model | None:
        """The object the application holds out of the document for ``model_id`` (``decode_patch``'s ``revive``).

        A server's reference attaches it where the server put the model (another client
        moved it while this client had it out, its change unanswered). Its values are the
        application's, without the server's changes skipped while it was out and with the
        application's own made then, which were never sent: noted as missed, so that the
        correction that follows (the server corrects the place it attached it to, once this
        client's change of it arrives) lays the server's values over it (protocol.md §9).
        """
        model = self.document.departed_model(model_id)
        if model is not None and model.document is None and len(self._missed) < _MISSED_LIMIT:
            self._missed.add(model_id)
        return model

    def _note_defined(self, defined: dict[str, Any]) -> None:
        """Note whether the models a server patch defined have its changes of them here (``_missed``).

        One made from the definition and attached has every server change of it: a later
        correction's definition is not laid over it (that undid the client's own unanswered
        splice of its list, which the server went on to take: child moves in memory, seed
        65477341). One no event of the patch attached here (the event was skipped: a splice
        of a list left stale, say) lost the definition and the patch's changes of it with
        it: where the client holds the model again (its own put-back of the object it had
        taken out), a correction's definition of it is laid over it (``redefined``), as for
        a model whose server changes it skipped (seed 3907741231: a put-back kept its
        ``counts`` without the server's change of it, made right after its definition).
        """
        models, missed = self.document.models, self._missed
        for model_id, model in defined.items():
            if models.get(model_id) is model:
                missed.discard(model_id)
            elif len(missed) < _MISSED_LIMIT:
                missed.add(model_id)

    def _server_held(self) -> set[str]:
        """The ids of the models this client holds where the server holds them too, as far as it can tell.

        Those its document reaches from a root no unanswered change of its own added,
        through no list left stale (its server splices skipped) and past no model an
        unanswered change of its own put in: the server's changes of those places reached it
        as they are. A server patch defining one of them defines it in a correction, as
        the correction left it, not as a model made anew (``redefined``).
        """
        put: dict[tuple[str, str], set[str]] = {}
        rooted: set[str] = set()
        entries = [*(self.in_flight[1] if self.in_flight is not None else ()), *self.outbox.entries]
        for entry in entries:
            event = entry.event
            if isinstance(event, ev.RootAddedEvent):
                rooted.add(event.model.id)
            elif entry.key is not None and isinstance(event, _ATTACHING):
                value = event.new if isinstance(event, ev.ModelChangedEvent) else event.items
                put.setdefault(entry.key, set()).update(model.id for model in models_in(value))
        held: set[str] = set()
        stack = [root for root in self.document.roots if root.id not in rooted]
        while stack:
            model = stack.pop()
            if model.id in held:
                continue
            held.add(model.id)
            for prop in type(model).properties().values():
                key = (model.id, prop.name)
                if not prop.may_hold_models or key in self._stale:
                    continue
                value = getattr(model, prop.name)
                mine = put.get(key, ())
                stack.extend(m for m in prop.iter_models(value) if m.id not in mine)
        return held

    def _pending_on_defined(self, defined: dict[str, Any], keys: set[Any] | None = None) -> None:
        """Make this client's unanswered changes of a model the server's patch defined anew hold on it.

        A model this client does not hold (it took it out, say, its change of it still
        unanswered) can come back defined by a server's patch (a correction of the list it
        was in) with the server's values, which do not have this client's changes yet: the
        server applies them after. They are applied to the model defined, as the server's
        (not sent again): the client took the definition's values, and its changes, which
        the server went on to take, were seen nowhere in its document. ``keys``: only the
        changes of those properties (the ones a definition laid over a held model changed).
        """
        entries = list(self.in_flight[1]) if self.in_flight is not None else []
        entries += self.outbox.entries
        for entry in entries:
            event = entry.event
            target = getattr(event, "model", None)
            if entry.doomed or target is None or entry.key is None or (keys is not None and entry.key not in keys):
                continue
            model = defined.get(target.id)
            # (``model`` may be ``target`` itself: held by the application, defined anew in place.)
            if model is None or model.document is not self.document:
                continue
            again = copy.copy(event)
            again.model = model  # type: ignore[attr-defined]
            if isinstance(again, ev.ListSplicedEvent) and entry.splice is not None:
                again.index, again.delete = entry.splice.index, entry.splice.delete
            elif isinstance(again, ev.ModelChangedEvent) and not _holds_models(model, again.attr):
                # The value as it was set, from the change's wire form: the event's holds the
                # list the model went on to hold, which this client's later splices of it
                # changed in place, and which those, applied after, would change again (child
                # moves in memory, seed 3192555471: a tag twice, then a splice out of range).
                try:
                    again.new = Decoder(dict(entry.buffers)).decode(entry.json.get("new"))
                except (DeserializationError, ValueError, TypeError):
                    continue
            try:
                apply_events(self.document, [again], setter=self.setter)
            except (PatchError, ValueError):
                continue  # (it does not fit the server's value: it loses there, and that value follows)

    def _pending(self, key: tuple[str, str]) -> list[OutboxEntry]:
        """This client's changes of ``key`` not answered yet and not known to lose, in order."""
        pending = [e for e in self.in_flight[1] if e.key == key and not e.doomed] if self.in_flight is not None else []
        waiting = self.outbox.waiting
        if waiting:
            pending += [e for e in waiting if e.key == key and not e.doomed]
        return pending

    def _doom(self, key: tuple[str, str]) -> None:
        if self.in_flight is not None:
            for entry in self.in_flight[1]:
                if entry.key == key:
                    entry.doomed = True
        for entry in self.outbox.waiting:
            if entry.key == key:
                entry.doomed = True

    def _reconcile(self, event: DocumentEvent, unanswered: Container[Any], *, defining: bool = False) -> bool:
        """Fit a server event to this client's unanswered changes; False to skip it.

        The server applied it before them. A whole value wins over them: what waits is
        dropped (the user is told), what is in flight will lose. A splice is shifted past
        the local splices of its list, as the server shifts those past it; where they
        really touch the same items (or a local whole value of the list is pending), the
        local changes lose, the server's value of the whole list follows, and until then
        the server's splices of that list are skipped. ``defining``: the event lays a
        correction's definition over a model whose server changes this client skipped: the
        server's state before this client's changes of it, which it does not supersede.
        ``unanswered``: the keys of this client's unanswered changes (or more): a server
        event of any other key (most) has none to fit.
        """
        key = event.property_key()
        if key is None:
            return True
        if isinstance(event, ev.ModelChangedEvent):
            self._stale.discard(key)
            if defining or key not in unanswered:
                return True
            dropped = self.outbox.supersede(key)
            if dropped:
                self._lose(dropped, "rejected", None)
            self._doom(key)
            return True
        if not isinstance(event, ev.ListSplicedEvent):
            return True
        if key in self._stale:
            return False
        if key not in unanswered and not self.outbox.redefining:
            return True  # (nothing of its own to shift past it, or to note it at)
        incoming = Splice(event.index, event.delete, len(event.items))
        shifted: list[tuple[OutboxEntry, Splice]] = []
        # (Rare: a waiting put-back defines this list's model: note the splice where it stands.)
        put_backs = self.outbox.redefining_at(key[0]) if self.outbox.redefining else []
        for entry in self._pending(key):
            while put_backs and put_backs[0][0] < self.outbox.position(entry):
                self._at_put_backs[(id(event), id(put_backs.pop(0)[1]))] = incoming
            result = transform(incoming, entry.splice) if entry.splice is not None else None
            if result is None:
                self._stale.add(key)
                self._doom(key)
                return False
            incoming, mine = result
            shifted.append((entry, mine))
        for entry, mine in shifted:
            entry.splice = mine
        for _, put_back in put_backs:
            self._at_put_backs[(id(event), id(put_back))] = incoming
        event.index, event.delete = incoming.index, incoming.delete
        return True

    def _reconcile_skipped(self, raws: list[Any], defined: dict[str, Any], buffers: dict[str, Any]) -> None:
        """Fit this client's unanswered changes to the server's events skipped as naming a model it does not hold.

        A model this client took out (its change unanswered) is not held here, so the
        server's changes of it are skipped; its pending splices of the model's lists are
        still shifted past the server's splices, and lose to its whole values, as
        ``_reconcile`` does for a model held. The model may come back defined by a server
        patch (a correction: ``_pending_on_defined``), where a splice left unshifted took out
        the wrong item (child moves in memory, seed 1414213735). A waiting put-back of its
        own model keeping a definition (taken out again since, by a waiting change) takes
        the server's splice where it stands at the put-back: the server makes the model from
        that definition and shifts this client's later splices of the list past the splice,
        which, left out, made its next splice out of range (seed 2869534871). The model's
        object the application holds out takes it where it stands now (``_splice_departed``).
        """
        held = self.document.models
        outbox = self.outbox
        for raw in raws:
            if type(raw) is not dict:
                continue
            ref, attr, kind = raw.get("model"), raw.get("attr"), raw.get("kind")
            if type(ref) is not dict or type(attr) is not str or type(ref.get("id")) is not str:
                continue
            if ref["id"] in held or ref["id"] in defined:
                continue  # (skipped for a model its value names, if at all: not this one's)
            if len(self._missed) < _MISSED_LIMIT:
                self._missed.add(ref["id"])
            key = (ref["id"], attr)
            pending = self._pending(key)
            # (Rare: a waiting put-back keeps a definition of the model.)
            put_backs = outbox.redefining_at(key[0]) if kind == "ListSpliced" and outbox.redefining else []
            if not pending and not put_backs:
                # (Its object, held out by the application, takes it.)
                if kind == "ListSpliced":
                    self._splice_departed(key, raw, None, buffers)
                else:
                    self._change_departed(key, raw, buffers)
                continue
            if kind == "ModelChanged":
                self._doom(key)
                self._change_departed(key, raw, buffers)  # (the server's value wins, as over a model held)
            elif kind != "ListSpliced":
                self._change_departed(key, raw, buffers)
            else:
                at, delete, items = raw.get("index"), raw.get("delete"), raw.get("items")
                if type(at) is not int or type(delete) is not int or type(items) is not list:
                    self._doom(key)
                    continue
                incoming = Splice(at, delete, len(items))
                shifted: list[tuple[OutboxEntry, Splice]] = []
                placed: list[tuple[OutboxEntry, Splice]] = []  # (a put-back, the splice where it stands there)
                for entry in pending:
                    while put_backs and put_backs[0][0] < outbox.position(entry):
                        placed.append((put_backs.pop(0)[1], incoming))
                    result = transform(incoming, entry.splice) if entry.splice is not None else None
                    if result is None:
                        self._doom(key)  # (the put-backs after it: their later splices lose, corrected)
                        put_backs = []
                        break
                    incoming, mine = result
                    shifted.append((entry, mine))
                else:
                    for entry, mine in shifted:
                        entry.splice = mine
                    self._splice_departed(key, raw, incoming, buffers)
                placed += [(put_back, incoming) for _, put_back in put_backs]
                if placed:
                    outbox.splice_redefined(key, placed, items, buffers)

    def _splice_departed(
        self, key: tuple[str, str], raw: dict[str, Any], at: Splice | None, buffers: dict[str, Any]
    ) -> None:
        """Apply a server's splice of list ``key``, skipped (its model out), to the model's object held out.

        One object per id: the application's object of a model out (taken out by this
        client's unanswered change) is what a put-back attaches, and what this client's
        later splices of its lists are made on. Without the server's splice, a later splice
        (based after it, not shifted past it by the server) deleted items its maker had not
        meant to where the server held the model still (the removal lost: child moves in
        memory, seed 2138669479). ``at``: the splice shifted past this client's unanswered
        splices of the list (None: it has none). A list of models, or one of a key with a
        change known to lose (its server value follows), is left as it is.
        """
        model = self.document.departed_model(key[0])
        if model is None:
            return
        prop = type(model).properties().get(key[1])
        if prop is None or prop.may_hold_models:
            return
        index, delete, raw_items = raw.get("index"), raw.get("delete"), raw.get("items")
        if type(index) is not int or type(delete) is not int or type(raw_items) is not list or self._doomed(key):
            return
        if at is None:
            at = Splice(index, delete, len(raw_items))
        value = getattr(model, key[1])
        if not isinstance(value, list) or at.index < 0 or at.delete < 0 or at.index + at.delete > len(value):
            return
        try:
            items = Decoder(buffers).decode(raw_items)
        except (DeserializationError, ValueError, TypeError):
            return
        with contextlib.suppress(PatchError, ValueError, TypeError):  # (it does not fit: its correction follows)
            model.splice_out(key[1], at.index, at.delete, items, self.setter)

    def _change_departed(self, key: tuple[str, str], raw: dict[str, Any], buffers: dict[str, Any]) -> None:
        """Apply a server's change of ``key`` but a splice, skipped (its model out), to the model's object held out.

        One object per id, as for a splice (``_splice_departed``): where no correction
        follows, that object is what the document holds again. A server's whole value of
        the list this client took the model out of supersedes that removal, waiting (it
        is never sent, so nothing is corrected), and attaches the object where the server
        holds the model (``_revive``): without the server's changes skipped while it was
        out, it kept a ``counts`` item another client had deleted, and this client's later
        deletion of it was refused (child moves in memory, seed 6500002493). A property
        that may hold models is left as it is, and so is one with a change of this
        client's known to lose (its server value follows) but for a whole value.
        """
        model = self.document.departed_model(key[0])
        if model is None:
            return
        prop = type(model).properties().get(key[1])
        if prop is None or prop.may_hold_models or (raw.get("kind") != "ModelChanged" and self._doomed(key)):
            return
        try:
            decoded = decode_patch(
                {"events": [raw]},
                {model.id: model},
                buffers,
                setter=self.setter,
                max_array_elements=self.max_array_elements,
                skip_unknown=True,
            )
        except (DeserializationError, PatchError, ValueError, TypeError):
            return
        if not decoded.events:
            return
        document, events, models = self.document, decoded.events, {model.id: model}
        with contextlib.suppress(PatchError, ValueError, TypeError):  # (it does not fit: its correction follows)
            model.change_out(key[1], lambda: apply_events(document, events, setter=self.setter, new_models=models))

    def _doomed(self, key: tuple[str, str]) -> bool:
        """Whether a change of ``key`` of this client's, unanswered, is known to lose."""
        entries = [*(self.in_flight[1] if self.in_flight is not None else ()), *self.outbox.waiting]
        return any(entry.key == key and entry.doomed for entry in entries)

    def _apply_each(self, decoded: DecodedPatch) -> None:
        """Apply the events of a server patch that did not fit as a whole one by one, those that fit.

        An event that does not fit conflicts with a local change not answered yet (or one
        that lost): that change loses, and the winning value follows.
        """
        for event in decoded.events:
            try:  # (``Document.apply_patch`` of the one event, without the call and DecodedPatch around it)
                apply_events(self.document, [event], setter=self.setter, new_models=decoded.new_models)
            except (PatchError, ValueError):
                continue

    def _answered(self, reply: Message) -> None:
        if reply.header["msgtype"] == ERROR:  # (``Message.msgtype``, without its call)
            self._settle({"error": reply.content.get("text", "")})
        else:
            seq, applied = reply.content.get("seq"), reply.content.get("applied_seq")
            if isinstance(seq, int):
                # Every change up to ``seq`` meant for this client was sent before the OK.
                self.last_seq = max(self.last_seq or 0, seq)
                if isinstance(applied, int) and applied > seq:
                    self._reaction_seq = max(self._reaction_seq, applied)  # it follows the OK
            self._settle(reply.content)
        self.flush()

    def _settle(self, answer: dict[str, Any]) -> None:
        """The patch in flight was answered (``answer``: an OK's content, or {"error": text})."""
        assert self.in_flight is not None
        _, entries = self.in_flight
        self.in_flight = None
        if "error" in answer:
            self._lose(entries, "refused", None, text=str(answer["error"]))
            return
        rejected = answer.get("rejected", 0)
        lost: Any = ()
        if isinstance(rejected, int) and rejected > 0:
            lost = answer.get("lost")
            self._lose(entries, "rejected", lost, rejected)
            if not isinstance(lost, list):
                return  # (some lost, the server did not say which: what they defined is not known to be held)
        taken = [entry for i, entry in enumerate(entries) if i not in lost] if lost else entries
        if self._stale:
            # A model its taken change defined (its own put back, say) the server made from the
            # definition: each list of it is the definition's whole value there, a list left
            # stale here (its correction skipped, the model out) stale no more (child moves in
            # memory, seed 5700004569: the server's later splices of it skipped for good).
            defined = {d["id"] for entry in taken for d in (*entry.references, *entry.redefined)}
            if defined:
                self._stale = {key for key in self._stale if key[0] not in defined}
        # The server holds what the changes it took defined, and let go of this client's
        # own models they took out (``Outbox.settle``).
        self.outbox.settle(taken)

    def _lose(
        self, entries: list[OutboxEntry], reason: str, which: Any, count: int | None = None, *, text: str | None = None
    ) -> None:
        if not entries:
            return
        if isinstance(which, list) and all(isinstance(i, int) and 0 <= i < len(entries) for i in which):
            entries = [entries[i] for i in which]
        elif count is not None and count < len(entries):
            entries = []  # some of them, the server did not say which
        names = tuple(dict.fromkeys([describe_change(e.event) for e in entries]))
        self._events.append(ChangesLost(reason, names, count if count is not None else len(entries), text))

    def replace_document(self, doc_json: dict[str, Any], buffers: list[tuple[str, Any]], seq: int) -> None:
        """Make ``doc_json`` the document at position ``seq`` (after this client pushed it)."""
        self._lose(self.outbox.drain(), "reset", None)
        self._replace(doc_json, Message({}, {}, {}, list(buffers)), seq)

    def _reset(self, message: Message) -> None:
        # A structural change of this client lost: the server's document replaces ours,
        # and what waited was made on the old one.
        dropped = self.outbox.drain()
        seq = message.content.get("seq")
        if self._replace(message.content.get("doc"), message, seq if isinstance(seq, int) else self.last_seq or 0):
            self._events.append(Reset(self.last_seq or 0))
            self._lose(dropped, "reset", None)

    # -- local changes ------------------------------------------------------------------

    def _watch(self) -> None:
        if not self._watching:
            self.document.on_change(self._local_change)
            self._watching = True

    def _unwatch(self) -> None:
        if self._watching:
            self.document.remove_on_change(self._local_change)
            self._watching = False

    def _local_change(self, event: DocumentEvent) -> None:
        if event.setter == self.setter:  # applied from the server: not sent back
            # (Rare: most changes attach and detach nothing.) The server holds what its
            # change attached, and may have let go of what it detached.
            if event.new_models:
                self.outbox.hold([model.id for model in event.new_models])
            if event.departed:
                self.outbox.forget(event.departed)
            return
        document = self.document
        # The document's index is read only for a change that attaches models, and
        # ``departed_model`` only for one that detaches some (``Outbox.add``): most do neither.
        entry = self.outbox.add(
            event,
            base=self.last_seq or 0,
            attached=document.models if event.new_models else _NO_MODELS,
            departed=document.departed_model if event.departed else None,
        )
        if self._stale and isinstance(event, ev.ModelChangedEvent) and entry.key is not None:
            # A whole new value does not depend on what the list was: the server's
            # splices of it are judged against this value from now on (if one arrives
            # before the value is answered, the value loses, as in _reconcile).
            self._stale.discard(entry.key)

    def flush(self) -> None:
        """Send the oldest waiting changes as one PATCH-DOC, if none is in flight.

        Changes the server would refuse together (``send_limits``) go in smaller patches,
        in order and on the same base; one change it would refuse alone is not sent (the
        server would close the connection for it, and refuse it again after the resume).
        It is reported lost ("too-large") and the document pulled again, which undoes it here.
        """
        if self._pacer is not None and (self._to_send or not self._pacer.ready()):
            # Over the server's rate (or behind messages that are): the changes wait, and
            # those made meanwhile go with them in one patch (``send_delay``).
            return
        self._flush_now()

    def _flush_now(self) -> None:
        """``flush``, whatever the rate: the patch made waits in ``messages_to_send`` for its token."""
        if self._state is not _LIVE or self.in_flight is not None:
            return
        batch: Batch | None = self.outbox.take()
        if batch is None:
            return
        limits = self.send_limits
        if limits is None:
            message = new_message(PATCH_DOC, batch.content, buffers=batch.buffers)
        else:
            message, fault = self._checked(batch, limits)
            while fault is not None and len(batch.entries) > 1:
                self.outbox.restore(batch)
                half: Batch | None = self.outbox.take((len(batch.entries) + 1) // 2)
                assert half is not None  # (what was just put back)
                batch = half
                message, fault = self._checked(batch, limits)
            if fault is not None:
                self._lose(batch.entries, "too-large", None, text=f"not sent: {fault}")
                self.resync()
                return
        self.in_flight = (message, batch.entries)
        self._to_send.append(message)

    @staticmethod
    def _checked(batch: Batch, limits: Receiver) -> tuple[Message, str | None]:
        """The PATCH-DOC of ``batch`` (its content encoded once) and why the server would refuse it, or None."""
        message = with_content_frame(PATCH_DOC, batch.content, dumps(batch.content), batch.buffers)
        frames, sizes = message.sized_frames()
        return message, limits.size_fault(frames, sizes, structure=True)


def _before_attached(events: list[DocumentEvent], defined: dict[str, Any]) -> set[int]:
    """The events (by ``id``) of a server patch that change a model it defines before an event attaches it.

    The server sends only changes of models its document holds, so such a model was
    held there: a correction later in the patch (the value of a list it is in) defines
    it as the position left it, those changes included (protocol.md §9: a definition gives
    the model's state as of the event that attached it). A receiver that holds the model
    keeps its own and ignores the definition; one that does not (it took the model out,
    its change unanswered) makes it from the definition, and applying them to it again
    put a tag in a list twice (convergence over a real server, child moves, seed 3422791825).
    Read before this client skips any event: where it skips the one attaching the model (a
    splice of a list left stale), the definition is still as of that event, and the changes
    after it, left out as made before the correction attaching it here, were lost (child
    moves in memory, seed 2276682393: a label and counts as defined, for good).
    """
    new = {id(model) for model in defined.values()}
    attached: set[int] = set()
    early: set[int] = set()
    for event in events:
        if isinstance(event, ev.RootAddedEvent):
            values: list[Any] = [event.model]
        else:
            target = getattr(event, "model", None)
            if target is not None and id(target) in new and id(target) not in attached:
                early.add(id(event))  # in its definition already
                continue
            values = []
            if isinstance(event, _ATTACHING) and target is not None and _holds_models(target, event.attr):
                values = list(models_in(event.new if isinstance(event, ev.ModelChangedEvent) else event.items))
        while values:  # what the event attaches: the models it names, and those they reach
            model = values.pop()
            if id(model) in new and id(model) not in attached:
                attached.add(id(model))
                values.extend(model.references())
    return early


#: The events whose value may attach models (a root added attaches its own).
_ATTACHING = (ev.ModelChangedEvent, ev.ListSplicedEvent, ev.DictItemsSetEvent)


def _holds_models(model: Any, attr: str) -> bool:
    """Whether property ``attr`` of ``model`` may hold models (a column of a million floats is not walked)."""
    try:
        return bool(type(model).lookup(attr).may_hold_models)
    except AttributeError:
        return False
