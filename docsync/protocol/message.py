"""Messages: a header, metadata, content and binary buffers, and their frames."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict

import orjson

from .msgtypes import (
    ACK,
    ERROR,
    MESSAGE_TYPES,
    OK,
    PATCH_DOC,
    PULL_DOC_REPLY,
    PULL_DOC_REQ,
    PUSH_DOC,
    RESUME_REQ,
    SERVER_INFO_REPLY,
    SERVER_INFO_REQ,
)
from .wire_json import dumps

__all__ = [
    "Buffer",
    "ErrorContent",
    "Frame",
    "Header",
    "Message",
    "PatchDocContent",
    "PullDocReplyContent",
    "PushDocContent",
    "ResumeReplyContent",
    "ResumeReqContent",
    "ServerInfoContent",
    "VersionInfo",
    "ack",
    "applied_ok",
    "error",
    "frame_nbytes",
    "new_message",
    "ok",
    "patch_doc",
    "pull_doc_reply",
    "pull_doc_req",
    "push_doc",
    "resume_req",
    "server_info_reply",
    "server_info_req",
    "with_content_frame",
]

Buffer = bytes | bytearray | memoryview
Frame = str | bytes | bytearray | memoryview


class Header(TypedDict):
    """The header frame; fields beyond these are allowed and preserved."""

    msgid: str
    msgtype: str
    reqid: NotRequired[str]
    num_buffers: NotRequired[int]


class ErrorContent(TypedDict):
    """Content of ERROR."""

    text: str
    code: NotRequired[str]
    # A server traceback, sent only while the server runs with DEBUG on.
    detail: NotRequired[str]


class VersionInfo(TypedDict):
    """Versions reported in SERVER-INFO-REPLY."""

    docsync: str
    server: str


class ServerInfoContent(TypedDict):
    """Content of SERVER-INFO-REPLY."""

    version_info: VersionInfo


class PullDocReplyContent(TypedDict):
    """Content of PULL-DOC-REPLY."""

    doc: dict[str, Any]
    # The server position the document is at, which a later resume starts from.
    seq: NotRequired[int]


class PushDocContent(TypedDict):
    """Content of PUSH-DOC."""

    doc: dict[str, Any]
    seq: NotRequired[int]


class PatchDocContent(TypedDict):
    """Content of PATCH-DOC."""

    events: list[Any]
    # Definitions of models the events bring into the document.
    references: NotRequired[list[Any]]
    # The patch's place in the session's total order, set by the server.
    seq: NotRequired[int]
    # The last server position the sending client had applied when it made the patch.
    base: NotRequired[int]


class ResumeReqContent(TypedDict):
    """Content of RESUME-REQ."""

    last_seq: int
    client_id: str


class ResumeReplyContent(TypedDict):
    """Content of RESUME-REPLY; what accompanies each mode is the server's to define."""

    mode: Literal["replay", "full"]
    seq: NotRequired[int]
    doc: NotRequired[dict[str, Any]]


# Header fields the framing owns; header_extra may not override them.
_RESERVED_HEADER_FIELDS = frozenset({"msgid", "msgtype", "reqid", "num_buffers"})

# msgids need only be unique per sender. next() on itertools.count is a single C
# call, so threads sharing the counter cannot draw the same id.
_msgids = itertools.count(1)


def frame_nbytes(frame: Frame) -> int:
    """Return the number of bytes ``frame`` occupies on the wire (UTF-8 for text)."""
    if isinstance(frame, str):
        if frame.isascii():
            return len(frame)
        # surrogatepass: a lone surrogate must be counted, not crash the count; the
        # JSON decoder rejects it right after.
        return len(frame.encode("utf-8", "surrogatepass"))
    if isinstance(frame, memoryview):
        # len() of a typed or multi-dimensional view counts items, not bytes.
        return frame.nbytes
    return len(frame)


@dataclass(slots=True, init=False)
class Message:
    """One protocol message; ``to_frames`` turns it into websocket frames."""

    header: dict[str, Any]
    metadata: dict[str, Any]
    content: dict[str, Any]
    buffers: list[tuple[str, Buffer]]

    def __init__(
        self,
        header: dict[str, Any],
        metadata: dict[str, Any] | None = None,
        content: dict[str, Any] | None = None,
        buffers: list[tuple[str, Buffer]] | None = None,
    ) -> None:
        # (Written out, not generated: the generated one tells each default factory's
        # sentinel apart, and a message is made for every one sent and received.)
        self.header = header
        self.metadata = {} if metadata is None else metadata
        self.content = {} if content is None else content
        self.buffers = [] if buffers is None else buffers

    @property
    def msgtype(self) -> str:
        """Return the message type."""
        msgtype: str = self.header["msgtype"]
        return msgtype

    @property
    def msgid(self) -> str:
        """Return the message id."""
        msgid: str = self.header["msgid"]
        return msgid

    @property
    def reqid(self) -> str | None:
        """Return the id of the request this message replies to, or None."""
        reqid: str | None = self.header.get("reqid")
        return reqid

    def to_frames(self, content: str | None = None) -> list[Frame]:
        """Return the frames of this message, setting ``num_buffers`` in the header.

        ``content``: the content frame when the caller encoded it already (exactly what
        encoding ``self.content`` gives).
        """
        # The header must announce exactly the buffers that follow, so it is brought
        # in line here, at the last moment, whatever was appended since construction.
        if self.buffers:
            self.header["num_buffers"] = len(self.buffers)
        else:
            self.header.pop("num_buffers", None)
        # Metadata is empty in nearly every message: its frame is always the same.
        metadata = "{}" if type(self.metadata) is dict and not self.metadata else dumps(self.metadata)
        frames: list[Frame] = [dumps(self.header), metadata, dumps(self.content) if content is None else content]
        for buffer_id, payload in self.buffers:
            frames.append(dumps({"id": buffer_id}))
            # Passed through untouched: a memoryview of an array goes out with no copy.
            frames.append(payload)
        return frames

    def sized_frames(self) -> tuple[list[Frame], list[int]]:
        """Return ``to_frames()`` and each frame's size on the wire."""
        frames = self.to_frames()
        # An ASCII text frame (nearly every one) is counted without a call per frame.
        return frames, [len(f) if type(f) is str and f.isascii() else frame_nbytes(f) for f in frames]

    def wire_size(self) -> int:
        """Return the total bytes of this message's frames (encoding its JSON to count).

        Callers that already hold the frames should sum ``frame_nbytes`` over them.
        """
        return sum(frame_nbytes(frame) for frame in self.to_frames())


def new_message(
    msgtype: str,
    content: Mapping[str, Any] | None = None,
    *,
    reqid: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    buffers: Iterable[tuple[str, Buffer]] = (),
    header_extra: Mapping[str, Any] | None = None,
) -> Message:
    """Build a message of type ``msgtype`` with a fresh msgid."""
    if msgtype not in MESSAGE_TYPES:
        raise ValueError(f"unknown message type {msgtype!r}")
    header: dict[str, Any] = {"msgid": str(next(_msgids)), "msgtype": msgtype}
    if reqid is not None:
        header["reqid"] = reqid
    if header_extra:
        reserved = sorted(_RESERVED_HEADER_FIELDS & header_extra.keys())
        if reserved:
            raise ValueError(f"header_extra may not set {reserved[0]!r}")
        header.update(header_extra)
    buffer_list = list(buffers)
    # The receiver refuses duplicate ids; catching them here points at the sender.
    seen: set[str] = set()
    for buffer_id, _ in buffer_list:
        if not isinstance(buffer_id, str):
            raise TypeError(f"buffer id must be a string, got {buffer_id!r}")
        if buffer_id in seen:
            raise ValueError(f"duplicate buffer id {buffer_id!r}")
        seen.add(buffer_id)
    return Message(header, dict(metadata or {}), dict(content or {}), buffer_list)


class _BuiltMessage(Message):
    """A message of a fixed shape whose frames and sizes are built directly, when first asked for (do not mutate it).

    Built by ``applied_ok`` and ``with_content_frame``: byte for byte the frames of the
    general encoding. A message that is never written to a socket (the in-memory tests
    hand messages over as they are) is never encoded.
    """

    __slots__ = ("_content_frame", "_frames", "_sizes")

    def __init__(
        self,
        header: dict[str, Any],
        content: dict[str, Any],
        content_frame: str | bytes | None,
        buffers: list[tuple[str, Buffer]] | None = None,
    ) -> None:
        super().__init__(header, {}, content, [] if buffers is None else buffers)
        #: The content frame the caller encoded already (text or UTF-8); None for an ``applied_ok``'s, written here.
        self._content_frame = content_frame
        self._frames: list[Frame] | None = None
        self._sizes: list[int] | None = None

    def to_frames(self, content: str | None = None) -> list[Frame]:
        """Return the frames, built on the first call."""
        return self.sized_frames()[0]

    def sized_frames(self) -> tuple[list[Frame], list[int]]:
        """Return the frames and their sizes, built on the first call."""
        frames, sizes = self._frames, self._sizes
        if frames is None or sizes is None:
            frames, sizes = self._frames, self._sizes = (
                _ok_frames(self) if self._content_frame is None else _frames_around(self, self._content_frame)
            )
        return frames, sizes


def applied_ok(reqid: str, seq: int, applied_seq: int) -> Message:
    """Build the OK to a patch applied whole: content ``{"seq", "rejected": 0, "applied_seq"}``.

    One per client patch: its frames are written directly (when first asked for), byte
    for byte what encoding the same message with ``new_message`` gives (tests/protocol
    compare them), without the generic checks and encoding. ``seq`` and ``applied_seq``
    are ints (positions).
    """
    if not reqid.isascii():  # its header frame's size needs counting in UTF-8: the general way
        return new_message(OK, {"seq": seq, "rejected": 0, "applied_seq": applied_seq}, reqid=reqid)
    content = {"seq": seq, "rejected": 0, "applied_seq": applied_seq}
    return _BuiltMessage({"msgid": str(next(_msgids)), "msgtype": OK, "reqid": reqid}, content, None)


def _ok_frames(message: _BuiltMessage) -> tuple[list[Frame], list[int]]:
    """The frames of an ``applied_ok`` message, and their sizes."""
    header, content = message.header, message.content
    # orjson escapes the client's msgid as the general encoding would; ints print alike.
    header_frame = f'{{"msgid":"{header["msgid"]}","msgtype":"OK","reqid":{orjson.dumps(header["reqid"]).decode()}}}'
    content_frame = f'{{"seq":{content["seq"]},"rejected":0,"applied_seq":{content["applied_seq"]}}}'
    return [header_frame, "{}", content_frame], [len(header_frame), 2, len(content_frame)]


def with_content_frame(
    msgtype: str, content: dict[str, Any], content_frame: str | bytes, buffers: list[tuple[str, Buffer]]
) -> Message:
    """Build a message whose content frame the caller encoded already (exactly what encoding ``content`` gives).

    ``content_frame``: text, or its UTF-8 (decoded when the frames are built).

    Its frames are built directly (when first asked for), byte for byte those of
    ``new_message`` (tests/protocol compare them), without the generic encoding; do not
    mutate the message. Buffer ids must be distinct strings (``new_message`` says which
    is not).
    """
    if msgtype not in MESSAGE_TYPES:
        raise ValueError(f"unknown message type {msgtype!r}")
    header: dict[str, Any] = {"msgid": str(next(_msgids)), "msgtype": msgtype}
    if buffers:
        header["num_buffers"] = len(buffers)
    return _BuiltMessage(header, content, content_frame, buffers)


def _frames_around(message: _BuiltMessage, content_frame: str | bytes) -> tuple[list[Frame], list[int]]:
    """The frames of a ``with_content_frame`` message, and their sizes."""
    if isinstance(content_frame, bytes):
        content_frame = content_frame.decode()
    header, buffers = message.header, message.buffers
    msgid, msgtype = header["msgid"], header["msgtype"]
    if buffers:
        header_frame = f'{{"msgid":"{msgid}","msgtype":"{msgtype}","num_buffers":{len(buffers)}}}'
    else:
        header_frame = f'{{"msgid":"{msgid}","msgtype":"{msgtype}"}}'
    frames: list[Frame] = [header_frame, "{}", content_frame]
    sizes = [len(header_frame), 2, len(content_frame) if content_frame.isascii() else frame_nbytes(content_frame)]
    for buffer_id, payload in buffers:
        buffer_header = '{"id":' + orjson.dumps(buffer_id).decode() + "}"
        frames += (buffer_header, payload)
        sizes += (
            len(buffer_header) if buffer_header.isascii() else frame_nbytes(buffer_header),
            payload.nbytes if type(payload) is memoryview else len(payload),
        )
    return frames, sizes


def ack() -> Message:
    """Build an ACK, the server's greeting on a new connection."""
    return new_message(ACK)


def ok(reqid: str) -> Message:
    """Build an OK replying to ``reqid``."""
    return new_message(OK, reqid=reqid)


def error(reqid: str | None, text: str, code: str | None = None) -> Message:
    """Build an ERROR, replying to ``reqid`` when the fault belongs to a request."""
    content: ErrorContent = {"text": text}
    if code is not None:
        content["code"] = code
    return new_message(ERROR, content, reqid=reqid)


def server_info_req() -> Message:
    """Build a SERVER-INFO-REQ."""
    return new_message(SERVER_INFO_REQ)


def server_info_reply(reqid: str, version_info: VersionInfo) -> Message:
    """Build a SERVER-INFO-REPLY replying to ``reqid``."""
    content: ServerInfoContent = {"version_info": version_info}
    return new_message(SERVER_INFO_REPLY, content, reqid=reqid)


def pull_doc_req() -> Message:
    """Build a PULL-DOC-REQ."""
    return new_message(PULL_DOC_REQ)


def pull_doc_reply(reqid: str, doc: dict[str, Any], buffers: Iterable[tuple[str, Buffer]] = ()) -> Message:
    """Build a PULL-DOC-REPLY carrying ``doc`` and its buffers."""
    content: PullDocReplyContent = {"doc": doc}
    return new_message(PULL_DOC_REPLY, content, reqid=reqid, buffers=buffers)


def push_doc(doc: dict[str, Any], buffers: Iterable[tuple[str, Buffer]] = ()) -> Message:
    """Build a PUSH-DOC carrying ``doc`` and its buffers."""
    content: PushDocContent = {"doc": doc}
    return new_message(PUSH_DOC, content, buffers=buffers)


def patch_doc(
    events: list[Any],
    buffers: Iterable[tuple[str, Buffer]] = (),
    *,
    seq: int | None = None,
    base: int | None = None,
) -> Message:
    """Build a PATCH-DOC carrying ``events``, with its order positions when given."""
    content: PatchDocContent = {"events": events}
    if seq is not None:
        content["seq"] = seq
    if base is not None:
        content["base"] = base
    return new_message(PATCH_DOC, content, buffers=buffers)


def resume_req(last_seq: int, client_id: str) -> Message:
    """Build a RESUME-REQ naming the last server position the client applied."""
    content: ResumeReqContent = {"last_seq": last_seq, "client_id": client_id}
    return new_message(RESUME_REQ, content)
