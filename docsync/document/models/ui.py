"""What every visible model shares: its size, how it fills its container, and visibility."""

from __future__ import annotations

from ..model import Model
from ..properties import Bool, Enum, Int, List, Nullable, String

__all__ = ["SIZING_MODES", "UIElement"]

#: Bokeh's sizing modes that docsync draws (its ``scale_*`` modes keep an aspect ratio
#: that docsync's boxes do not have).
SIZING_MODES = ("fixed", "stretch_width", "stretch_height", "stretch_both")


class UIElement(Model):
    """A model shown in the page: its size in pixels and how it fills its container."""

    __abstract__ = True
    visible = Bool(True)
    width = Nullable(Int(), help="Width in pixels, or None to fit the container.")
    height = Nullable(Int(), help="Height in pixels, or None for the content's own height.")
    min_width = Nullable(Int())
    min_height = Nullable(Int())
    max_width = Nullable(Int())
    max_height = Nullable(Int())
    sizing_mode = Nullable(
        Enum(*SIZING_MODES),
        help=(
            "None: width and height as given, else the container's width and the content's height. "
            "'fixed': as given, else the content's own size. 'stretch_width', 'stretch_height', "
            "'stretch_both': fill the container in that direction (min/max sizes still apply)."
        ),
    )
    css_classes = List(String(), help="Extra CSS classes on the element, for a site's own styles.")
