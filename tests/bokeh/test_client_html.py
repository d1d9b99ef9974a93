"""Which client writes carry HTML or code (docsync/bokeh/client_html.py), on a real Bokeh document.

The rule applies in sessions other users see (tests/hardening/test_hostile_bokeh_html.py
and tests/e2e/test_bokeh_hostile_html.py run it against a server and BokehJS); here each
kind of write is judged alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

from bokeh.models import (
    ColumnDataSource,
    CustomJS,
    CustomJSHover,
    Div,
    FileInput,
    HoverTool,
    Paragraph,
    Select,
    SetValue,
    Slider,
    TextInput,
    Title,
)
from bokeh.models.dom import HTML

from docsync.bokeh.client_html import check_client_html
from docsync.exceptions import NotWritableError


def changed(model: Any, attr: str, new: Any) -> dict[str, Any]:
    return {"kind": "ModelChanged", "model": model, "attr": attr, "new": new}


def refused(events: list[dict[str, Any]], new_models: list[Any] | None = None) -> str:
    with pytest.raises(NotWritableError) as caught:
        check_client_html(events, new_models or [])
    assert "client_html" in str(caught.value)
    return str(caught.value)


def test_markup_in_strings_bokehjs_shows_as_html_is_refused() -> None:
    div, para, select = Div(text="x"), Paragraph(text="p"), Select(options=["a"])
    assert refused([changed(div, "text", "<b>x</b>")]).startswith("Div.text: ")
    assert refused([changed(para, "text", "$$x$$ <img src=x onerror=alert(1)>")]).startswith("Paragraph.text: ")
    assert refused([changed(select, "options", ["a", ("b", "<i>b</i>")])]).startswith("Select.options: ")
    assert refused([changed(Slider(start=0, end=1, value=0), "title", r"$$\href{javascript:alert(1)}{x}$$")])
    assert refused([changed(div, "styles", {"content": "<x>"})])  # in a dict's values too
    assert refused([{"kind": "TitleChanged", "title": "<script>"}]).startswith("Document.title: ")


def test_plain_text_and_what_users_type_are_taken() -> None:
    div, entry, source = Div(text="x"), TextInput(value=""), ColumnDataSource(data={"a": ["x"]})
    check_client_html([changed(div, "text", "level 4 & rising > 3")], [])
    check_client_html([changed(entry, "value", "a <b> typed"), changed(entry, "value_input", "<3")], [])
    check_client_html([changed(Select(options=["<a>"], value="<a>"), "value", "<a>")], [])
    check_client_html([changed(FileInput(), "filename", "<odd>.txt")], [])
    check_client_html([changed(source, "data", {"a": ["<i>cell</i>"]})], [])
    check_client_html([{"kind": "ColumnDataChanged", "model": source, "attr": "data", "data": {"a": ["<x>"]}}], [])
    check_client_html([changed(Div(text="", render_as_text=True), "text", "<shown as text>")], [])
    check_client_html([changed(Title(text="t"), "text", "a plain title")], [])
    check_client_html([changed(source, "data", {"a": np.array(["<x>"])})], [])


def test_code_is_refused_wherever_it_is_written_or_attached() -> None:
    div, slider = Div(text="x"), Slider(start=0, end=1, value=0)
    script = CustomJS(code="1")
    assert refused([changed(script, "code", "alert(1)")]).startswith("CustomJS.code: ")
    assert refused([changed(script, "args", {"div": div})]).startswith("CustomJS.args: ")
    assert refused([changed(CustomJSHover(code=""), "code", "x")])
    # Attaching the app's own callbacks elsewhere, or any callback at all.
    assert refused([changed(slider, "js_property_callbacks", {"change:value": [script]})])
    assert refused([changed(slider, "js_property_callbacks", {})])
    assert "SetValue is code" in refused([changed(HoverTool(), "callback", SetValue(obj=div, attr="text", value="v"))])
    assert refused([changed(div, "html_attributes", {"onclick": "alert(1)"})])
    assert refused([changed(div, "render_as_text", False)])
    assert refused([changed(HoverTool(), "tooltips", "@x{safe}")])
    assert refused([{"kind": "RootAdded", "model": script}]).startswith("Document.roots: ")


def test_new_models_are_judged_by_what_they_carry() -> None:
    assert refused([], [CustomJS(code="alert(1)")]).startswith("new CustomJS: ")
    assert refused([], [HTML(html="<b>x</b>")]).startswith("new HTML: ")
    assert refused([], [Div(text="<img src=x onerror=alert(1)>")]).startswith("Div.text: ")
    assert refused([], [Div(text="x", html_attributes={"onclick": "alert(1)"})]).startswith("Div.html_attributes: ")
    # A new widget with plain text, or defaults BokehJS sends along, is taken.
    check_client_html([], [Div(text="plain", render_as_text=False), TextInput(value="<3")])
