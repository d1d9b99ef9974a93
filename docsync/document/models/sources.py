"""ColumnDataSource: named columns of numpy arrays or lists, streamed and patched."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...exceptions import ValidationError
from ..columns import check_patches, check_stream, patch_checked, stream_checked
from ..model import Model
from ..properties import ColumnData, Instance, Int, List

__all__ = ["ColumnDataSource", "Selection"]


class Selection(Model):
    """The rows of a data source a user selected (in a table, or with a plot's tools)."""

    __client_writable__ = frozenset({"indices", "line_indices"})
    indices = List(Int(), help="Indices of the selected rows.")
    line_indices = List(Int(), help="Rows of a line glyph whose segment was hit (its point indices).")


class ColumnDataSource(Model):
    """Columns of equal length, the data behind tables and plots."""

    # A browser may edit cells (stream/patch), as a table allows; it selects rows through
    # ``selected.indices``.
    __client_writable__ = frozenset({"data"})
    data = ColumnData()
    selected = Instance(Selection, help="The selected rows; a new source gets an empty Selection.")

    def __init__(self, *, id: str | None = None, **properties: Any) -> None:
        # Made in Python (no id given): gets its own Selection, as in Bokeh. A source
        # decoded from the wire (id given) holds what the wire says.
        if id is None and "selected" not in properties:
            properties["selected"] = Selection()
        super().__init__(id=id, **properties)

    def check_client_values(self, values: Mapping[str, Any], new: bool) -> None:
        """A browser's change leaves every column as long as the others (new data, streams, cell patches).

        A source the application left uneven is the application's: a change that keeps
        every column's length (a cell patch) is taken.
        """
        data = values["data"]
        lengths = {name: len(column) for name, column in data.items()}
        if len(set(lengths.values())) <= 1:
            return
        if not new and lengths == {name: len(column) for name, column in self._values.get("data", {}).items()}:
            return
        shown = ", ".join(f"{name!r:.40}: {length}" for name, length in list(lengths.items())[:8])
        raise ValidationError(f"ColumnDataSource.data columns would have different lengths ({shown})")

    @property
    def column_names(self) -> list[str]:
        """The names of the columns."""
        return list(self.data)

    @property
    def length(self) -> int:
        """The number of rows (of the first column)."""
        data = self.data
        return len(next(iter(data.values()))) if data else 0

    def stream(self, new_data: Mapping[str, Any], rollover: int | None = None, *, setter: Any = None) -> None:
        """Append rows to every column, keeping at most ``rollover`` rows."""
        data = self.data
        try:
            rows = check_stream(data, new_data, rollover)
        except ValueError as exc:
            raise type(exc)(f"{self.__type_name__}.data: {exc}") from None
        stream_checked(self, "data", rows, rollover, setter)

    def patch(self, patches: Mapping[str, Any], *, setter: Any = None) -> None:
        """Replace cells: ``{"col": [(index_or_slice, value), ...]}``."""
        data = self.data
        try:
            checked = check_patches(data, patches)
        except ValueError as exc:
            raise type(exc)(f"{self.__type_name__}.data: {exc}") from None
        patch_checked(self, "data", checked, setter)
