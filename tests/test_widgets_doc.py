"""docs/widgets.md lists every built-in model with exactly its properties, what a browser may write, its events."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import docsync.document.models as builtin
from docsync.document import Model
from docsync.document.models.ui import UIElement
from docsync.document.models.widgets import Widget

DOC = (Path(__file__).resolve().parents[1] / "docs" / "widgets.md").read_text(encoding="utf-8")
# Plots, glyphs and their tools have a reference of their own (docs/plotting.md).
PLOT_MODULES = ("glyphs_", "mappers", "ranges", "axes", "renderers", "annotations", "tools", "plots")
ELSEWHERE = {
    cls.__type_name__
    for cls in (getattr(builtin, name) for name in builtin.__all__)
    if isinstance(cls, type) and cls.__module__.rsplit(".", 1)[-1].startswith(PLOT_MODULES)
}
COMMON = set(Widget.properties())

SECTIONS = {
    match.group(1): match.group(2)
    for match in re.finditer(r"^### `(\w+)`\n(.*?)(?=^### |^## |\Z)", DOC, flags=re.S | re.M)
}


def models() -> list[type[Model]]:
    classes = (getattr(builtin, name) for name in builtin.__all__)
    return [c for c in classes if isinstance(c, type) and issubclass(c, Model) and not c.__dict__.get("__abstract__")]


def test_every_model_has_a_section() -> None:
    names = {cls.__type_name__ for cls in models()} - ELSEWHERE
    assert names - SECTIONS.keys() == set(), "docs/widgets.md lacks these models"
    assert SECTIONS.keys() - names == set(), "docs/widgets.md describes models that do not exist"


@pytest.mark.parametrize("cls", [c for c in models() if c.__type_name__ not in ELSEWHERE], ids=lambda c: c.__name__)
def test_a_section_lists_the_properties_what_browsers_write_and_the_events(cls: type[Model]) -> None:
    section = SECTIONS[cls.__type_name__]
    rows = dict(re.findall(r"^\| `(\w+)` \|.*\| (yes|) \|$", section, flags=re.M))
    # The common properties of visible models are described once, at the top.
    common = COMMON if issubclass(cls, UIElement) else {"name"}
    own = {attr for attr in cls.properties() if attr not in common}
    assert set(rows) == own
    assert {attr for attr, writes in rows.items() if writes == "yes"} == set(cls.__client_writable__)
    events = re.search(r"^Events from the browser: (.*)\.$", section, flags=re.M)
    assert events is not None
    listed = set(re.findall(r"`(\w+)`", events.group(1)))
    assert listed == set(cls.__client_events__)
