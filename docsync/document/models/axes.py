"""Axes, their tickers and tick formatters, and grids."""

from __future__ import annotations

from ..model import Model
from ..properties import Any_, Bool, Color, Dict, Either, Enum, Float, Instance, Int, List, Nullable, String

__all__ = [
    "Axis",
    "BasicTickFormatter",
    "BasicTicker",
    "CategoricalAxis",
    "CategoricalTickFormatter",
    "CategoricalTicker",
    "DatetimeAxis",
    "DatetimeTickFormatter",
    "DatetimeTicker",
    "FixedTicker",
    "Grid",
    "LinearAxis",
    "LogAxis",
    "LogTickFormatter",
    "LogTicker",
    "NumeralTickFormatter",
    "PrintfTickFormatter",
    "TickFormatter",
    "Ticker",
]


class Ticker(Model):
    """Chooses where ticks go."""

    __abstract__ = True
    desired_num_ticks = Int(6)
    num_minor_ticks = Int(5, help="Minor intervals per major one: 5 puts 4 minor ticks between majors (0, 1: none).")


class BasicTicker(Ticker):
    """1, 2 or 5 times a power of ten."""


class LogTicker(Ticker):
    """Powers of ten (and their multiples when few decades are shown); minor ticks at 2..9 times them."""

    num_minor_ticks = Int(10)


class DatetimeTicker(Ticker):
    """Round instants: milliseconds up to years, whichever fits the span (no minor ticks unless asked)."""

    num_minor_ticks = Int(0)


class CategoricalTicker(Ticker):
    """One tick per factor."""


class FixedTicker(Ticker):
    """Exactly the given ticks (and minor ticks)."""

    ticks = List(Float())
    minor_ticks = List(Float())


class TickFormatter(Model):
    """Writes tick labels."""

    __abstract__ = True


class BasicTickFormatter(TickFormatter):
    """Plain decimals; scientific notation for very large or small values."""

    precision = Either(Enum("auto"), Int())
    use_scientific = Bool(True)


class NumeralTickFormatter(TickFormatter):
    """Numeral.js-style patterns: '0,0', '0.00', '0%', '$0.0a'."""

    format = String("0,0")


class PrintfTickFormatter(TickFormatter):
    """printf-style patterns: '%5.2f', '%d items', '%e'."""

    format = String("%s")


class LogTickFormatter(TickFormatter):
    """Powers of ten as 10^k."""


class CategoricalTickFormatter(TickFormatter):
    """Factors as they are."""


class DatetimeTickFormatter(TickFormatter):
    """strftime patterns per tick resolution (instants are ms since the epoch, UTC), with an optional context line."""

    milliseconds = String("%3Nms")
    seconds = String("%Ss")
    minsec = String(":%M:%S")
    minutes = String(":%M")
    hourmin = String("%H:%M")
    hours = String("%Hh")
    days = String("%m/%d")
    months = String("%m/%Y")
    years = String("%Y")
    boundary_scaling = Bool(
        True,
        help="A tick on a round larger unit is labelled in that unit: at 100 ms spacing, "
        "the tick on a whole second reads '17s', not '000ms'.",
    )
    context = Nullable(
        Either(String(), Instance("DatetimeTickFormatter")),
        help="A second line naming the larger unit, on the far side of the labels from the frame: "
        "a strftime pattern, or a formatter whose pattern for the ticks' resolution is used. None: no context.",
    )
    context_which = Enum("start", "center", "end", "all", help="Which ticks carry the context line.")


class Axis(Model):
    """An axis: line, ticks, tick labels and a label, on a side of the plot."""

    __abstract__ = True
    axis_label = Nullable(String())
    ticker = Nullable(Instance(Ticker), help="None: the axis type's own ticker.")
    formatter = Nullable(Instance(TickFormatter), help="None: the axis type's own formatter.")
    major_label_overrides = Dict(String(), String(), help="Tick value (as text) -> label.")
    major_label_orientation = Either(Enum("horizontal", "vertical"), Float())
    visible = Bool(True)
    x_range_name = String("default")
    y_range_name = String("default")
    axis_line_color = Nullable(Color(), default="black")
    major_tick_line_color = Nullable(Color(), default="black")
    major_label_text_color = Color("#444444")
    major_label_text_font_size = String("11px")
    axis_label_text_font_size = String("13px")
    axis_label_text_color = Color("#444444")
    axis_label_text_font_style = Enum("italic", "normal", "bold", "bold italic")
    major_tick_in = Int(2)
    major_tick_out = Int(6)
    minor_tick_line_color = Nullable(Color(), default="black")
    minor_tick_in = Int(0)
    minor_tick_out = Int(4)
    bounds = Either(Enum("auto"), List(Float()))


class LinearAxis(Axis):
    """A numeric axis."""


class LogAxis(Axis):
    """A numeric axis over a LogScale."""


class DatetimeAxis(Axis):
    """An axis of instants (ms since the epoch), labelled by resolution."""


class CategoricalAxis(Axis):
    """An axis of factors; nested factors show one row of labels per level."""

    group_text_font_size = String("11px")
    group_text_color = Color("grey")


class Grid(Model):
    """Grid lines across the plot at an axis's ticks."""

    dimension = Int(0, help="0: vertical lines (at x ticks); 1: horizontal lines.")
    axis = Nullable(Instance(Axis), help="The axis whose ticks it follows (None: the first of its dimension).")
    ticker = Nullable(Instance(Ticker))
    grid_line_color = Nullable(Color(), default="#e5e5e5")
    grid_line_alpha = Float(1.0)
    grid_line_width = Float(1.0)
    grid_line_dash = Either(Enum("solid", "dashed", "dotted", "dotdash", "dashdot"), List(Int()))
    minor_grid_line_color = Nullable(Color(), help="None: no lines at the minor ticks.")
    minor_grid_line_alpha = Float(1.0)
    band_fill_color = Nullable(Color())
    band_fill_alpha = Float(0.0)
    visible = Bool(True)
    x_range_name = String("default")
    y_range_name = String("default")
    level = Enum("underlay", "glyph", "annotation", "overlay")
    bounds = Any_("auto")
