"""Websocket routes: include these in your ASGI application's URLRouter."""

from __future__ import annotations

from django.urls import re_path

from .server.connection import DocumentConsumer

__all__ = ["websocket_urlpatterns"]

websocket_urlpatterns = [
    # ``<app>/ws`` under whatever prefix the site mounts docsync's HTTP URLs at
    # (``path("dash/", include("docsync.urls"))`` serves ``/dash/<app>/ws``): the page
    # names its websocket's URL, so the ASGI router need not repeat the prefix.
    re_path(r"^(?:[\w\-]+/)*(?P<app_path>[\w\-]+)/ws$", DocumentConsumer.as_asgi()),
]
