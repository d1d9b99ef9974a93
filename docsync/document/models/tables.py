"""DataTable, its columns, and how their cells are shown (formatters) and edited (editors)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..model import Model
from ..properties import Bool, Either, Enum, Float, Instance, Int, List, Nullable, String
from ..sanitize import SafeTemplate
from .sources import ColumnDataSource
from .widgets import Widget

__all__ = [
    "CellEditor",
    "CellFormatter",
    "CheckboxEditor",
    "DataTable",
    "DateEditor",
    "DateFormatter",
    "HTMLTemplateFormatter",
    "IntEditor",
    "NumberEditor",
    "NumberFormatter",
    "SelectEditor",
    "StringEditor",
    "StringFormatter",
    "TableColumn",
]


class CellFormatter(Model):
    """How a column's cells are shown."""

    __abstract__ = True


class StringFormatter(CellFormatter):
    """The value as text (the default)."""


class NumberFormatter(CellFormatter):
    """Numbers by a pattern, as Bokeh's (numbro's): "0,0" "0.00" "0,0.0" "0.0%" "$0,0.00"."""

    format = String("0,0")
    nan_format = String("NaN")


class DateFormatter(CellFormatter):
    """Dates (date values, or milliseconds since 1970 as Bokeh stores datetimes) by a strftime pattern.

    ``format``: "ISO" (2024-05-01) or a pattern of %Y %y %m %d %e %H %I %M %S %p %b %B %a %A %j %%.
    Times are shown in UTC.
    """

    format = String("ISO")
    nan_format = String("")


class HTMLTemplateFormatter(CellFormatter):
    """Cells from an HTML template: ``<%= value %>`` (or any column, ``<%= name %>``) is replaced.

    The template is sanitised on the server; values are put in as text (never parsed as
    HTML), and a link or image address made from a value must be http(s), mailto or
    relative, so that no cell can run a script.
    """

    template = SafeTemplate("<%= value %>")


class CellEditor(Model):
    """How a column's cells are edited when the table is ``editable``."""

    __abstract__ = True


class StringEditor(CellEditor):
    """A text field; the cell becomes a string."""


class IntEditor(CellEditor):
    """A number field; the cell becomes an int."""

    step = Int(1)


class NumberEditor(CellEditor):
    """A number field; the cell becomes a float."""

    step = Float(0.01)


class SelectEditor(CellEditor):
    """A choice among ``options``; the cell becomes the chosen string."""

    options = List(String())


class CheckboxEditor(CellEditor):
    """A checkbox; the cell becomes a bool."""


class DateEditor(CellEditor):
    """A date field; the cell becomes a date."""


class TableColumn(Model):
    """One column of a table: which field it shows, its heading, formatter and editor."""

    field = String()
    title = String()
    width = Nullable(Int())
    sortable = Bool(True)
    formatter = Nullable(Instance(CellFormatter), help="None: the value as text.")
    editor = Nullable(Instance(CellEditor), help="None: a StringEditor (when the table is editable).")


class DataTable(Widget):
    """A table of a data source's rows: sortable, selectable, editable and paged if asked."""

    source = Instance(ColumnDataSource)
    columns = List(Instance(TableColumn))
    sortable = Bool(True)
    selectable = Either(
        Bool(),
        Enum("checkbox"),
        default=True,
        help="Whether rows are selected by the user; 'checkbox': with a checkbox per row.",
    )
    editable = Bool(False, help="Whether cells are edited in place (a patch of the source per edit).")
    page_size = Nullable(Int(), help="Rows per page, or None to show every row in a scrolled box.")
    height = Nullable(Int(), default=300)
    index_position = Nullable(Int(), help="Where a row-number column goes (0: first); None: none.")

    @classmethod
    def from_data(cls, data: Any, **properties: Any) -> DataTable:
        """Build a table, its source and its columns from a pandas DataFrame or a numpy structured array."""
        from .frames import columns_of

        columns, kinds = columns_of(data)
        formatters: dict[str, Callable[[], Model]] = {
            "datetime": lambda: DateFormatter(format="%Y-%m-%d %H:%M:%S"),
            "date": DateFormatter,
            "float": lambda: NumberFormatter(format="0,0.00"),
            "int": NumberFormatter,
        }
        source = ColumnDataSource(data=columns)
        table_columns = [
            TableColumn(field=name, title=name, formatter=formatters[kind]() if kind in formatters else None)
            for name, kind in kinds.items()
        ]
        return cls(source=source, columns=table_columns, **properties)
