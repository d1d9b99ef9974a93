"""The built-in models: widgets, layouts, data sources, tables and plots."""

from __future__ import annotations

from .layouts import Column, LayoutDOM, Row
from .plots import Glyph, Line, Plot, Scatter, VBar
from .sources import ColumnDataSource, Selection
from .tables import DataTable, TableColumn
from .widgets import (
    Button,
    Checkbox,
    DatePicker,
    Div,
    Paragraph,
    RangeSlider,
    Select,
    Slider,
    TextInput,
    Toggle,
    Widget,
)

__all__ = [
    "Button",
    "Checkbox",
    "Column",
    "ColumnDataSource",
    "DataTable",
    "DatePicker",
    "Div",
    "Glyph",
    "LayoutDOM",
    "Line",
    "Paragraph",
    "Plot",
    "RangeSlider",
    "Row",
    "Scatter",
    "Select",
    "Selection",
    "Slider",
    "TableColumn",
    "TextInput",
    "Toggle",
    "VBar",
    "Widget",
]
