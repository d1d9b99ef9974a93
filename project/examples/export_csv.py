"""export_csv: filter salaries, select people on a plot, download the rows as CSV (Bokeh's export_csv example).

Bokeh's original downloads with a CustomJS callback; here the Download button's Python
callback writes the CSV into a small custom model whose view (extensions/csv_download.js)
saves it as a file in the browser.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from docsync.document import Document, Model
from docsync.document.models import (
    Button,
    Column,
    ColumnDataSource,
    DataTable,
    Div,
    RangeSlider,
    Row,
    TableColumn,
)
from docsync.document.properties import Int, String
from docsync.plotting import figure

from .sample_data import salaries

DATA = salaries()


class CsvDownload(Model):
    """Saves ``text`` as a file named ``filename`` in the browser whenever ``serial`` changes."""

    __view_module__ = "extensions/csv_download.js"
    filename = String("data.csv")
    text = String()
    serial = Int(0)


def to_csv(rows: dict[str, list[object]]) -> str:
    """Return the columns as CSV text with a header."""
    out = io.StringIO()
    writer = csv.writer(out)
    names = list(rows)
    writer.writerow(names)
    writer.writerows(zip(*(rows[name] for name in names), strict=True))
    return out.getvalue()


def modify_doc(doc: Document) -> None:
    """Build the export_csv app."""
    salary = RangeSlider(
        title="Max Salary", start=10_000, end=150_000, value=(10_000, 150_000), step=1_000, name="salary"
    )
    source = ColumnDataSource(data={"name": [], "salary": [], "years_experience": []}, name="source")
    columns = [TableColumn(field="name", title="Employee Name"), TableColumn(field="salary", title="Income"),
               TableColumn(field="years_experience", title="Experience (years)")]  # fmt: skip
    table = DataTable(source=source, columns=columns, height=320, name="table")
    p = figure(title="select people to export", tools="box_select,lasso_select,tap,reset", width=420, height=320,
               x_axis_label="years of experience", y_axis_label="salary", name="plot")  # fmt: skip
    p.scatter("years_experience", "salary", source=source, size=7, selection_color="firebrick", nonselection_alpha=0.3)
    download = Button(label="Download", button_type="success", name="download")
    info = Div(text="", name="info")
    saver = CsvDownload(name="saver")

    def update(attr: str = "", old: object = None, new: object = None) -> None:
        low, high = salary.value
        keep = (DATA["salary"] >= low) & (DATA["salary"] <= high)
        source.data = {
            "name": [DATA["name"][i] for i in np.flatnonzero(keep)],
            "salary": DATA["salary"][keep],
            "years_experience": DATA["years_experience"][keep],
        }
        source.selected.indices = []
        info.text = f"{int(keep.sum())} people; select some on the plot to export only them"

    def export(event: object) -> None:
        rows = source.selected.indices or list(range(source.length))
        data = source.data
        chosen = {name: [np.asarray(data[name])[i].item() if not isinstance(data[name], list) else data[name][i]
                         for i in rows] for name in data}  # fmt: skip
        saver.filename = "salaries.csv"
        saver.text = to_csv(chosen)
        saver.serial += 1
        info.text = f"exported {len(rows)} rows"

    salary.on_change("value", update)
    download.on_click(export)
    update()
    controls = Column(salary, download, info, saver, width=320)
    doc.add_root(Row(controls, Column(p, table), name="layout"))
    doc.title = "Export CSV"
