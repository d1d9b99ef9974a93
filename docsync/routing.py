"""Websocket routes: include these in your ASGI application's URLRouter."""

from __future__ import annotations

from django.urls import re_path

from .server.consumer import DocumentConsumer

__all__ = ["websocket_urlpatterns"]

websocket_urlpatterns = [
    re_path(r"^(?P<app_path>[\w\-]+)/ws$", DocumentConsumer.as_asgi()),
]
