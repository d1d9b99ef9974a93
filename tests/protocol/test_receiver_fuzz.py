from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docsync.exceptions import ProtocolError
from docsync.protocol.message import Buffer, Frame, Message, frame_nbytes, new_message
from docsync.protocol.msgtypes import MESSAGE_TYPES
from docsync.protocol.receiver import Expecting, Receiver

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text JSON can carry: every code point but lone surrogates.
text = st.text(st.characters(codec="utf-8"), max_size=12)
keys = st.text(st.characters(codec="utf-8"), max_size=4)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=8,
)
json_objects = st.dictionaries(keys, json_values, max_size=3)

payloads: st.SearchStrategy[Buffer] = st.binary(max_size=300).flatmap(
    lambda data: st.sampled_from([data, bytearray(data), memoryview(data)])
)

header_extras = st.dictionaries(
    keys.filter(lambda key: key not in {"msgid", "msgtype", "reqid", "num_buffers"}),
    json_values,
    max_size=2,
)


@st.composite
def messages(draw: st.DrawFn) -> Message:
    ids = draw(st.lists(keys, unique=True, max_size=4))
    return new_message(
        draw(st.sampled_from(sorted(MESSAGE_TYPES))),
        draw(json_objects),
        reqid=draw(st.none() | text),
        metadata=draw(json_objects),
        buffers=[(buffer_id, draw(payloads)) for buffer_id in ids],
        header_extra=draw(header_extras),
    )


def feed(receiver: Receiver, frames: list[Frame]) -> Message:
    *head, last = frames
    for frame in head:
        assert receiver.receive(frame) is None
    result = receiver.receive(last)
    assert result is not None
    return result


def same(a: Message, b: Message) -> bool:
    return (a.header, a.metadata, a.content) == (b.header, b.metadata, b.content) and [
        (i, bytes(p)) for i, p in a.buffers
    ] == [(i, bytes(p)) for i, p in b.buffers]


@FUZZ
@given(messages())
def test_valid_messages_survive_the_round_trip(sent: Message) -> None:
    frames = sent.to_frames()
    assert sent.wire_size() == sum(frame_nbytes(frame) for frame in frames)
    received = feed(Receiver(), frames)
    assert same(received, sent)
    assert received.msgtype == sent.msgtype
    assert received.reqid == sent.reqid


@FUZZ
@given(messages())
def test_limits_sit_exactly_at_the_wire_size(sent: Message) -> None:
    frames = sent.to_frames()
    largest = max(frame_nbytes(frame) for frame in frames)
    snug = Receiver(
        max_frame_bytes=largest,
        max_message_bytes=sent.wire_size(),
        max_buffers=max(len(sent.buffers), 1),
    )
    assert same(feed(snug, frames), sent)


def flip(frame: Frame) -> Frame:
    if isinstance(frame, str):
        return frame.encode("utf-8", "surrogatepass")
    # surrogateescape turns stray bytes into lone surrogates: text no sender makes.
    return bytes(frame).decode("utf-8", "surrogateescape")


def truncate(frame: Frame, keep: int) -> Frame:
    return frame[:keep] if isinstance(frame, str) else bytes(frame)[:keep]


random_frames = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=40),
    st.binary(max_size=40),
    st.sampled_from(
        [
            "{}",
            "[]",
            "null",
            '{"id":"a"}',
            '{"id":1}',
            '{"msgid":"1","msgtype":"ACK"}',
            '{"msgid":"1","msgtype":"PUSH-DOC","num_buffers":1}',
            '{"msgid":"1","msgtype":"PUSH-DOC","num_buffers":100}',
            '{"msgid":"1","msgtype":"NOPE"}',
            "[" * 200,
        ]
    ),
)

MUTATIONS = ["drop", "duplicate", "swap", "truncate", "flip", "insert"]


@st.composite
def mutated_frame_sequences(draw: st.DrawFn) -> list[Frame]:
    frames = [f for m in draw(st.lists(messages(), min_size=1, max_size=2)) for f in m.to_frames()]
    for _ in range(draw(st.integers(0, 5))):
        at = draw(st.integers(0, len(frames)))
        match draw(st.sampled_from(MUTATIONS)):
            case "insert":
                frames.insert(at, draw(random_frames))
            case _ if at == len(frames):
                pass
            case "drop":
                del frames[at]
            case "duplicate":
                frames.insert(at, frames[at])
            case "swap":
                other = draw(st.integers(0, len(frames) - 1))
                frames[at], frames[other] = frames[other], frames[at]
            case "truncate":
                frames[at] = truncate(frames[at], draw(st.integers(0, 20)))
            case "flip":
                frames[at] = flip(frames[at])
    return frames


receivers = st.one_of(
    st.just(None),
    st.tuples(st.integers(1, 400), st.integers(1, 2000), st.integers(1, 6)),
)

frame_sequences = st.one_of(
    st.lists(random_frames, max_size=20),
    mutated_frame_sequences(),
)


def make_receiver(limits: tuple[int, int, int] | None) -> Receiver:
    if limits is None:
        return Receiver()
    frame, total, buffers = limits
    return Receiver(max_frame_bytes=frame, max_message_bytes=total, max_buffers=buffers)


@FUZZ
@given(receivers, frame_sequences)
def test_any_frames_fail_only_with_protocol_error(limits: tuple[int, int, int] | None, frames: list[Frame]) -> None:
    receiver = make_receiver(limits)
    for frame in frames:
        try:
            result = receiver.receive(frame)
        except ProtocolError as exc:
            assert receiver.expecting is Expecting.HEADER
            message = str(exc)
            assert message and message == message.strip()
            assert len(message) < 200
        else:
            if result is not None:
                assert receiver.expecting is Expecting.HEADER
                assert_resendable(result)


def assert_resendable(received: Message) -> None:
    """Whatever the receiver accepts, a sender can frame again unchanged."""
    assert all(isinstance(payload, bytes | bytearray | memoryview) for _, payload in received.buffers)
    before: dict[str, Any] = dict(received.header)
    again = feed(Receiver(), received.to_frames())
    assert same(again, received)
    before.pop("num_buffers", None)
    received.header.pop("num_buffers", None)
    assert received.header == before


@FUZZ
@given(frame_sequences, messages())
def test_a_fresh_header_recovers_after_any_fault(frames: list[Frame], sent: Message) -> None:
    receiver = Receiver()
    faulted = False
    for frame in frames:
        try:
            receiver.receive(frame)
        except ProtocolError:
            faulted = True
            break
    if faulted:
        # Right after a fault, nothing of the broken message may leak into the next.
        assert same(feed(receiver, sent.to_frames()), sent)
    receiver.reset()
    assert same(feed(receiver, sent.to_frames()), sent)
