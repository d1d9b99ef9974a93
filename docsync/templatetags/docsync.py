"""``{% docsync_app "sliders" %}``: embed a docsync app in any Django template.

Keywords, as Bokeh's ``server_document``/``server_session`` take them:
``arguments`` (a dict the session sees in ``session_context.arguments``), ``session_id``
(join that live session), ``element_id`` (the placeholder's id).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from ..embed import server_document, server_session

__all__ = ["docsync_app", "register"]

register = template.Library()


@register.simple_tag
def docsync_app(
    url: str,
    element_id: str = "",
    *,
    arguments: Any = None,
    session_id: str | None = None,
) -> SafeString:
    """Emit a placeholder element and the autoload script that replaces it with the app."""
    if session_id:
        return server_session(url, session_id, arguments=arguments, element_id=element_id or None)
    return server_document(url, arguments, element_id=element_id or None)
