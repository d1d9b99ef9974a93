"""Sphinx directives that write docsync's reference tables from the code, at build time.

- ``docsync-settings``: every key of ``docsync.conf.DEFAULTS`` with its default and the
  meaning given in the README's settings table (a key the README lacks, or a README row
  naming no setting, is a build warning, so an error under ``-W``).
- ``docsync-checks``: every system check id in ``docsync/checks.py`` and ``site_checks.py``, read from their source.
- ``docsync-errors``: every ``DocsyncError`` with its close code, ERROR kind and client action.
- ``docsync-models``: every registered model with its properties, the ones a browser may
  write marked, and the UI events it accepts.

Nothing here is a hand-written list: a new setting, check, error or model shows up on
the next build.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]
_MD_CODE = re.compile(r"`([^`]+)`")
_MD_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")
_MD_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def md_inline(text: str) -> str:
    """Turn the README's inline Markdown (code, links, bold) into reStructuredText."""
    text = _MD_LINK.sub(lambda m: m.group(1), text)  # README-relative links mean nothing here
    text = _MD_BOLD.sub(r"**\1**", text)
    return _MD_CODE.sub(lambda m: "``" + m.group(1).replace("\\", "\\\\") + "``", text)


def rst_literal(text: str) -> str:
    """Quote ``text`` as an inline literal (reStructuredText has no escape inside one)."""
    return "``" + text.replace("`", "'") + "``" if text else ""


def rst_text(text: str) -> str:
    """Escape stars outside ``literals``: docstrings say ".csv,image/*" in plain text."""
    parts = text.split("``")
    return "``".join(part if index % 2 else part.replace("*", "\\*") for index, part in enumerate(parts))


def list_table(header: list[str], rows: Iterable[list[str]], widths: str | None = None) -> list[str]:
    """Return the lines of a reStructuredText list-table."""
    lines = [".. list-table::", "   :header-rows: 1"]
    if widths:
        lines.append(f"   :widths: {widths}")
    lines.append("")
    for row in [header, *rows]:
        for index, cell in enumerate(row):
            cell_lines = (cell or " ").splitlines() or [" "]
            lead = "   * - " if index == 0 else "     - "
            lines.append(lead + cell_lines[0])
            lines.extend("       " + line for line in cell_lines[1:])
    lines.append("")
    return lines


class _TableDirective(SphinxDirective):
    has_content = False

    def lines(self) -> list[str]:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        container = nodes.container()
        source = self.get_source_info()[0]
        nested_parse_with_titles(self.state, StringList(self.lines(), source=source), container, self.content_offset)
        return list(container.children)


# -- settings --------------------------------------------------------------------------


def readme_settings() -> dict[str, tuple[str, str]]:
    """Return {key: (default as written, meaning)} from the README's settings table."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Settings reference", 1)[1].split("\n## ", 1)[0]
    found: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("key", "---"):
            continue
        for key in re.findall(r"`([A-Z_]+)`", cells[0]):
            found[key] = (cells[1], cells[2])
    return found


class SettingsDirective(_TableDirective):
    """Every ``DOCSYNC`` key: its default and its meaning."""

    def lines(self) -> list[str]:
        from docsync.conf import DEFAULTS

        documented = readme_settings()
        for key in sorted(set(DEFAULTS) - set(documented)):
            logger.warning(f"DOCSYNC[{key!r}] has no row in the README's settings table", location=self.get_location())
        for key in sorted(set(documented) - set(DEFAULTS)):
            logger.warning(
                f"the README's settings table names {key!r}, which DOCSYNC lacks", location=self.get_location()
            )
        rows = []
        for key, default in DEFAULTS.items():
            meaning = md_inline(documented.get(key, ("", ""))[1])
            rows.append([f".. _setting-{key}:\n\n``{key}``", rst_literal(repr(default)), meaning])
        return list_table(["key", "default", "meaning"], rows, "25 20 55")


# -- system checks ---------------------------------------------------------------------


def _text(node: ast.expr | None, source: str) -> str:
    if node is None:
        return ""
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                parts.append("{" + (ast.get_source_segment(source, value.value) or "...") + "}")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _text(node.left, source) + _text(node.right, source)
    return "{" + (ast.get_source_segment(source, node) or "...") + "}"


def system_checks() -> list[dict[str, str]]:
    """Return every check in docsync/checks.py and site_checks.py: id, level, message, hint, when it runs."""
    found = []
    for name in ("checks.py", "site_checks.py"):
        found += _checks_in((ROOT / "docsync" / name).read_text(encoding="utf-8"))
    # Several helpers may call one another: keep one row per distinct check.
    unique = {(c["id"], c["message"]): c for c in found}
    return sorted(unique.values(), key=lambda c: (c["id"], c["message"]))


def _checks_in(source: str) -> list[dict[str, str]]:
    tree = ast.parse(source)
    found = []
    for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
        deploy = any("deploy" in ast.get_source_segment(source, d) for d in function.decorator_list)  # type: ignore[operator]
        for call in [n for n in ast.walk(function) if isinstance(n, ast.Call)]:
            func = call.func
            if not (isinstance(func, ast.Attribute) and func.attr in ("Error", "Warning")):
                continue
            keywords = {k.arg: k.value for k in call.keywords}
            if "id" not in keywords:
                continue
            found.append(
                {
                    "id": _text(keywords["id"], source),
                    "level": func.attr,
                    "message": _text(call.args[0] if call.args else None, source),
                    "hint": _text(keywords.get("hint"), source),
                    "when": "``manage.py check --deploy``" if deploy else "``manage.py check``, every start",
                }
            )
    return found


class ChecksDirective(_TableDirective):
    """Every system check id, its message and its hint."""

    def lines(self) -> list[str]:
        # Three columns (the level and when it runs under the id) so that the table fits a
        # laptop's page width without scrolling sideways.
        rows = [
            [f"``{c['id']}``\n\n{c['level']}, {c['when']}", rst_literal(c["message"]), rst_literal(c["hint"])]
            for c in system_checks()
        ]
        return list_table(["check, level, run by", "message", "hint"], rows, "22 35 43")


# -- errors ----------------------------------------------------------------------------


def error_classes() -> list[type]:
    """Return DocsyncError and every subclass defined in docsync.exceptions, tree order."""
    from docsync import exceptions

    order: list[type] = []

    def walk(cls: type) -> None:
        order.append(cls)
        for sub in cls.__subclasses__():
            if sub.__module__ == exceptions.__name__:
                walk(sub)

    walk(exceptions.DocsyncError)
    return order


class ErrorsDirective(_TableDirective):
    """Every docsync exception: parent, close code, ERROR kind, what a client does next."""

    def lines(self) -> list[str]:
        rows = []
        for cls in error_classes():
            parent = cls.__mro__[1].__name__ if cls.__mro__[1] is not Exception else ""
            doc = inspect.getdoc(cls) or ""
            close = str(cls.close_code) if cls.close_code is not None else ""  # type: ignore[attr-defined]
            kind = cls.error_kind or ""  # type: ignore[attr-defined]
            action = cls.client_action if cls.close_code is not None else ""  # type: ignore[attr-defined]
            # Four columns, the parent under the name and the client action under the close
            # code, so that the table fits a laptop's page width without scrolling sideways.
            name = f":class:`~docsync.exceptions.{cls.__name__}`" + (f"\n\n(a {parent})" if parent else "")
            rows.append(
                [
                    name,
                    close + (f"\n\n{rst_literal(action)}" if action else ""),
                    rst_literal(kind),
                    doc.split("\n\n")[0].replace("\n", " "),
                ]
            )
        return list_table(["exception", "close code, client action", "ERROR code", "meaning"], rows, "30 17 18 35")


# -- models ----------------------------------------------------------------------------


def _default(prop: Any) -> str:
    raw = prop._default
    if callable(raw) and not isinstance(raw, type):
        return "a new value each time"
    if isinstance(raw, type):
        return f"{raw.__name__}()"
    text = repr(raw)
    return text if len(text) <= 60 else text[:57] + "..."


def model_classes() -> dict[str, list[type]]:
    """Return the registered built-in models, by the module that defines them."""
    import docsync.document.models  # noqa: F401  (registers the built-in models)
    from docsync.document.registry import model_class, registered_names

    by_module: dict[str, list[type]] = {}
    for name in registered_names():
        cls = model_class(name)
        if cls.__module__.startswith("docsync."):
            by_module.setdefault(cls.__module__, []).append(cls)
    return dict(sorted(by_module.items()))


class ModelsDirective(_TableDirective):
    """Every built-in model: its properties (client-writable ones marked) and its UI events."""

    def lines(self) -> list[str]:
        lines: list[str] = []
        for module, classes in model_classes().items():
            title = f"``{module}``"
            lines += [title, "-" * len(title), ""]
            module_doc = (inspect.getdoc(__import__(module, fromlist=["_"])) or "").split("\n\n")[0]
            lines += [module_doc.replace("\n", " "), ""]
            for cls in classes:
                lines += self.model(cls)
        return lines

    def model(self, cls: Any) -> list[str]:
        name = cls.__type_name__
        lines = [f".. _model-{name}:", "", name, "~" * len(name), ""]
        doc = inspect.getdoc(cls)
        if doc and cls.__doc__ is not None and "__doc__" in vars(cls):
            lines += [rst_text(doc), ""]
        bases = [b.__name__ for b in cls.__mro__[1:] if hasattr(b, "__type_name__") and b.__name__ != "Model"]
        if bases:
            lines += ["Inherits from " + ", ".join(bases) + ".", ""]
        writable = sorted(cls.__client_writable__)
        lines.append("Client-writable: " + (", ".join(f"``{w}``" for w in writable) if writable else "none") + ".  ")
        events = sorted(cls.__client_events__)
        if events:
            lines.append("UI events from the browser: " + ", ".join(f"``{e}``" for e in events) + ".  ")
        if cls.__view_module__:
            lines.append(f"View module: ``{cls.__view_module__}``.")
        lines.append("")
        rows = []
        for attr, prop in sorted(cls.properties().items()):
            mark = "**yes**" if attr in cls.__client_writable__ else ""
            rows.append(
                [f"``{attr}``", rst_literal(str(prop.expected)), rst_literal(_default(prop)), mark, rst_text(prop.help)]
            )
        lines += list_table(["property", "accepts", "default", "client-writable", "meaning"], rows, "15 25 15 10 35")
        return lines


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("docsync-settings", SettingsDirective)
    app.add_directive("docsync-checks", ChecksDirective)
    app.add_directive("docsync-errors", ErrorsDirective)
    app.add_directive("docsync-models", ModelsDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
