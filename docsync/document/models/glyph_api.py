"""Glyph methods of a Plot, the ``bokeh.plotting`` way: ``p.line("x", "y", source=src, legend_label="y")``.

Each method makes the glyph, a GlyphRenderer (with its selection, non-selection,
hover and muted looks) and, for ``legend_label``/``legend_field``, a legend entry.
Visual keywords: ``color`` and ``alpha`` set line, fill and text alike; a prefix
``selection_``, ``nonselection_``, ``hover_`` or ``muted_`` styles that look. Arrays
given instead of column names go into a new ColumnDataSource.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..dataspecs import Spec
from . import glyphs_areas, glyphs_bars, glyphs_lines, glyphs_markers, glyphs_radial, glyphs_text_image
from .annotations import Legend, LegendItem
from .glyph_base import Glyph
from .renderers import GlyphRenderer
from .sources import ColumnDataSource

__all__ = ["GlyphMethods"]

DEFAULT_COLOR = "#1f77b4"
LOOKS = ("selection_", "nonselection_", "hover_", "muted_")
RENDERER_KEYS = ("name", "visible", "level", "x_range_name", "y_range_name", "muted")
# The positional arguments of each glyph method, as in Bokeh.
POSITIONAL: dict[type[Glyph], tuple[str, ...]] = {
    glyphs_lines.Line: ("x", "y"),
    glyphs_lines.Step: ("x", "y"),
    glyphs_lines.MultiLine: ("xs", "ys"),
    glyphs_lines.Segment: ("x0", "y0", "x1", "y1"),
    glyphs_markers.Scatter: ("x", "y"),
    glyphs_bars.VBar: ("x", "width", "top", "bottom"),
    glyphs_bars.HBar: ("y", "height", "right", "left"),
    glyphs_bars.Quad: ("left", "right", "top", "bottom"),
    glyphs_bars.Rect: ("x", "y", "width", "height"),
    glyphs_areas.VArea: ("x", "y1", "y2"),
    glyphs_areas.HArea: ("y", "x1", "x2"),
    glyphs_areas.Patch: ("x", "y"),
    glyphs_areas.Patches: ("xs", "ys"),
    glyphs_radial.Wedge: ("x", "y", "radius", "start_angle", "end_angle"),
    glyphs_radial.AnnularWedge: ("x", "y", "inner_radius", "outer_radius", "start_angle", "end_angle"),
    glyphs_text_image.Text: ("x", "y", "text"),
    glyphs_text_image.ImageGlyph: ("image", "x", "y", "dw", "dh"),
    glyphs_text_image.ImageRGBA: ("image", "x", "y", "dw", "dh"),
}


def _is_data(value: Any) -> bool:
    return isinstance(value, np.ndarray) or (isinstance(value, list | tuple) and not isinstance(value, str))


def _visuals(glyph_cls: type[Glyph], kwargs: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Pick the visual properties for one look from ``kwargs`` (``color``/``alpha`` spread out)."""
    props = glyph_cls.properties()
    out: dict[str, Any] = {}
    for short, long_names in (
        ("color", ("line_color", "fill_color", "text_color")),
        ("alpha", ("line_alpha", "fill_alpha", "text_alpha")),
    ):
        if prefix + short in kwargs:
            for name in long_names:
                if name in props:
                    out[name] = kwargs[prefix + short]
    for name in props:
        if name.startswith(("line_", "fill_", "text_")) and prefix + name in kwargs:
            out[name] = kwargs[prefix + name]
    return out


class GlyphMethods:
    """The glyph methods of Plot (a mixin)."""

    __slots__ = ()

    def _glyph(self, glyph_cls: type[Glyph], args: Sequence[Any], kwargs: dict[str, Any]) -> GlyphRenderer:
        names = POSITIONAL[glyph_cls]
        if len(args) > len(names):
            raise TypeError(f"{glyph_cls.__name__} takes at most {len(names)} positional arguments: {names}")
        kwargs = dict(kwargs)
        for name, arg in zip(names, args, strict=False):
            if name in kwargs:
                raise TypeError(f"{name!r} given twice")
            kwargs[name] = arg
        source = kwargs.pop("source", None)
        legend_label = kwargs.pop("legend_label", None)
        legend_field = kwargs.pop("legend_field", None)
        renderer_kw = {key: kwargs.pop(key) for key in RENDERER_KEYS if key in kwargs}
        props = glyph_cls.properties()
        # Arrays given inline become columns of a new source.
        inline = {
            name: kwargs.pop(name)
            for name in list(kwargs)
            if name in props and isinstance(props[name], Spec) and _is_data(kwargs[name])
        }
        if inline:
            if source is not None:
                raise ValueError("give either a source and column names, or arrays, not both")
            source = ColumnDataSource(
                data={name: np.asarray(v) if not isinstance(v, list) else v for name, v in inline.items()}
            )
            kwargs.update({name: name for name in inline})
        if source is None:
            source = ColumnDataSource()
        elif not isinstance(source, ColumnDataSource):
            source = ColumnDataSource(data=dict(source))
        looks = {prefix: _visuals(glyph_cls, kwargs, prefix) for prefix in LOOKS}
        base = _visuals(glyph_cls, kwargs, "")
        for key in [k for k in kwargs if k.startswith(LOOKS) or k in ("color", "alpha") or k in base]:
            kwargs.pop(key)
        for name, default in _visuals(glyph_cls, {"color": DEFAULT_COLOR}, "").items():
            if name != "text_color":
                base.setdefault(name, default)
        glyph = glyph_cls(**base, **kwargs)
        made_looks: dict[str, Any] = {}
        for prefix, visuals in looks.items():
            if visuals:
                made_looks[prefix + "glyph"] = glyph_cls(**{**base, **visuals, **kwargs})
        renderer = GlyphRenderer(data_source=source, glyph=glyph, **made_looks, **renderer_kw)
        self.renderers.append(renderer)  # type: ignore[attr-defined]
        if legend_label is not None:
            self._legend_item(renderer, label=legend_label)
        if legend_field is not None:
            column = source.data.get(legend_field, [])
            seen: dict[str, int] = {}
            for i, item in enumerate(np.asarray(column).tolist() if len(column) else []):
                seen.setdefault(str(item), i)
            for label, index in seen.items():
                self._legend_item(renderer, label=label, index=index)
        return renderer

    def _legend_item(self, renderer: GlyphRenderer, *, label: str, index: int | None = None) -> None:
        legends = [item for item in self.center if isinstance(item, Legend)]  # type: ignore[attr-defined]
        legends += [
            item
            for side in ("right", "left", "above", "below")
            for item in getattr(self, side)
            if isinstance(item, Legend)
        ]
        if legends:
            legend = legends[0]
        else:
            legend = Legend()
            self.center.append(legend)  # type: ignore[attr-defined]
        if index is None:
            for item in legend.items:
                if item.label == label and item.index is None:
                    item.renderers.append(renderer)
                    return
        legend.items.append(LegendItem(label=label, renderers=[renderer], index=index))

    def line(self, *args: Any, **kwargs: Any) -> GlyphRenderer:
        """A line through (x, y)."""
        return self._glyph(glyphs_lines.Line, args, kwargs)

    def step(self, *args: Any, **kwargs: Any) -> GlyphRenderer:
        """A step line through (x, y); ``mode``: 'before', 'after', 'center'."""
        return self._glyph(glyphs_lines.Step, args, kwargs)

    def multi_line(self, *args: Any, **kwargs: Any) -> GlyphRenderer:
        """One line per row through (xs, ys)."""
        return self._glyph(glyphs_lines.MultiLine, args, kwargs)

    def segment(self, *args: Any, **kwargs: Any) -> GlyphRenderer:
        """Segments (x0, y0) → (x1, y1)."""
        return self._glyph(glyphs_lines.Segment, args, kwargs)

    def scatter(self, *args: Any, **kwargs: Any) -> GlyphRenderer:
        """Markers at (x, y); ``marker``, ``size`` (pixels)."""
        return self._glyph(glyphs_markers.Scatter, args, kwargs)

    def vbar(self, *args: Any, **kwargs: Any) -> GlyphRenderer:
        """Vertical bars at x from bottom to top."""
        return self._glyph(glyphs_bars.VBar, args, kwargs)

    def hbar(self, *args: Any, **kwargs: Any) -> GlyphRenderer:
        """Horizontal bars at y from left to right."""
        return self._glyph(glyphs_bars.HBar, args, kwargs)

    def quad(self, *args: Any, **kwargs: Any) -> GlyphRenderer:
        """Boxes from (left, bottom) to (right, top)."""
        return self._glyph(glyphs_bars.Quad, args, kwargs)

    def rect(self, *args: Any, **kwargs: Any) -> GlyphRenderer:
        """Boxes centred at (x, y)."""
        return self._glyph(glyphs_bars.Rect, args, kwargs)

    def varea(self, *args: Any, **kwargs: Any) -> GlyphRenderer:
        """The area between y1 and y2 over x."""
        return self._glyph(glyphs_areas.VArea, args, kwargs)

    def harea(self, *args: Any, **kwargs: Any) -> GlyphRenderer:
        """The area between x1 and x2 along y."""
        return self._glyph(glyphs_areas.HArea, args, kwargs)

    def patch(self, *args: Any, **kwargs: Any) -> GlyphRenderer:
        """One polygon through (x, y)."""
        return self._glyph(glyphs_areas.Patch, args, kwargs)

    def patches(self, *args: Any, **kwargs: Any) -> GlyphRenderer:
        """One polygon per row through (xs, ys)."""
        return self._glyph(glyphs_areas.Patches, args, kwargs)

    def wedge(self, *args: Any, **kwargs: Any) -> GlyphRenderer:
        """Pie slices."""
        return self._glyph(glyphs_radial.Wedge, args, kwargs)

    def annular_wedge(self, *args: Any, **kwargs: Any) -> GlyphRenderer:
        """Donut slices."""
        return self._glyph(glyphs_radial.AnnularWedge, args, kwargs)

    def text(self, *args: Any, **kwargs: Any) -> GlyphRenderer:
        """Texts at (x, y)."""
        return self._glyph(glyphs_text_image.Text, args, kwargs)

    def image(self, *args: Any, **kwargs: Any) -> GlyphRenderer:
        """2-D arrays coloured by ``color_mapper`` (or ``palette=``)."""
        palette = kwargs.pop("palette", None)
        if palette is not None:
            from .mappers import LinearColorMapper

            kwargs["color_mapper"] = LinearColorMapper(
                palette=list(palette), low=kwargs.pop("low", None), high=kwargs.pop("high", None)
            )
        return self._glyph(glyphs_text_image.ImageGlyph, args, kwargs)

    def image_rgba(self, *args: Any, **kwargs: Any) -> GlyphRenderer:
        """2-D arrays of packed RGBA."""
        return self._glyph(glyphs_text_image.ImageRGBA, args, kwargs)

    def _stack(
        self, method: str, lower: str, upper: str, stackers: Sequence[str], kwargs: dict[str, Any]
    ) -> list[GlyphRenderer]:
        from .mappers import Stack

        made = []
        per_item = {
            key: kwargs.pop(key)
            for key in list(kwargs)
            if isinstance(kwargs[key], list | tuple)
            and len(kwargs[key]) == len(stackers)
            and key in ("color", "fill_color", "line_color", "legend_label", "name", "alpha", "hatch_pattern")
        }
        for i in range(len(stackers)):
            kw = dict(kwargs)
            kw.update({key: values[i] for key, values in per_item.items()})
            kw[lower] = {"expr": Stack(fields=list(stackers[:i]))}
            kw[upper] = {"expr": Stack(fields=list(stackers[: i + 1]))}
            made.append(getattr(self, method)(**kw))
        return made

    def vbar_stack(self, stackers: Sequence[str], **kwargs: Any) -> list[GlyphRenderer]:
        """One VBar per column of ``stackers``, each on top of the ones before."""
        return self._stack("vbar", "bottom", "top", stackers, kwargs)

    def hbar_stack(self, stackers: Sequence[str], **kwargs: Any) -> list[GlyphRenderer]:
        """One HBar per column of ``stackers``, each right of the ones before."""
        return self._stack("hbar", "left", "right", stackers, kwargs)

    def varea_stack(self, stackers: Sequence[str], **kwargs: Any) -> list[GlyphRenderer]:
        """One VArea per column of ``stackers``, each on top of the ones before."""
        return self._stack("varea", "y1", "y2", stackers, kwargs)

    def harea_stack(self, stackers: Sequence[str], **kwargs: Any) -> list[GlyphRenderer]:
        """One HArea per column of ``stackers``, each right of the ones before."""
        return self._stack("harea", "x1", "x2", stackers, kwargs)
