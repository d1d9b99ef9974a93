"""``{% docsync_app "sliders" %}``: embed a docsync app in any Django template."""

from __future__ import annotations

import secrets

from django import template
from django.urls import reverse
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def docsync_app(app_path: str, element_id: str = "") -> str:
    """Emit a placeholder element and the autoload script that replaces it."""
    target = element_id or f"docsync-{app_path}-{secrets.token_hex(4)}"
    url = reverse("docsync:autoload", args=[app_path]) + f"?target={target}"
    return format_html('<div id="{}" class="docsync-embed"></div><script src="{}"></script>', target, url)
