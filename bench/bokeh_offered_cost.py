"""Instructions per Bokeh client patch through ``apply_client_patch`` (decode, every check, apply), in memory.

    python bench/bokeh_offered_cost.py [--kind slider|select|offer] [--patches 2000]

What the "what a widget offers" rules (docsync/bokeh/offered.py) cost a browser's patch:
``slider``, a Slider's value (an ordinary patch, touching no offer); ``select``, a Select's
value among 20 options; ``offer``, a Select's options and value that the app's own
CustomJS changes (the path that reads the app's code). Run twice under valgrind's
cachegrind (0 and ``--patches`` patches) so start-up and imports cancel out; the
document is tests/hardening/bokeh_offered.py's widgets plus a CustomJS-driven Select.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path
from typing import Any

from cachegrind import script_instructions

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def document() -> Any:
    """The offered test app's widgets, a Select of 20 options, and one refilled by the app's CustomJS."""
    from bokeh.document import Document
    from bokeh.models import CustomJS, Select

    from tests.hardening.bokeh_offered import offered

    doc = Document()
    offered(doc)
    many = Select(options=[f"option {i}" for i in range(20)], value="option 0", name="many")
    city = Select(options=["Bern", "Basel"], value="Bern", name="city")
    many.js_on_change("value", CustomJS(args={"city": city}, code="city.options = ['Paris']; city.value = 'Paris'"))
    doc.add_root(many)
    doc.add_root(city)
    return doc


def events(doc: Any, kind: str, i: int) -> list[dict[str, Any]]:
    def changed(name: str, attr: str, value: Any) -> dict[str, Any]:
        return {"kind": "ModelChanged", "model": {"id": doc.get_model_by_name(name).id}, "attr": attr, "new": value}

    if kind == "slider":
        return [changed("slider", "value", 5 + i % 2)]
    if kind == "select":
        return [changed("many", "value", f"option {i % 20}")]
    options = [["Bern", "Basel"], ["Paris", "Lyon"]][i % 2]
    return [changed("city", "options", options), changed("city", "value", options[0])]


def run(kind: str, patches: int) -> None:
    from docsync.bokeh.footprint import ClientModels
    from docsync.bokeh.wire import apply_client_patch
    from docsync.protocol import new_message
    from docsync.protocol.msgtypes import PATCH_DOC

    doc = document()
    models = ClientModels(1000)
    messages = [new_message(PATCH_DOC, {"events": events(doc, kind, i)}) for i in range(patches + 2)]
    for message in messages[:2]:  # warm: caches filled on first use
        assert apply_client_patch(doc, message, None, None, models)
    gc.collect()
    gc.disable()  # a collection falls where allocations happen to reach its threshold: noise
    for message in messages[2:]:
        apply_client_patch(doc, message, None, None, models)


def instructions(kind: str, patches: int) -> int:
    return script_instructions(__file__, "--kind", kind, "--patches", str(patches), "--quiet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", choices=("slider", "select", "offer"), default="slider")
    parser.add_argument("--patches", type=int, default=2000)
    parser.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)  # (the child under valgrind)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.bokeh.settings")
    if args.quiet:
        run(args.kind, args.patches)
        return
    few, many = instructions(args.kind, 0), instructions(args.kind, args.patches)
    print(f"{args.kind}: {(many - few) / args.patches:,.0f} instructions per patch ({args.patches} patches)")


if __name__ == "__main__":
    main()
