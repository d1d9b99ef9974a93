"""Every Python example of docs/plotting.md runs, and what it builds survives the wire."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from docsync.document import Document
from docsync.document.models import Plot

from .helpers import assert_docs_equal, json_roundtrip

DOC = Path(__file__).resolve().parents[2] / "docs" / "plotting.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


def test_the_page_has_examples() -> None:
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize("code", EXAMPLES, ids=[f"example{i}" for i in range(len(EXAMPLES))])
def test_example_runs_and_its_document_round_trips(code: str) -> None:
    namespace: dict[str, object] = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # the docs' own examples
    doc = Document()
    if callable(namespace.get("modify_doc")):
        namespace["modify_doc"](doc)  # type: ignore[operator]
    else:
        for value in namespace.values():
            if isinstance(value, Plot):
                doc.add_root(value)
    plots = [model for model in doc.models.values() if isinstance(model, Plot)]
    assert plots, "the example builds at least one plot"
    assert all(plot.renderers for plot in plots), "every plot draws something"
    assert_docs_equal(doc, json_roundtrip(doc))
