"""One exception tree: every close code is data on its class, documented, and mirrored in JS."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from docsync import exceptions
from docsync.exceptions import ConnectionClosingError, DocsyncError, closing_errors

ROOT = Path(__file__).resolve().parents[1]
JS_EXCEPTIONS = ROOT / "docsync" / "static" / "docsync" / "exceptions.js"

DUMP_JS = f"""
import * as ex from {json.dumps(JS_EXCEPTIONS.as_uri())};
const out = {{}};
for (const [name, cls] of Object.entries(ex)) {{
  if (typeof cls !== "function" || !(cls.prototype instanceof Error)) continue;
  out[name] = {{ parent: Object.getPrototypeOf(cls).name, closeCode: cls.closeCode,
                errorKind: cls.errorKind, action: cls.action }};
}}
out.__closing__ = ex.CLOSING_ERRORS.map((cls) => cls.name);
const meaning = (c) => [c, [ex.closeErrorFor(c, "why").name, ex.closeAction(c)]];
out.__for__ = Object.fromEntries([1002, 1008, 4001, 4010, 4242].map(meaning));
console.log(JSON.stringify(out));
"""


def python_classes() -> dict[str, type[DocsyncError]]:
    return {
        name: cls
        for name, cls in vars(exceptions).items()
        if isinstance(cls, type) and issubclass(cls, DocsyncError) and cls.__module__ == exceptions.__name__
    }


@pytest.fixture(scope="module")
def js_tree() -> dict[str, object]:
    done = subprocess.run(["node", "--input-type=module", "-e", DUMP_JS], capture_output=True, text=True, check=True)
    tree: dict[str, object] = json.loads(done.stdout)
    return tree


def test_every_error_in_the_tree_is_exported() -> None:
    assert set(python_classes()) <= set(exceptions.__all__)


def test_errors_that_end_a_websocket_carry_their_close_code_as_data() -> None:
    for cls in closing_errors():
        assert isinstance(cls.close_code, int) and (1000 <= cls.close_code < 1016 or 4000 <= cls.close_code < 5000)
        assert cls.error_kind == f"close-{cls.close_code}", cls
        assert cls.client_action in ("retry", "reconnect", "give-up"), cls
    assert exceptions.TokenError("token expired").close_code == 1008
    assert exceptions.SessionLimitError("full").error_kind == "close-1013"
    refused = exceptions.ApplicationError("application error", detail="Traceback ...")
    assert (refused.reason, refused.detail) == ("application error", "Traceback ...")


def test_the_javascript_tree_mirrors_the_python_one(js_tree: dict[str, object]) -> None:
    for cls in closing_errors():
        mirrored = js_tree.get(cls.__name__)
        assert isinstance(mirrored, dict), f"{cls.__name__} is missing from exceptions.js"
        parent = cls.__mro__[1].__name__
        assert mirrored == {
            "parent": parent,
            "closeCode": cls.close_code,
            "errorKind": cls.error_kind,
            "action": cls.client_action,
        }, cls.__name__
    assert js_tree["__closing__"] == [cls.__name__ for cls in closing_errors()]


def test_javascript_maps_close_codes_to_errors_and_actions(js_tree: dict[str, object]) -> None:
    assert js_tree["__for__"] == {
        "1002": ["ProtocolError", "retry"],
        "1008": ["AccessRefusedError", "give-up"],
        "4001": ["SessionExpiredError", "reconnect"],
        "4010": ["OwnerGoneError", "reconnect"],
        "4242": ["ConnectionLostError", "retry"],
    }


def test_the_protocol_document_lists_every_close_code() -> None:
    text = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    section = text.split("## 12. Close codes", 1)[1].split("\n## ", 1)[0]
    rows = {int(m.group(1)): m.group(2) for m in re.finditer(r"^\| (\d{4}) \| (.*)$", section, re.MULTILINE)}
    for cls in closing_errors():
        if cls is ConnectionClosingError:
            continue  # the base: its subclasses name the cases
        assert cls.close_code in rows, f"§12 lacks {cls.close_code}"
        assert f"`{cls.__name__}`" in rows[cls.close_code], f"§12's row {cls.close_code} does not name {cls.__name__}"
