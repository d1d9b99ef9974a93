"""DataTable and its columns, fed by a ColumnDataSource."""

from __future__ import annotations

from ..model import Model
from ..properties import Bool, Instance, Int, List, Nullable, String
from .sources import ColumnDataSource

__all__ = ["DataTable", "TableColumn"]


class TableColumn(Model):
    """One column of a table: which field it shows and its heading."""

    field = String()
    title = String()
    width = Nullable(Int())
    sortable = Bool(True)


class DataTable(Model):
    """A sortable table of a data source's rows."""

    source = Instance(ColumnDataSource)
    columns = List(Instance(TableColumn))
    sortable = Bool(True)
    height = Int(300)
    width = Nullable(Int())
