"""An editable table of orders; Python totals them and redraws a bar chart of each line's value (a script app)."""

from __future__ import annotations

from typing import Any

import numpy as np
from bokeh.io import curdoc
from bokeh.layouts import column, row
from bokeh.models import (
    ColumnDataSource,
    DataTable,
    Div,
    IntEditor,
    NumberEditor,
    SelectEditor,
    StringEditor,
    TableColumn,
)
from bokeh.plotting import figure

ITEMS = ["bolts", "nuts", "washers", "screws", "rivets"]
STATUSES = ["open", "shipped", "cancelled"]
orders = ColumnDataSource(
    data={
        "item": ITEMS,
        "quantity": [10, 20, 30, 40, 50],
        "price": [0.5, 0.25, 0.1, 0.3, 0.8],
        "status": ["open"] * len(ITEMS),
    },
    name="orders",
)
values = ColumnDataSource(data={"item": ITEMS, "value": np.zeros(len(ITEMS))}, name="values")
table = DataTable(
    source=orders,
    columns=[
        TableColumn(field="item", title="item", editor=StringEditor()),
        TableColumn(field="quantity", title="quantity", editor=IntEditor()),
        TableColumn(field="price", title="unit price", editor=NumberEditor(step=0.05)),
        # Picked from a list: the server takes only these (docs/bokeh.md, "What a widget offers").
        TableColumn(field="status", title="status", editor=SelectEditor(options=STATUSES)),
    ],
    editable=True,
    width=470,
    height=200,
    name="table",
)
total = Div(name="total")
chart = figure(x_range=ITEMS, width=460, height=320, title="value per line", tools="", name="chart")
chart.vbar(x="item", top="value", width=0.7, source=values, color="#31a354")
chart.y_range.start = 0


def recompute(attr: str, old: Any, new: Any) -> None:
    line_values = np.asarray(orders.data["quantity"], dtype=float) * np.asarray(orders.data["price"], dtype=float)
    values.data["value"] = line_values
    total.text = f"total: {line_values.sum():.2f}"


orders.on_change("data", recompute)
recompute("data", None, None)
curdoc().add_root(row(column(table, total), chart))
curdoc().title = "Table editing"
