"""bench_sized: the benchmark document sized by the page's arguments, ?points=N (source) and ?widgets=M (more models).

``points`` (1 to 1,000,000; default 1,000) sizes the data source, as in ``bench``;
``widgets`` (0 to 10,000; default 0) adds that many widgets (sliders, text inputs,
divs in turn) in a second Column. bench/curves.py measures how costs grow with each.
A size outside its range, or not an integer, fails the session with a clear error.
"""

from __future__ import annotations

from typing import Any

from docsync.document import Document, Model
from docsync.document.models import Column, Div, Slider, TextInput

from .bench import POINTS, make_bench_doc

MAX_POINTS = 1_000_000
MAX_WIDGETS = 10_000


def size_argument(arguments: dict[str, list[str]], name: str, default: int, low: int, high: int) -> int:
    """Return the integer argument ``name`` (its last value), or raise ValueError naming the allowed range."""
    values = arguments.get(name) or []
    if not values:
        return default
    text = values[-1]
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise ValueError(f"{name} must be an integer from {low:,} to {high:,}, got {shown!r}")
    return value


def widget(n: int) -> Model:
    """The ``n``-th extra widget: a slider, a text input or a div, in turn."""
    kind = n % 3
    if kind == 0:
        return Slider(start=0, end=100, value=n % 100, step=1, title=f"widget {n}")
    if kind == 1:
        return TextInput(value=f"text {n}", title=f"widget {n}")
    return Div(text=f"widget {n}")


def modify_doc(doc: Document) -> None:
    """Build the bench_sized app: the bench document with ``points`` points, and ``widgets`` more widgets."""
    context: Any = doc.session_context
    arguments: dict[str, list[str]] = context.arguments if context is not None else {}
    points = size_argument(arguments, "points", POINTS, 1, MAX_POINTS)
    widgets = size_argument(arguments, "widgets", 0, 0, MAX_WIDGETS)
    make_bench_doc(doc, points)
    if widgets:
        doc.add_root(Column(*(widget(n) for n in range(widgets)), name="widgets"))
