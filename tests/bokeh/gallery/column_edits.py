"""A source of each column kind an app holds, and a table of some, for BokehJS's edits (test_bokeh_column_edits.py)."""

from __future__ import annotations

import numpy as np
from bokeh.io import curdoc
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, DataTable, IntEditor, NumberEditor, StringEditor, TableColumn, TextInput

IMAGE = np.arange(6, dtype=np.float64).reshape(2, 3)
#: source name -> its one column "v" (the table's source has one column per editor).
COLUMNS = {
    "float64": np.array([1.5, 2.5, 3.5]),
    "float32": np.array([1.5, 2.5, 3.5], dtype=np.float32),
    "int64_small": np.array([1, 2, 3], dtype=np.int64),
    "int64_big": np.array([2**40, 2, 3], dtype=np.int64),
    "int64_wraps": np.array([1, 2, 3], dtype=np.int64),  # only test_int64_within_int32_refuses_... edits it
    "int32": np.array([1, 2, 3], dtype=np.int32),
    "uint8": np.array([1, 2, 3], dtype=np.uint8),
    "bool": np.array([True, False, True]),
    "datetime64": np.array(["2024-01-01", "2024-01-02", "2024-01-03"], dtype="datetime64[ns]"),
    "str": np.array(["a", "b", "c"]),
    "object": np.array(["a", "b", "c"], dtype=object),
    "list_float": [1.5, 2.5, 3.5],
    "list_int": [1, 2, 3],
    "list_str": ["a", "b", "c"],
    "images": [IMAGE, IMAGE + 10, IMAGE + 20],
}
# A copy of each array column an edit is refused in (BokehJS holds the refused edit, the server not).
COLUMNS.update({f"{name}_refused": COLUMNS[name].copy() for name in ("int64_small", "int32", "uint8", "bool")})
COLUMNS.update({f"{name}_refused": COLUMNS[name].copy() for name in ("float64", "int64_big", "datetime64", "str")})
for name, values in COLUMNS.items():
    curdoc().add_root(ColumnDataSource(data={"v": values}, name=name))

table_source = ColumnDataSource(
    data={
        "f64": np.array([1.5, 2.5]),
        "f32": np.array([1.5, 2.5], dtype=np.float32),
        "i64": np.array([1, 2], dtype=np.int64),
        "i32": np.array([1, 2], dtype=np.int32),
        "str": np.array(["a", "b"]),
        "list_float": [1.5, 2.5],
        "list_int": [1, 2],
        "list_str": ["a", "b"],
    },
    name="table_source",
)
EDITORS = {
    "f64": NumberEditor,
    "f32": NumberEditor,
    "list_float": NumberEditor,
    "i64": IntEditor,
    "i32": IntEditor,
    "list_int": IntEditor,
}
table = DataTable(
    source=table_source,
    columns=[TableColumn(field=f, title=f, editor=EDITORS.get(f, StringEditor)()) for f in table_source.data],
    editable=True,
    width=900,
    height=120,
    name="table",
)
curdoc().add_root(column(table, TextInput(value="0", name="marker")))
