"""Every edit BokehJS itself makes to a ColumnDataSource is taken by docsync and converges.

One page of tests/bokeh/gallery/column_edits.py (a source per column kind an app holds:
numpy float64, float32, int64 within int32 and beyond, int32, uint8, bool, datetime64,
str, object; lists of floats, ints, strs; 2-D array cells) in the real BokehJS: each case
calls ``source.stream``/``source.patch`` or sets ``source.data`` as an app's CustomJS
would, or edits a DataTable cell with its editor, then changes a marker in a patch of its
own. Once the server holds the marker, the edit before it is applied or refused: the
source's Python columns must equal what BokehJS holds, with no ERROR reply, no console
error and no traceback in the server's log. A refusal of what BokehJS sends shows as a
difference (BokehJS applied the edit already).
"""

from __future__ import annotations

import itertools
import json
import math
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Browser

from docsync.testing import REPLY_TIMEOUT, ServerProcess

from .bokeh_page import BokehPage
from .conftest import new_context, start_server

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

APP = "bk_column_edits"

# Helpers in the page: the source named ``name``, its column ``v``, an ndarray shaped as
# its first cell, a Slice, a typed array of the column's own type.
_SETUP = """() => {
  const doc = Bokeh.documents[0];
  const {Slice} = Bokeh.require("core/util/slice");
  const {ndarray} = Bokeh.require("core/util/ndarray");
  window.columnEdit = (name, body) => {
    const s = doc.get_model_by_name(name);
    const v = s.data.v;
    const nd = (flat) => ndarray(new Float64Array(flat), {dtype: "float64", shape: [...v[0].shape]});
    const sl = (start, stop) => new Slice({start, stop});
    const typed = (xs) => ArrayBuffer.isView(v) ? new v.constructor(xs) : new Float64Array(xs);
    new Function("s", "v", "nd", "sl", "typed", body)(s, v, nd, sl, typed);
  };
  const plain = (x) => {
    if (x != null && x.shape != null && x.shape.length > 1) {
      const [rows, ...rest] = x.shape;
      const size = x.length / rows;
      const row = (i) => Object.assign(x.slice(i * size, (i + 1) * size), {shape: rest});
      return Array.from({length: rows}, (_, i) => plain(row(i)));
    }
    if (ArrayBuffer.isView(x)) return Array.from(x, (y) => typeof y === "bigint" ? Number(y) : y);
    if (Array.isArray(x)) return x.map(plain);
    return x;
  };
  window.columnsHeld = (name) => {
    const data = doc.get_model_by_name(name).data;
    const out = {};
    for (const [key, values] of (data instanceof Map ? data : Object.entries(data))) {
      out[key] = {values: plain(values), float32: values instanceof Float32Array};
    }
    return out;
  };
  window.setMarker = (text) => { doc.get_model_by_name("marker").value = text; };
}"""

#: A value of each source's own kind (a JavaScript expression).
OWN = {
    "float64": "4.25",
    "float32": "0.1",
    "int64_small": "7",
    "int64_big": "7",
    "int32": "7",
    "uint8": "7",
    "bool": "true",
    "datetime64": "Date.UTC(2024, 0, 5)",
    "str": '"d"',
    "object": '"d"',
    "list_float": "4.25",
    "list_int": "7",
    "list_str": '"d"',
}
TYPED = {"float64", "float32", "int64_small", "int64_big", "int32", "uint8", "bool", "datetime64"}
FLOATS = {"float64", "float32", "list_float"}

EDITS = {
    "stream": "s.stream({v: [X]})",
    "stream_rollover": "s.stream({v: [X, X]}, 4)",
    "patch_index": "s.patch({v: [[1, X]]})",
    "patch_slice": "s.patch({v: [[sl(0, 2), [X, X]]]})",
}
TYPED_EDITS = {
    "stream_typed": "s.stream({v: typed([X])})",
    "replace_typed": "s.data = {v: typed([X, X, X])}",
}
#: A typed array a CustomJS makes (BokehJS sends it as a typed array, not an ndarray).
JS_TYPED_EDITS = {
    "stream_float64array": "s.stream({v: new Float64Array([X])})",
    "patch_float64array": "s.patch({v: [[sl(1, 3), new Float64Array([X, X])]]})",
}
JS_TYPED = {"float64", "float32", "int64_small", "int64_big", "int32", "uint8", "list_float", "list_int"}
LAST_EDITS = {"replace": "s.data = {v: [X, X, X]}"}  # a plain array from then on
FLOAT_EDITS = {
    "stream_nan": "s.stream({v: [NaN]})",
    "stream_int": "s.stream({v: [3]})",
    "patch_nan": "s.patch({v: [[0, NaN]]})",
    "patch_int": "s.patch({v: [[0, 3]]})",
}
IMAGE_EDITS = {
    "stream": "s.stream({v: [nd([1, 2, 3, 4, 5, 6])]})",
    "stream_rollover": "s.stream({v: [nd([1, 2, 3, 4, 5, 6]), nd([6, 5, 4, 3, 2, 1])]}, 4)",
    "patch_index": "s.patch({v: [[1, nd([9, 9, 9, 9, 9, 9])]]})",
    "patch_sub_slice": "s.patch({v: [[[0, sl(0, 2), 1], [7, 8]]]})",
    "patch_sub_row": "s.patch({v: [[[2, 1, sl(0, 3)], [7, 8, 9]]]})",
    "replace": "s.data = {v: [nd([1, 2, 3, 4, 5, 6])]}",
}


def _cases() -> Iterator[Any]:
    for name, own in OWN.items():
        edits = {**EDITS, **(FLOAT_EDITS if name in FLOATS else {}), **(TYPED_EDITS if name in TYPED else {})}
        edits.update({**(JS_TYPED_EDITS if name in JS_TYPED else {}), **LAST_EDITS})
        for edit, body in edits.items():
            yield pytest.param(name, body.replace("X", own), id=f"{name}-{edit}")
    # An int64 column beyond 32 bits is a plain array in BokehJS: any number goes in.
    yield pytest.param("int64_big", "s.stream({v: [0.5]})", id="int64_big-stream_half")
    yield pytest.param("int64_big", "s.patch({v: [[0, 0.25]]})", id="int64_big-patch_quarter")
    for edit, body in IMAGE_EDITS.items():
        yield pytest.param("images", body, id=f"images-{edit}")
    # Cells of another kind that BokehJS and numpy hold alike (each truncates 0.5 in an int32 array).
    for name, edit, body in KIND_EDITS:
        yield pytest.param(name, body, id=f"{name}-{edit}")
    # A typed array a CustomJS makes, into a column of no numeric kind.
    for (name, own), (kind, array) in itertools.product(TYPED_INTO.items(), TYPED_KINDS.items()):
        for edit, body in TYPED_INTO_EDITS.items():
            yield pytest.param(name, body.replace("A", f"new {array}").replace("X", own), id=f"{name}-{edit}_{kind}")


KIND_EDITS = [
    ("int64_small", "patch_half", "s.patch({v: [[0, 0.5]]})"),
    ("int32", "patch_negative_half", "s.patch({v: [[0, -2.5]]})"),
    ("uint8", "patch_true", "s.patch({v: [[0, true]]})"),
    ("bool", "patch_one", "s.patch({v: [[0, 1], [1, 0]]})"),
    ("float64", "patch_true", "s.patch({v: [[0, true]]})"),
    ("object", "patch_number", "s.patch({v: [[0, 5]]})"),
    ("list_str", "patch_number", "s.patch({v: [[0, 5]]})"),
    ("list_float", "patch_string", "s.patch({v: [[0, 'x']]})"),
]
#: Columns of no numeric kind, with a number BokehJS and numpy hold alike in them.
TYPED_INTO = {"bool": "1", "datetime64": "Date.UTC(2024, 0, 5) / 1000"}
TYPED_INTO_EDITS = {"stream": "s.stream({v: A([X])})", "patch_slice": "s.patch({v: [[sl(1, 3), A([X, X])]]})"}
TYPED_KINDS = {"float64": "Float64Array", "int32": "Int32Array", "uint8": "Uint8Array"}
#: Edits refused, nothing applied: (source, JavaScript, id). BokehJS would hold them otherwise than the server.
REFUSED = [
    ("int64_small_refused", "s.patch({v: [[0, 2 ** 40]]})", "int64_small-patch_beyond_int32"),
    ("int32_refused", "s.patch({v: [[0, 2 ** 40]]})", "int32-patch_beyond_int32"),
    ("int64_small_refused", "s.patch({v: [[0, NaN]]})", "int64_small-patch_nan"),
    ("uint8_refused", "s.patch({v: [[sl(0, 2), [1, 300]]]})", "uint8-patch_slice_300"),
    ("bool_refused", "s.patch({v: [[0, 2]]})", "bool-patch_two"),
    ("bool_refused", "s.patch({v: [[0, 0.5]]})", "bool-patch_half"),
    ("float64_refused", "s.patch({v: [[0, 'inf']]})", "float64-patch_string"),
    ("float64_refused", "s.patch({v: [[0, null]]})", "float64-patch_null"),
    ("int64_big_refused", "s.patch({v: [[0, '7']]})", "int64_big-patch_string"),
    ("datetime64_refused", "s.patch({v: [[0, '2024-01-05']]})", "datetime64-patch_string"),
    ("str_refused", "s.patch({v: [[0, 5]]})", "str-patch_number"),
    ("str_refused", "s.patch({v: [[0, true]]})", "str-patch_bool"),
    ("str_refused", "s.stream({v: [5]})", "str-stream_number"),
    ("str_refused", "s.stream({v: new Float64Array([5])})", "str-stream_float64array"),
    ("str_refused", "s.stream({v: new Int32Array([5])})", "str-stream_int32array"),
    ("str_refused", "s.patch({v: [[sl(1, 3), new Uint8Array([5, 6])]]})", "str-patch_slice_uint8array"),
]


#: A DataTable column, the text typed into its editor, and the value the source then holds.
TABLE_EDITS = [
    ("f64", "2.75", 2.75),
    ("f32", "0.1", pytest.approx(0.1)),
    ("i64", "42", 42),
    ("i32", "-42", -42),
    ("str", "zed", "zed"),
    ("list_float", "2.75", 2.75),
    ("list_int", "42", 42),
    ("list_str", "zed", "zed"),
]


class ColumnPage:
    """The app's one page, its session's Python sources, and the server's log."""

    def __init__(self, page: BokehPage, server: ServerProcess) -> None:
        self.page = page
        self.server = server
        self.markers = itertools.count(1)
        self.console: list[str] = []
        self.log_seen = 0
        page.page.on("console", lambda message: message.type == "error" and self.console.append(message.text))
        page.page.evaluate(_SETUP)

    def python(self) -> dict[str, Any]:
        query = urllib.parse.urlencode({"session": self.page.session or ""})
        url = f"{self.server.url}_test/bokeh/{APP}/sources?{query}"
        with urllib.request.urlopen(url, timeout=REPLY_TIMEOUT) as response:
            return dict(json.loads(response.read()))

    def settle(self) -> None:
        """Change the marker in a patch of its own and wait until the server holds it (and so what came before)."""
        marker = str(next(self.markers))
        self.page.page.evaluate("(text) => setMarker(text)", marker)
        self.page.until(lambda: self.python()["marker"] == marker, f"marker {marker} in Python")

    def check(self, name: str) -> None:
        """The source ``name`` is the same in Python and in BokehJS, nothing refused or failed."""
        self.settle()
        log = self.server.log_path.read_text(errors="replace")[self.log_seen :] if self.server.log_path else ""
        self.log_seen += len(log)
        errors, self.console[:] = list(self.console), []
        held = self.page.page.evaluate("(name) => columnsHeld(name)", name)
        python = self.python()["sources"][name]
        assert errors == [], errors
        for column, value in held.items():
            expected = python[column]["values"]
            if value["float32"]:
                # BokehJS rounds what it appends to a float32 array, Bokeh's numpy append
                # promotes the server's column to float64 (Bokeh's own server too).
                expected = np.asarray(expected, dtype=np.float32).astype(float).tolist()
            assert _same(expected, value["values"]), (column, python[column], value)
        assert self.page.errors == [], self.page.errors
        assert "Traceback" not in log and "patch-refused" not in log, log[-2000:]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


@pytest.fixture(scope="module")
def server(workdir: Path, database: str) -> Iterator[ServerProcess]:
    """The Bokeh gallery's settings, served for this module."""
    process = start_server(workdir, database, "bokeh_column_edits", DJANGO_SETTINGS_MODULE="tests.bokeh.settings")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def columns(server: ServerProcess, module_browser: Browser) -> Iterator[ColumnPage]:
    """The app's one page, for every case of the module."""
    context = new_context(module_browser, viewport={"width": 1100, "height": 500})
    yield ColumnPage(BokehPage.open(context, server, APP), server)
    context.close()


@pytest.mark.parametrize(("name", "body"), list(_cases()))
def test_source_edit(columns: ColumnPage, name: str, body: str) -> None:
    columns.page.page.evaluate("([name, body]) => columnEdit(name, body)", [name, body])
    columns.check(name)


@pytest.mark.parametrize(("name", "body"), [edit[:2] for edit in REFUSED], ids=[edit[2] for edit in REFUSED])
def test_refused_edit(columns: ColumnPage, name: str, body: str) -> None:
    """An edit BokehJS would hold otherwise than the server is refused, ERROR naming the column, nothing applied."""
    before = columns.python()["sources"][name]
    columns.page.page.evaluate("([name, body]) => columnEdit(name, body)", [name, body])
    columns.page.until(lambda: any("column 'v'" in text for text in columns.console), "the ERROR reply")
    columns.settle()
    assert columns.python()["sources"][name] == before
    columns.console.clear()
    log = columns.server.log_path.read_text(errors="replace")[columns.log_seen :] if columns.server.log_path else ""
    columns.log_seen += len(log)
    assert "Traceback" not in log, log[-2000:]


@pytest.mark.parametrize(("field", "typed", "held"), TABLE_EDITS, ids=[edit[0] for edit in TABLE_EDITS])
def test_table_edit(columns: ColumnPage, field: str, typed: str, held: Any) -> None:
    page = columns.page.page
    fields = list(columns.page.js("table_source", "[...(m.data instanceof Map ? m.data.keys() : Object.keys(m.data))]"))
    page.locator(".slick-row").first.locator(".slick-cell").nth(fields.index(field) + 1).dblclick()
    editor = page.locator(".slick-cell.editable input")
    editor.fill(typed)
    editor.press("Enter")
    columns.check("table_source")
    assert columns.python()["sources"]["table_source"][field]["values"][0] == held


def test_int64_within_int32_refuses_what_its_int32_array_wraps(columns: ColumnPage) -> None:
    """Bokeh sends the column as int32, and BokehJS wraps 2**40 streamed into it to 0: refused.

    Taken (as Bokeh's server takes it), the server held 2**40 and every open tab 0 (the
    stream they are sent wraps too), a new tab 2**40; refused, and the tab that streamed it is sent
    the server's column back before the ERROR (bokeh.md, "What a browser may send").
    """
    page = columns.page.page
    page.evaluate("() => columnEdit('int64_wraps', 's.stream({v: [2 ** 40]})')")
    columns.settle()
    columns.page.until(lambda: any("its int32 array holds" in text for text in columns.console), "the ERROR reply")
    assert page.evaluate("() => columnsHeld('int64_wraps')")["v"]["values"] == [1, 2, 3]
    assert columns.python()["sources"]["int64_wraps"]["v"] == {"values": [1, 2, 3], "type": "int64"}
