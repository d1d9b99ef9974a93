"""JSON text for the wire, through orjson."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import orjson

__all__ = ["MAX_DEPTH", "count_containers", "count_separators", "dumpb", "dumps", "loads", "right_sized"]

# Deep enough for any document (a nested model costs about three levels), far below
# the depth at which orjson < 3.9.15 overflows the C stack while decoding
# (CVE-2024-27454: ~600 KB of "[" kills the process), and below the 255 levels that
# orjson.dumps accepts, so whatever loads returns can be encoded again.
MAX_DEPTH = 128

# Everything but brackets and quotes is irrelevant to nesting depth.
_IRRELEVANT = bytes(c for c in range(256) if c not in b'[]{}"')
# And everything but commas, colons and quotes to the number of values.
_NOT_SEPARATORS = bytes(c for c in range(256) if c not in b',:"')


def dumps(obj: Any) -> str:
    """Encode ``obj`` as compact JSON text; refuse NaN and infinities with ValueError.

    Raise TypeError for values JSON cannot carry (non-str keys, integers beyond
    64 bits, unknown types, strings with lone surrogates, nesting beyond 255).
    """
    data = orjson.dumps(obj)
    # orjson writes NaN and infinities as ``null`` without complaint, which would
    # turn a value into a different one on the far side. The serialization layer
    # encodes them as typed objects, so a raw one here is a bug upstream. A NaN can
    # only hide behind a ``null`` in the output, so the slow walk runs only then.
    if b"null" in data and _has_nonfinite_float(obj):
        raise ValueError("out of range float values are not JSON compliant")
    return data.decode()


#: Outputs of orjson shorter than this are copied by ``dumpb``: see there.
_COPIED_BYTES = 64 * 1024


def dumpb(obj: Any) -> bytes:
    """Encode ``obj`` as compact JSON, UTF-8 bytes; the checks and errors of ``dumps``.

    A short result is a copy of orjson's: orjson (3.13) keeps the buffer it wrote into, 4 KiB
    at least, behind the bytes it returns, and a session's log keeps an event's encoding
    (``EncodedEvent.data``): 1,000 logged changes of a label, 266 KiB as PATCH_LOG_BYTES
    counts them, held 5 MiB of the process's memory.
    """
    data = orjson.dumps(obj)
    if b"null" in data and _has_nonfinite_float(obj):  # as in dumps
        raise ValueError("out of range float values are not JSON compliant")
    return right_sized(data)


def right_sized(data: bytes) -> bytes:
    """``data`` from ``orjson.dumps``, kept: a copy holding only its own bytes when short (see ``dumpb``)."""
    return bytes(memoryview(data)) if len(data) < _COPIED_BYTES else data


def loads(text: str | bytes | bytearray | memoryview) -> Any:
    """Decode JSON text; raise ValueError if it is invalid or nested too deeply.

    Invalid UTF-8, lone surrogates, NaN, ``Infinity``, numbers that overflow a double
    and nesting deeper than MAX_DEPTH are all invalid. Integers beyond 64 bits decode
    as floats (orjson's rule).
    """
    if isinstance(text, memoryview):
        text = bytes(text)
    # Fewer opening brackets than the limit cannot nest beyond it; that settles
    # almost every frame at the cost of two C-level scans, and a frame no longer than
    # the limit (a header, a small patch) without them.
    if len(text) <= MAX_DEPTH:
        openers = 0
    elif isinstance(text, str):
        openers = text.count("[") + text.count("{")
    else:
        openers = text.count(b"[") + text.count(b"{")
    if openers > MAX_DEPTH and _max_depth(text) > MAX_DEPTH:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
    return orjson.loads(text)


def _max_depth(text: str | bytes | bytearray) -> int:
    # Must never underestimate, or a hostile frame reaches orjson. Everything runs
    # in C: a 16 MiB frame costs a fraction of what decoding it does.
    brackets = _brackets(text)
    if brackets is None:
        return 0
    opens, closes = brackets
    steps = opens.view(np.int8) - closes.view(np.int8)
    return int(np.cumsum(steps, dtype=np.int32).max())


def count_containers(text: str | bytes | bytearray) -> int:
    """Count the JSON arrays and objects in ``text``: its ``[`` and ``{`` outside strings.

    Exact for valid JSON (``text.count("[") + text.count("{")`` also counts those inside
    strings); in C, a 16 MiB frame in tens of milliseconds.
    """
    brackets = _brackets(text)
    return 0 if brackets is None else int(np.count_nonzero(brackets[0]))


def count_separators(text: str | bytes | bytearray) -> int:
    """Count the commas and colons outside strings in ``text``.

    About the values it holds: one comma fewer than the items of each array, and an
    object member's key and value one each. In C, like ``count_containers``.
    """
    scanned = _outside_strings(text, _NOT_SEPARATORS)
    # Every byte kept but the quotes is a comma or a colon.
    return 0 if scanned is None else int(np.count_nonzero((scanned[0] != ord('"')) & scanned[1]))


def _brackets(text: str | bytes | bytearray) -> tuple[np.ndarray, np.ndarray] | None:
    """Masks of the opening and closing brackets outside strings (None: no brackets nor quotes)."""
    scanned = _outside_strings(text, _IRRELEVANT)
    if scanned is None:
        return None
    codes, outside = scanned
    opens = ((codes == ord("[")) | (codes == ord("{"))) & outside
    closes = ((codes == ord("]")) | (codes == ord("}"))) & outside
    return opens, closes


def _outside_strings(text: str | bytes | bytearray, irrelevant: bytes) -> tuple[np.ndarray, np.ndarray] | None:
    """The bytes of ``text`` that are neither ``irrelevant`` nor escaped, and the mask of those outside strings."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    # Remove escaped backslashes first, then escaped quotes, as JSON's lexer pairs
    # backslashes left to right; every quote left then opens or closes a string.
    data = data.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, irrelevant)
    if not data:
        return None
    codes = np.frombuffer(data, dtype=np.uint8)
    quotes = codes == ord('"')
    in_string = (np.cumsum(quotes, dtype=np.int32) & 1).astype(bool)
    if in_string[-1]:
        # An unterminated string: count what it holds too, erring on the large side.
        in_string[int(np.flatnonzero(quotes)[-1]) :] = False
    return codes, ~in_string


def _has_nonfinite_float(obj: Any) -> bool:
    # Iterative, so a deep value cannot exhaust the Python stack; orjson caps the
    # depth of what it encodes anyway.
    stack = [obj]
    while stack:
        value = stack.pop()
        if isinstance(value, float):
            if not math.isfinite(value):
                return True
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
    return False
