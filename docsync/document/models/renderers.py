"""GlyphRenderer: a glyph drawn from a data source, with its selected, unselected, hover and muted looks."""

from __future__ import annotations

from ..model import Model
from ..properties import Bool, Either, Enum, Instance, Nullable, String
from .glyph_base import Glyph
from .sources import ColumnDataSource

__all__ = ["GlyphRenderer", "Renderer"]

LEVELS = ("image", "underlay", "glyph", "guide", "annotation", "overlay")


class Renderer(Model):
    """Something a plot draws in its frame: glyphs or annotations."""

    __abstract__ = True
    visible = Bool(True)
    level = Enum(*LEVELS, default="glyph")
    x_range_name = String("default", help="Which of the plot's x ranges: 'default' or a key of extra_x_ranges.")
    y_range_name = String("default")


def _look() -> Nullable:
    return Nullable(
        Either(Enum("auto"), Instance(Glyph)),
        default="auto",
        help="'auto' derives it from the glyph; None keeps the glyph's look.",
    )


class GlyphRenderer(Renderer):
    """Draws ``glyph`` once per row of ``data_source``.

    ``visible`` and ``muted`` are client-writable: a legend click hides or mutes the
    renderer, and Python sees it.
    """

    __client_writable__ = frozenset({"visible", "muted"})
    data_source = Instance(ColumnDataSource)
    glyph = Instance(Glyph)
    selection_glyph = _look()
    nonselection_glyph = _look()
    hover_glyph = Nullable(Instance(Glyph))
    muted_glyph = _look()
    muted = Bool()
