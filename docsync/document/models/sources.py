"""ColumnDataSource: named columns of numpy arrays or lists, streamed and patched."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..columns import apply_patches, apply_stream, check_patches, check_stream
from ..events import ColumnsPatchedEvent, ColumnsStreamedEvent
from ..model import Model
from ..properties import ColumnData, Int, List

__all__ = ["ColumnDataSource"]


class ColumnDataSource(Model):
    """Columns of equal length, the data behind tables and plots."""

    # A browser may select rows and edit cells (stream/patch), as a table allows.
    __client_writable__ = frozenset({"data", "selected"})
    data = ColumnData()
    selected = List(Int(), help="Indices of selected rows.")

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
        apply_stream(data, rows, rollover)
        self._column_event(ColumnsStreamedEvent(self, "data", rows, rollover, setter))

    def patch(self, patches: Mapping[str, Any], *, setter: Any = None) -> None:
        """Replace cells: ``{"col": [(index_or_slice, value), ...]}``."""
        data = self.data
        try:
            checked = check_patches(data, patches)
        except ValueError as exc:
            raise type(exc)(f"{self.__type_name__}.data: {exc}") from None
        apply_patches(data, checked)
        self._column_event(ColumnsPatchedEvent(self, "data", checked, setter))
