"""HTML made safe on the server, before any browser sees it: nh3 (the Rust ammonia sanitiser).

Why nh3: it is ammonia, a maintained allow-list sanitiser built on html5ever (a
browser-grade HTML parser), so what it keeps is what a browser will parse; bleach, the
former choice, is deprecated by its maintainers. Markdown is rendered by markdown-it-py
(CommonMark) and the result sanitised the same way.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import nh3

from ..exceptions import ValidationError
from .properties import String

__all__ = ["SafeHTML", "SafeTemplate", "clean_html", "clean_template", "render_markdown"]

# ammonia's allow-list (no scripts, styles, event attributes, forms or frames), plus
# ``class`` everywhere so that a site's stylesheet can style the content.
_ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
_ATTRIBUTES["*"] = {"class", "title", "lang", "dir"}
_URL_SCHEMES = {"http", "https", "mailto", "tel"}


def clean_html(html: str) -> str:
    """Return ``html`` with everything that could run code or escape its box removed."""
    return nh3.clean(html, attributes=_ATTRIBUTES, url_schemes=_URL_SCHEMES, link_rel="noopener noreferrer")


@lru_cache(maxsize=1)
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def render_markdown(text: str) -> str:
    """Return the sanitised HTML of Markdown ``text`` (CommonMark, with tables and strikethrough)."""
    return clean_html(_markdown().render(text))


class SafeHTML(String):
    """HTML that is sanitised whenever it is set, whoever sets it (Python, a client, a document)."""

    __slots__ = ()
    expected = "a string of HTML"

    def accepts(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValidationError(self.expected)
        return clean_html(value)


# ``<%= name %>`` holes of a cell template: kept through sanitising as plain markers.
_HOLE = re.compile(r"<%=\s*([\w.-]+)\s*%>")
_MARKER = re.compile(r"\{\{ds-hole:([\w.-]+)\}\}")


def clean_template(template: str) -> str:
    """Return a cell template sanitised like HTML, its ``<%= name %>`` holes kept."""
    marked = _HOLE.sub(lambda m: "{{ds-hole:" + m.group(1) + "}}", template)
    return _MARKER.sub(lambda m: "<%= " + m.group(1) + " %>", clean_html(marked))


class SafeTemplate(SafeHTML):
    """An HTML template with ``<%= name %>`` holes, sanitised whenever it is set."""

    __slots__ = ()
    expected = "a string of HTML"

    def accepts(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValidationError(self.expected)
        return clean_template(value)
