"""Every plot model docsync shares with Bokeh defaults as the installed Bokeh's does, but for the differences listed."""

from __future__ import annotations

import importlib
import warnings
from typing import Any

import pytest

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

import bokeh.models as bk
from bokeh.core.property.descriptors import UnsetValueError

import docsync.document.models as ds

from .bokeh_defaults import plain

# The modules of docsync's plot models (scripts/plot_defaults.py draws from the same).
MODULES = (
    "glyphs_lines", "glyphs_markers", "glyphs_bars", "glyphs_areas", "glyphs_radial", "glyphs_text_image",
    "mappers", "ranges", "axes", "renderers", "annotations", "tools", "plots", "sources",
)  # fmt: skip

# Differences kept on purpose, each with its reason. The test also fails when one of
# them is gone, so that this list stays true.
KEPT: dict[str, str] = {
    # A FactorRange's start and end are the browser's to compute: None ("not known yet")
    # in docsync, 0 in Bokeh. (A DataRange1d's None is Bokeh's NaN, taken as equal.)
    "FactorRange.start": "None, not 0", "FactorRange.end": "None, not 0",
    # An axis made alone has no ticker or formatter (None: its kind's, chosen in the
    # browser); Bokeh makes the same ones in Python. figure() gives them in both.
    **{
        f"{axis}.{attr}": "None: the axis kind's own"
        for axis in ("LinearAxis", "LogAxis", "DatetimeAxis", "CategoricalAxis")
        for attr in ("ticker", "formatter")
    },
    # docsync counts a log axis's minor ticks per decade: 10 draws them at 2..9 times each
    # power of ten (5c3b344). Not checked against BokehJS's own counting.
    "LogTicker.num_minor_ticks": "10 per decade",
    # docsync's Arrow is one arrow from numbers, or one per row of `source` through
    # x_start_field...; Bokeh's are specs whose default names the columns.
    **{f"Arrow.{attr}": "a number; columns by *_field" for attr in ("x_start", "y_start", "x_end", "y_end")},
    # Bokeh makes an empty ColumnDataSource for an annotation made alone; docsync leaves
    # it None (nothing to draw either way).
    **{f"{name}.source": "None, no empty source made" for name in ("Arrow", "Band", "LabelSet", "Whisker")},
    # A missing edge is the frame's edge: None in docsync, a Node of the frame in Bokeh.
    **{f"BoxAnnotation.{edge}": "None: the frame's edge" for edge in ("left", "right", "top", "bottom")},
    # docsync has no 'auto' here: a colour bar is vertical, 20 px wide, and its ticks
    # and labels are the mapper's (None).
    "ColorBar.orientation": "no 'auto'", "ColorBar.width": "no 'auto'",
    "ColorBar.ticker": "None for 'auto'", "ColorBar.formatter": "None for 'auto'",
    # Tools docsync does not have Bokeh's newer behaviour of: a box zoom whose dimensions
    # follow the drag ('auto'), a tap that toggles, a lasso that selects as it moves
    # (Bokeh 3.1 renamed it 'continuous').
    "BoxZoomTool.dimensions": "no 'auto'",
    "TapTool.mode": "no 'toggle'",
    "LassoSelectTool.select_every_mousemove": "selects on release",
    # No Bokeh logo in docsync's toolbar.
    "Toolbar.logo": "no logo",
}  # fmt: skip


def _pairs() -> list[tuple[type, type]]:
    """Each docsync plot model with the Bokeh model of the same name."""
    pairs = []
    for module_name in MODULES:
        module = importlib.import_module(f"docsync.document.models.{module_name}")
        for name in module.__all__:
            cls = getattr(module, name)
            if not isinstance(cls, type) or cls.__dict__.get("__abstract__") or not hasattr(cls, "properties"):
                continue
            theirs = getattr(bk, cls.__type_name__, None)
            if isinstance(theirs, type):
                pairs.append((cls, theirs))
    return pairs


def _differences() -> dict[str, tuple[Any, Any]]:
    """{'Model.property': (docsync's default, Bokeh's)} where they differ, of the properties both have."""
    out = {}
    for mine_cls, theirs_cls in _pairs():
        mine = mine_cls()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Bokeh's deprecated names (select_every_mousemove) warn when read
            theirs = theirs_cls()
            for attr in sorted(set(mine_cls.properties()) & set(theirs.properties())):
                try:
                    their_value = getattr(theirs, attr)
                except UnsetValueError:
                    continue  # no default in Bokeh: required there
                if plain(getattr(mine, attr)) != plain(their_value):
                    out[f"{mine_cls.__type_name__}.{attr}"] = (plain(getattr(mine, attr)), plain(their_value))
    return out


def test_the_plot_models_shared_with_bokeh_are_many() -> None:
    names = {mine.__type_name__ for mine, _ in _pairs()}
    assert {"Scatter", "Line", "Plot", "LinearAxis", "Title", "Whisker", "HoverTool", "ColumnDataSource"} <= names
    assert len(names) > 60


def test_plot_models_default_as_in_bokeh_but_for_the_differences_kept() -> None:
    differences = _differences()
    unexpected = {key: value for key, value in differences.items() if key not in KEPT}
    assert unexpected == {}, "docsync's default, Bokeh's"
    gone = sorted(set(KEPT) - set(differences))
    assert gone == [], "listed in KEPT but now as in Bokeh: take them off the list"


def test_a_model_stroked_as_a_line_has_all_of_bokeh_s_line_properties() -> None:
    """Where docsync's model has a line_dash, it has every line_ property Bokeh's has (line_dash_offset too)."""
    lacking = {}
    for mine, theirs in _pairs():
        if "line_dash" in mine.properties():
            wanted = {attr for attr in theirs.properties() if attr.startswith("line_")}
            if wanted - set(mine.properties()):
                lacking[mine.__type_name__] = sorted(wanted - set(mine.properties()))
    assert lacking == {}
    assert ds.Line(line_dash=[4, 2], line_dash_offset=3).line_dash_offset == 3
