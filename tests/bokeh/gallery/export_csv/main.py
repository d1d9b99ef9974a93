"""A table of invented salaries filtered by a range slider; a button downloads the rows shown as CSV (a directory app).

The download runs in the browser (``download.js``, a CustomJS callback beside this file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from bokeh.io import curdoc
from bokeh.layouts import column, row
from bokeh.models import Button, ColumnDataSource, CustomJS, DataTable, Div, NumberFormatter, RangeSlider, TableColumn

rng = np.random.default_rng(42)
PEOPLE = 120
FIRST = ["Ada", "Ben", "Chloe", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea"]
LAST = ["Abara", "Brandt", "Costa", "Dimitrov", "Eriksen", "Fujita", "Garcia", "Haddad", "Ivanova", "Jensen"]
NAMES = [f"{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]}" for i in range(PEOPLE)]
YEARS = rng.integers(0, 30, PEOPLE)
SALARIES = np.round(30_000 + YEARS * 2_400 + rng.normal(0, 9_000, PEOPLE), -2)

salary = RangeSlider(
    title="salary range", start=10_000, end=150_000, value=(40_000, 80_000), step=1_000, format="0,0", name="salary"
)
source = ColumnDataSource(data={"name": [], "salary": [], "years": []}, name="rows")
shown = Div(name="shown")
download = Button(label="Download the rows shown", button_type="success", name="download")
download.js_on_event(
    "button_click", CustomJS(args={"source": source}, code=(Path(__file__).parent / "download.js").read_text())
)
table = DataTable(
    source=source,
    columns=[
        TableColumn(field="name", title="name"),
        TableColumn(field="salary", title="salary", formatter=NumberFormatter(format="$0,0")),
        TableColumn(field="years", title="years of experience"),
    ],
    width=520,
    height=420,
    name="table",
)


def update(attr: str, old: Any, new: Any) -> None:
    low, high = salary.value
    keep = (low <= SALARIES) & (high >= SALARIES)
    source.data = {"name": np.array(NAMES)[keep].tolist(), "salary": SALARIES[keep], "years": YEARS[keep]}
    shown.text = f"{int(keep.sum())} of {PEOPLE} people"


salary.on_change("value", update)
update("value", None, None)

curdoc().add_root(row(column(salary, download, shown, width=280), table))
curdoc().title = "Export CSV"
