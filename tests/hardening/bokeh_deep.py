"""A Bokeh app whose callback writes a value as deep as a client asks (test_app_value_depth_bokeh.py)."""

from __future__ import annotations

from typing import Any


def lists(levels: int) -> Any:
    """A value ``levels`` JSON levels deep: lists around a number."""
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def deep_writes(doc: Any) -> None:
    """Setting ``levels`` writes a value that deep (as Bokeh writes it), of the kind ``kind`` names.

    ``said`` tells how it went.

    Kinds: a Div's ``tags`` set, or appended to in place; a source's ``data`` set, one
    column of it set, rows streamed, a cell patched (the data is a map, three levels, and
    a list column one more: the item is four levels down); or ``wide``: integers past 64
    bits in the tags and streamed rows; ``huge_*``: an integer past what a float holds.
    """
    from bokeh.layouts import column
    from bokeh.models import ColumnDataSource, Div, Slider, TextInput

    kind = TextInput(value="tags", name="kind")
    levels = Slider(start=0, end=1000, step=1, value=0, name="levels")
    said = Div(text="", name="said")
    target = Div(text="target", name="target")
    source = ColumnDataSource(data={"x": [1.0, 2.0], "s": [[1], [2]]}, name="source")

    def write(attr: str, old: Any, new: Any) -> None:
        what, deep = kind.value, int(new)
        try:
            if what == "tags":
                target.tags = [lists(deep - 1)]
            elif what == "tags_append":
                target.tags.append(lists(deep - 1))
            elif what == "data":
                source.data = {"x": [1.0, 2.0], "s": [lists(deep - 4), [2]]}
            elif what == "column":
                source.data["s"] = [lists(deep - 4), [2]]
            elif what == "stream":
                source.stream({"x": [3.0], "s": [lists(deep - 4)]})
            elif what == "patch":
                source.patch({"s": [(0, lists(deep - 4))]})
            elif what == "wide":  # integers past 64 bits (not a depth): Bokeh writes them as floats
                target.tags = [{"n": [2**70 + deep]}]
                source.stream({"x": [3.0], "s": [[-(2**80)]]})
            elif what == "huge_tags":  # past what even a float holds: no pull could write it
                target.tags = [{"n": [10**400 + deep]}]
            elif what == "huge_stream":
                source.stream({"x": [3.0], "s": [[-(10**400)]]})
            elif what == "huge_value":
                levels.value = 10**400
            said.text = f"took {what} {deep}"
        except ValueError as exc:
            said.text = f"refused: {exc}"

    levels.on_change("value", write)
    doc.add_root(column(kind, levels, said, target))
    doc.add_root(source)
