"""ASGI applications a site might name in ASGI_APPLICATION, for docsync.E024's tests."""

from __future__ import annotations

from channels.routing import ProtocolTypeRouter
from django.core.asgi import get_asgi_application

__all__ = ["django_only", "no_websocket"]

#: What ``startproject`` writes in asgi.py: Django's handler alone.
django_only = get_asgi_application()
#: A router that forgot the websocket entry.
no_websocket = ProtocolTypeRouter({"http": django_only})
