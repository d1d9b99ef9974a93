"""Hypothesis strategies: frame sequences for the fuzz test, from valid to garbage.

Messages are built mostly well-formed (the server's deeper code is reached only by
what the framing accepts), about the session's real model ids and properties, then
mutated frame by frame: dropped, repeated, swapped, truncated, corrupted, replaced.
A PATCH-DOC or PUSH-DOC now and then carries arrays (``array_events``): ndarray values
whose bytes are a buffer the message attaches or base64, of the right length or not,
of any dtype, shape and byte order, into a column, a stream, a patched slice or a
property.

Draws never depend on the server (hypothesis replays choices): a model is named by a
placeholder, ``model_ref(i)``, that ``with_ids`` replaces by a real id when sending.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import strategies as st

from docsync.protocol import MESSAGE_TYPES

from .settings import MAX_FRAME_BYTES

Frame = str | bytes
REFS = 8


def model_ref(index: int) -> str:
    """The placeholder of the session's ``index``-th model id."""
    return f"@@model{index}@@"


def with_ids(frames: list[Frame], ids: list[str]) -> list[Frame]:
    """``frames`` with every placeholder replaced by a real model id (round robin)."""
    out: list[Frame] = []
    for frame in frames:
        for i in range(REFS):
            real = ids[i % len(ids)] if ids else "gone"
            if isinstance(frame, str):
                frame = frame.replace(model_ref(i), real)
            else:
                frame = frame.replace(model_ref(i).encode(), real.encode())
        out.append(frame)
    return out


ATTRS = ["value", "text", "start", "end", "title", "children", "data", "selected", "name", "width", "nope", ""]
EVENT_KINDS = [
    "ModelChanged",
    "ColumnDataChanged",
    "ColumnsStreamed",
    "ColumnsPatched",
    "ListSpliced",
    "DictItemsSet",
    "DictItemsDeleted",
    "RootAdded",
    "RootRemoved",
    "TitleChanged",
    "MessageSent",
    "Nonsense",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=6,
)
#: typed values the serialization layer knows, often malformed
typed_values = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            ["number", "bytes", "ndarray", "map", "set", "ref", "slice", "object", "date", "datetime", "time", "?"]
        )
    },
    optional={
        "value": scalars,
        "iso": st.sampled_from(["2024-02-29", "2024-02-29T13:05:07.123456+01:00", "13:05", "25:00", "2023-02-29", ""])
        | st.text(max_size=12),
        "entries": st.lists(st.lists(scalars, max_size=2), max_size=2),
        "array": st.fixed_dictionaries({"id": st.sampled_from(["b0", "b1", "x"])}),
        "dtype": st.sampled_from(["float64", "int32", "uint8", "object", "bool", "<f8", "x"]),
        "shape": st.lists(st.integers(-2, 2**40), max_size=2),
        "order": st.sampled_from(["little", "big", "?"]),
    },
)
values = json_values | typed_values


#: dtypes of protocol.md §7 with their item sizes, and some it refuses
DTYPES = {
    "bool": 1,
    "int8": 1,
    "uint8": 1,
    "int16": 2,
    "uint16": 2,
    "int32": 4,
    "uint32": 4,
    "float32": 4,
    "int64": 8,
    "uint64": 8,
    "float64": 8,
    "float16": 2,
    "object": 8,
    "<f8": 8,
    "datetime64[ns]": 8,
}


@st.composite
def arrays(draw: st.DrawFn, buffers: list[bytes]) -> dict[str, Any]:
    """An ndarray value whose bytes are drawn here: appended to ``buffers`` (``"b<i>"``), or base64.

    Mostly of the right length for its dtype and shape, so that decoding succeeds and
    the value reaches the document; now and then a byte short or long, or a shape that
    is not one.
    """
    dtype = draw(st.sampled_from(sorted(DTYPES)))
    shape: Any = draw(st.lists(st.integers(0, 4), max_size=3))
    count = 1
    for n in shape:
        count *= n
    size = count * DTYPES[dtype] + draw(st.sampled_from([0] * 6 + [-1, 1]))
    payload = draw(st.binary(min_size=max(0, size), max_size=max(0, size)))
    if dtype in ("float32", "float64", "float16") and draw(st.booleans()):
        payload = bytes(len(payload))  # zeros: finite floats, as most arrays hold
    value: dict[str, Any] = {"type": "ndarray", "dtype": dtype, "order": draw(st.sampled_from(["little", "big"]))}
    if draw(st.integers(0, 9)) == 0:
        shape = draw(st.sampled_from([[-1], [2**40, 2**40], [1.5], "3", None, [1] * 9]))
    value["shape"] = shape
    form = draw(st.sampled_from(["buffer", "buffer", "base64", "both", "missing buffer"]))
    if form in ("buffer", "both"):
        value["buffer"] = f"b{len(buffers)}"
        buffers.append(payload)
    if form in ("base64", "both"):
        value["base64"] = base64.b64encode(payload).decode()
    if form == "missing buffer":
        value["buffer"] = "b99"
    return value


@st.composite
def array_events(draw: st.DrawFn, buffers: list[bytes]) -> dict[str, Any]:
    """An event carrying arrays (the data of ``model_ref(0)``, a ColumnDataSource where the app has one)."""
    model = {"id": model_ref(draw(st.sampled_from([0, 0, 0, 1])))}
    kind = draw(st.sampled_from(["ColumnDataChanged", "ColumnsStreamed", "ColumnsPatched", "ModelChanged"]))
    columns = draw(st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=2, unique=True))
    if kind == "ColumnDataChanged":
        return {"kind": kind, "model": model, "attr": "data", "columns": {c: draw(arrays(buffers)) for c in columns}}
    if kind == "ColumnsStreamed":
        data = {c: draw(arrays(buffers)) for c in ["x", "y"]}
        return {
            "kind": kind,
            "model": model,
            "attr": "data",
            "data": data,
            "rollover": draw(st.none() | st.integers(0, 5)),
        }
    if kind == "ColumnsPatched":
        start = draw(st.integers(0, 3))
        index = {"type": "slice", "start": start, "stop": start + draw(st.integers(0, 3)), "step": 1}
        return {"kind": kind, "model": model, "attr": "data", "patches": {columns[0]: [[index, draw(arrays(buffers))]]}}
    attr = draw(st.sampled_from(["value", "data", "indices", "text"]))
    return {"kind": kind, "model": model, "attr": attr, "new": draw(arrays(buffers))}


def dumps(value: Any) -> str:
    """JSON text; NaN and infinities come out as the non-standard tokens JSON forbids."""
    return json.dumps(value, allow_nan=True)


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    model_id = draw(st.integers(0, REFS - 1).map(model_ref) | st.text(max_size=6))
    kind = draw(st.sampled_from(EVENT_KINDS))
    event: dict[str, Any] = {"kind": kind, "model": {"id": model_id}, "attr": draw(st.sampled_from(ATTRS))}
    column = draw(st.sampled_from(["x", "y", "t", ""]))
    if kind == "ModelChanged":
        event["new"] = draw(values)
    elif kind == "ColumnDataChanged":
        event["columns"] = {column: draw(values)}
    elif kind == "ColumnsStreamed":
        event["data"] = {column: draw(values)}
        event["rollover"] = draw(st.none() | st.integers(-3, 10) | st.text(max_size=2))
    elif kind == "ColumnsPatched":
        index = st.integers(-5, 50) | st.fixed_dictionaries({"type": st.just("slice"), "start": st.integers(-3, 5)})
        event["patches"] = {column: draw(st.lists(st.tuples(index, values).map(list), max_size=3))}
    elif kind == "ListSpliced":
        event.update(index=draw(st.integers(-2, 5)), delete=draw(st.integers(-2, 5)), items=draw(values))
    elif kind == "DictItemsSet":
        event["items"] = draw(values)
    elif kind == "DictItemsDeleted":
        event["keys"] = draw(values)
    elif kind == "TitleChanged":
        event = {"kind": kind, "title": draw(st.text(max_size=20) | scalars)}
    elif kind == "MessageSent":
        event = {
            "kind": kind,
            "msg_type": draw(st.sampled_from(["button_click", "docsync.notice", "x"])),
            "msg_data": draw(values),
        }
        if draw(st.booleans()):
            event["model"] = {"id": model_id}
    if draw(st.integers(0, 9)) == 0:  # now and then, a field goes missing or changes type
        key = draw(st.sampled_from(sorted(event)))
        if draw(st.booleans()):
            event[key] = draw(scalars)
        else:
            del event[key]
    return event


@st.composite
def references(draw: st.DrawFn) -> list[Any]:
    count = draw(st.integers(0, 4))
    return [
        {
            "type": "object",
            "name": draw(st.sampled_from(["Div", "Slider", "Column", "ColumnDataSource", "Nope"])),
            "id": f"fz{draw(st.integers(0, 20))}",
            "attributes": draw(st.dictionaries(st.sampled_from(ATTRS), values, max_size=2)),
        }
        for _ in range(count)
    ]


@st.composite
def messages(draw: st.DrawFn, corrupt: bool) -> list[Frame]:
    """The frames of one message: well-framed unless ``corrupt`` (then often not)."""
    # Mostly the types a client sends; now and then any type, or one that does not exist.
    choice = draw(st.integers(0, 19))
    if choice < 17 or not corrupt:
        msgtype = draw(
            st.sampled_from(["PATCH-DOC"] * 6 + ["PULL-DOC-REQ", "SERVER-INFO-REQ", "RESUME-REQ", "PUSH-DOC"])
        )
    elif choice < 19:
        msgtype = draw(st.sampled_from(sorted(MESSAGE_TYPES)))
    else:
        msgtype = draw(st.text(max_size=12))
    content: dict[str, Any] = {}
    if msgtype == "PATCH-DOC":
        content["events"] = draw(st.lists(events(), max_size=4))
        if draw(st.booleans()):
            content["references"] = draw(references())
            content["events"] += [{"kind": "RootAdded", "model": {"id": r["id"]}} for r in content["references"][:2]]
        if draw(st.booleans()):
            content["base"] = draw(st.integers(-2, 10**6) | scalars)
    elif msgtype == "RESUME-REQ":
        content = {"last_seq": draw(st.integers(-5, 10**6) | scalars), "client_id": draw(st.text(max_size=70))}
        # The fields a reconnecting client adds (protocol.md §13): its session's incarnation,
        # and the msgids of its patches not answered (this connection's own, sometimes).
        if draw(st.booleans()):
            content["incarnation"] = draw(st.text(max_size=20) | scalars)
        if draw(st.booleans()):
            pending = st.lists(st.sampled_from(["burst", "1", "2"]) | st.text(max_size=8), max_size=20)
            content["pending"] = draw(pending | scalars | json_values)
    elif msgtype == "PUSH-DOC":
        content = {"doc": draw(st.fixed_dictionaries({"roots": st.just([]), "models": references()}) | values)}
    elif msgtype == "PULL-DOC-REQ" and draw(st.booleans()):
        content = {"client_id": draw(st.text(max_size=70))}
    buffers: list[bytes] = []
    if msgtype == "PATCH-DOC" and draw(st.integers(0, 2)) == 0:
        content["events"] += draw(st.lists(array_events(buffers), min_size=1, max_size=2))
    elif msgtype == "PUSH-DOC" and draw(st.integers(0, 3)) == 0:
        data = {"x": draw(arrays(buffers)), "y": draw(arrays(buffers))}
        source = {"type": "object", "name": "ColumnDataSource", "id": "fz-source", "attributes": {"data": data}}
        content = {"doc": {"title": "", "roots": [{"id": "fz-source"}], "models": [source]}}
    buffers += draw(st.lists(st.binary(max_size=64), max_size=3 - min(3, len(buffers))))
    header: dict[str, Any] = {"msgid": draw(st.text(min_size=1, max_size=8)), "msgtype": msgtype}
    if buffers:
        header["num_buffers"] = len(buffers)
    if corrupt and draw(st.integers(0, 4)) == 0:
        header["num_buffers"] = draw(st.integers(-1, 100) | scalars)
    if corrupt and draw(st.integers(0, 4)) == 0:
        header[draw(st.sampled_from(["msgid", "msgtype", "reqid"]))] = draw(scalars)
    metadata = draw(json_values) if corrupt and draw(st.integers(0, 4)) == 0 else {}
    frames: list[Frame] = [dumps(header), dumps(metadata), dumps(content)]
    for i, payload in enumerate(buffers):
        frames += [dumps({"id": f"b{i}"}), payload]
    return frames


@st.composite
def mutated(draw: st.DrawFn, frames: list[Frame]) -> list[Frame]:
    """``frames`` with a few random mutations."""
    frames = list(frames)
    for _ in range(draw(st.integers(0, 3))):
        if not frames:
            break
        i = draw(st.integers(0, len(frames) - 1))
        op = draw(st.sampled_from(["drop", "repeat", "swap", "truncate", "flip", "kind", "replace", "huge"]))
        frame = frames[i]
        if op == "drop":
            del frames[i]
        elif op == "repeat":
            frames.insert(i, frame)
        elif op == "swap":
            j = draw(st.integers(0, len(frames) - 1))
            frames[i], frames[j] = frames[j], frames[i]
        elif op == "truncate":
            frames[i] = frame[: draw(st.integers(0, max(0, len(frame) - 1)))]
        elif op == "flip" and frame:
            data = bytearray(frame.encode("utf-8", "surrogatepass") if isinstance(frame, str) else frame)
            data[draw(st.integers(0, len(data) - 1))] ^= 1 << draw(st.integers(0, 7))
            frames[i] = data.decode("utf-8", "replace") if isinstance(frame, str) else bytes(data)
        elif op == "kind":
            frames[i] = frame.encode() if isinstance(frame, str) else frame.decode("latin-1")
        elif op == "replace":
            frames[i] = draw(st.text(max_size=30) | st.binary(max_size=30) | json_values.map(dumps))
        elif op == "huge":
            frames[i] = "x" * (MAX_FRAME_BYTES + 1) if draw(st.booleans()) else bytes(MAX_FRAME_BYTES + 1)
    return frames


@st.composite
def frame_sequences(draw: st.DrawFn) -> list[Frame]:
    """What one fuzz connection sends after the server's ACK (with placeholders).

    Half the sequences are well-framed (their content still random), so that the
    session code behind the framing is reached; the others are mangled too.
    """
    corrupt = draw(st.booleans())
    sequence: list[Frame] = []
    for frames in draw(st.lists(messages(corrupt), min_size=1, max_size=5)):
        sequence += draw(mutated(frames)) if corrupt and draw(st.booleans()) else frames
    if draw(st.integers(0, 19)) == 0:  # a burst past the patch rate limit
        patch = ['{"msgid": "burst", "msgtype": "PATCH-DOC"}', "{}", '{"events": []}']
        sequence += patch * draw(st.integers(50, 150))
    return sequence
